"""SQL of the auth feature. Tenant isolation lives here: every function that touches tenant rows takes
``tenant_id`` and puts it in its ``WHERE``/``INSERT``.

The exceptions are the three lookups that *establish* a tenant from a credential (:func:`login_user` by tenant
slug, :func:`refresh_token_for_update` and :func:`api_key_by_hash` by digest); their result carries the
``tenant_id`` every later call is scoped by.

Rows come back as dicts with the columns' names (``jsonb`` travels as text, see ``ara_schema.pool``).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from ara_schema.errors import translate_postgres_errors

_USER_COLUMNS = """u.id, u.tenant_id, u.email, u.display_name, u.extension, u.created_at,
    coalesce((SELECT array_agg(r.role ORDER BY r.role) FROM user_roles r
              WHERE r.user_id = u.id AND r.tenant_id = u.tenant_id), '{}') AS roles"""
_API_KEY_COLUMNS = "id, tenant_id, name, role, key_prefix, created_at, revoked_at"


@dataclass(frozen=True, slots=True)
class LoginUser:
    id: int
    tenant_id: int
    password_hash: str | None


@dataclass(frozen=True, slots=True)
class RefreshRow:
    id: int
    tenant_id: int
    user_id: int
    family_id: uuid.UUID
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class ApiKeyAuth:
    id: int
    tenant_id: int
    role: str


# --- lookups that establish the tenant ---------------------------------------------------------------------


async def login_user(conn: asyncpg.Connection, tenant_slug: str, email: str) -> LoginUser | None:
    """The user ``email`` of the active (or trial) tenant ``tenant_slug``; None when either is unknown."""
    row = await conn.fetchrow(
        "SELECT u.id, u.tenant_id, u.password_hash FROM users u JOIN tenants t ON t.id = u.tenant_id"
        " WHERE t.slug = $1 AND t.status IN ('active', 'trial') AND lower(u.email) = lower($2)",
        tenant_slug, email,
    )
    return LoginUser(**dict(row)) if row else None


async def refresh_token_for_update(conn: asyncpg.Connection, token_hash: bytes) -> RefreshRow | None:
    """The refresh token with this digest, row-locked until the transaction ends; None when unknown."""
    row = await conn.fetchrow(
        "SELECT id, tenant_id, user_id, family_id, expires_at, used_at, revoked_at FROM refresh_tokens"
        " WHERE token_hash = $1 FOR UPDATE",
        token_hash,
    )
    return RefreshRow(**dict(row)) if row else None


async def api_key_by_hash(conn: asyncpg.Connection, key_hash: bytes) -> ApiKeyAuth | None:
    """The unrevoked API key with this digest, of an active (or trial) tenant; None otherwise."""
    row = await conn.fetchrow(
        "SELECT k.id, k.tenant_id, k.role FROM api_keys k JOIN tenants t ON t.id = k.tenant_id"
        " WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND t.status IN ('active', 'trial')",
        key_hash,
    )
    return ApiKeyAuth(**dict(row)) if row else None


# --- tenants and users -------------------------------------------------------------------------------------


async def tenant_exists(conn: asyncpg.Connection, tenant_id: int) -> bool:
    return bool(await conn.fetchval("SELECT 1 FROM tenants WHERE id = $1", tenant_id))


async def user_roles(conn: asyncpg.Connection, tenant_id: int, user_id: int) -> list[str] | None:
    """The roles of user ``user_id`` of ``tenant_id``; None when there is no such user there."""
    row = await conn.fetchrow(
        "SELECT coalesce(array_agg(r.role ORDER BY r.role) FILTER (WHERE r.role IS NOT NULL), '{}') AS roles"
        " FROM users u LEFT JOIN user_roles r ON r.user_id = u.id AND r.tenant_id = u.tenant_id"
        " WHERE u.id = $1 AND u.tenant_id = $2 GROUP BY u.id",
        user_id, tenant_id,
    )
    return list(row["roles"]) if row else None


async def password_hash(conn: asyncpg.Connection, tenant_id: int, user_id: int) -> str | None:
    value: str | None = await conn.fetchval(
        "SELECT password_hash FROM users WHERE id = $1 AND tenant_id = $2", user_id, tenant_id
    )
    return value


async def set_password_hash(conn: asyncpg.Connection, tenant_id: int, user_id: int, new_hash: str) -> None:
    await conn.execute(
        "UPDATE users SET password_hash = $3 WHERE id = $1 AND tenant_id = $2", user_id, tenant_id, new_hash
    )


async def list_users(conn: asyncpg.Connection, tenant_id: int, *, after_id: int, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` users of ``tenant_id`` with ``id > after_id``, by id."""
    rows = await conn.fetch(
        f"SELECT {_USER_COLUMNS} FROM users u WHERE u.tenant_id = $1 AND u.id > $2 ORDER BY u.id LIMIT $3",
        tenant_id, after_id, limit,
    )
    return [dict(r) for r in rows]


