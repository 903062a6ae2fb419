"""The inbound call as a pure state machine: ``transition(call, event, now) -> (call, effects)``.

Nothing here awaits or touches I/O. The engine feeds domain events (derived from ARI events and from the
results of effects) into :func:`transition`; an executor (:mod:`engine.calls.executor`) performs the returned
effects against ARI and the database, and feeds their outcomes back as events. Because the call is an immutable
value, a snapshot of it can be persisted after each stable transition and re-adopted after an engine restart.

States and transitions (``*`` = any non-final state)::

    ROUTING  --RouteResolved(endpoint)-->  DIALING (callee created) --CalleeReady--> (dial) --Dial RINGING--> RINGING
                                           (the first Dial RINGING publishes call.ringing)
    ROUTING  --RouteResolved(voicemail)->  FALLBACK (caller continues into the mailbox)
    ROUTING  --RouteFailed-------------->  HANGING_UP (caller hung up with the route's cause)
    DIALING/RINGING --Dial ANSWER------->  BRIDGED (publishes call.answered)
    DIALING/RINGING --Dial BUSY|NOANSWER|CONGESTION|CHANUNAVAIL--> FALLBACK (voicemail) | HANGING_UP
    DIALING/RINGING --caller gone------->  ENDED (callee hung up)
    BRIDGED  --either leg gone---------->  ENDED (other leg hung up, bridge destroyed)
    FALLBACK --caller gone-------------->  ENDED
    HANGING_UP --caller gone------------>  ENDED
    *        --EffectFailed------------->  HANGING_UP (every leg hung up)

``ENDED`` emits :class:`~engine.calls.effects.FinishCall` exactly once, which writes the CDR (and the
``call.ended`` event with it).

Times are POSIX seconds (float) from the engine's injected clock.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import Literal

from engine.calls import effects as fx
from engine.calls.events import (
    CalleeReady,
    CallerArrived,
    CallEvent,
    DialStatusChanged,
    EffectFailed,
    LegGone,
    RouteFailed,
    RouteResolved,
)
from engine.q850 import CAUSE_BY_DIAL_STATUS, NORMAL_CLEARING, TEMPORARY_FAILURE

FALLBACK_CONTEXT_VOICEMAIL = "ringline-voicemail"


class CallState(enum.Enum):
    """Named states of an inbound call (see the module docstring for the transitions)."""

    ROUTING = "ROUTING"
    DIALING = "DIALING"
    RINGING = "RINGING"
    BRIDGED = "BRIDGED"
    FALLBACK = "FALLBACK"
    HANGING_UP = "HANGING_UP"
    ENDED = "ENDED"


Disposition = Literal["ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION"]
LegRole = Literal["caller", "callee"]

_DISPOSITION_BY_DIAL_STATUS: dict[str, Disposition] = {
    "BUSY": "BUSY",
    "NOANSWER": "NO ANSWER",
    "CONGESTION": "CONGESTION",
    "CHANUNAVAIL": "FAILED",
    "CANCEL": "NO ANSWER",
}


_DIAL_STATUS_BY_CAUSE: dict[int, str] = {
    17: "BUSY",
    18: "NOANSWER",
    19: "NOANSWER",
    16: "NOANSWER",
    21: "CONGESTION",
    34: "CONGESTION",
    38: "CONGESTION",
    41: "CONGESTION",
    42: "CONGESTION",
    1: "CHANUNAVAIL",
    3: "CHANUNAVAIL",
    20: "CHANUNAVAIL",
    27: "CHANUNAVAIL",
}
"""Dial outcome of a callee that hung up before answering, from its Q.850 cause (as app_dial maps them)."""


@dataclass(frozen=True, slots=True)
class Leg:
    """One channel of a call. Times in POSIX seconds; ``hangup_cause`` is Q.850."""

    channel_id: str
    role: LegRole
    endpoint: str | None
    start_at: float
    answer_at: float | None = None
    end_at: float | None = None
    hangup_cause: int | None = None

    @property
    def gone(self) -> bool:
        return self.end_at is not None


@dataclass(frozen=True, slots=True)
class Route:
    """Where a DID sends a call. ``ring_timeout_s`` in seconds; fallback applies on busy/no answer/failure.

    ``route_type`` ``endpoint`` dials ``dial_string``; ``voicemail`` sends the caller to mailbox ``target``.
    ``caller_id_num``/``caller_id_name`` replace the caller's own towards the callee; ``variables`` are set on
    the callee channel (both chosen by a CRM webhook, :mod:`engine.routing.webhook_route`).
    """

    route_type: str
    target: str
    dial_string: str
    ring_timeout_s: int
    fallback_type: str | None = None
    fallback_target: str | None = None
    caller_id_num: str | None = None
    caller_id_name: str | None = None
    variables: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Call:
    """An inbound call: its legs, bridge, route and outcome. Immutable; replaced on every transition."""

    call_id: str
    tenant_slug: str
    state: CallState
    caller: Leg
    did: str | None
    caller_id_num: str | None = None
    caller_id_name: str | None = None
    tenant_id: int | None = None
    route: Route | None = None
    callee: Leg | None = None
    bridge_id: str | None = None
    dial_status: str | None = None
    disposition: Disposition | None = None
    hangup_cause: int | None = None
    fallback_taken: str | None = None
    started_at: float = 0.0
    answered_at: float | None = None
    ended_at: float | None = None
    ringing_at: float | None = None
    """When the callee first rang (the first ``Dial`` RINGING; ``call.ringing`` was published then)."""

    @property
    def callee_channel_id(self) -> str:
        """The id the engine gives the callee channel it creates (so orphans are recognisable)."""
        return f"{self.call_id}-callee"

    @property
    def bridge_name(self) -> str:
        return f"{self.call_id}-bridge"

    def legs(self) -> tuple[Leg, ...]:
        return (self.caller,) if self.callee is None else (self.caller, self.callee)

    def leg(self, channel_id: str) -> Leg | None:
        for leg in self.legs():
            if leg.channel_id == channel_id:
                return leg
        return None

    @property
    def live_channel_ids(self) -> tuple[str, ...]:
        return tuple(leg.channel_id for leg in self.legs() if not leg.gone)


class InvalidTransition(Exception):
    """An event that the call's current state cannot accept; names the state (``cannot X: call is S``)."""


