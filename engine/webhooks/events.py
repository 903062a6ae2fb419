"""Event webhooks: the event types and the JSON document POSTed for each (pure; no I/O).

Every delivery is one POST of one event, signed like the CRM routing webhook
(:mod:`engine.routing.crm_webhook`: ``X-Ringline-Timestamp``, ``X-Ringline-Signature: sha256=<hex>`` over
``"<timestamp>.<body>"`` with the subscription's secret), plus::

    X-Ringline-Event: call.answered
    Idempotency-Key: 7d1c0e1e-3b1f-5b8e-9a55-0c3f3c8e2f4a

    {"id":"7d1c0e1e-...","type":"call.answered","tenant":"acme","occurred_at":"2026-11-21T14:35:22.125000+00:00",
     "data":{...}}

``id`` equals ``Idempotency-Key``: the same event sent twice (a retry after a lost 2xx) carries the same key, so
a CRM dedupes on it. Delivery is at-least-once; the events of one call arrive in order (``call.ringing`` before
``call.answered`` before ``call.ended``), each only after the previous was answered 2xx. ``occurred_at`` is
ISO 8601 UTC. Unknown keys may be added later: CRMs must ignore them.

``data`` per type (times ISO 8601 UTC or null; durations whole seconds; ``from``/``caller_name`` may be null):

- ``call.ringing`` — the callee is ringing (ARI ``Dial`` with ``dialstatus`` RINGING):
  ``{"call_id","direction","did","from","caller_name","destination","start_at"}``
- ``call.answered`` — the callee answered and the call is bridged:
  the same keys plus ``"answer_at"``
- ``call.ended`` — the CDR was written (same transaction): the CDR's fields
  ``{"call_id","direction","did","from","caller_name","destination","disposition","start_at","answer_at",
  "end_at","duration_s","billsec_s","hangup_cause","hangup_cause_text"}``
- ``voicemail.created`` (defined, not emitted yet) — a message was left:
  ``{"call_id","mailbox","from","caller_name","duration_s","created_at"}``
- ``queue.abandoned`` (defined, not emitted yet) — a caller left a queue before an agent answered:
  ``{"call_id","queue","from","caller_name","position","wait_s","abandoned_at"}``

Idempotency keys of call events are derived, not random (:func:`event_key`): UUIDv5 of ``call_id`` and the
type, so an event re-emitted for the same call (a re-adopted call after an engine restart) is the same event.

Source: RFC 4122 section 4.3 (name-based UUID); RFC 3339 (timestamps); IETF draft
``draft-ietf-httpapi-idempotency-key-header`` (the ``Idempotency-Key`` request header).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Literal

__all__ = [
    "CALL_ANSWERED",
    "CALL_ENDED",
    "CALL_RINGING",
    "EVENT_HEADER",
    "EVENT_TYPES",
    "IDEMPOTENCY_HEADER",
    "QUEUE_ABANDONED",
    "VOICEMAIL_CREATED",
    "EventType",
    "envelope",
    "event_key",
    "iso",
]

EventType = Literal["call.ringing", "call.answered", "call.ended", "voicemail.created", "queue.abandoned"]
CALL_RINGING: EventType = "call.ringing"
CALL_ANSWERED: EventType = "call.answered"
CALL_ENDED: EventType = "call.ended"
VOICEMAIL_CREATED: EventType = "voicemail.created"
QUEUE_ABANDONED: EventType = "queue.abandoned"
EVENT_TYPES: tuple[EventType, ...] = (CALL_RINGING, CALL_ANSWERED, CALL_ENDED, VOICEMAIL_CREATED, QUEUE_ABANDONED)
"""Every type, as ``ara_schema.tables.events.EVENT_TYPES`` (the CHECK constraints) lists them."""

EVENT_HEADER = "X-Ringline-Event"
IDEMPOTENCY_HEADER = "Idempotency-Key"

_NAMESPACE = uuid.UUID("6f1d9a52-9d57-4c1b-8a43-3e0c1c9a7b10")
"""UUIDv5 namespace of Ringline event keys (fixed: changing it would re-key every event)."""


def event_key(subject: str, event_type: EventType) -> uuid.UUID:
    """The idempotency key of the event ``event_type`` about ``subject`` (a ``call_id``): UUIDv5, stable."""
    return uuid.uuid5(_NAMESPACE, f"{event_type}/{subject}")


def iso(seconds: float | None) -> str | None:
    """POSIX seconds -> ISO 8601 UTC (``2026-11-21T14:35:22.125000+00:00``); None stays None."""
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).isoformat()


def envelope(
    key: uuid.UUID, event_type: EventType, *, tenant: str, occurred_at: float, data: Mapping[str, object]
) -> dict[str, object]:
    """The document POSTed for one event (``occurred_at`` in POSIX seconds)."""
    return {
        "id": str(key),
        "type": event_type,
        "tenant": tenant,
        "occurred_at": iso(occurred_at),
        "data": dict(data),
    }
