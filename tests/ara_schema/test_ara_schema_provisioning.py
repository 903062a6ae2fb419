"""Provisioning writes the ARA rows Asterisk needs, stores only md5_cred, and validates its inputs."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from ara_schema import provisioning
from ara_schema.errors import (
    CheckViolation,
    ForeignKeyViolation,
    IntegrityViolation,
    NotNullViolation,
    UniqueViolation,
    translate_postgres_errors,
)


async def given_tenant(conn: Any, slug: str = "acme", **limits: int) -> int:
    return await provisioning.create_tenant(conn, slug, f"{slug.title()} Inc.", **limits)


async def test_create_tenant_applies_limits_and_defaults(conn: Any) -> None:
    tenant_id = await given_tenant(conn, "acme", max_agents=7)
    row = await conn.fetchrow("SELECT * FROM tenants WHERE id = $1", tenant_id)
    assert (row["slug"], row["name"], row["status"]) == ("acme", "Acme Inc.", "active")
    assert (row["max_agents"], row["max_dids"], row["max_concurrent_calls"]) == (7, 50, 100)
    assert (row["features"], row["settings"]) == ("{}", "{}")
    assert await provisioning.tenant_slugs(conn) == ["acme"]


@pytest.mark.parametrize("slug", ["a", "Acme", "1acme", "ac-me", "a" * 32, ""])
async def test_create_tenant_rejects_bad_slugs(conn: Any, slug: str) -> None:
    with pytest.raises(ValueError, match="invalid tenant slug"):
        await provisioning.create_tenant(conn, slug, "X")


async def test_create_tenant_rejects_unknown_limits(conn: Any) -> None:
    with pytest.raises(ValueError, match="unknown tenant limits"):
        await provisioning.create_tenant(conn, "acme", "Acme", max_widgets=1)


async def test_given_tenant_when_created_again_then_unique_violation_and_transaction_usable(
    conn: Any,
) -> None:
    await given_tenant(conn, "acme")
    with pytest.raises(UniqueViolation) as caught:
        await given_tenant(conn, "acme")
    assert caught.value.sqlstate == "23505"
    assert caught.value.constraint_name == "tenants_slug_key"
    assert caught.value.__cause__ is not None
    assert await provisioning.tenant_slugs(conn) == ["acme"]  # savepoint: the caller's transaction lives on


async def test_create_extension_writes_endpoint_auth_aor(conn: Any) -> None:
    await given_tenant(conn, "acme")

    endpoint_id = await provisioning.create_extension(
        conn, "acme", "1001", "s3cret-Pa55", max_contacts=2, display_name="Alice Smith"
    )

    assert endpoint_id == "acme-1001"
    endpoint = await conn.fetchrow("SELECT * FROM ps_endpoints WHERE id = $1", endpoint_id)
    expected_endpoint = {
        "transport": "transport-udp",
        "aors": "acme-1001",
        "auth": "acme-1001",
        "context": "ringline-acme",
        "disallow": "all",
        "allow": "ulaw,alaw",
        "direct_media": "no",
        "rtp_symmetric": "yes",
        "force_rport": "yes",
        "rewrite_contact": "yes",
        "dtmf_mode": "rfc4733",
        "callerid": '"Alice Smith" <1001>',
    }
    assert {k: endpoint[k] for k in expected_endpoint} == expected_endpoint
    aor = await conn.fetchrow("SELECT * FROM ps_aors WHERE id = $1", endpoint_id)
    assert (aor["max_contacts"], aor["remove_existing"], aor["qualify_frequency"]) == (2, "yes", 0)


async def test_create_extension_stores_md5_cred_and_never_the_password(conn: Any) -> None:
    await given_tenant(conn, "acme")
    password = "correct horse battery staple"

    await provisioning.create_extension(conn, "acme", "1002", password)

    auth = await conn.fetchrow("SELECT * FROM ps_auths WHERE id = 'acme-1002'")
    # RFC 7616 3.4.2: A1 = username ":" realm ":" password; computed here independently of the code.
    expected = hashlib.md5(b"acme-1002:asterisk:correct horse battery staple").hexdigest()
    assert (auth["auth_type"], auth["username"], auth["realm"]) == ("md5", "acme-1002", "asterisk")
    assert auth["md5_cred"] == expected
    assert auth["password"] is None
    for table in ("ps_endpoints", "ps_auths", "ps_aors"):
        rows = await conn.fetch(f"SELECT row_to_json(t)::text AS j FROM {table} t")
        assert rows and all(password not in row["j"] for row in rows), table


async def test_given_extension_when_created_again_then_unique_violation(conn: Any) -> None:
    await given_tenant(conn, "acme")
    await provisioning.create_extension(conn, "acme", "1001", "pw-one")
    with pytest.raises(UniqueViolation) as caught:
        await provisioning.create_extension(conn, "acme", "1001", "pw-two")
    assert caught.value.constraint_name == "ps_endpoints_pkey"
    cred = await conn.fetchval("SELECT md5_cred FROM ps_auths WHERE id = 'acme-1001'")
    assert cred == hashlib.md5(b"acme-1001:asterisk:pw-one").hexdigest()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"extension": "10a1"}, "invalid extension"),
        ({"extension": "123456789"}, "invalid extension"),
        ({"password": ""}, "password"),
        ({"display_name": 'Bob "the" Builder'}, "invalid display name"),
        ({"display_name": "A" * 40}, "callerid .* exceeds 40"),
        ({"context": "x" * 41}, "invalid context"),
        ({"max_contacts": 0}, "max_contacts"),
        ({"tenant_slug": "nobody"}, "unknown tenant slug 'nobody'"),
    ],
)
async def test_create_extension_validates(conn: Any, kwargs: dict[str, Any], match: str) -> None:
    await given_tenant(conn, "acme")
    args: dict[str, Any] = {"tenant_slug": "acme", "extension": "1001", "password": "pw"} | kwargs
    with pytest.raises(ValueError, match=match):
        await provisioning.create_extension(conn, **args)
    assert await conn.fetchval("SELECT count(*) FROM ps_endpoints") == 0


async def test_create_trunk_is_a_digest_endpoint_without_callerid(conn: Any) -> None:
    await given_tenant(conn, "acme")

    trunk_id = await provisioning.create_trunk(
        conn, "acme", "carrier1", "trunk-secret", context="from-carrier"
    )

    assert trunk_id == "acme-carrier1"
    endpoint = await conn.fetchrow("SELECT * FROM ps_endpoints WHERE id = $1", trunk_id)
    assert (endpoint["context"], endpoint["allow"], endpoint["auth"], endpoint["callerid"]) == (
        "from-carrier",
        "ulaw,alaw",
        trunk_id,
        None,
    )
    auth = await conn.fetchrow("SELECT * FROM ps_auths WHERE id = $1", trunk_id)
    assert auth["md5_cred"] == hashlib.md5(b"acme-carrier1:asterisk:trunk-secret").hexdigest()
    assert auth["password"] is None
    assert await conn.fetchval("SELECT count(*) FROM ps_aors WHERE id = $1", trunk_id) == 1


async def test_create_trunk_rejects_ids_over_40_characters(conn: Any) -> None:
    slug = "a" + "b" * 30
    await given_tenant(conn, slug)
    with pytest.raises(ValueError, match="exceeds 40"):
        await provisioning.create_trunk(conn, slug, "carrier12", "pw")


async def test_create_did_routes_and_defaults(conn: Any) -> None:
    tenant_id = await given_tenant(conn, "acme")

    did_id = await provisioning.create_did(
        conn, "acme", "+14155550100", "queue", "sales", fallback_type="voicemail", fallback_target="1001"
    )

    row = await conn.fetchrow("SELECT * FROM dids WHERE id = $1", did_id)
    assert (row["tenant_id"], row["number"], row["route_type"], row["route_target"]) == (
        tenant_id,
        "+14155550100",
        "queue",
        "sales",
    )
    assert (row["ring_timeout_s"], row["fallback_type"], row["fallback_target"]) == (20, "voicemail", "1001")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"number": "14155550100"}, "invalid DID"),
        ({"number": "+04155550100"}, "invalid DID"),
        ({"number": "+1234567890123456"}, "invalid DID"),
        ({"route_type": "fax"}, "invalid route_type"),
        ({"route_target": " "}, "route_target"),
        ({"ring_timeout_s": 0}, "ring_timeout_s"),
        ({"ring_timeout_s": 601}, "ring_timeout_s"),
        ({"fallback_type": "queue"}, "invalid fallback_type"),
        ({"fallback_target": "1001"}, "without fallback_type"),
    ],
)
async def test_create_did_validates(conn: Any, kwargs: dict[str, Any], match: str) -> None:
    await given_tenant(conn, "acme")
    args: dict[str, Any] = {
        "tenant_slug": "acme",
        "number": "+14155550100",
        "route_type": "endpoint",
        "route_target": "acme-1001",
    } | kwargs
    with pytest.raises(ValueError, match=match):
        await provisioning.create_did(conn, **args)


async def test_given_did_when_created_again_then_unique_violation(conn: Any) -> None:
    await given_tenant(conn, "acme")
    await given_tenant(conn, "globex")
    await provisioning.create_did(conn, "acme", "+442071838750", "ivr", "main")
    with pytest.raises(UniqueViolation) as caught:
        await provisioning.create_did(conn, "globex", "+442071838750", "ivr", "main")
    assert caught.value.constraint_name == "dids_number_key"


async def _violation(conn: Any, statement: str, *args: Any) -> IntegrityViolation:
    with pytest.raises(IntegrityViolation) as caught, translate_postgres_errors():
        async with conn.transaction():
            await conn.execute(statement, *args)
    return caught.value


async def test_database_constraints_stand_behind_validation(conn: Any) -> None:
    tenant_id = await given_tenant(conn, "acme")
    other_id = await given_tenant(conn, "globex")
    insert_did = "INSERT INTO dids (tenant_id, number, route_type, route_target) VALUES ($1, $2, 'ivr', 'x')"

    bad_number = await _violation(conn, insert_did, tenant_id, "+0123")
    assert isinstance(bad_number, CheckViolation)
    assert bad_number.constraint_name == "dids_number_check"

    no_tenant = await _violation(conn, insert_did, 999_999_999, "+15550001111")
    assert isinstance(no_tenant, ForeignKeyViolation)
    assert no_tenant.constraint_name == "dids_tenant_id_fkey"

    user_id = await conn.fetchval(
        "INSERT INTO users (tenant_id, email, display_name) VALUES ($1, 'a@acme.test', 'A') RETURNING id",
        tenant_id,
    )
    cross_tenant = await _violation(
        conn,
        "INSERT INTO user_roles (user_id, tenant_id, role) VALUES ($1, $2, 'tenant_admin')",
        user_id,
        other_id,
    )
    assert isinstance(cross_tenant, ForeignKeyViolation)
    assert cross_tenant.constraint_name == "user_roles_user_id_tenant_id_fkey"

    missing_name = await _violation(conn, "INSERT INTO tenants (slug, name) VALUES ('initech', NULL)")
    assert isinstance(missing_name, NotNullViolation)
