"""Event webhooks: a tenant's subscriptions (``event_subscriptions``) and the durable outbox (``event_outbox``).

An event that happens in the engine (``call.ringing``, ``call.answered``, ``call.ended`` ...) is written as one
``event_outbox`` row per active subscription of its tenant that lists the event type, in the same transaction as
the state it reports (``call.ended`` with the ``cdr`` row). Deliverers claim due rows, POST them signed with the
subscription's ``secret`` and mark them delivered; a row stays until delivered, so neither an engine nor a CRM
restart loses an event.

``idempotency_key`` is the event's identity, the same for every subscription (sent as ``Idempotency-Key``);
``ordering_key`` groups events that must arrive in order (a call's ``call_id``): a row is not claimed while an
older undelivered row of the same subscription and ordering key exists. ``claimed_until``/``claimed_by`` are the
lease of the deliverer currently sending the row.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from ara_schema.tables import metadata

EVENT_TYPES = ("call.ringing", "call.answered", "call.ended", "voicemail.created", "queue.abandoned")
"""Every event type a subscription may list (``event_subscriptions.event_types``)."""

EVENT_SUBSCRIPTION_URL_PATTERN = "^https?://"
"""POSIX regex for ``event_subscriptions.url``: an absolute ``http``/``https`` URL."""

EVENT_SUBSCRIPTION_SECRET_MIN_CHARS = 16
"""Shortest ``event_subscriptions.secret`` (characters), as ``crm_webhooks.secret``. Source: RFC 2104 section 3."""


def _array(values: tuple[str, ...]) -> str:
    return "ARRAY[" + ", ".join(repr(v) for v in values) + "]::text[]"


event_subscriptions = sa.Table(
    "event_subscriptions",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("tenant_id", sa.BigInteger, sa.ForeignKey("tenants.id"), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("secret", sa.Text, nullable=False),
    sa.Column("event_types", postgresql.ARRAY(sa.Text), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.text("true")),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.CheckConstraint(f"url ~ '{EVENT_SUBSCRIPTION_URL_PATTERN}'", name="url"),
    sa.CheckConstraint(f"length(secret) >= {EVENT_SUBSCRIPTION_SECRET_MIN_CHARS}", name="secret"),
    sa.CheckConstraint(
        f"cardinality(event_types) > 0 AND event_types <@ {_array(EVENT_TYPES)}", name="event_types"
    ),
    sa.Index(None, "tenant_id"),
)
"""A CRM endpoint of a tenant that receives the listed ``event_types``; ``secret`` keys the HMAC-SHA256 signature
(stored as given: signing needs it). An inactive subscription gets no new rows and its pending rows wait."""

event_outbox = sa.Table(
    "event_outbox",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("tenant_id", sa.BigInteger, sa.ForeignKey("tenants.id"), nullable=False),
    sa.Column(
        "subscription_id", sa.BigInteger, sa.ForeignKey("event_subscriptions.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("idempotency_key", postgresql.UUID(as_uuid=True), nullable=False),
    sa.Column("ordering_key", sa.Text, nullable=True),
    sa.Column("payload", postgresql.JSONB, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("claimed_by", sa.Text, nullable=True),
    sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.UniqueConstraint("subscription_id", "idempotency_key"),
    sa.CheckConstraint(f"event_type = ANY ({_array(EVENT_TYPES)})", name="event_type"),
    sa.CheckConstraint("attempts >= 0", name="attempts"),
    sa.Index(None, "next_attempt_at", postgresql_where=sa.text("delivered_at IS NULL")),
    sa.Index(None, "subscription_id", "ordering_key", "id", postgresql_where=sa.text("delivered_at IS NULL")),
)
"""One event for one subscription. ``payload`` is the JSON document POSTed (see ``engine.webhooks.events``);
``attempts`` counts failed deliveries, ``next_attempt_at`` is when the next may start, ``last_error`` says why the
last one failed (one line); ``delivered_at`` is set on a 2xx answer."""
