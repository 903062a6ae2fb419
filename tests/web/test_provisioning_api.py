"""``/api/extensions`` and ``/api/dids``: ARA rows written through provisioning, passwords only as ``md5_cred``,
registration derived from ``ps_contacts``, ``tenants.max_dids`` enforced, every write audited."""

from __future__ import annotations

from ara_schema import provisioning
from tests.web.conftest import Api
from tests.web.routes import unique_number

SIP_PASSWORD = "a sip secret of length"


async def test_given_admin_when_creating_extension_then_ara_rows_md5_only_and_audited(api: Api) -> None:
    tenant = await api.given_tenant()
    admin = await api.given_logged_in(tenant, "tenant_admin")

    status, ext = await api.request("POST", "/api/extensions", headers=admin.headers,
                                    json={"extension": "2001", "password": SIP_PASSWORD, "display_name": "Ann"})

    assert status == 201, ext
    assert (ext["endpoint_id"], ext["callerid"], ext["registered"], ext["contacts"]) == (
        f"{tenant.slug}-2001", '"Ann" <2001>', False, [])
    assert SIP_PASSWORD not in str(ext)
    async with api.pool.acquire() as conn:
        md5 = await conn.fetchval("SELECT md5_cred FROM ps_auths WHERE id = $1", f"{tenant.slug}-2001")
        aor = await conn.fetchval("SELECT count(*) FROM ps_aors WHERE id = $1", f"{tenant.slug}-2001")
        audit = await conn.fetch("SELECT action, object_id, details::text FROM audit_log WHERE tenant_id = $1",
                                 tenant.id)
    assert md5 == provisioning.md5_cred(f"{tenant.slug}-2001", SIP_PASSWORD) and aor == 1
    assert [(r["action"], r["object_id"]) for r in audit] == [("extension.create", f"{tenant.slug}-2001")]
    assert SIP_PASSWORD not in audit[0]["details"]
    status, again = await api.request("POST", "/api/extensions", headers=admin.headers,
                                      json={"extension": "2001", "password": SIP_PASSWORD})
    assert (status, again["error_id"]) == (409, "extension_exists")


async def test_given_live_and_expired_contacts_then_list_shows_registration(api: Api) -> None:
    tenant = await api.given_tenant()
    admin = await api.given_logged_in(tenant, "tenant_admin")
    for ext in ("3001", "3002", "3003"):
        await api.given_extension(tenant, ext)
    async with api.pool.acquire() as conn:
        await provisioning.create_trunk(conn, tenant.slug, "carrier", SIP_PASSWORD)  # not an extension: not listed
    now = int(api.clock.now)
    async with api.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO ps_contacts (id, uri, expiration_time, user_agent, endpoint) VALUES"
            " ($1, 'sip:3001@192.0.2.1:5060', $2, 'softphone', $3), ($4, 'sip:3002@192.0.2.2:5060', $5, NULL, $6)",
            f"{tenant.slug}-3001;@abc", now + 60, f"{tenant.slug}-3001", f"{tenant.slug}-3002;@def", now - 1,
            f"{tenant.slug}-3002",
        )

    status, page = await api.request("GET", "/api/extensions", headers=admin.headers, params={"limit": "2"})
    assert status == 200
    status, rest = await api.request("GET", "/api/extensions", headers=admin.headers,
                                     params={"limit": "2", "cursor": page["next_cursor"]})
    assert status == 200 and rest["next_cursor"] is None
    items = {e["extension"]: e for e in page["items"] + rest["items"]}
    assert list(items) == ["3001", "3002", "3003"]
    assert [(e["registered"], [c["uri"] for c in e["contacts"]]) for e in items.values()] == [
        (True, ["sip:3001@192.0.2.1:5060"]), (False, ["sip:3002@192.0.2.2:5060"]), (False, [])]

    viewer = await api.given_logged_in(tenant, "viewer")
    status, one = await api.request("GET", "/api/extensions/3001", headers=viewer.headers)
    assert status == 200 and one["contacts"][0]["user_agent"] == "softphone"
    assert (await api.request("DELETE", "/api/extensions/3001", headers=admin.headers))[0] == 204
    status, gone = await api.request("GET", "/api/extensions/3001", headers=admin.headers)
    assert (status, gone["error_id"]) == (404, "not_found")
    async with api.pool.acquire() as conn:
        left = await conn.fetchval("SELECT count(*) FROM ps_contacts WHERE id LIKE $1", f"{tenant.slug}-3001%")
    assert left == 0
    status, bad = await api.request("GET", "/api/extensions/12a", headers=admin.headers)
    assert (status, bad["error_id"]) == (422, "validation_failed")


async def test_given_max_dids_two_when_third_created_then_409_limit_reached(api: Api) -> None:
    tenant = await api.given_tenant()
    async with api.pool.acquire() as conn:
        await conn.execute("UPDATE tenants SET max_dids = 2 WHERE id = $1", tenant.id)
    admin = await api.given_logged_in(tenant, "tenant_admin")
    numbers = [unique_number() for _ in range(3)]
    for number in numbers[:2]:
        status, did = await api.request("POST", "/api/dids", headers=admin.headers, json={
            "number": number, "route_type": "endpoint", "route_target": "1001", "fallback_type": "voicemail",
            "fallback_target": "1001"})
        assert status == 201, did

    status, refused = await api.request("POST", "/api/dids", headers=admin.headers,
                                        json={"number": numbers[2], "route_type": "webhook", "route_target": "crm"})

    assert (status, refused["error_id"]) == (409, "limit_reached")
    assert "max_dids" in refused["message"] and refused["details"] == {"limit": "max_dids", "max": 2, "current": 2}
    status, page = await api.request("GET", "/api/dids", headers=admin.headers)
    assert [d["number"] for d in page["items"]] == numbers[:2]
    assert (await api.request("DELETE", f"/api/dids/{numbers[0]}", headers=admin.headers))[0] == 204
    status, _ = await api.request("POST", "/api/dids", headers=admin.headers,
                                  json={"number": numbers[2], "route_type": "webhook", "route_target": "crm"})
    assert status == 201
    async with api.pool.acquire() as conn:
        actions = [r["action"] for r in await conn.fetch(
            "SELECT action FROM audit_log WHERE tenant_id = $1 ORDER BY id", tenant.id)]
    assert actions == ["did.create", "did.create", "did.delete", "did.create"]


async def test_given_bad_did_then_422_and_taken_number_409(api: Api) -> None:
    tenant, other = await api.given_tenant(), await api.given_tenant()
    admin = await api.given_logged_in(tenant, "tenant_admin")
    for bad in ({"number": "15550100", "route_type": "endpoint", "route_target": "1"},
                {"number": "+05550100", "route_type": "endpoint", "route_target": "1"},
                {"number": "+1555010012345678", "route_type": "endpoint", "route_target": "1"},
                {"number": "+15550100", "route_type": "fax", "route_target": "1"},
                {"number": "+15550100", "route_type": "endpoint", "route_target": "1", "fallback_target": "x"}):
        status, body = await api.request("POST", "/api/dids", headers=admin.headers, json=bad)
        assert (status, body["error_id"]) == (422, "validation_failed"), bad
    taken = unique_number()
    await api.given_did(other, taken)
    status, body = await api.request("POST", "/api/dids", headers=admin.headers,
                                     json={"number": taken, "route_type": "endpoint", "route_target": "1"})
    assert (status, body["error_id"]) == (409, "did_exists")
    status, body = await api.request("DELETE", "/api/dids/not-a-number", headers=admin.headers)
    assert (status, body["error_id"]) == (422, "validation_failed")
