"""Effects returned by the state machine and performed by :mod:`engine.calls.executor`.

Each effect is one intent; the executor maps it to ARI requests (Source: Asterisk ARI ``/channels`` and
``/bridges`` resources) or database writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.webhooks.events import EventType

if TYPE_CHECKING:
    from engine.calls.state import Call


@dataclass(frozen=True, slots=True)
class ResolveRoute:
    """Look up the DID's route for the tenant; answers with ``RouteResolved`` or ``RouteFailed``."""

    call_id: str
    tenant_slug: str
    did: str | None


@dataclass(frozen=True, slots=True)
class Ring:
    """Indicate ringing to the caller (``POST /channels/{id}/ring``)."""

    channel_id: str


@dataclass(frozen=True, slots=True)
class CreateCallee:
    """Create the callee channel in the Stasis app (``POST /channels/create``) without dialling it yet.

    Dialling must wait for the channel's ``StasisStart`` (ARI answers 409 "Channel not in Stasis application"
    before it); the call dials on :class:`~engine.calls.events.CalleeReady`. ``variables`` (name, value) are set
    on the new channel with the caller ID.
    """

    channel_id: str
    dial_string: str
    caller_channel_id: str
    caller_id_num: str | None
    caller_id_name: str | None
    variables: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Dial:
    """Dial the created callee (``POST /channels/{id}/dial``). ``timeout_s`` is the ring timeout in seconds;
    Asterisk reports the outcome as ``Dial`` events (RINGING, ANSWER, BUSY, NOANSWER ...)."""

    channel_id: str
    caller_channel_id: str
    timeout_s: int


@dataclass(frozen=True, slots=True)
class Answer:
    """Answer the caller (``POST /channels/{id}/answer``)."""

    channel_id: str


@dataclass(frozen=True, slots=True)
class Bridge:
    """Create a mixing bridge with this id and put the channels in it."""

    bridge_id: str
    channel_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Hangup:
    """Hang a channel up with Q.850 ``cause`` (ARI ``reason_code``: 16 normal clearing, 17 user busy,
    19 no answer, 1 unallocated number ...). A channel already gone is an outcome, not an error."""

    channel_id: str
    cause: int


@dataclass(frozen=True, slots=True)
class Continue:
    """Send the channel back to the dialplan (``POST /channels/{id}/continue``) and keep watching it."""

    channel_id: str
    context: str
    extension: str


@dataclass(frozen=True, slots=True)
class DestroyBridge:
    """Destroy the call's bridge (``DELETE /bridges/{id}``); already gone is fine."""

    bridge_id: str


@dataclass(frozen=True, slots=True)
class Persist:
    """Save the call's snapshot (``active_calls``) so a restarted engine can re-adopt it."""

    call: Call


@dataclass(frozen=True, slots=True)
class FinishCall:
    """Write the CDR and legs, drop the snapshot. Must complete even if the engine is being cancelled."""

    call: Call


@dataclass(frozen=True, slots=True)
class PublishEvent:
    """Write the event ``event_type`` (``call.ringing``, ``call.answered``) about ``call`` at ``at`` (POSIX s) to
    the event outbox, for the tenant's subscribed CRMs. (``call.ended`` is written by :class:`FinishCall`, in
    the CDR's transaction.)"""

    event_type: EventType
    call: Call
    at: float


Effect = (
    ResolveRoute | Ring | CreateCallee | Dial | Answer | Bridge | Hangup | Continue | DestroyBridge
    | Persist | FinishCall | PublishEvent
)
