"""Login, access-token expiry, refresh rotation and reuse detection, logout, password change, API keys, against
the real app over HTTP and a real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.conftest import PASSWORD, Api
from web.auth.config import AuthConfig, load_or_create_jwt_secret


async def test_given_user_when_login_with_right_password_then_tokens_and_me(api: Api) -> None:
    tenant = await api.given_tenant()
    user = await api.given_user(tenant, "agent")

    status, body = await api.request(
        "POST", "/api/auth/login", json={"tenant": tenant.slug, "email": user.email.upper(), "password": PASSWORD}
    )

    assert status == 200
    assert body["token_type"] == "Bearer" and body["expires_in"] == 15 * 60
    assert body["refresh_token"].startswith("rlr_")
    status, me = await api.request("GET", "/api/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert status == 200
    assert me == {"kind": "user", "tenant_id": tenant.id, "user_id": user.id, "api_key_id": None,
                  "roles": ["agent"], "permissions": me["permissions"]}
    assert "calls.place" in me["permissions"] and "users.write" not in me["permissions"]


async def test_given_login_failures_then_one_indistinguishable_answer(api: Api) -> None:
    tenant = await api.given_tenant()
    user = await api.given_user(tenant, "agent")
    other = await api.given_tenant()
    attempts = [
        {"tenant": tenant.slug, "email": user.email, "password": "wrong password"},
        {"tenant": tenant.slug, "email": "nobody@example.com", "password": PASSWORD},
        {"tenant": "nosuchtenant", "email": user.email, "password": PASSWORD},
        {"tenant": other.slug, "email": user.email, "password": PASSWORD},
    ]
    answers = [await api.request("POST", "/api/auth/login", json=a) for a in attempts]
    assert answers == [(401, {"error_id": "invalid_credentials", "message": "invalid tenant, email or password",
                              "details": {}})] * len(attempts)


async def test_given_access_token_when_clock_passes_expiry_then_token_expired(api: Api) -> None:
    session = await api.given_logged_in(await api.given_tenant(), "viewer")
    api.clock.advance(15 * 60 - 1)
    assert (await api.request("GET", "/api/me", headers=session.headers))[0] == 200
    api.clock.advance(1)
    status, body = await api.request("GET", "/api/me", headers=session.headers)
    assert (status, body["error_id"]) == (401, "token_expired")


async def test_given_garbage_or_foreign_tokens_then_invalid_token(api: Api) -> None:
    session = await api.given_logged_in(await api.given_tenant(), "viewer")
    forged = session.access_token[:-4] + ("AAAA" if not session.access_token.endswith("AAAA") else "BBBB")
    for headers in ({"Authorization": f"Bearer {forged}"}, {"Authorization": "Bearer x.y.z"},
                    {"Authorization": f"Basic {session.access_token}"}):
        status, body = await api.request("GET", "/api/me", headers=headers)
        assert (status, body["error_id"]) == (401, "invalid_token"), headers
    status, body = await api.request("GET", "/api/me")
    assert (status, body["error_id"]) == (401, "unauthenticated")


async def test_given_refresh_token_when_used_then_rotated_and_reuse_revokes_the_family(api: Api) -> None:
    first = await api.given_logged_in(await api.given_tenant(), "agent")

    status, second = await api.request("POST", "/api/auth/refresh", json={"refresh_token": first.refresh_token})
    assert status == 200 and second["refresh_token"] != first.refresh_token
    status, third = await api.request("POST", "/api/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert status == 200

    # the first token again: theft assumed, the whole session ends
    status, body = await api.request("POST", "/api/auth/refresh", json={"refresh_token": first.refresh_token})
    assert (status, body["error_id"]) == (401, "refresh_token_reused")
    status, body = await api.request("POST", "/api/auth/refresh", json={"refresh_token": third["refresh_token"]})
    assert (status, body["error_id"]) == (401, "invalid_refresh_token")
    status, body = await api.request("GET", "/api/me", headers={"Authorization": f"Bearer {third['access_token']}"})
    assert (status, body["error_id"]) == (401, "invalid_token")


async def test_given_refresh_token_past_its_lifetime_then_invalid(api: Api) -> None:
    session = await api.given_logged_in(await api.given_tenant(), "agent")
    api.clock.advance(AuthConfig("x" * 32).refresh_ttl_s)
    status, body = await api.request("POST", "/api/auth/refresh", json={"refresh_token": session.refresh_token})
    assert (status, body["error_id"]) == (401, "invalid_refresh_token")


async def test_given_session_when_logout_then_refresh_and_access_refused_and_logout_is_idempotent(api: Api) -> None:
    tenant = await api.given_tenant()
    user = await api.given_user(tenant, "agent")
    session, other = await api.login(user), await api.login(user)

    assert (await api.request("POST", "/api/auth/logout", json={"refresh_token": session.refresh_token}))[0] == 204
    assert (await api.request("POST", "/api/auth/logout", json={"refresh_token": session.refresh_token}))[0] == 204

    status, body = await api.request("POST", "/api/auth/refresh", json={"refresh_token": session.refresh_token})
    assert (status, body["error_id"]) == (401, "invalid_refresh_token")
    assert (await api.request("GET", "/api/me", headers=session.headers))[0] == 401
    assert (await api.request("GET", "/api/me", headers=other.headers))[0] == 200  # another session lives on


async def test_given_two_sessions_when_password_changed_then_old_password_required_and_others_revoked(
    api: Api,
) -> None:
    tenant = await api.given_tenant()
    user = await api.given_user(tenant, "agent")
    here, elsewhere = await api.login(user), await api.login(user)

    status, body = await api.request("POST", "/api/auth/password", headers=here.headers,
                                     json={"old_password": "not it at all", "new_password": "a brand new secret"})
    assert (status, body["error_id"]) == (401, "invalid_credentials")
    status, _ = await api.request("POST", "/api/auth/password", headers=here.headers,
                                  json={"old_password": PASSWORD, "new_password": "a brand new secret"})
    assert status == 204

    assert (await api.request("GET", "/api/me", headers=here.headers))[0] == 200
    assert (await api.request("GET", "/api/me", headers=elsewhere.headers))[0] == 401
    status, _ = await api.request("POST", "/api/auth/refresh", json={"refresh_token": elsewhere.refresh_token})
    assert status == 401
    assert (await api.request("POST", "/api/auth/refresh", json={"refresh_token": here.refresh_token}))[0] == 200
    login = {"tenant": tenant.slug, "email": user.email}
    assert (await api.request("POST", "/api/auth/login", json={**login, "password": PASSWORD}))[0] == 401
    assert (await api.request("POST", "/api/auth/login", json={**login, "password": "a brand new secret"}))[0] == 200
    async with api.pool.acquire() as conn:
        actions = await conn.fetch("SELECT action, details FROM audit_log WHERE tenant_id = $1", tenant.id)
    assert [a["action"] for a in actions] == ["user.password_change"]


async def test_given_api_key_then_it_authenticates_with_its_role_until_revoked(api: Api) -> None:
    tenant = await api.given_tenant()
    admin = await api.given_logged_in(tenant, "tenant_admin")
    created = await api.given_api_key(admin, "supervisor")
    key_headers = {"X-API-Key": created["key"]}

    status, me = await api.request("GET", "/api/me", headers=key_headers)
    assert status == 200
    assert (me["kind"], me["tenant_id"], me["api_key_id"], me["roles"]) == ("api_key", tenant.id, created["id"],
                                                                          ["supervisor"])
    status, listed = await api.request("GET", "/api/api-keys", headers=admin.headers)
    assert [k["id"] for k in listed["items"]] == [created["id"]]
    assert "key" not in listed["items"][0] and created["key"].startswith(listed["items"][0]["key_prefix"])
    async with api.pool.acquire() as conn:
        stored = await conn.fetchrow("SELECT key_hash, key_prefix FROM api_keys WHERE id = $1", created["id"])
    assert created["key"].encode() not in bytes(stored["key_hash"]) and len(stored["key_hash"]) == 32

    status, body = await api.request("POST", "/api/auth/password", headers=key_headers,
                                     json={"old_password": "x", "new_password": "y" * 12})
    assert (status, body["error_id"]) == (403, "user_required")

    assert (await api.request("DELETE", f"/api/api-keys/{created['id']}", headers=admin.headers))[0] == 204
    status, body = await api.request("GET", "/api/me", headers=key_headers)
    assert (status, body["error_id"]) == (401, "invalid_api_key")


async def test_given_tenant_admin_when_creating_key_or_user_above_own_role_then_role_forbidden(api: Api) -> None:
    tenant = await api.given_tenant()
    admin = await api.given_logged_in(tenant, "tenant_admin")
    status, body = await api.request("POST", "/api/users", headers=admin.headers,
                                     json={"email": "boss@x.example", "display_name": "B", "roles": ["superadmin"]})
    assert (status, body["error_id"]) == (403, "role_forbidden")
    status, body = await api.request("POST", "/api/api-keys", headers=admin.headers,
                                     json={"name": "k", "role": "superadmin"})
    assert (status, body["error_id"]) == (422, "validation_failed")
    key = await api.given_api_key(admin, "supervisor")
    status, body = await api.request("POST", "/api/api-keys", headers={"X-API-Key": key["key"]},
                                     json={"name": "k", "role": "tenant_admin"})
    assert (status, body["error_id"]) == (403, "forbidden")


def test_given_no_env_when_loading_jwt_secret_then_generated_once_per_data_dir(tmp_path: Path) -> None:
    first = load_or_create_jwt_secret(tmp_path, environ={})
    assert load_or_create_jwt_secret(tmp_path, environ={}) == first
    assert (tmp_path / "jwt-secret").stat().st_mode & 0o777 == 0o600
    assert load_or_create_jwt_secret(tmp_path, environ={"RINGLINE_JWT_SECRET": "s" * 40}) == "s" * 40
    with pytest.raises(ValueError, match="at least 32 bytes"):
        load_or_create_jwt_secret(tmp_path, environ={"RINGLINE_JWT_SECRET": "short"})
