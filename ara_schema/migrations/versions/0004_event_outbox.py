"""Event webhooks: event_subscriptions and the durable event_outbox.

Frozen DDL (see ``ara_schema.tables.events`` for the meaning of each column).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

EVENT_TYPES = "ARRAY['call.ringing', 'call.answered', 'call.ended', 'voicemail.created', 'queue.abandoned']::text[]"
TZ = sa.DateTime(timezone=True)
NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "event_subscriptions",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("event_types", postgresql.ARRAY(sa.Text), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.text("true")),
        sa.Column("created_at", TZ, nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("id", name=op.f("event_subscriptions_pkey")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("event_subscriptions_tenant_id_fkey")),
        sa.CheckConstraint("url ~ '^https?://'", name=op.f("event_subscriptions_url_check")),
        sa.CheckConstraint("length(secret) >= 16", name=op.f("event_subscriptions_secret_check")),
        sa.CheckConstraint(
            f"cardinality(event_types) > 0 AND event_types <@ {EVENT_TYPES}",
            name=op.f("event_subscriptions_event_types_check"),
        ),
    )
    op.create_index("event_subscriptions_tenant_id_idx", "event_subscriptions", ["tenant_id"])
    op.create_table(
        "event_outbox",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger, nullable=False),
        sa.Column("subscription_id", sa.BigInteger, nullable=False),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("idempotency_key", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("ordering_key", sa.Text, nullable=True),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("next_attempt_at", TZ, nullable=False, server_default=NOW),
        sa.Column("claimed_until", TZ, nullable=True),
        sa.Column("claimed_by", sa.Text, nullable=True),
        sa.Column("delivered_at", TZ, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", TZ, nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("id", name=op.f("event_outbox_pkey")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("event_outbox_tenant_id_fkey")),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["event_subscriptions.id"],
            name=op.f("event_outbox_subscription_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "subscription_id", "idempotency_key", name=op.f("event_outbox_subscription_id_idempotency_key_key")
        ),
        sa.CheckConstraint(f"event_type = ANY ({EVENT_TYPES})", name=op.f("event_outbox_event_type_check")),
        sa.CheckConstraint("attempts >= 0", name=op.f("event_outbox_attempts_check")),
    )
    op.create_index(
        "event_outbox_next_attempt_at_idx",
        "event_outbox",
        ["next_attempt_at"],
        postgresql_where=sa.text("delivered_at IS NULL"),
    )
    op.create_index(
        "event_outbox_subscription_id_ordering_key_id_idx",
        "event_outbox",
        ["subscription_id", "ordering_key", "id"],
        postgresql_where=sa.text("delivered_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("event_outbox")
    op.drop_table("event_subscriptions")
