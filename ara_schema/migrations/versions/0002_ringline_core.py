"""Ringline core tables: tenants, users, user_roles, dids, cdr, call_legs, active_calls, audit_log.

Frozen DDL (see ``ara_schema.tables.tenancy``/``calls``/``audit`` for the meaning of each column).

Revision ID: 0002
Revises: 0001
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
JSONB = postgresql.JSONB()
UUID = postgresql.UUID(as_uuid=True)
EMPTY_JSON = sa.text("'{}'::jsonb")
NOW = sa.text("now()")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False)


def _tenant_id(
    table: str, *, nullable: bool = False, ondelete: str | None = None
) -> tuple[sa.Column[int], sa.ForeignKeyConstraint]:
    return (
        sa.Column("tenant_id", sa.BigInteger, nullable=nullable),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f(f"{table}_tenant_id_fkey"), ondelete=ondelete
        ),
    )


def _created_at() -> sa.Column[Any]:
    return sa.Column("created_at", TZ, nullable=False, server_default=NOW)


def upgrade() -> None:
    op.create_table(
        "tenants",
        _id(),
        sa.Column("slug", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="active"),
        sa.Column("trial_expires_at", TZ, nullable=True),
        sa.Column("max_agents", sa.Integer, nullable=False, server_default=sa.text("50")),
        sa.Column("max_dids", sa.Integer, nullable=False, server_default=sa.text("50")),
        sa.Column("max_concurrent_calls", sa.Integer, nullable=False, server_default=sa.text("100")),
        sa.Column("features", JSONB, nullable=False, server_default=EMPTY_JSON),
        sa.Column("settings", JSONB, nullable=False, server_default=EMPTY_JSON),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name=op.f("tenants_pkey")),
        sa.UniqueConstraint("slug", name=op.f("tenants_slug_key")),
        sa.CheckConstraint("slug ~ '^[a-z][a-z0-9]{1,30}$'", name=op.f("tenants_slug_check")),
        sa.CheckConstraint(
            _in("status", ("active", "suspended", "trial", "inactive")), name=op.f("tenants_status_check")
        ),
    )
    op.create_table(
        "users",
        _id(),
        *_tenant_id("users", ondelete="CASCADE"),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=True),
        sa.Column("extension", sa.Text, nullable=True),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name=op.f("users_pkey")),
        sa.UniqueConstraint("tenant_id", "email", name=op.f("users_tenant_id_email_key")),
        sa.UniqueConstraint("id", "tenant_id", name=op.f("users_id_tenant_id_key")),
    )
    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.BigInteger, nullable=False),
        *_tenant_id("user_roles", ondelete="CASCADE"),
        sa.Column("role", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "role", name=op.f("user_roles_pkey")),
        sa.ForeignKeyConstraint(
            ["user_id", "tenant_id"],
            ["users.id", "users.tenant_id"],
            name=op.f("user_roles_user_id_tenant_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            _in("role", ("superadmin", "tenant_admin", "supervisor", "agent", "viewer")),
            name=op.f("user_roles_role_check"),
        ),
    )
    op.create_table(
        "dids",
        _id(),
        *_tenant_id("dids"),
        sa.Column("number", sa.Text, nullable=False),
        sa.Column("route_type", sa.Text, nullable=False),
        sa.Column("route_target", sa.Text, nullable=False),
        sa.Column("ring_timeout_s", sa.Integer, nullable=False, server_default=sa.text("20")),
        sa.Column("fallback_type", sa.Text, nullable=True),
        sa.Column("fallback_target", sa.Text, nullable=True),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name=op.f("dids_pkey")),
        sa.UniqueConstraint("number", name=op.f("dids_number_key")),
        sa.CheckConstraint(r"number ~ '^\+[1-9][0-9]{1,14}$'", name=op.f("dids_number_check")),
        sa.CheckConstraint(
            _in("route_type", ("endpoint", "queue", "ivr", "webhook", "external", "voicemail")),
            name=op.f("dids_route_type_check"),
        ),
        sa.CheckConstraint("ring_timeout_s BETWEEN 1 AND 600", name=op.f("dids_ring_timeout_s_check")),
        sa.CheckConstraint(
            _in("fallback_type", ("voicemail", "hangup", "endpoint", "external")),
            name=op.f("dids_fallback_type_check"),
        ),
        sa.CheckConstraint(
            "fallback_type IS NOT NULL OR fallback_target IS NULL", name=op.f("dids_fallback_target_check")
        ),
    )
    op.create_table(
        "cdr",
        _id(),
        *_tenant_id("cdr"),
        sa.Column("call_id", UUID, nullable=False),
        sa.Column("direction", sa.Text, nullable=False),
        sa.Column("did", sa.Text, nullable=True),
        sa.Column("caller_id_num", sa.Text, nullable=True),
        sa.Column("caller_id_name", sa.Text, nullable=True),
        sa.Column("destination", sa.Text, nullable=True),
        sa.Column("disposition", sa.Text, nullable=False),
        sa.Column("start_at", TZ, nullable=False),
        sa.Column("answer_at", TZ, nullable=True),
        sa.Column("end_at", TZ, nullable=False),
        sa.Column("duration_s", sa.Integer, nullable=False),
        sa.Column("billsec_s", sa.Integer, nullable=False),
        sa.Column("hangup_cause", sa.Integer, nullable=True),
        sa.Column("hangup_cause_text", sa.Text, nullable=True),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name=op.f("cdr_pkey")),
        sa.UniqueConstraint("call_id", name=op.f("cdr_call_id_key")),
        sa.CheckConstraint(
            _in("direction", ("inbound", "outbound", "internal")), name=op.f("cdr_direction_check")
        ),
        sa.CheckConstraint(
            _in("disposition", ("ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION")),
            name=op.f("cdr_disposition_check"),
        ),
        sa.CheckConstraint("duration_s >= 0 AND billsec_s >= 0", name=op.f("cdr_durations_check")),
    )
    op.create_index("cdr_tenant_id_start_at_idx", "cdr", ["tenant_id", "start_at"])
    op.create_table(
        "call_legs",
        _id(),
        *_tenant_id("call_legs"),
        sa.Column("call_id", UUID, nullable=False),
        sa.Column("channel_id", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("endpoint", sa.Text, nullable=True),
        sa.Column("start_at", TZ, nullable=False),
        sa.Column("answer_at", TZ, nullable=True),
        sa.Column("end_at", TZ, nullable=True),
        sa.Column("hangup_cause", sa.Integer, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("call_legs_pkey")),
        sa.UniqueConstraint("channel_id", name=op.f("call_legs_channel_id_key")),
        sa.CheckConstraint(_in("role", ("caller", "callee")), name=op.f("call_legs_role_check")),
    )
    op.create_index("call_legs_call_id_idx", "call_legs", ["call_id"])
    op.create_table(
        "active_calls",
        sa.Column("call_id", UUID, nullable=False),
        *_tenant_id("active_calls"),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("snapshot", JSONB, nullable=False),
        sa.Column("updated_at", TZ, nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("call_id", name=op.f("active_calls_pkey")),
    )
    op.create_index("active_calls_owner_idx", "active_calls", ["owner"])
    op.create_table(
        "audit_log",
        _id(),
        *_tenant_id("audit_log", nullable=True),
        sa.Column("actor_user_id", sa.BigInteger, nullable=True),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("object_type", sa.Text, nullable=False),
        sa.Column("object_id", sa.Text, nullable=False),
        sa.Column("details", JSONB, nullable=False, server_default=EMPTY_JSON),
        sa.Column("at", TZ, nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("id", name=op.f("audit_log_pkey")),
    )
    op.create_index("audit_log_tenant_id_at_idx", "audit_log", ["tenant_id", "at"])


def downgrade() -> None:
    for table in ("audit_log", "active_calls", "call_legs", "cdr", "dids", "user_roles", "users", "tenants"):
        op.drop_table(table)
