"""ARI events in, call events out: the mapping from Stasis events to the call state machine's inputs.

Source: ARI events resource (``StasisStart``, ``Dial``, ``ChannelHangupRequest``, ``ChannelDestroyed``).
"""

from __future__ import annotations

from engine.ari.models import Channel


def endpoint_of(channel: Channel) -> str | None:
    """The endpoint part of a channel name: ``PJSIP/acme-carrier-0000002a`` -> ``acme-carrier``."""
    name = channel.name
    if "/" not in name:
        return None
    resource = name.split("/", 1)[1]
    head, sep, _ = resource.rpartition("-")
    return head if sep else resource


def dialled_number(channel: Channel) -> str | None:
    """The number the caller dialled, as the dialplan saw it when it entered Stasis."""
    exten = channel.dialplan.exten if channel.dialplan is not None else None
    return exten or None
