"""The inbound call state machine as pure transitions: whole trajectories, effects in order."""

from __future__ import annotations

from engine.calls import effects as fx
from engine.calls.events import (
    CalleeReady,
    CallerArrived,
    DialStatusChanged,
    EffectFailed,
    LegGone,
    RouteFailed,
    RouteResolved,
)
from engine.calls.state import Call, CallState, Route, new_call, transition
from engine.calls.store import did_candidates, endpoint_id, from_snapshot, snapshot

ROUTE = Route("endpoint", "acme-1001", "PJSIP/acme-1001", 20, "voicemail", "1001")
ROUTE_HANGUP = Route("endpoint", "acme-1001", "PJSIP/acme-1001", 20, None, None)


def given_caller_arrived(call_id: str = "c1") -> tuple[Call, list[fx.Effect]]:
    return new_call(
        CallerArrived(call_id, "ch-caller", "acme", "+15550100", "+15557770000", "Alice", "acme-carrier", 100.0)
    )


def given_ringing(route: Route = ROUTE) -> Call:
    call, _ = given_caller_arrived()
    call, _ = transition(call, RouteResolved("c1", route, 7), 100.1)
    call, _ = transition(call, DialStatusChanged("c1", "RINGING"), 100.2)
    return call


def test_new_call_resolves_the_route_first() -> None:
    call, effects = given_caller_arrived()
    assert call.state is CallState.ROUTING
    assert effects == [fx.ResolveRoute("c1", "acme", "+15550100")]


def test_route_resolved_rings_caller_and_dials_callee_with_ring_timeout() -> None:
    call, _ = given_caller_arrived()
    call, effects = transition(call, RouteResolved("c1", ROUTE, 7), 100.1)
    assert call.state is CallState.DIALING
    assert call.tenant_id == 7
    assert effects[0] == fx.Ring("ch-caller")
    create = effects[1]
    assert isinstance(create, fx.CreateCallee)
    assert (create.channel_id, create.dial_string) == ("c1-callee", "PJSIP/acme-1001")
    assert len(effects) == 2  # no snapshot while dialling (a restarted engine routes the caller again)
    # dialling waits for the callee's StasisStart
    call, effects = transition(call, CalleeReady("c1"), 100.15)
    assert effects == [fx.Dial("c1-callee", "ch-caller", 20)]


def test_answered_call_is_bridged_then_hangup_from_callee_ends_it() -> None:
    call = given_ringing()
    call, effects = transition(call, DialStatusChanged("c1", "ANSWER"), 103.0)
    assert call.state is CallState.BRIDGED
    assert effects[:2] == [fx.Answer("ch-caller"), fx.Bridge("c1-bridge", ("ch-caller", "c1-callee"))]
    call, effects = transition(call, LegGone("c1", "c1-callee", 16, 110.0), 110.0)
    assert call.state is CallState.ENDED
    assert effects[0] == fx.Hangup("ch-caller", 16)
    assert effects[1] == fx.DestroyBridge("c1-bridge")
    assert isinstance(effects[2], fx.FinishCall)
    done = effects[2].call
    assert (done.disposition, done.answered_at, done.ended_at, done.hangup_cause) == ("ANSWERED", 103.0, 110.0, 16)
    assert done.caller.end_at == 110.0 and done.callee is not None and done.callee.end_at == 110.0
    # a late ChannelDestroyed of the caller changes nothing and emits nothing
    assert transition(call, LegGone("c1", "ch-caller", 16, 110.1), 110.1) == (call, [])


def test_busy_takes_voicemail_fallback_and_caller_hangup_ends_it() -> None:
    call = given_ringing()
    call, effects = transition(call, DialStatusChanged("c1", "BUSY"), 101.0)
    assert call.state is CallState.FALLBACK
    assert (call.disposition, call.hangup_cause) == ("BUSY", 17)
    assert fx.Continue("ch-caller", "ringline-voicemail", "1001") in effects
    call, effects = transition(call, LegGone("c1", "ch-caller", 16, 120.0), 120.0)
    assert call.state is CallState.ENDED
    assert isinstance(effects[-1], fx.FinishCall)
    assert effects[-1].call.disposition == "BUSY"


