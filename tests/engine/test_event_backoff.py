"""Event webhooks, pure parts: retry backoff, event keys and documents, the transitions that publish events."""

from __future__ import annotations

import uuid

import pytest

from engine.calls import effects as fx
from engine.calls import notifier
from engine.calls.events import CalleeReady, CallerArrived, DialStatusChanged, RouteResolved
from engine.calls.state import CallState, Route, new_call, transition
from engine.webhooks.backoff import Backoff
from engine.webhooks.events import EVENT_TYPES, event_key, iso


def test_backoff_doubles_from_initial_up_to_the_cap() -> None:
    backoff = Backoff(initial_s=2.0, max_s=300.0, multiplier=2.0, jitter=0.5)
    assert [backoff.ceiling_s(n) for n in range(1, 11)] == [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    assert backoff.ceiling_s(10_000) == 300.0  # no overflow after months of failures


def test_backoff_jitter_shortens_by_at_most_its_fraction() -> None:
    backoff = Backoff(initial_s=2.0, max_s=300.0, jitter=0.5)
    assert backoff.delay_s(3, rand=lambda: 0.0) == 8.0
    assert backoff.delay_s(3, rand=lambda: 0.999999) == pytest.approx(4.0, abs=1e-4)
    assert backoff.delay_s(20, rand=lambda: 0.5) == 225.0
    assert Backoff(jitter=0.0).delay_s(2, rand=lambda: 0.7) == 4.0


@pytest.mark.parametrize(
    "kwargs", [{"initial_s": 0.0}, {"initial_s": 5.0, "max_s": 1.0}, {"multiplier": 0.5}, {"jitter": 1.5}]
)
def test_backoff_rejects_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="invalid backoff"):
        Backoff(**kwargs)
    with pytest.raises(ValueError, match="attempts must be >= 1"):
        Backoff().ceiling_s(0)


def test_event_keys_are_stable_per_call_and_type() -> None:
    call_id = str(uuid.uuid4())
    keys = {event_key(call_id, t) for t in EVENT_TYPES}
    assert len(keys) == len(EVENT_TYPES)
    assert event_key(call_id, "call.ended") == event_key(call_id, "call.ended")
    assert event_key(call_id, "call.ended").version == 5


def _ringing_call() -> tuple[object, list[fx.Effect]]:
    call, _ = new_call(CallerArrived("c1", "ch-caller", "acme", "+15550100", "+15557770000", "Alice", None, 100.0))
    route = Route("endpoint", "acme-1001", "PJSIP/acme-1001", 20)
    call, _ = transition(call, RouteResolved("c1", route, 7), 100.1)
    call, _ = transition(call, CalleeReady("c1"), 100.15)
    return transition(call, DialStatusChanged("c1", "RINGING"), 100.2)


def test_first_dial_ringing_publishes_call_ringing_and_answer_publishes_call_answered_after_the_bridge() -> None:
    call, effects = _ringing_call()
    assert effects == [fx.PublishEvent("call.ringing", call, 100.2)]  # type: ignore[arg-type]
    call, effects = transition(call, DialStatusChanged("c1", "PROGRESS"), 100.3)  # type: ignore[arg-type]
    assert effects == []
    call, effects = transition(call, DialStatusChanged("c1", "RINGING"), 100.4)
    assert effects == []  # already ringing: no second event
    call, effects = transition(call, DialStatusChanged("c1", "ANSWER"), 103.0)
    assert call.state is CallState.BRIDGED
    assert [type(e) for e in effects] == [fx.Answer, fx.Bridge, fx.PublishEvent, fx.Persist]
    assert effects[2] == fx.PublishEvent("call.answered", call, 103.0)


def test_call_documents_carry_the_documented_keys() -> None:
    call, _ = _ringing_call()
    ringing = notifier.call_progress(call, "call.ringing", at=100.2, destination="acme-1001")  # type: ignore[arg-type]
    assert set(ringing) == {"id", "type", "tenant", "occurred_at", "data"}
    assert ringing["id"] == str(event_key("c1", "call.ringing"))
    assert ringing["occurred_at"] == iso(100.2) == "1970-01-01T00:01:40.200000+00:00"
    assert ringing["data"] == {
        "call_id": "c1", "direction": "inbound", "did": "+15550100", "from": "+15557770000", "caller_name": "Alice",
        "destination": "acme-1001", "start_at": iso(100.0),
    }
