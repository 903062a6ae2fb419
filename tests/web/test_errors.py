"""Every API failure is JSON with a stable ``error_id``; bad input is a 4xx, never a 500; the old routes still work."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from tests.web.conftest import Api
from web.app import make_app
from web.auth.guard import check_routes, public


@pytest.mark.parametrize(
    ("data", "error_id", "status"),
    [
        ("{not json", "malformed_json", 400),
        ("[1, 2]", "malformed_json", 400),
        ("", "malformed_json", 400),
        (b"\xff\xfe", "malformed_json", 400),
        ('{"tenant": "x", "email": "a@b", "password": "p"}', "validation_failed", 422),  # slug too short
        ('{"tenant": "acme", "email": "a@b"}', "validation_failed", 422),
        ('{"tenant": "acme", "email": "a@b", "password": "p", "extra": 1}', "validation_failed", 422),
        ('{"tenant": 7, "email": null, "password": []}', "validation_failed", 422),
    ],
)
async def test_given_malformed_login_body_then_4xx_json(api: Api, data: str | bytes, error_id: str,
                                                        status: int) -> None:
    got, body = await api.request("POST", "/api/auth/login", data=data)
    assert (got, body["error_id"]) == (status, error_id)
    assert set(body) == {"error_id", "message", "details"}


async def test_given_validation_error_then_details_name_fields_and_never_echo_passwords(api: Api) -> None:
    status, body = await api.request("POST", "/api/auth/login",
                                     json={"tenant": "acme", "email": "a@b", "password": "", "x": "hunter2hunter2"})
    assert status == 422
    assert {tuple(e["loc"]) for e in body["details"]["errors"]} == {("password",), ("x",)}
    assert "hunter2" not in str(body)


@pytest.mark.parametrize(
    "params", [{"limit": "0"}, {"limit": "many"}, {"limit": "201"}, {"cursor": "!!!"}, {"cursor": "aWQ6eA"},
               {"bogus": "1"}],
)
async def test_given_bad_query_parameters_then_422(api: Api, params: dict[str, str]) -> None:
    admin = await api.given_logged_in(await api.given_tenant(), "tenant_admin")
    status, body = await api.request("GET", "/api/users", headers=admin.headers, params=params)
    assert (status, body["error_id"]) == (422, "validation_failed")


@pytest.mark.parametrize("key_id", ["abc", "0", "-1", "99999999999999999999999"])
async def test_given_bad_path_id_then_422(api: Api, key_id: str) -> None:
    admin = await api.given_logged_in(await api.given_tenant(), "tenant_admin")
    status, body = await api.request("DELETE", f"/api/api-keys/{key_id}", headers=admin.headers)
    assert (status, body["error_id"]) == (422, "validation_failed")


async def test_given_bad_tenant_header_then_4xx(api: Api) -> None:
    tenant = await api.given_tenant()
    superadmin = await api.given_logged_in(tenant, "superadmin")
    for value, expected in (("x", (422, "validation_failed")), ("999999999", (404, "not_found"))):
        status, body = await api.request("GET", "/api/users", headers={**superadmin.headers,
                                                                        "X-Ringline-Tenant": value})
        assert (status, body["error_id"]) == expected


async def test_given_unknown_route_or_method_then_json_404_405(api: Api) -> None:
    status, body = await api.request("GET", "/api/nope")
    assert (status, body["error_id"]) == (404, "not_found")
    status, body = await api.request("PUT", "/api/users")
    assert (status, body["error_id"]) == (405, "method_not_allowed")


async def test_given_health_status_and_metrics_then_unchanged(api: Api) -> None:
    assert (await api.request("GET", "/health")) == (200, {"status": "ok", "checks": {"database": True}})
    async with api.client.get("/metrics") as resp:
        assert resp.status == 200 and "python_info" in await resp.text()
    async with api.client.get("/nope") as resp:
        assert resp.status == 404 and resp.content_type == "text/plain"


async def test_given_handler_bug_then_500_internal_logged(caplog: pytest.LogCaptureFixture) -> None:
    async def status() -> dict[str, Any]:
        return {"checks": {}}

    @public
    async def crash(request: web.Request) -> web.Response:
        raise ZeroDivisionError

    app = make_app(status)
    app.router.add_get("/api/crash", crash)
    async with TestClient(TestServer(app)) as client, client.get("/api/crash") as resp:
        assert resp.status == 500
        assert await resp.json() == {"error_id": "internal", "message": "internal server error", "details": {}}
    assert "unexpected error in GET /api/crash" in caplog.text
    assert "ZeroDivisionError" in caplog.text


def test_given_api_route_without_declaration_then_app_refused() -> None:
    async def status() -> dict[str, Any]:
        return {}

    async def undeclared(request: web.Request) -> web.Response:
        return web.Response()

    app = make_app(status)
    app.router.add_get("/api/undeclared", undeclared)
    with pytest.raises(RuntimeError, match="GET /api/undeclared declares no permission"):
        check_routes(app)