def test_no_answer_without_fallback_hangs_caller_up_with_no_answer_cause() -> None:
    call = given_ringing(ROUTE_HANGUP)
    call, effects = transition(call, DialStatusChanged("c1", "NOANSWER"), 120.0)
    assert call.state is CallState.HANGING_UP
    assert effects == [fx.Hangup("c1-callee", 16), fx.Hangup("ch-caller", 19)]
    call, effects = transition(call, LegGone("c1", "ch-caller", 19, 120.1), 120.1)
    assert call.state is CallState.ENDED and call.disposition == "NO ANSWER" and call.hangup_cause == 19


def test_caller_hangs_up_while_ringing_cancels_callee() -> None:
    call = given_ringing()
    call, effects = transition(call, LegGone("c1", "ch-caller", 16, 105.0), 105.0)
    assert call.state is CallState.ENDED
    assert effects[0] == fx.Hangup("c1-callee", 16)
    assert call.disposition == "NO ANSWER"


def test_unknown_did_fails_route_with_unallocated() -> None:
    call, _ = given_caller_arrived()
    call, effects = transition(call, RouteFailed("c1", 1, "no DID", 7), 100.1)
    assert effects == [fx.Hangup("ch-caller", 1)]
    call, _ = transition(call, LegGone("c1", "ch-caller", 1, 100.2), 100.2)
    assert (call.state, call.disposition, call.hangup_cause) == (CallState.ENDED, "FAILED", 1)


def test_missing_callee_found_by_reconciliation_while_ringing_takes_fallback() -> None:
    call = given_ringing()
    call, _ = transition(call, LegGone("c1", "c1-callee", None, 104.0, synthetic=True), 104.0)
    assert call.state is CallState.FALLBACK and call.disposition == "NO ANSWER"


def test_effect_failure_tears_every_leg_down() -> None:
    call = given_ringing()
    call, effects = transition(call, EffectFailed("c1", "Bridge", "422"), 101.0)
    assert call.state is CallState.HANGING_UP
    assert effects == [fx.Hangup("ch-caller", 41), fx.Hangup("c1-callee", 41)]


def test_snapshot_round_trips() -> None:
    call = given_ringing()
    call, _ = transition(call, DialStatusChanged("c1", "ANSWER"), 103.0)
    assert from_snapshot(snapshot(call)) == call


def test_did_and_endpoint_normalisation() -> None:
    assert did_candidates("15550100") == ["+15550100"]
    assert did_candidates("+15550100") == ["+15550100"]
    assert did_candidates("0015550100") == ["+15550100"]
    assert endpoint_id("acme", "1001") == "acme-1001"
    assert endpoint_id("acme", "acme-1001") == "acme-1001"


def test_callee_refusing_at_once_without_dial_event_is_busy() -> None:
    # Asterisk 22 sends only ChannelHangupRequest(cause 17) when the phone answers 486 Busy Here
    call = given_ringing(ROUTE_HANGUP)
    call, effects = transition(call, LegGone("c1", "c1-callee", 17, 101.0), 101.0)
    assert call.state is CallState.HANGING_UP
    assert (call.disposition, call.hangup_cause) == ("BUSY", 17)
    assert effects == [fx.Hangup("ch-caller", 17)]


def test_failed_bridge_is_not_an_answered_call() -> None:
    call = given_ringing()
    call, _ = transition(call, DialStatusChanged("c1", "ANSWER"), 103.0)
    call, effects = transition(call, EffectFailed("c1", "Bridge", "400 Channel not found"), 103.1)
    assert call.disposition == "FAILED"
    assert effects == [fx.Hangup("ch-caller", 41), fx.Hangup("c1-callee", 41)]
