"""Events out: the ``call.*`` event documents built from a call (pure; written by :mod:`engine.calls.store`).

Shapes are documented in :mod:`engine.webhooks.events`; ``call.ended`` carries exactly the CDR's fields, so a CRM
can file the call record from the event alone.
"""

from __future__ import annotations

from engine.calls.state import Call
from engine.webhooks.events import CALL_ENDED, EventType, envelope, event_key, iso


def call_progress(call: Call, event_type: EventType, *, at: float, destination: str | None) -> dict[str, object]:
    """``call.ringing`` / ``call.answered`` for ``call`` at ``at`` (POSIX seconds)."""
    data: dict[str, object] = {
        "call_id": call.call_id,
        "direction": "inbound",
        "did": call.did,
        "from": call.caller_id_num,
        "caller_name": call.caller_id_name,
        "destination": destination,
        "start_at": iso(call.started_at),
    }
    if event_type != "call.ringing":
        data["answer_at"] = iso(call.answered_at)
    return envelope(event_key(call.call_id, event_type), event_type, tenant=call.tenant_slug, occurred_at=at,
                    data=data)


def call_ended(
    call: Call,
    *,
    end: float,
    destination: str | None,
    duration_s: int,
    billsec_s: int,
    hangup_cause_text: str | None,
) -> dict[str, object]:
    """``call.ended`` with the CDR row's values (``duration_s``, ``billsec_s`` whole seconds)."""
    data: dict[str, object] = {
        "call_id": call.call_id,
        "direction": "inbound",
        "did": call.did,
        "from": call.caller_id_num,
        "caller_name": call.caller_id_name,
        "destination": destination,
        "disposition": call.disposition or "FAILED",
        "start_at": iso(call.started_at),
        "answer_at": iso(call.answered_at),
        "end_at": iso(end),
        "duration_s": duration_s,
        "billsec_s": billsec_s,
        "hangup_cause": call.hangup_cause,
        "hangup_cause_text": hangup_cause_text,
    }
    return envelope(event_key(call.call_id, CALL_ENDED), CALL_ENDED, tenant=call.tenant_slug, occurred_at=end,
                    data=data)
