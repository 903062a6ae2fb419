"""Use cases of ``/api/extensions`` and ``/api/dids``: each takes the pool, the request's ``tenant_id``
(``web.keys.tenant_id``) and, for writes, the principal; every write is audit-logged (``audit_log``) in the
transaction that makes it.

Audit actions: ``extension.create``/``extension.delete`` (object ``extension``, id = PJSIP id),
``did.create``/``did.delete`` (object ``did``, id = ``dids.id``). Passwords never reach the log.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg

from ara_schema import provisioning
from ara_schema.errors import UniqueViolation
from web.auth.schemas import PageQuery, encode_cursor
from web.auth.services import Principal
from web.auth.store import audit
from web.errors import Conflict, NotFound, ValidationFailed
from web.keys import Clock
from web.provisioning import store
from web.provisioning.schemas import (
    ContactOut,
    DidIn,
    DidOut,
    DidPage,
    ExtensionIn,
    ExtensionOut,
    ExtensionPage,
    ExtensionPageQuery,
    encode_extension_cursor,
)


def _actor(principal: Principal) -> dict[str, object]:
    return {"via_api_key": principal.api_key_id} if principal.api_key_id is not None else {}


def _extension_out(tenant_id: int, slug: str, row: dict[str, Any], contacts: list[dict[str, Any]],
                   now: float) -> ExtensionOut:
    found = [ContactOut(uri=c["uri"], expires_at=datetime.fromtimestamp(c["expiration_time"] or 0, UTC),
                        user_agent=c["user_agent"]) for c in contacts]
    return ExtensionOut(
        tenant_id=tenant_id, extension=row["endpoint_id"].removeprefix(f"{slug}-"), endpoint_id=row["endpoint_id"],
        context=row["context"], callerid=row["callerid"], max_contacts=row["max_contacts"],
        registered=any((c["expiration_time"] or 0) > now for c in contacts), contacts=found,
    )


async def _with_contacts(conn: asyncpg.Connection, tenant_id: int, slug: str, rows: list[dict[str, Any]],
                         now: float) -> list[ExtensionOut]:
    by_aor: dict[str, list[dict[str, Any]]] = {r["endpoint_id"]: [] for r in rows}
    for contact in await store.contacts(conn, list(by_aor)):
        by_aor[contact["aor"]].append(contact)
    return [_extension_out(tenant_id, slug, r, by_aor[r["endpoint_id"]], now) for r in rows]


# --- extensions --------------------------------------------------------------------------------------------


async def list_extensions(pool: asyncpg.Pool, clock: Clock, tenant_id: int, page: ExtensionPageQuery) -> ExtensionPage:
    """One page of the tenant's extensions in extension order, each with its registration (``ps_contacts``;
    registered = a contact whose ``expiration_time`` is after ``clock()``)."""
    async with pool.acquire() as conn:
        slug = await store.tenant_slug(conn, tenant_id)
        rows = await store.list_extensions(conn, slug, after=page.after, limit=page.limit + 1)
        items = await _with_contacts(conn, tenant_id, slug, rows[: page.limit], clock())
    next_cursor = encode_extension_cursor(items[-1].extension) if len(rows) > page.limit else None
    return ExtensionPage(items=items, next_cursor=next_cursor)


async def get_extension(pool: asyncpg.Pool, clock: Clock, tenant_id: int, extension: str) -> ExtensionOut:
    """Raises: NotFound: the tenant has no such extension."""
    async with pool.acquire() as conn:
        slug = await store.tenant_slug(conn, tenant_id)
        row = await store.extension(conn, slug, extension)
        if row is None:
            raise NotFound(f"no extension {extension}")
        return (await _with_contacts(conn, tenant_id, slug, [row], clock()))[0]


async def create_extension(pool: asyncpg.Pool, clock: Clock, principal: Principal, tenant_id: int,
                           body: ExtensionIn) -> ExtensionOut:
    """Create the extension's ``ps_endpoints``/``ps_auths``/``ps_aors`` rows (``ara_schema.provisioning``; the
    password is stored as ``md5_cred`` only); audit-logged as ``extension.create``.

    Raises:
        Conflict: ``extension_exists``.
        ValidationFailed: what ``provisioning.create_extension`` refuses (e.g. a display name with ``"``).
    """
    try:
        async with pool.acquire() as conn, conn.transaction():
            slug = await store.tenant_slug(conn, tenant_id)
            object_id = await provisioning.create_extension(
                conn, slug, body.extension, body.password, max_contacts=body.max_contacts,
                display_name=body.display_name,
            )
            await audit(conn, tenant_id, actor_user_id=principal.user_id, action="extension.create",
                        object_type="extension", object_id=object_id,
                        details={"extension": body.extension, "display_name": body.display_name, **_actor(principal)})
            row = await store.extension(conn, slug, body.extension)
    except UniqueViolation:
        raise Conflict(f"extension {body.extension} exists", error_id="extension_exists") from None
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from None
    assert row is not None
    return _extension_out(tenant_id, slug, row, [], clock())


async def delete_extension(pool: asyncpg.Pool, principal: Principal, tenant_id: int, extension: str) -> None:
    """Delete the extension's PJSIP rows and contacts; audit-logged as ``extension.delete``.

    Raises:
        NotFound: the tenant has no such extension.
    """
    async with pool.acquire() as conn, conn.transaction():
        slug = await store.tenant_slug(conn, tenant_id)
        if not await store.delete_extension(conn, slug, extension):
            raise NotFound(f"no extension {extension}")
        await audit(conn, tenant_id, actor_user_id=principal.user_id, action="extension.delete",
                    object_type="extension", object_id=f"{slug}-{extension}", details=_actor(principal))


# --- DIDs --------------------------------------------------------------------------------------------------


async def list_dids(pool: asyncpg.Pool, tenant_id: int, page: PageQuery) -> DidPage:
    async with pool.acquire() as conn:
        rows = await store.list_dids(conn, tenant_id, after_id=page.after_id, limit=page.limit + 1)
    items = [DidOut(**row) for row in rows[: page.limit]]
    next_cursor = encode_cursor(items[-1].id) if len(rows) > page.limit else None
    return DidPage(items=items, next_cursor=next_cursor)


async def create_did(pool: asyncpg.Pool, principal: Principal, tenant_id: int, body: DidIn) -> DidOut:
    """Create DID ``body.number`` within ``tenants.max_dids``; audit-logged as ``did.create``.

    Raises:
        Conflict: ``limit_reached`` (the tenant has ``max_dids`` DIDs; ``details.limit`` = ``"max_dids"``),
            ``did_exists`` (the number is taken, in this tenant or another: numbers are global).
        ValidationFailed: what ``provisioning.create_did`` refuses.
    """
    try:
        async with pool.acquire() as conn, conn.transaction():
            max_dids, count = await store.did_usage_for_update(conn, tenant_id)
            if count >= max_dids:
                raise Conflict(f"tenant limit max_dids reached ({count} of {max_dids} DIDs)", error_id="limit_reached",
                               details={"limit": "max_dids", "max": max_dids, "current": count})
            slug = await store.tenant_slug(conn, tenant_id)
            did_id = await provisioning.create_did(
                conn, slug, body.number, body.route_type, body.route_target, ring_timeout_s=body.ring_timeout_s,
                fallback_type=body.fallback_type, fallback_target=body.fallback_target,
            )
            await audit(conn, tenant_id, actor_user_id=principal.user_id, action="did.create", object_type="did",
                        object_id=str(did_id), details={**body.model_dump(mode="json"), **_actor(principal)})
            row = await store.did(conn, tenant_id, did_id)
    except UniqueViolation:
        raise Conflict(f"DID {body.number} exists", error_id="did_exists") from None
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from None
    return DidOut(**row)


async def delete_did(pool: asyncpg.Pool, principal: Principal, tenant_id: int, number: str) -> None:
    """Delete DID ``number`` of the tenant; audit-logged as ``did.delete``.

    Raises:
        NotFound: the tenant has no such number.
    """
    async with pool.acquire() as conn, conn.transaction():
        row = await store.delete_did(conn, tenant_id, number)
        if row is None:
            raise NotFound(f"no DID {number}")
        await audit(conn, tenant_id, actor_user_id=principal.user_id, action="did.delete", object_type="did",
                    object_id=str(row["id"]), details={"number": number, **_actor(principal)})
