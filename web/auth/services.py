"""Use cases of the auth feature: who is asking (:class:`Principal`), login, refresh rotation, logout, password
change, API keys, users. Each takes the pool, the injected clock where time matters, and - for anything
inside a tenant - the request's ``tenant_id`` (``web.keys.tenant_id``), never a tenant from the body.

Refresh tokens rotate (RFC 9700 section 4.14.2, "refresh token rotation"): each use marks the token used and
issues the next one of the same family; presenting a used token again is taken as theft and revokes the whole
family, whose access tokens then stop working too (the guard checks the family is live).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import asyncpg

from ara_schema.errors import UniqueViolation
from web.auth import store, tokens
from web.auth.config import AuthConfig
from web.auth.schemas import (
    ApiKeyCreatedOut,
    ApiKeyIn,
    ApiKeyOut,
    LoginIn,
    MeOut,
    PageQuery,
    PasswordChangeIn,
    TokensOut,
    UserIn,
    UserOut,
    UserPage,
    encode_cursor,
)
from web.errors import Conflict, Forbidden, NotFound, Unauthenticated
from web.keys import Clock
from web.permissions import Permission, may_grant, permissions_for

INVALID_CREDENTIALS = "invalid tenant, email or password"
"""The one login failure message: it does not tell which part was wrong (no user enumeration)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: a logged-in user (``session_id`` = its refresh-token family) or an API key."""

    kind: Literal["user", "api_key"]
    tenant_id: int
    roles: frozenset[str]
    permissions: frozenset[Permission]
    user_id: int | None = None
    api_key_id: int | None = None
    session_id: uuid.UUID | None = None


def _at(clock: Clock) -> datetime:
    return datetime.fromtimestamp(clock(), UTC)


# --- authentication (used by the guard) --------------------------------------------------------------------


async def authenticate_bearer(pool: asyncpg.Pool, config: AuthConfig, clock: Clock, token: str) -> Principal:
    """The user behind an access token.

    Raises:
        Unauthenticated: ``token_expired``, or ``invalid_token`` (bad token, user gone, session revoked).
    """
    try:
        claims = tokens.read_access_token(config, token, now=clock())
    except tokens.InvalidToken as exc:
        if exc.expired:
            raise Unauthenticated("access token expired", error_id="token_expired") from None
        raise Unauthenticated("invalid access token", error_id="invalid_token") from None
    async with pool.acquire() as conn:
        roles = await store.user_roles(conn, claims.tenant_id, claims.user_id)
        live = roles is not None and await store.family_is_live(conn, claims.tenant_id, claims.session_id)
    if roles is None or not live:
        raise Unauthenticated("invalid access token", error_id="invalid_token")
    return Principal(
        kind="user", tenant_id=claims.tenant_id, roles=frozenset(roles), permissions=permissions_for(roles),
        user_id=claims.user_id, session_id=claims.session_id,
    )


async def authenticate_api_key(pool: asyncpg.Pool, key: str) -> Principal:
    """The API key ``key`` (an ``X-API-Key`` header value).

    Raises:
        Unauthenticated: ``invalid_api_key`` (unknown or revoked).
    """
    async with pool.acquire() as conn:
        found = await store.api_key_by_hash(conn, tokens.digest(key))
    if found is None:
        raise Unauthenticated("invalid API key", error_id="invalid_api_key")
    return Principal(
        kind="api_key", tenant_id=found.tenant_id, roles=frozenset({found.role}),
        permissions=permissions_for([found.role]), api_key_id=found.id,
    )


def me(principal: Principal) -> MeOut:
    return MeOut(
        kind=principal.kind, tenant_id=principal.tenant_id, user_id=principal.user_id,
        api_key_id=principal.api_key_id, roles=sorted(principal.roles), permissions=sorted(principal.permissions),
    )


# --- sessions ----------------------------------------------------------------------------------------------


async def _issue(
    conn: asyncpg.Connection, config: AuthConfig, now: float, *, tenant_id: int, user_id: int, family: uuid.UUID
) -> TokensOut:
    refresh = tokens.new_opaque(tokens.REFRESH_TOKEN_PREFIX)
    issued = datetime.fromtimestamp(now, UTC)
    await store.insert_refresh_token(
        conn, tenant_id, user_id=user_id, family_id=family, token_hash=tokens.digest(refresh),
        issued_at=issued, expires_at=datetime.fromtimestamp(now + config.refresh_ttl_s, UTC),
    )
    access, exp = tokens.issue_access_token(config, user_id=user_id, tenant_id=tenant_id, session_id=family, now=now)
    return TokensOut(access_token=access, expires_in=exp - int(now), refresh_token=refresh)


async def login(pool: asyncpg.Pool, config: AuthConfig, clock: Clock, body: LoginIn) -> TokensOut:
    """Check the password and start a session (a new refresh-token family).

    Raises:
        Unauthenticated: ``invalid_credentials`` whatever was wrong (tenant, email, password, none set).
    """
    async with pool.acquire() as conn:
        user = await store.login_user(conn, body.tenant, body.email)
    ok = await asyncio.to_thread(tokens.verify_password, user.password_hash if user else None, body.password)
    if user is None or not ok:
        raise Unauthenticated(INVALID_CREDENTIALS, error_id="invalid_credentials")
    async with pool.acquire() as conn, conn.transaction():
        return await _issue(conn, config, clock(), tenant_id=user.tenant_id, user_id=user.id, family=uuid.uuid4())


async def refresh(pool: asyncpg.Pool, config: AuthConfig, clock: Clock, refresh_token: str) -> TokensOut:
    """Rotate: mark ``refresh_token`` used and issue a new access + refresh token of the same family.

    Raises:
        Unauthenticated: ``invalid_refresh_token`` (unknown, expired, revoked), ``refresh_token_reused`` (already
            used: the family is revoked, committed before this is raised).
    """
    now = clock()
    at = datetime.fromtimestamp(now, UTC)
    async with pool.acquire() as conn, conn.transaction():
        row = await store.refresh_token_for_update(conn, tokens.digest(refresh_token))
        if row is None or row.revoked_at is not None or row.expires_at <= at:
            outcome = "invalid"
        elif row.used_at is not None:
            await store.revoke_family(conn, row.tenant_id, row.family_id, at)
            outcome = "reused"
        else:
            await store.mark_refresh_token_used(conn, row.tenant_id, row.id, at)
            return await _issue(conn, config, now, tenant_id=row.tenant_id, user_id=row.user_id,
                                family=row.family_id)
    if outcome == "reused":
        raise Unauthenticated("refresh token already used; the session is revoked", error_id="refresh_token_reused")
    raise Unauthenticated("invalid refresh token", error_id="invalid_refresh_token")


async def logout(pool: asyncpg.Pool, clock: Clock, refresh_token: str) -> None:
    """End the session of ``refresh_token`` (its whole family). Unknown or already ended sessions are an outcome,
    not an error: logout is idempotent."""
    async with pool.acquire() as conn, conn.transaction():
        row = await store.refresh_token_for_update(conn, tokens.digest(refresh_token))
        if row is not None:
            await store.revoke_family(conn, row.tenant_id, row.family_id, _at(clock))


async def change_password(pool: asyncpg.Pool, clock: Clock, principal: Principal, body: PasswordChangeIn) -> None:
    """Set a new password after checking the old one; every other session of the user is revoked.

    Raises:
        Forbidden: ``user_required`` for API keys.
        Unauthenticated: ``invalid_credentials`` when the old password is wrong.
    """
    if principal.user_id is None:
        raise Forbidden("only a user has a password", error_id="user_required")
    tenant_id, user_id = principal.tenant_id, principal.user_id
    async with pool.acquire() as conn:
        current = await store.password_hash(conn, tenant_id, user_id)
    if not await asyncio.to_thread(tokens.verify_password, current, body.old_password):
        raise Unauthenticated("old password is wrong", error_id="invalid_credentials")
    new_hash = await asyncio.to_thread(tokens.hash_password, body.new_password)
    async with pool.acquire() as conn, conn.transaction():
        await store.set_password_hash(conn, tenant_id, user_id, new_hash)
        revoked = await store.revoke_other_sessions(conn, tenant_id, user_id, keep_family=principal.session_id,
                                                    at=_at(clock))
        await store.audit(conn, tenant_id, actor_user_id=user_id, action="user.password_change", object_type="user",
                          object_id=str(user_id), details={"sessions_revoked": revoked})


# --- API keys ----------------------------------------------------------------------------------------------


def _actor(principal: Principal) -> dict[str, object]:
    return {"via_api_key": principal.api_key_id} if principal.api_key_id is not None else {}


async def create_api_key(pool: asyncpg.Pool, principal: Principal, tenant_id: int, body: ApiKeyIn) -> ApiKeyCreatedOut:
    """Create a key of ``tenant_id`` acting as ``body.role``; the key is in the result only.

    Raises:
        Forbidden: ``role_forbidden`` when the role grants more than the creator holds.
    """
    if not may_grant(principal.permissions, [body.role]):
        raise Forbidden(f"cannot create a key with role {body.role}", error_id="role_forbidden")
    key = tokens.new_opaque(tokens.API_KEY_PREFIX)
    async with pool.acquire() as conn, conn.transaction():
        row = await store.insert_api_key(
            conn, tenant_id, name=body.name, role=body.role, key_prefix=key[: tokens.API_KEY_SHOWN_PREFIX_CHARS],
            key_hash=tokens.digest(key), created_by_user_id=principal.user_id,
        )
        await store.audit(conn, tenant_id, actor_user_id=principal.user_id, action="api_key.create",
                          object_type="api_key", object_id=str(row["id"]),
                          details={"name": body.name, "role": body.role, **_actor(principal)})
    return ApiKeyCreatedOut(**row, key=key)


async def list_api_keys(pool: asyncpg.Pool, tenant_id: int) -> list[ApiKeyOut]:
    async with pool.acquire() as conn:
        return [ApiKeyOut(**row) for row in await store.list_api_keys(conn, tenant_id)]


async def revoke_api_key(pool: asyncpg.Pool, clock: Clock, principal: Principal, tenant_id: int, key_id: int) -> None:
    """Revoke key ``key_id`` of ``tenant_id``.

    Raises:
        NotFound: the tenant has no such key.
    """
    async with pool.acquire() as conn, conn.transaction():
        row = await store.revoke_api_key(conn, tenant_id, key_id, _at(clock))
        if row is None:
            raise NotFound(f"no API key {key_id}")
        await store.audit(conn, tenant_id, actor_user_id=principal.user_id, action="api_key.revoke",
                          object_type="api_key", object_id=str(key_id), details=_actor(principal))


# --- users -------------------------------------------------------------------------------------------------


async def list_users(pool: asyncpg.Pool, tenant_id: int, page: PageQuery) -> UserPage:
    async with pool.acquire() as conn:
        rows = await store.list_users(conn, tenant_id, after_id=page.after_id, limit=page.limit + 1)
    items = [UserOut(**row) for row in rows[: page.limit]]
    next_cursor = encode_cursor(items[-1].id) if len(rows) > page.limit else None
    return UserPage(items=items, next_cursor=next_cursor)


async def create_user(pool: asyncpg.Pool, principal: Principal, tenant_id: int, body: UserIn) -> UserOut:
    """Create a user of ``tenant_id`` with ``body.roles``; audit-logged as ``user.create``.

    Raises:
        Forbidden: ``role_forbidden`` when the roles grant more than the creator holds.
        Conflict: ``user_exists`` when the tenant already has that email.
    """
    if not may_grant(principal.permissions, body.roles):
        raise Forbidden(f"cannot grant roles {body.roles}", error_id="role_forbidden")
    password_hash = await asyncio.to_thread(tokens.hash_password, body.password) if body.password else None
    try:
        async with pool.acquire() as conn, conn.transaction():
            row = await store.insert_user(
                conn, tenant_id, email=body.email, display_name=body.display_name, password_hash=password_hash,
                extension=body.extension, roles=list(body.roles),
            )
            await store.audit(conn, tenant_id, actor_user_id=principal.user_id, action="user.create",
                              object_type="user", object_id=str(row["id"]),
                              details={"email": body.email, "roles": list(body.roles), **_actor(principal)})
    except UniqueViolation:
        raise Conflict(f"user {body.email} exists", error_id="user_exists") from None
    return UserOut(**row)