def new_call(event: CallerArrived) -> tuple[Call, list[fx.Effect]]:
    """Start a call from the caller's ``StasisStart``: ring nothing yet, resolve the DID's route first."""
    caller = Leg(event.channel_id, "caller", event.endpoint, start_at=event.at)
    call = Call(
        call_id=event.call_id,
        tenant_slug=event.tenant_slug,
        state=CallState.ROUTING,
        caller=caller,
        did=event.did,
        caller_id_num=event.caller_id_num,
        caller_id_name=event.caller_id_name,
        started_at=event.at,
    )
    return call, [fx.ResolveRoute(call.call_id, event.tenant_slug, event.did)]


def transition(call: Call, event: CallEvent, now: float) -> tuple[Call, list[fx.Effect]]:
    """Apply ``event`` to ``call`` at time ``now`` (POSIX s).

    Returns the new call and the effects to perform in order. Events that no longer matter (a second hangup of
    a leg already gone, a dial status after the call ended) return the call unchanged and no effects.

    Raises:
        InvalidTransition: the event cannot happen in the current state (a programming error upstream).
    """
    if call.state is CallState.ENDED:
        return call, []
    if isinstance(event, RouteResolved):
        return _on_route_resolved(call, event, now)
    if isinstance(event, RouteFailed):
        return _on_route_failed(call, event, now)
    if isinstance(event, CalleeReady):
        return _on_callee_ready(call)
    if isinstance(event, DialStatusChanged):
        return _on_dial_status(call, event, now)
    if isinstance(event, LegGone):
        return _on_leg_gone(call, event, now)
    if isinstance(event, EffectFailed):
        return _on_effect_failed(call, event, now)
    raise InvalidTransition(f"cannot handle {type(event).__name__}: call is {call.state.value}")


def _guard(call: Call, action: str, *allowed: CallState) -> None:
    if call.state not in allowed:
        raise InvalidTransition(f"cannot {action}: call is {call.state.value}")


