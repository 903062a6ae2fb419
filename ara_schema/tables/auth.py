"""Web authentication: refresh tokens (login sessions) and API keys (CRMs and other machines).

Neither table stores a secret: ``token_hash``/``key_hash`` are SHA-256 digests (32 bytes) of opaque values that
carry 256 bits of randomness, so a fast digest is enough (no dictionary to brute-force, unlike passwords, which
live in ``users.password_hash`` as argon2id) and lets each request find its row through the unique index.

Both tables cascade with their tenant; a refresh token cascades with its user, an API key outlives the user who
created it (``created_by_user_id`` is deliberately not a foreign key, like ``audit_log.actor_user_id``).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from ara_schema.tables import metadata
from ara_schema.tables.tenancy import ROLES

API_KEY_ROLES = tuple(r for r in ROLES if r != "superadmin")
"""Roles an API key may carry: any tenant role, never the platform-wide ``superadmin``."""

SHA256_BYTES = 32


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("tenant_id", sa.BigInteger, nullable=False),
    sa.Column("user_id", sa.BigInteger, nullable=False),
    sa.Column("family_id", postgresql.UUID(as_uuid=True), nullable=False),
    sa.Column("token_hash", postgresql.BYTEA, nullable=False, unique=True),
    sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["user_id", "tenant_id"], ["users.id", "users.tenant_id"], ondelete="CASCADE"),
    sa.CheckConstraint(f"octet_length(token_hash) = {SHA256_BYTES}", name="token_hash"),
    sa.CheckConstraint("expires_at > issued_at", name="expires_at"),
    sa.Index(None, "family_id"),
    sa.Index(None, "user_id"),
)
"""One refresh token. A login starts a ``family_id`` (the session); each refresh marks its token ``used_at`` and
issues the next one in the same family. Presenting a used token again revokes the family (``revoked_at``)."""

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("tenant_id", sa.BigInteger, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("key_prefix", sa.Text, nullable=False),
    sa.Column("key_hash", postgresql.BYTEA, nullable=False, unique=True),
    sa.Column("created_by_user_id", sa.BigInteger, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint(_in("role", API_KEY_ROLES), name="role"),
    sa.CheckConstraint(f"octet_length(key_hash) = {SHA256_BYTES}", name="key_hash"),
    sa.Index(None, "tenant_id"),
)
"""One API key of a tenant, acting with ``role``. ``key_prefix`` (the first characters of the key) lets people
tell keys apart in a list; the key itself is shown once, at creation."""
