"""CRM integration: the webhooks a tenant's CRM answers to decide where inbound calls go.

A DID with ``route_type = 'webhook'`` names its webhook in ``dids.route_target`` (the ``crm_webhooks.id``, as
text); the engine only uses a webhook of the DID's own tenant. The DID's ``fallback_type``/``fallback_target``
is the route taken when the CRM cannot answer in time or answers something unusable.

``secret`` is the HMAC-SHA256 key the engine signs each request with; it is stored as given because signing
needs it (unlike SIP passwords, it cannot be kept as a digest).
"""

from __future__ import annotations

import sqlalchemy as sa

from ara_schema.tables import metadata

CRM_WEBHOOK_URL_PATTERN = "^https?://"
"""POSIX regex for ``crm_webhooks.url``: an absolute ``http``/``https`` URL."""

CRM_WEBHOOK_SECRET_MIN_CHARS = 16
"""Shortest ``crm_webhooks.secret`` (characters). Source: RFC 2104 section 3 (keys shorter than the hash
output are strongly discouraged; 16 is the floor here, 32+ random bytes are recommended)."""

CRM_WEBHOOK_TIMEOUT_S_MAX = 30
"""Largest ``crm_webhooks.timeout_s`` (seconds); the caller hears ringback while the CRM is asked."""

crm_webhooks = sa.Table(
    "crm_webhooks",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("tenant_id", sa.BigInteger, sa.ForeignKey("tenants.id"), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("secret", sa.Text, nullable=False),
    sa.Column("timeout_s", sa.Double, nullable=False, server_default=sa.text("3")),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.CheckConstraint(f"url ~ '{CRM_WEBHOOK_URL_PATTERN}'", name="url"),
    sa.CheckConstraint(f"length(secret) >= {CRM_WEBHOOK_SECRET_MIN_CHARS}", name="secret"),
    sa.CheckConstraint(f"timeout_s > 0 AND timeout_s <= {CRM_WEBHOOK_TIMEOUT_S_MAX}", name="timeout_s"),
    sa.Index(None, "tenant_id"),
)
"""One CRM endpoint of a tenant: ``url`` receives the signed POST, ``secret`` keys its HMAC-SHA256 signature,
``timeout_s`` is the budget of one request (connect + send + whole response, seconds; default 3)."""