def _on_route_resolved(call: Call, event: RouteResolved, now: float) -> tuple[Call, list[fx.Effect]]:
    _guard(call, "dial route", CallState.ROUTING)
    route = event.route
    if route.route_type == "voicemail":
        # nobody to dial: the caller goes where a voicemail fallback sends it
        call = dataclasses.replace(
            call,
            state=CallState.FALLBACK,
            route=route,
            tenant_id=event.tenant_id,
            disposition="NO ANSWER",
            fallback_taken="voicemail",
        )
        return call, [
            fx.Continue(call.caller.channel_id, FALLBACK_CONTEXT_VOICEMAIL, route.target),
            fx.Persist(call),
        ]
    callee = Leg(call.callee_channel_id, "callee", route.target, start_at=now)
    call = dataclasses.replace(
        call, state=CallState.DIALING, route=route, callee=callee, tenant_id=event.tenant_id
    )
    return call, [
        fx.Ring(call.caller.channel_id),
        fx.CreateCallee(
            channel_id=callee.channel_id,
            dial_string=route.dial_string,
            caller_channel_id=call.caller.channel_id,
            caller_id_num=route.caller_id_num or call.caller_id_num,
            caller_id_name=route.caller_id_name or call.caller_id_name,
            variables=route.variables,
        ),
        # no snapshot while dialling: if the engine dies now, the caller is still in Stasis and a restarted
        # engine routes it again (recovery.plan's "new callers"), hanging up the orphan callee
    ]


def _on_callee_ready(call: Call) -> tuple[Call, list[fx.Effect]]:
    if call.state is not CallState.DIALING or call.callee is None or call.callee.gone or call.route is None:
        return call, []  # the caller left (or the dial failed) before the callee entered Stasis
    return call, [fx.Dial(call.callee.channel_id, call.caller.channel_id, call.route.ring_timeout_s)]


def _on_route_failed(call: Call, event: RouteFailed, now: float) -> tuple[Call, list[fx.Effect]]:
    _guard(call, "fail route", CallState.ROUTING)
    call = dataclasses.replace(
        call,
        state=CallState.HANGING_UP,
        disposition="FAILED",
        hangup_cause=event.cause,
        tenant_id=event.tenant_id if event.tenant_id is not None else call.tenant_id,
    )
    return call, [fx.Hangup(call.caller.channel_id, event.cause)]


def _on_dial_status(call: Call, event: DialStatusChanged, now: float) -> tuple[Call, list[fx.Effect]]:
    status = event.status
    if call.state not in (CallState.DIALING, CallState.RINGING):
        return call, []  # late dial events after the caller left are of no consequence
    if status in ("RINGING", "PROGRESS"):
        if status == "RINGING" and call.ringing_at is None:
            call = dataclasses.replace(call, state=CallState.RINGING, dial_status=status, ringing_at=now)
            return call, [fx.PublishEvent("call.ringing", call, now)]
        return dataclasses.replace(call, state=CallState.RINGING, dial_status=status), []
    if status == "ANSWER":
        assert call.callee is not None
        callee = dataclasses.replace(call.callee, answer_at=now)
        call = dataclasses.replace(
            call,
            state=CallState.BRIDGED,
            callee=callee,
            answered_at=now,
            dial_status=status,
            disposition="ANSWERED",
            bridge_id=call.bridge_name,
        )
        return call, [
            fx.Answer(call.caller.channel_id),
            fx.Bridge(call.bridge_name, (call.caller.channel_id, callee.channel_id)),
            fx.PublishEvent("call.answered", call, now),
            fx.Persist(call),
        ]
    disposition = _DISPOSITION_BY_DIAL_STATUS.get(status)
    if disposition is None:
        return dataclasses.replace(call, dial_status=status), []  # "" or unknown progress statuses
    cause = CAUSE_BY_DIAL_STATUS.get(status, NORMAL_CLEARING)
    call = dataclasses.replace(call, dial_status=status, disposition=disposition, hangup_cause=cause)
    return _take_fallback(call, cause)


