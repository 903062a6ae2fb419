"""Tenant isolation, generated over the routes that read or write tenant rows (``Guard.tenant_rows``): a
principal of tenant A never reads tenant B's rows (no B value in any answer) and never changes them (B's rows
are byte-for-byte the same after the request), even when the request names B's objects by id."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import Api, Tenant
from tests.web.routes import EXAMPLES, GUARDED, TENANT_ROWS, Target, unique_number
from web.auth.guard import Guard

TENANT_TABLES = ("users", "user_roles", "api_keys", "refresh_tokens", "audit_log", "dids")
PJSIP_TABLES = ("ps_endpoints", "ps_auths", "ps_aors", "ps_contacts")
"""No ``tenant_id`` column: a tenant's PJSIP rows are those whose id starts with ``<slug>-``."""
ACTORS = ("tenant_admin", "tenant_admin_api_key", "superadmin")


async def _snapshot(api: Api, tenant: Tenant) -> dict[str, list[dict[str, Any]]]:
    async with api.pool.acquire() as conn:
        rows = {
            table: [dict(r) for r in await conn.fetch(f"SELECT * FROM {table} WHERE tenant_id = $1 ORDER BY 1, 2",
                                                      tenant.id)]
            for table in TENANT_TABLES
        }
        for table in PJSIP_TABLES:
            rows[table] = [dict(r) for r in await conn.fetch(f"SELECT * FROM {table} WHERE id LIKE $1 ORDER BY id",
                                                             f"{tenant.slug}-%")]
        return rows


def _tenant_ids(answer: Any) -> set[int]:
    if isinstance(answer, dict):
        found = {answer["tenant_id"]} if "tenant_id" in answer else set()
        return found.union(*(_tenant_ids(v) for v in answer.values()))
    if isinstance(answer, list):
        return set().union(*(_tenant_ids(v) for v in answer))
    return set()


def test_routes_touching_tenant_rows_are_declared() -> None:
    assert {(m, p) for m, p, _ in TENANT_ROWS} >= {
        ("GET", "/api/users"), ("POST", "/api/users"), ("GET", "/api/api-keys"), ("POST", "/api/api-keys"),
        ("DELETE", "/api/api-keys/{id}"), ("POST", "/api/auth/password"), ("GET", "/api/extensions"),
        ("POST", "/api/extensions"), ("GET", "/api/extensions/{extension}"), ("DELETE", "/api/extensions/{extension}"),
        ("GET", "/api/dids"), ("POST", "/api/dids"), ("DELETE", "/api/dids/{number}"),
    }


@pytest.mark.parametrize(
    ("method", "path", "guard", "actor"),
    [pytest.param(m, p, g, a, id=f"{m} {p} as {a}") for m, p, g in TENANT_ROWS for a in ACTORS],
)
async def test_principal_of_tenant_a_never_reads_or_writes_tenant_b(
    api: Api, method: str, path: str, guard: Guard, actor: str
) -> None:
    a, b = await api.given_tenant(), await api.given_tenant()
    b_admin = await api.given_logged_in(b, "tenant_admin")
    b_key = await api.given_api_key(b_admin, "viewer", name="b-marker-key")
    b_agent = await api.given_user(b, "agent", email=f"b-marker@{b.slug}.example")
    await api.given_extension(b, "7001")
    b_number = unique_number()
    await api.given_did(b, b_number)
    a_admin = await api.given_logged_in(a, "tenant_admin")
    if actor == "tenant_admin_api_key":
        headers = {"X-API-Key": (await api.given_api_key(a_admin, "tenant_admin"))["key"]}
    elif actor == "superadmin":
        headers = (await api.given_logged_in(a, "superadmin")).headers
    else:
        headers = a_admin.headers
    before = await _snapshot(api, b)

    url, body = EXAMPLES[(method, path)](Target(b_key["id"], b_admin.refresh_token, "7001", b_number))
    status, answer = await api.request(method, url, headers=headers, json=body)

    assert status < 500, answer
    assert await _snapshot(api, b) == before
    assert _tenant_ids(answer) <= {a.id}
    text = str(answer)
    assert b_agent.email not in text and b_admin.user.email not in text and "b-marker" not in text
    assert f"{b.slug}-" not in text
    assert status == 404 or b_number not in text  # a 404 may echo the number the request named


@pytest.mark.parametrize(("method", "path", "guard"), [pytest.param(*r, id=f"{r[0]} {r[1]}") for r in GUARDED])
async def test_tenant_admin_naming_another_tenant_is_refused(api: Api, method: str, path: str, guard: Guard) -> None:
    a, b = await api.given_tenant(), await api.given_tenant()
    admin = await api.given_logged_in(a, "tenant_admin")
    url, body = EXAMPLES[(method, path)](Target(1, admin.refresh_token))
    status, answer = await api.request(method, url, headers={**admin.headers, "X-Ringline-Tenant": str(b.id)},
                                       json=body)
    assert (status, answer["error_id"]) == (403, "tenant_forbidden")


async def test_superadmin_naming_a_tenant_acts_in_it(api: Api) -> None:
    a, b = await api.given_tenant(), await api.given_tenant()
    root = await api.given_logged_in(a, "superadmin")
    b_user = await api.given_user(b, "agent")
    in_b = {**root.headers, "X-Ringline-Tenant": str(b.id)}

    status, page = await api.request("GET", "/api/users", headers=in_b)
    assert status == 200 and [u["id"] for u in page["items"]] == [b_user.id]
    status, created = await api.request("POST", "/api/users", headers=in_b,
                                        json={"email": "made@b.example", "display_name": "M", "roles": ["agent"]})
    assert status == 201 and created["tenant_id"] == b.id
    async with api.pool.acquire() as conn:
        entry = await conn.fetchrow("SELECT tenant_id, actor_user_id, action, object_id FROM audit_log"
                                    " WHERE object_type = 'user' AND object_id = $1", str(created["id"]))
    assert dict(entry) == {"tenant_id": b.id, "actor_user_id": root.user.id, "action": "user.create",
                           "object_id": str(created["id"])}
