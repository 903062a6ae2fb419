"""``/api/users``: cursor pagination over the tenant's users, creation with roles, audit, duplicates."""

from __future__ import annotations

from tests.web.conftest import PASSWORD, Api


async def test_given_seven_users_when_paging_by_three_then_each_once_in_id_order(api: Api) -> None:
    tenant = await api.given_tenant()
    admin = await api.given_logged_in(tenant, "tenant_admin")
    ids = [admin.user.id] + [(await api.given_user(tenant, "agent")).id for _ in range(6)]

    seen: list[int] = []
    cursor: str | None = None
    for _ in range(4):
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        status, page = await api.request("GET", "/api/users", headers=admin.headers, params=params)
        assert status == 200
        seen += [u["id"] for u in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids)
    assert cursor is None


async def test_given_admin_when_creating_user_then_it_can_log_in_and_creation_is_audited(api: Api) -> None:
    tenant = await api.given_tenant()
    admin = await api.given_logged_in(tenant, "tenant_admin")
    new = {"email": "Agent.Smith@Example.com", "display_name": "Smith", "password": PASSWORD, "extension": "1001",
           "roles": ["agent", "supervisor", "agent"]}

    status, user = await api.request("POST", "/api/users", headers=admin.headers, json=new)

    assert status == 201
    assert (user["email"], user["roles"], user["tenant_id"]) == ("agent.smith@example.com", ["agent", "supervisor"],
                                                                 tenant.id)
    login = {"tenant": tenant.slug, "email": "agent.smith@example.com", "password": PASSWORD}
    status, _ = await api.request("POST", "/api/auth/login", json=login)
    assert status == 200
    status, body = await api.request("POST", "/api/users", headers=admin.headers, json=new)
    assert (status, body["error_id"]) == (409, "user_exists")
    async with api.pool.acquire() as conn:
        rows = await conn.fetch("SELECT action, actor_user_id, object_id FROM audit_log WHERE tenant_id = $1",
                                tenant.id)
        stored = await conn.fetchval("SELECT password_hash FROM users WHERE id = $1", user["id"])
    assert [tuple(r) for r in rows] == [("user.create", admin.user.id, str(user["id"]))]
    assert stored.startswith("$argon2id$")