def _take_fallback(call: Call, cause: int) -> tuple[Call, list[fx.Effect]]:
    """The primary target did not answer: voicemail if configured, else hang up with the dial's cause."""
    effects: list[fx.Effect] = []
    if call.callee is not None and not call.callee.gone:
        effects.append(fx.Hangup(call.callee.channel_id, NORMAL_CLEARING))
    route = call.route
    if route is not None and route.fallback_type == "voicemail" and route.fallback_target:
        call = dataclasses.replace(call, state=CallState.FALLBACK, fallback_taken="voicemail")
        effects += [
            fx.Continue(call.caller.channel_id, FALLBACK_CONTEXT_VOICEMAIL, route.fallback_target),
            fx.Persist(call),
        ]
        return call, effects
    call = dataclasses.replace(call, state=CallState.HANGING_UP, fallback_taken="hangup")
    effects.append(fx.Hangup(call.caller.channel_id, cause))
    return call, effects


def _on_leg_gone(call: Call, event: LegGone, now: float) -> tuple[Call, list[fx.Effect]]:
    leg = call.leg(event.channel_id)
    if leg is None or leg.gone:
        return call, []
    gone = dataclasses.replace(leg, end_at=event.at, hangup_cause=event.cause)
    call = _replace_leg(call, gone)
    if gone.role == "callee":
        if call.state is CallState.BRIDGED:
            return _end(call, first_cause=event.cause, now=now)
        if call.state in (CallState.DIALING, CallState.RINGING):
            # The callee hung up before answering. Asterisk sends no final ``Dial`` event when the far end
            # refuses at once (seen: 486 Busy Here -> only ChannelHangupRequest cause 17), so the cause is
            # the dial outcome.
            status = _DIAL_STATUS_BY_CAUSE.get(event.cause or 0, "NOANSWER")
            return _on_dial_status(call, DialStatusChanged(call.call_id, status), now)
        return call, []
    # caller gone
    if call.state in (CallState.DIALING, CallState.RINGING, CallState.ROUTING):
        call = dataclasses.replace(call, disposition=call.disposition or "NO ANSWER")
    return _end(call, first_cause=event.cause, now=now)


def _on_effect_failed(call: Call, event: EffectFailed, now: float) -> tuple[Call, list[fx.Effect]]:
    if call.state is CallState.HANGING_UP and not call.caller.gone:
        # already tearing down: the hangup itself failed; nothing more to try than a second hangup
        return call, []
    # An answered call stays ANSWERED if a later step fails, but not when the parties were never connected:
    # a failed Answer/Bridge (e.g. the callee hung up before the bridge: ARI 400 "Channel not found") is FAILED.
    connected = call.state is CallState.BRIDGED and event.effect not in ("Answer", "Bridge")
    disposition: Disposition = call.disposition if connected and call.disposition else "FAILED"
    call = dataclasses.replace(call, state=CallState.HANGING_UP, disposition=disposition)
    if not call.live_channel_ids:
        return _end(call, first_cause=call.hangup_cause, now=now)
    return call, [fx.Hangup(ch, TEMPORARY_FAILURE) for ch in call.live_channel_ids]


def _end(call: Call, *, first_cause: int | None, now: float) -> tuple[Call, list[fx.Effect]]:
    effects: list[fx.Effect] = [fx.Hangup(ch, NORMAL_CLEARING) for ch in call.live_channel_ids]
    legs = [
        leg if leg.gone else dataclasses.replace(leg, end_at=now, hangup_cause=NORMAL_CLEARING)
        for leg in call.legs()
    ]
    call = _replace_leg(call, legs[0])
    if len(legs) > 1:
        call = _replace_leg(call, legs[1])
    if call.bridge_id is not None:
        effects.append(fx.DestroyBridge(call.bridge_id))
    call = dataclasses.replace(
        call,
        state=CallState.ENDED,
        ended_at=now,
        disposition=call.disposition or "FAILED",
        hangup_cause=call.hangup_cause if call.hangup_cause is not None else first_cause,
    )
    effects.append(fx.FinishCall(call))
    return call, effects


def _replace_leg(call: Call, leg: Leg) -> Call:
    if leg.role == "caller":
        return dataclasses.replace(call, caller=leg)
    return dataclasses.replace(call, callee=leg)
