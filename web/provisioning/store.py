"""SQL of ``/api/extensions`` and ``/api/dids``. Tenant isolation lives here: ``dids`` rows by ``tenant_id``,
PJSIP rows by their id prefix ``<tenant slug>-`` (slugs hold no ``-``, so the prefix is unambiguous; trunks
share the prefix but are not digits-only, so ``_EXTENSION_ID`` leaves them out).

Writes go through ``ara_schema.provisioning`` (creation) or here (deletion); call them inside a transaction.
"""

from __future__ import annotations

from typing import Any

import asyncpg

_EXTENSION_ID = "^{slug}-[0-9]{{1,8}}$"
_DID_COLUMNS = ("id, tenant_id, number, route_type, route_target, ring_timeout_s, fallback_type, fallback_target,"
                " created_at")


async def tenant_slug(conn: asyncpg.Connection, tenant_id: int) -> str:
    """``tenants.slug`` of ``tenant_id`` (the guard established that it exists)."""
    slug: str = await conn.fetchval("SELECT slug FROM tenants WHERE id = $1", tenant_id)
    return slug


# --- extensions (ps_endpoints / ps_auths / ps_aors, ps_contacts) --------------------------------------------


async def list_extensions(conn: asyncpg.Connection, slug: str, *, after: str, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` extensions of tenant ``slug`` sorting after ``after`` (text order), with their AOR's
    ``max_contacts``."""
    rows = await conn.fetch(
        "SELECT e.id AS endpoint_id, e.context, e.callerid, a.max_contacts FROM ps_endpoints e"
        " LEFT JOIN ps_aors a ON a.id = e.id"
        " WHERE e.id ~ $1 AND e.id > $2 ORDER BY e.id LIMIT $3",
        _EXTENSION_ID.format(slug=slug), f"{slug}-{after}", limit,
    )
    return [dict(r) for r in rows]


async def extension(conn: asyncpg.Connection, slug: str, extension: str) -> dict[str, Any] | None:
    """Extension ``extension`` of tenant ``slug``; None when it has none."""
    row = await conn.fetchrow(
        "SELECT e.id AS endpoint_id, e.context, e.callerid, a.max_contacts FROM ps_endpoints e"
        " LEFT JOIN ps_aors a ON a.id = e.id WHERE e.id = $1",
        f"{slug}-{extension}",
    )
    return dict(row) if row else None


async def contacts(conn: asyncpg.Connection, endpoint_ids: list[str]) -> list[dict[str, Any]]:
    """``ps_contacts`` of these AORs. Asterisk names a contact ``<aor>;@<hash>`` and fills ``endpoint``."""
    rows = await conn.fetch(
        "SELECT split_part(id, ';@', 1) AS aor, uri, expiration_time, user_agent FROM ps_contacts"
        " WHERE split_part(id, ';@', 1) = ANY($1::text[]) ORDER BY id",
        endpoint_ids,
    )
    return [dict(r) for r in rows]


async def delete_extension(conn: asyncpg.Connection, slug: str, extension: str) -> bool:
    """Delete the endpoint, auth, aor and contacts of ``<slug>-<extension>``; False when there was no endpoint."""
    object_id = f"{slug}-{extension}"
    status: str = await conn.execute("DELETE FROM ps_endpoints WHERE id = $1", object_id)
    await conn.execute("DELETE FROM ps_auths WHERE id = $1", object_id)
    await conn.execute("DELETE FROM ps_aors WHERE id = $1", object_id)
    await conn.execute("DELETE FROM ps_contacts WHERE split_part(id, ';@', 1) = $1", object_id)
    return status != "DELETE 0"


# --- DIDs --------------------------------------------------------------------------------------------------


async def list_dids(conn: asyncpg.Connection, tenant_id: int, *, after_id: int, limit: int) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        f"SELECT {_DID_COLUMNS} FROM dids WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        tenant_id, after_id, limit,
    )
    return [dict(r) for r in rows]


async def did(conn: asyncpg.Connection, tenant_id: int, did_id: int) -> dict[str, Any]:
    row = await conn.fetchrow(f"SELECT {_DID_COLUMNS} FROM dids WHERE id = $1 AND tenant_id = $2", did_id, tenant_id)
    assert row is not None
    return dict(row)


async def did_usage_for_update(conn: asyncpg.Connection, tenant_id: int) -> tuple[int, int]:
    """``(tenants.max_dids, DIDs the tenant has)``; locks the tenant row until the transaction ends, so two
    concurrent creations cannot both pass the limit."""
    max_dids: int = await conn.fetchval("SELECT max_dids FROM tenants WHERE id = $1 FOR UPDATE", tenant_id)
    count: int = await conn.fetchval("SELECT count(*) FROM dids WHERE tenant_id = $1", tenant_id)
    return max_dids, count


async def delete_did(conn: asyncpg.Connection, tenant_id: int, number: str) -> dict[str, Any] | None:
    """Delete DID ``number`` of ``tenant_id``; its row, or None when the tenant has no such number."""
    row = await conn.fetchrow(
        f"DELETE FROM dids WHERE number = $1 AND tenant_id = $2 RETURNING {_DID_COLUMNS}", number, tenant_id
    )
    return dict(row) if row else None
