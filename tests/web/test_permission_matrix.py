"""The permission matrix, generated: for every guarded API route x every role x (user | API key), the request is
allowed (2xx) or refused with 403 exactly as ``web.permissions.ROLE_PERMISSIONS`` says."""

from __future__ import annotations

import pytest

from tests.web.conftest import Api
from tests.web.routes import EXAMPLES, GUARDED, PUBLIC, ROUTES, Target, unique_number
from web.auth.guard import Guard
from web.permissions import ROLE_PERMISSIONS

CASES = [
    pytest.param(method, path, guard, role, kind, id=f"{method} {path} as {role} {kind}")
    for method, path, guard in GUARDED
    for role in sorted(ROLE_PERMISSIONS)
    for kind in ("user", "api_key")
    if not (kind == "api_key" and role == "superadmin")  # API keys never carry superadmin (schema check)
]


def test_every_api_route_has_an_example() -> None:
    assert {(m, p) for m, p, _ in ROUTES} == set(EXAMPLES)
    assert len(GUARDED) >= 7


@pytest.mark.parametrize(("method", "path", "guard", "role", "kind"), CASES)
async def test_route_allowed_exactly_when_role_has_permission(
    api: Api, method: str, path: str, guard: Guard, role: str, kind: str
) -> None:
    tenant = await api.given_tenant()
    admin = await api.given_logged_in(tenant, "tenant_admin")
    target_key = await api.given_api_key(admin, "viewer", name="target")
    await api.given_extension(tenant, "7001")
    number = unique_number()
    await api.given_did(tenant, number)
    if kind == "user":
        headers = (await api.given_logged_in(tenant, role)).headers
    else:
        headers = {"X-API-Key": (await api.given_api_key(admin, role))["key"]}
    url, body = EXAMPLES[(method, path)](Target(target_key["id"], admin.refresh_token, "7001", number))

    status, answer = await api.request(method, url, headers=headers, json=body)

    assert guard.permission is not None
    if guard.permission not in ROLE_PERMISSIONS[role]:
        assert (status, answer["error_id"]) == (403, "forbidden")
        assert answer["details"] == {"permission": guard.permission}
    elif guard.user_only and kind == "api_key":
        assert (status, answer["error_id"]) == (403, "user_required")
    else:
        assert 200 <= status < 300, answer


@pytest.mark.parametrize(("method", "path"), PUBLIC)
async def test_public_route_needs_no_credentials(api: Api, method: str, path: str) -> None:
    tenant = await api.given_tenant()
    session = await api.given_logged_in(tenant, "agent")
    url, body = EXAMPLES[(method, path)](Target(0, session.refresh_token))
    status, answer = await api.request(method, url, json=body)
    assert (answer or {}).get("error_id") != "unauthenticated"
    assert status in {200, 204, 401}


@pytest.mark.parametrize(("method", "path", "guard"), [pytest.param(*r, id=f"{r[0]} {r[1]}") for r in GUARDED])
async def test_guarded_route_without_credentials_is_401(api: Api, method: str, path: str, guard: Guard) -> None:
    url, body = EXAMPLES[(method, path)](Target(1, "rlr_x"))
    status, answer = await api.request(method, url, json=body)
    assert (status, answer["error_id"]) == (401, "unauthenticated")
