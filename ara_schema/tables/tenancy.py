"""Tenants, their users and roles, and their DIDs (inbound numbers and where they route).

Every Ringline row carries ``tenant_id``. PJSIP objects belong to a tenant through their id prefix
(``<tenants.slug>-<extension>``), not through a column (see ``ara_schema.tables.pjsip``).

Deleting a tenant cascades to ``users`` and ``user_roles`` only; ``dids``, ``cdr``, ``call_legs``,
``active_calls`` and ``audit_log`` block it (tenants are set ``inactive``, not deleted, in normal operation).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from ara_schema.tables import metadata

TENANT_SLUG_PATTERN = r"^[a-z][a-z0-9]{1,30}$"
"""POSIX regex for ``tenants.slug``: 2-31 chars, lower-case letter first, no ``-`` (it separates the PJSIP
id prefix)."""

E164_PATTERN = r"^\+[1-9][0-9]{1,14}$"
"""POSIX regex for ``dids.number``: E.164, ``+`` then at most 15 digits, no leading zero.
Source: ITU-T E.164 (11/2010) clause 6.1 (max 15 digits)."""

TENANT_STATUSES = ("active", "suspended", "trial", "inactive")
ROLES = ("superadmin", "tenant_admin", "supervisor", "agent", "viewer")
DID_ROUTE_TYPES = ("endpoint", "queue", "ivr", "webhook", "external", "voicemail")
DID_FALLBACK_TYPES = ("voicemail", "hangup", "endpoint", "external")
RING_TIMEOUT_S_RANGE = (1, 600)
"""Inclusive bounds of ``dids.ring_timeout_s`` (seconds)."""


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _created_at() -> sa.Column[object]:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def _tenant_fk(*, ondelete: str | None = None, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(
        "tenant_id", sa.BigInteger, sa.ForeignKey("tenants.id", ondelete=ondelete), nullable=nullable
    )


tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("slug", sa.Text, nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="active"),
    sa.Column("trial_expires_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("max_agents", sa.Integer, nullable=False, server_default=sa.text("50")),
    sa.Column("max_dids", sa.Integer, nullable=False, server_default=sa.text("50")),
    sa.Column("max_concurrent_calls", sa.Integer, nullable=False, server_default=sa.text("100")),
    sa.Column("features", postgresql.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("settings", postgresql.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    _created_at(),
    sa.CheckConstraint(f"slug ~ '{TENANT_SLUG_PATTERN}'", name="slug"),
    sa.CheckConstraint(_in("status", TENANT_STATUSES), name="status"),
)
"""One customer. ``max_*`` are limits (counts); ``features``/``settings`` are JSON objects."""

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    _tenant_fk(ondelete="CASCADE"),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("password_hash", sa.Text, nullable=True),
    sa.Column("extension", sa.Text, nullable=True),
    _created_at(),
    sa.UniqueConstraint("tenant_id", "email"),
    # Target of user_roles' composite key: a role row cannot name another tenant than its user's.
    sa.UniqueConstraint("id", "tenant_id"),
)
"""A person who logs in. ``extension`` is the bare extension (``1001``), not the PJSIP id."""

user_roles = sa.Table(
    "user_roles",
    metadata,
    sa.Column("user_id", sa.BigInteger, primary_key=True),
    _tenant_fk(ondelete="CASCADE"),
    sa.Column("role", sa.Text, primary_key=True),
    sa.ForeignKeyConstraint(["user_id", "tenant_id"], ["users.id", "users.tenant_id"], ondelete="CASCADE"),
    sa.CheckConstraint(_in("role", ROLES), name="role"),
)
"""Roles per user; ``tenant_id`` must equal the user's (``user_roles_user_id_tenant_id_fkey``)."""

dids = sa.Table(
    "dids",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    _tenant_fk(),
    sa.Column("number", sa.Text, nullable=False, unique=True),
    sa.Column("route_type", sa.Text, nullable=False),
    sa.Column("route_target", sa.Text, nullable=False),
    sa.Column("ring_timeout_s", sa.Integer, nullable=False, server_default=sa.text("20")),
    sa.Column("fallback_type", sa.Text, nullable=True),
    sa.Column("fallback_target", sa.Text, nullable=True),
    _created_at(),
    sa.CheckConstraint(f"number ~ '{E164_PATTERN}'", name="number"),
    sa.CheckConstraint(_in("route_type", DID_ROUTE_TYPES), name="route_type"),
    sa.CheckConstraint(
        f"ring_timeout_s BETWEEN {RING_TIMEOUT_S_RANGE[0]} AND {RING_TIMEOUT_S_RANGE[1]}",
        name="ring_timeout_s",
    ),
    sa.CheckConstraint(_in("fallback_type", DID_FALLBACK_TYPES), name="fallback_type"),
    sa.CheckConstraint("fallback_type IS NOT NULL OR fallback_target IS NULL", name="fallback_target"),
)
"""An inbound number (E.164) and its route; ``ring_timeout_s`` in seconds before the fallback."""
