"""FastAGI: Asterisk's ``AGI(agi://host:4573/<script>)`` answered by Ringline, for calls in ordinary dialplan.

``route`` sets the call's routing decision (the same lookup and rules as the ARI engine) into ``RINGLINE_*``
channel variables for the dialplan to ``Dial()``; ``ivr`` answers ``FAILURE`` until IVR flows exist.

Modules: :mod:`~dialplan.agi.environment` (the request's ``agi_*`` lines), :mod:`~dialplan.agi.channel`
(commands and replies, over panoramisk), :mod:`~dialplan.agi.routing` (the pure decision),
:mod:`~dialplan.agi.scripts` (what each path does), :mod:`~dialplan.agi.server` (listener, owned session
tasks, statistics), :mod:`~dialplan.agi.errors`; ``python -m dialplan.agi`` runs it alone.
"""

from dialplan.agi.errors import AgiFailure, FailureReason
from dialplan.agi.scripts import IvrScript, RouteScript, ringline_scripts
from dialplan.agi.server import DEFAULT_AGI_PORT, AgiServer, AgiStatistics

__all__ = [
    "DEFAULT_AGI_PORT",
    "AgiFailure",
    "AgiServer",
    "AgiStatistics",
    "FailureReason",
    "IvrScript",
    "RouteScript",
    "ringline_scripts",
]
