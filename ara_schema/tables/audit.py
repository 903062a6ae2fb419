"""Audit trail: who did what to which object.

``tenant_id`` is NULL for platform-level actions (a superadmin creating a tenant); ``actor_user_id`` is NULL
for actions by the system, and deliberately not a foreign key, so entries outlive the user.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from ara_schema.tables import metadata

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("tenant_id", sa.BigInteger, sa.ForeignKey("tenants.id"), nullable=True),
    sa.Column("actor_user_id", sa.BigInteger, nullable=True),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("object_type", sa.Text, nullable=False),
    sa.Column("object_id", sa.Text, nullable=False),
    sa.Column("details", postgresql.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Index(None, "tenant_id", "at"),
)
"""One action: ``action`` e.g. ``did.create``, ``object_type``/``object_id`` e.g. ``did``/``42``,
``details`` a JSON object, ``at`` when."""
