"""Domain events fed to :func:`engine.calls.state.transition`.

They are derived from ARI events (``StasisStart``, ``Dial``, ``ChannelHangupRequest``, ``ChannelDestroyed``;
Source: Asterisk ARI events resource) and from the outcomes of effects. Times are POSIX seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.calls.state import Route


@dataclass(frozen=True, slots=True)
class CallerArrived:
    """A caller channel entered the Stasis app (``StasisStart`` with the tenant slug as first app arg)."""

    call_id: str
    channel_id: str
    tenant_slug: str
    did: str | None
    caller_id_num: str | None
    caller_id_name: str | None
    endpoint: str | None
    at: float


@dataclass(frozen=True, slots=True)
class RouteResolved:
    """The DID's route was found; ``tenant_id`` is the tenant's database id."""

    call_id: str
    route: Route
    tenant_id: int


@dataclass(frozen=True, slots=True)
class RouteFailed:
    """No usable route (unknown DID, suspended tenant, over the concurrent-call limit ...).

    ``cause`` is the Q.850 cause to hang the caller up with (1 unallocated number, 21 call rejected, 34 no
    circuit available ...).
    """

    call_id: str
    cause: int
    reason: str
    tenant_id: int | None = None


@dataclass(frozen=True, slots=True)
class DialStatusChanged:
    """``Dial`` event for the callee: ``status`` is ARI's ``dialstatus`` (RINGING, PROGRESS, ANSWER, BUSY,
    NOANSWER, CONGESTION, CHANUNAVAIL, CANCEL, or "" at the start)."""

    call_id: str
    status: str


@dataclass(frozen=True, slots=True)
class CalleeReady:
    """The callee channel the engine created entered the Stasis app (its ``StasisStart``): it can be dialled."""

    call_id: str


@dataclass(frozen=True, slots=True)
class LegGone:
    """A leg hung up (``ChannelHangupRequest``/``ChannelDestroyed``), or was found missing after an ARI outage
    (``synthetic=True``). ``cause`` is Q.850 when known."""

    call_id: str
    channel_id: str
    cause: int | None
    at: float
    synthetic: bool = False


@dataclass(frozen=True, slots=True)
class EffectFailed:
    """An effect could not be performed (ARI refused it or was unreachable past its retry budget)."""

    call_id: str
    effect: str
    error: str


CallEvent = RouteResolved | RouteFailed | CalleeReady | DialStatusChanged | LegGone | EffectFailed
