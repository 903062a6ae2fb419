"""Create tenants, PJSIP extensions/trunks (ARA rows) and DIDs - asyncpg, for seeding and tests.

Every function takes an asyncpg ``Connection`` (or a pool) and runs its writes in one transaction (a
savepoint when the caller already opened one). Inputs are validated before any write (``ValueError``); the
database constraints still stand behind them and surface as ``ara_schema.errors`` (``UniqueViolation``
for a duplicate slug / extension / number).

PJSIP objects are named ``<tenant slug>-<name>``: the endpoint, its auth and its aor share that id.
Passwords are never stored: ``ps_auths`` holds ``auth_type='md5'`` and
``md5_cred = md5("<username>:<realm>:<password>")`` with ``username`` = the endpoint id and realm
``asterisk``. Source: RFC 7616 section 3.4.2 (A1 = username ":" realm ":" password, MD5);
Asterisk ``res_pjsip`` configuration, ``auth`` object ``md5_cred``.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from ara_schema.errors import translate_postgres_errors

__all__ = [
    "DEFAULT_REALM",
    "create_did",
    "create_extension",
    "create_tenant",
    "create_trunk",
    "md5_cred",
    "tenant_slugs",
]

DEFAULT_REALM = "asterisk"
"""Digest realm Asterisk uses when an auth object sets none."""

_SLUG = re.compile(r"[a-z][a-z0-9]{1,30}")
_EXTENSION = re.compile(r"[0-9]{1,8}")
_TRUNK_NAME = re.compile(r"[a-z][a-z0-9_]{0,30}")
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_LIMITS = frozenset({"max_agents", "max_dids", "max_concurrent_calls"})
_ROUTE_TYPES = ("endpoint", "queue", "ivr", "webhook", "external", "voicemail")
_FALLBACK_TYPES = ("voicemail", "hangup", "endpoint", "external")
_PS_VARCHAR40 = 40  # ps_auths.username, ps_endpoints.context / callerid: varchar(40) in Asterisk's schema


def md5_cred(username: str, password: str, realm: str = DEFAULT_REALM) -> str:
    """Hex MD5 of ``username:realm:password`` (32 chars), the value of ``ps_auths.md5_cred``."""
    return hashlib.md5(f"{username}:{realm}:{password}".encode(), usedforsecurity=False).hexdigest()


def _check_slug(slug: str) -> None:
    if not isinstance(slug, str) or not _SLUG.fullmatch(slug):
        raise ValueError(
            f"invalid tenant slug {slug!r}: 2-31 characters, a lower-case letter then lower-case letters "
            "or digits (no '-', it separates the PJSIP id prefix)"
        )


def _check_password(password: str) -> None:
    # No strength policy here (that belongs to the API layer); only what cannot work.
    if not isinstance(password, str) or not password:
        raise ValueError("password must be a non-empty string")


def _context_for(slug: str, context: str | None) -> str:
    context = f"ringline-{slug}" if context is None else context
    if not context or len(context) > _PS_VARCHAR40:
        raise ValueError(
            f"invalid context {context!r}: 1-40 characters (ps_endpoints.context is varchar(40))"
        )
    return context


async def _tenant_id(conn: Any, slug: str) -> int:
    tenant_id = await conn.fetchval("SELECT id FROM tenants WHERE slug = $1", slug)
    if tenant_id is None:
        raise ValueError(f"unknown tenant slug {slug!r}")
    return int(tenant_id)


async def create_tenant(conn: Any, slug: str, name: str, **limits: int) -> int:
    """Insert a tenant; returns ``tenants.id``.

    ``limits``: any of ``max_agents``, ``max_dids``, ``max_concurrent_calls`` (counts, >= 0); the others
    keep their defaults (50, 50, 100).

    Raises:
        ValueError: bad slug, empty name, unknown or negative limit.
        UniqueViolation: the slug exists (``tenants_slug_key``).
    """
    _check_slug(slug)
    if not isinstance(name, str) or not name.strip():
        raise ValueError("tenant name must be a non-empty string")
    unknown = set(limits) - _LIMITS
    if unknown:
        raise ValueError(f"unknown tenant limits {sorted(unknown)}; known: {sorted(_LIMITS)}")
    for key, value in limits.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{key} must be an int >= 0, got {value!r}")
    columns = ["slug", "name", *sorted(limits)]
    values = [slug, name.strip(), *(limits[k] for k in sorted(limits))]
    placeholders = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    sql = f"INSERT INTO tenants ({', '.join(columns)}) VALUES ({placeholders}) RETURNING id"
    with translate_postgres_errors():
        async with conn.transaction():  # a savepoint inside a caller's transaction: it survives our error
            return int(await conn.fetchval(sql, *values))


async def _write_pjsip_object(
    conn: Any,
    object_id: str,
    password: str,
    *,
    context: str,
    max_contacts: int,
    callerid: str | None,
) -> None:
    """One endpoint + auth + aor sharing ``object_id``, in one transaction."""
    async with conn.transaction():
        await conn.execute(
            "INSERT INTO ps_endpoints (id, transport, aors, auth, context, disallow, allow, direct_media,"
            " rtp_symmetric, force_rport, rewrite_contact, dtmf_mode, callerid)"
            " VALUES ($1, 'transport-udp', $1, $1, $2, 'all', 'ulaw,alaw', 'no', 'yes', 'yes', 'yes',"
            " 'rfc4733', $3)",
            object_id,
            context,
            callerid,
        )
        await conn.execute(
            "INSERT INTO ps_auths (id, auth_type, username, realm, md5_cred) VALUES ($1, 'md5', $1, $2, $3)",
            object_id,
            DEFAULT_REALM,
            md5_cred(object_id, password),
        )
        await conn.execute(
            "INSERT INTO ps_aors (id, max_contacts, remove_existing, qualify_frequency)"
            " VALUES ($1, $2, 'yes', 0)",
            object_id,
            max_contacts,
        )


async def create_extension(
    conn: Any,
    tenant_slug: str,
    extension: str,
    password: str,
    *,
    context: str | None = None,
    max_contacts: int = 1,
    display_name: str | None = None,
) -> str:
    """Create a phone: ``ps_endpoints``/``ps_auths``/``ps_aors`` rows with id ``<slug>-<extension>``;
    returns that id (also the SIP digest username).

    Endpoint: ``transport-udp``, context ``ringline-<slug>`` unless given, ``disallow=all``,
    ``allow=ulaw,alaw``, ``direct_media=no``, ``rtp_symmetric/force_rport/rewrite_contact=yes``,
    ``dtmf_mode=rfc4733``, ``callerid='"<display_name>" <<extension>>'`` when a display name is given.
    AOR: ``max_contacts``, ``remove_existing=yes``, ``qualify_frequency=0``.

    Raises:
        ValueError: bad slug/extension (1-8 digits)/password (empty)/context/display name, unknown
            tenant, ``max_contacts`` < 1.
        UniqueViolation: the extension exists (``ps_endpoints_pkey``).
    """
    _check_slug(tenant_slug)
    if not isinstance(extension, str) or not _EXTENSION.fullmatch(extension):
        raise ValueError(f"invalid extension {extension!r}: 1-8 digits")
    _check_password(password)
    if isinstance(max_contacts, bool) or not isinstance(max_contacts, int) or max_contacts < 1:
        raise ValueError(f"max_contacts must be an int >= 1, got {max_contacts!r}")
    callerid = None
    if display_name is not None:
        if (
            not display_name.strip()
            or any(c in display_name for c in '"<>\\')
            or not display_name.isprintable()
        ):
            raise ValueError(f'invalid display name {display_name!r}: printable, without " < > \\')
        callerid = f'"{display_name.strip()}" <{extension}>'
        if len(callerid) > _PS_VARCHAR40:
            raise ValueError(
                f"display name too long: callerid {callerid!r} exceeds 40 characters "
                "(ps_endpoints.callerid is varchar(40))"
            )
    object_id = f"{tenant_slug}-{extension}"
    context = _context_for(tenant_slug, context)
    with translate_postgres_errors():
        async with conn.transaction():
            await _tenant_id(conn, tenant_slug)
            await _write_pjsip_object(
                conn, object_id, password, context=context, max_contacts=max_contacts, callerid=callerid
            )
    return object_id


async def create_trunk(
    conn: Any, tenant_slug: str, name: str, password: str, *, context: str | None = None
) -> str:
    """Create an endpoint a carrier authenticates to with digest (username = the returned id
    ``<slug>-<name>``). Same rows and defaults as ``create_extension`` (``allow=ulaw,alaw``), no caller id;
    its aor needs no contacts (calls come in from the carrier) but accepts one if the carrier registers.

    Raises:
        ValueError: bad slug/name (lower-case letter, then letters/digits/``_``)/password/context, id over
            40 characters, unknown tenant.
        UniqueViolation: the trunk exists.
    """
    _check_slug(tenant_slug)
    if not isinstance(name, str) or not _TRUNK_NAME.fullmatch(name):
        raise ValueError(
            f"invalid trunk name {name!r}: a lower-case letter, then lower-case letters, digits, _"
        )
    _check_password(password)
    object_id = f"{tenant_slug}-{name}"
    if len(object_id) > _PS_VARCHAR40:
        raise ValueError(f"trunk id {object_id!r} exceeds 40 characters (ps_auths.username is varchar(40))")
    context = _context_for(tenant_slug, context)
    with translate_postgres_errors():
        async with conn.transaction():
            await _tenant_id(conn, tenant_slug)
            await _write_pjsip_object(
                conn, object_id, password, context=context, max_contacts=1, callerid=None
            )
    return object_id


async def create_did(
    conn: Any,
    tenant_slug: str,
    number: str,
    route_type: str,
    route_target: str,
    *,
    ring_timeout_s: int = 20,
    fallback_type: str | None = None,
    fallback_target: str | None = None,
) -> int:
    """Insert a DID (E.164 ``number``, e.g. ``+14155550100``) routed to ``route_type``/``route_target``;
    ``ring_timeout_s`` (1-600 s) before ``fallback_type``/``fallback_target``. Returns ``dids.id``.

    Raises:
        ValueError: not E.164, unknown route/fallback type, empty target, timeout out of range,
            fallback target without type, unknown tenant.
        UniqueViolation: the number exists (``dids_number_key``).
    """
    _check_slug(tenant_slug)
    if not isinstance(number, str) or not _E164.fullmatch(number):
        raise ValueError(f"invalid DID {number!r}: E.164 ('+', then 2-15 digits, first digit not 0)")
    if route_type not in _ROUTE_TYPES:
        raise ValueError(f"invalid route_type {route_type!r}; one of {', '.join(_ROUTE_TYPES)}")
    if not isinstance(route_target, str) or not route_target.strip():
        raise ValueError("route_target must be a non-empty string")
    if (
        isinstance(ring_timeout_s, bool)
        or not isinstance(ring_timeout_s, int)
        or not 1 <= ring_timeout_s <= 600
    ):
        raise ValueError(f"ring_timeout_s must be an int in 1..600 seconds, got {ring_timeout_s!r}")
    if fallback_type is not None and fallback_type not in _FALLBACK_TYPES:
        raise ValueError(f"invalid fallback_type {fallback_type!r}; one of {', '.join(_FALLBACK_TYPES)}")
    if fallback_target is not None and fallback_type is None:
        raise ValueError("fallback_target given without fallback_type")
    with translate_postgres_errors():
        async with conn.transaction():
            tenant_id = await _tenant_id(conn, tenant_slug)
            did_id = await conn.fetchval(
                "INSERT INTO dids (tenant_id, number, route_type, route_target, ring_timeout_s,"
                " fallback_type, fallback_target) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                tenant_id,
                number,
                route_type,
                route_target,
                ring_timeout_s,
                fallback_type,
                fallback_target,
            )
    return int(did_id)


async def tenant_slugs(conn: Any) -> list[str]:
    """All tenant slugs, sorted."""
    with translate_postgres_errors():
        rows = await conn.fetch("SELECT slug FROM tenants ORDER BY slug")
    return [str(row["slug"]) for row in rows]
