"""Reconciliation after an ARI reconnect or an engine restart: no call in progress is lost.

After every (re)connection of the events WebSocket the engine compares what it believes with what Asterisk has
(``GET /channels``, ``GET /bridges``):

- calls persisted by a previous run of this engine instance (``active_calls``) whose channels still exist are
  re-adopted with their snapshot (a bridged call stays bridged; its CDR keeps the original start/answer times);
- a leg the engine believes alive but Asterisk no longer has hung up while we were away: it is fed to the call
  as a synthetic ``LegGone`` (its end time is the time we noticed);
- a callee that answered while we were away (channel ``Up``, ``Dial ANSWER`` missed) is treated as answered;
- channels in our Stasis app that we never saw enter (``StasisStart`` missed) are routed as new calls;
- channels and bridges the engine created (ids ``<call_id>-callee``/``<call_id>-bridge``) that belong to no
  live call are orphans: hung up / destroyed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from engine.ari.models import Bridge, Channel
from engine.calls.events import DialStatusChanged, LegGone
from engine.calls.state import Call, CallState
from engine.dispatch import Dispatcher

log = logging.getLogger(__name__)

CALLEE_SUFFIX = "-callee"
BRIDGE_SUFFIX = "-bridge"


@dataclass(slots=True)
class ReconcileReport:
    """What one reconciliation did (ids)."""

    readopted: list[str] = field(default_factory=list)
    legs_missing: list[str] = field(default_factory=list)
    answered_while_away: list[str] = field(default_factory=list)
    new_callers: list[str] = field(default_factory=list)
    orphan_channels: list[str] = field(default_factory=list)
    orphan_bridges: list[str] = field(default_factory=list)


def plan(
    *,
    app: str,
    channels: list[Channel],
    bridges: list[Bridge],
    dispatcher: Dispatcher,
    snapshots: list[Call],
    now: float,
    start_caller: Callable[[Channel, list[str]], None],
) -> ReconcileReport:
    """Bring the dispatcher in line with Asterisk's channels and bridges (no I/O except via the dispatcher).

    Returns the report; orphan channels/bridges are listed for the caller to hang up / destroy.
    """
    report = ReconcileReport()
    live = {c.id: c for c in channels}
    for call in snapshots:
        if call.call_id in dispatcher:
            continue
        dispatcher.start(call, [])
        report.readopted.append(call.call_id)
    for call in dispatcher.calls():
        _check_call(call, live, dispatcher, now, report)
    for channel in channels:
        if dispatcher.call_for_channel(channel.id) is not None:
            continue
        if channel.id.endswith(CALLEE_SUFFIX):
            report.orphan_channels.append(channel.id)
            continue
        cep = channel.dialplan
        if cep is not None and cep.app_name == "Stasis" and cep.app_data.split(",")[0] == app:
            args = [a for a in cep.app_data.split(",")[1:]]
            start_caller(channel, args)
            report.new_callers.append(channel.id)
    for bridge in bridges:
        if bridge.id.endswith(BRIDGE_SUFFIX) and bridge.id[: -len(BRIDGE_SUFFIX)] not in dispatcher:
            report.orphan_bridges.append(bridge.id)
    return report


def _check_call(
    call: Call, live: dict[str, Channel], dispatcher: Dispatcher, now: float, report: ReconcileReport
) -> None:
    if call.state is CallState.ENDED:
        return
    for leg in call.legs():
        if leg.gone:
            continue
        if leg.role == "callee" and call.state in (CallState.ROUTING, CallState.DIALING):
            # the callee channel may not have been created yet; its Dial events will tell
            channel = live.get(leg.channel_id)
            if channel is not None and channel.state == "Up":
                dispatcher.put_nowait(call.call_id, DialStatusChanged(call.call_id, "ANSWER"))
                report.answered_while_away.append(call.call_id)
            continue
        channel = live.get(leg.channel_id)
        if channel is None:
            dispatcher.put_nowait(call.call_id, LegGone(call.call_id, leg.channel_id, None, now, synthetic=True))
            report.legs_missing.append(leg.channel_id)
        elif leg.role == "callee" and call.state is CallState.RINGING and channel.state == "Up":
            dispatcher.put_nowait(call.call_id, DialStatusChanged(call.call_id, "ANSWER"))
            report.answered_while_away.append(call.call_id)