async def insert_user(
    conn: asyncpg.Connection, tenant_id: int, *, email: str, display_name: str, password_hash: str | None,
    extension: str | None, roles: list[str],
) -> dict[str, Any]:
    """Create a user of ``tenant_id`` with ``roles``; call inside a transaction.

    Raises:
        ara_schema.errors.UniqueViolation: ``users_tenant_id_email_key`` (email taken in this tenant).
    """
    with translate_postgres_errors():
        user_id = await conn.fetchval(
            "INSERT INTO users (tenant_id, email, display_name, password_hash, extension)"
            " VALUES ($1, $2, $3, $4, $5) RETURNING id",
            tenant_id, email, display_name, password_hash, extension,
        )
        await conn.executemany(
            "INSERT INTO user_roles (user_id, tenant_id, role) VALUES ($1, $2, $3)",
            [(user_id, tenant_id, role) for role in roles],
        )
    row = await conn.fetchrow(f"SELECT {_USER_COLUMNS} FROM users u WHERE u.id = $1 AND u.tenant_id = $2",
                              user_id, tenant_id)
    assert row is not None
    return dict(row)


async def audit(
    conn: asyncpg.Connection, tenant_id: int, *, actor_user_id: int | None, action: str, object_type: str,
    object_id: str, details: dict[str, Any],
) -> None:
    """Append one ``audit_log`` entry of ``tenant_id``."""
    await conn.execute(
        "INSERT INTO audit_log (tenant_id, actor_user_id, action, object_type, object_id, details)"
        " VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
        tenant_id, actor_user_id, action, object_type, object_id, json.dumps(details),
    )


# --- refresh tokens ----------------------------------------------------------------------------------------


async def insert_refresh_token(
    conn: asyncpg.Connection, tenant_id: int, *, user_id: int, family_id: uuid.UUID, token_hash: bytes,
    issued_at: datetime, expires_at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO refresh_tokens (tenant_id, user_id, family_id, token_hash, issued_at, expires_at)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        tenant_id, user_id, family_id, token_hash, issued_at, expires_at,
    )


async def mark_refresh_token_used(conn: asyncpg.Connection, tenant_id: int, token_id: int, at: datetime) -> None:
    await conn.execute(
        "UPDATE refresh_tokens SET used_at = $3 WHERE id = $1 AND tenant_id = $2", token_id, tenant_id, at
    )


async def revoke_family(conn: asyncpg.Connection, tenant_id: int, family_id: uuid.UUID, at: datetime) -> int:
    """Revoke every live token of the session ``family_id``; returns how many."""
    status: str = await conn.execute(
        "UPDATE refresh_tokens SET revoked_at = $3 WHERE family_id = $1 AND tenant_id = $2 AND revoked_at IS NULL",
        family_id, tenant_id, at,
    )
    return int(status.split()[-1])


async def revoke_other_sessions(
    conn: asyncpg.Connection, tenant_id: int, user_id: int, *, keep_family: uuid.UUID | None, at: datetime
) -> int:
    """Revoke every live refresh token of the user outside the session ``keep_family``; returns how many."""
    status: str = await conn.execute(
        "UPDATE refresh_tokens SET revoked_at = $4 WHERE tenant_id = $1 AND user_id = $2"
        " AND family_id IS DISTINCT FROM $3 AND revoked_at IS NULL",
        tenant_id, user_id, keep_family, at,
    )
    return int(status.split()[-1])


async def family_is_live(conn: asyncpg.Connection, tenant_id: int, family_id: uuid.UUID) -> bool:
    """True while the session has an unrevoked token (an access token of a revoked session is refused)."""
    return bool(await conn.fetchval(
        "SELECT 1 FROM refresh_tokens WHERE family_id = $1 AND tenant_id = $2 AND revoked_at IS NULL LIMIT 1",
        family_id, tenant_id,
    ))


# --- API keys ----------------------------------------------------------------------------------------------


async def insert_api_key(
    conn: asyncpg.Connection, tenant_id: int, *, name: str, role: str, key_prefix: str, key_hash: bytes,
    created_by_user_id: int | None,
) -> dict[str, Any]:
    row = await conn.fetchrow(
        "INSERT INTO api_keys (tenant_id, name, role, key_prefix, key_hash, created_by_user_id)"
        f" VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_API_KEY_COLUMNS}",
        tenant_id, name, role, key_prefix, key_hash, created_by_user_id,
    )
    assert row is not None
    return dict(row)


async def list_api_keys(conn: asyncpg.Connection, tenant_id: int) -> list[dict[str, Any]]:
    rows = await conn.fetch(f"SELECT {_API_KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 ORDER BY id", tenant_id)
    return [dict(r) for r in rows]


async def revoke_api_key(conn: asyncpg.Connection, tenant_id: int, key_id: int, at: datetime) -> dict[str, Any] | None:
    """Revoke key ``key_id`` of ``tenant_id`` (idempotent: an already revoked key keeps its time); None when the
    tenant has no such key."""
    row = await conn.fetchrow(
        "UPDATE api_keys SET revoked_at = coalesce(revoked_at, $3) WHERE id = $1 AND tenant_id = $2"
        f" RETURNING {_API_KEY_COLUMNS}",
        key_id, tenant_id, at,
    )
    return dict(row) if row else None
