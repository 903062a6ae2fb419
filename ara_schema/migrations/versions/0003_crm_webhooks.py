"""CRM call-routing webhooks: crm_webhooks.

Frozen DDL (see ``ara_schema.tables.crm`` for the meaning of each column). A DID with ``route_type =
'webhook'`` names its webhook by id in ``dids.route_target``.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crm_webhooks",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("timeout_s", sa.Double, nullable=False, server_default=sa.text("3")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.PrimaryKeyConstraint("id", name=op.f("crm_webhooks_pkey")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("crm_webhooks_tenant_id_fkey")),
        sa.CheckConstraint("url ~ '^https?://'", name=op.f("crm_webhooks_url_check")),
        sa.CheckConstraint("length(secret) >= 16", name=op.f("crm_webhooks_secret_check")),
        sa.CheckConstraint("timeout_s > 0 AND timeout_s <= 30", name=op.f("crm_webhooks_timeout_s_check")),
    )
    op.create_index("crm_webhooks_tenant_id_idx", "crm_webhooks", ["tenant_id"])


def downgrade() -> None:
    op.drop_table("crm_webhooks")
