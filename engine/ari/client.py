"""ARI REST client: one keep-alive aiohttp session, typed helpers returning the generated models.

Every helper is one ARI operation; its docstring names it (``Source: POST /channels/{channelId}/answer``)
and lists the statuses it maps (see ``engine.ari.errors`` for the tree). Query parameter names are ARI's
(``channelId``, ``appArgs``, ``reason_code`` ...), checked against Asterisk 22's rest-api/api-docs.

Usage::

    async with AriClient("http://127.0.0.1:8088/ari", "user", "secret", app="ringline") as ari:
        channel = await ari.channel_originate(endpoint="PJSIP/alice", app="ringline", channel_id=call_id)
        await ari.channel_hangup(channel.id)
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import aiohttp
from yarl import URL

from ._auth import basic_auth
from .errors import AriNotFound, AriUnavailable, http_error
from .models import Application, Bridge, Channel, Endpoint, Playback, Variable, from_json

__all__ = ["AriClient"]

_QueryValue = str | int | float | bool | Sequence[str] | None


def _segment(value: str) -> str:
    """Percent-encode one path segment (ids are opaque strings: ``/``, ``;``, ``%`` ... must not leak)."""
    return quote(value, safe="")


def _query(params: Mapping[str, _QueryValue]) -> dict[str, str]:
    """ARI query parameters as strings: None dropped, booleans ``true``/``false``, lists comma-joined.

    ARI's ``allowMultiple`` parameters are comma-separated lists (Asterisk splits them with
    ``ast_app_separate_args``; a repeated key overwrites the earlier one).
    """
    out: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            out[key] = str(value)
        else:
            out[key] = ",".join(value)
    return out


def _csv(value: str | Sequence[str] | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return ",".join(value)


def _variables_body(variables: Mapping[str, str] | None) -> dict[str, Any] | None:
    return None if variables is None else {"variables": dict(variables)}


class AriClient:
    """Typed client of Asterisk's ARI REST interface.

    Args:
        base_url: ARI root, e.g. ``"http://127.0.0.1:8088/ari"`` (no trailing slash needed).
        username, password: an ``ari.conf`` user (HTTP basic auth).
        app: the Stasis application this engine registers; the default ``app`` of originate/create/snoop/
            external media.
        session: a shared ``aiohttp.ClientSession`` (not closed by ``close()``); by default the client creates
            one on first use and owns it. Either way connections are kept alive and reused.
        request_timeout_s: budget of one request, connect + send + full response, in seconds.

    Each method raises ``AriUnavailable`` when Asterisk cannot be reached or does not answer within
    ``request_timeout_s``, and an ``AriHttpError`` subclass for non-2xx statuses (the ones listed per method
    are the documented ones; any status can map).
    """

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        app: str,
        session: aiohttp.ClientSession | None = None,
        request_timeout_s: float = 5.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.app = app
        self.request_timeout_s = request_timeout_s
        self._headers = {"Authorization": basic_auth(username, password)}
        self._session = session
        self._owns_session = session is None
        self._timeout = aiohttp.ClientTimeout(total=request_timeout_s)
        self._closed = False

    # ------------------------------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the owned session (a shared one is left open). Idempotent."""
        self._closed = True
        if self._owns_session and self._session is not None:
            session, self._session = self._session, None
            await session.close()

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("AriClient is closed")
        if self._session is None:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32))
        return self._session

    # ------------------------------------------------------------------------------------------ transport

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, _QueryValue] | None = None,
        json: Any = None,
    ) -> Any:
        """Perform one ARI request and return the decoded JSON body (None for 204/empty bodies).

        Args:
            method: ``"GET"``, ``"POST"``, ``"PUT"`` or ``"DELETE"``.
            path: path under ``base_url`` starting with ``/``, segments already percent-encoded,
                e.g. ``"/channels/1700000000.1/answer"``.
            params: query parameters (None values dropped, bools as ``true``/``false``, lists comma-joined).
            json: JSON body, e.g. ``{"variables": {"X": "1"}}``.

        Raises:
            AriHttpError: non-2xx status (the subclass for 400/404/409/412/422).
            AriUnavailable: connection error, protocol error, or no complete answer in ``request_timeout_s``.
        """
        session = self._get_session()
        url = URL(self.base_url + path, encoded=True)
        try:
            async with session.request(
                method,
                url,
                params=_query(params) if params else None,
                json=json,
                headers=self._headers,
                timeout=self._timeout,
            ) as response:
                body = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise AriUnavailable(method, path, f"{exc.__class__.__name__}: {exc}") from exc
        if 200 <= status < 300:
            if not body:
                return None
            try:
                return jsonlib.loads(body)
            except ValueError as exc:
                raise AriUnavailable(
                    method, path, f"invalid JSON in {status} response: {body[:200]!r}"
                ) from exc
        raise http_error(status, method, path, _error_message(body))

    # ------------------------------------------------------------------------------------------ channels

    async def channels_list(self) -> list[Channel]:
        """All active channels.

        Source: ``GET /channels``.
        """
        body = await self.request("GET", "/channels")
        return [from_json(Channel, item) for item in body]

    async def channel_get(self, channel_id: str) -> Channel:
        """One channel's current snapshot.

        Raises:
            AriNotFound: no such channel.

        Source: ``GET /channels/{channelId}``.
        """
        return from_json(Channel, await self.request("GET", f"/channels/{_segment(channel_id)}"))

    async def channel_originate(
        self,
        *,
        endpoint: str,
        app: str | None = None,
        app_args: str | Sequence[str] | None = None,
        extension: str | None = None,
        context: str | None = None,
        priority: int | None = None,
        label: str | None = None,
        channel_id: str | None = None,
        other_channel_id: str | None = None,
        originator: str | None = None,
        caller_id: str | None = None,
        timeout_s: int | None = None,
        variables: Mapping[str, str] | None = None,
        formats: str | Sequence[str] | None = None,
    ) -> Channel:
        """Create a channel to ``endpoint`` and dial it; on answer it enters ``app`` or the dialplan.

        Args:
            endpoint: e.g. ``"PJSIP/alice"``, ``"Local/100@default"``.
            app: Stasis application for the answered channel; give either ``app`` or ``extension``/
                ``context``/``priority``/``label`` (ARI rejects both, 400). Neither: ``self.app``.
            app_args: application arguments (``StasisStart.args``); a sequence is comma-joined.
            channel_id, other_channel_id: ids to give the channel (and the second Local half).
            originator: id of the channel this one is originated for (linkedid, codecs).
            caller_id: ``"Name" <number>`` presented to the callee.
            timeout_s: ring timeout in seconds (ARI default 30; -1 means no timeout).
            variables: channel variables set before dialing.
            formats: codec names, e.g. ``["ulaw", "alaw"]``; cannot be combined with ``originator``.

        Returns the channel as created (state ``Down``; ``Ring``/``Up`` come as events).

        Raises:
            AriBadRequest: invalid parameters (e.g. both app and dialplan target).
            AriConflict: ``channel_id`` or ``other_channel_id`` already in use.

        Source: ``POST /channels``.
        """
        if app is None and extension is None and context is None and label is None:
            app = self.app
        params: dict[str, _QueryValue] = {
            "endpoint": endpoint,
            "app": app,
            "appArgs": _csv(app_args),
            "extension": extension,
            "context": context,
            "priority": priority,
            "label": label,
            "channelId": channel_id,
            "otherChannelId": other_channel_id,
            "originator": originator,
            "callerId": caller_id,
            "timeout": timeout_s,
            "formats": _csv(formats),
        }
        body = await self.request("POST", "/channels", params=params, json=_variables_body(variables))
        return from_json(Channel, body)

    async def channel_create(
        self,
        *,
        endpoint: str,
        app: str | None = None,
        app_args: str | Sequence[str] | None = None,
        channel_id: str | None = None,
        other_channel_id: str | None = None,
        originator: str | None = None,
        formats: str | Sequence[str] | None = None,
        variables: Mapping[str, str] | None = None,
    ) -> Channel:
        """Create a channel in ``app`` (default ``self.app``) without dialing it; dial with ``channel_dial``.

        The channel enters Stasis asynchronously: wait for its ``StasisStart`` before ``channel_dial`` or
        other control operations, which answer 409 "Channel not in Stasis application" until then.

        Raises:
            AriConflict: ``channel_id`` or ``other_channel_id`` already in use.

        Source: ``POST /channels/create``.
        """
        params: dict[str, _QueryValue] = {
            "endpoint": endpoint,
            "app": app or self.app,
            "appArgs": _csv(app_args),
            "channelId": channel_id,
            "otherChannelId": other_channel_id,
            "originator": originator,
            "formats": _csv(formats),
        }
        body = await self.request("POST", "/channels/create", params=params, json=_variables_body(variables))
        return from_json(Channel, body)

    async def channel_dial(
        self, channel_id: str, *, caller: str | None = None, timeout_s: int | None = None
    ) -> None:
        """Dial a channel made by ``channel_create``.

        Args:
            caller: id of the channel that is calling (for connected line and ``Dial`` events).
            timeout_s: ring timeout in seconds (ARI default 0 = none).

        Raises:
            AriNotFound: no such channel.
            AriConflict: channel not in Stasis.

        Source: ``POST /channels/{channelId}/dial``.
        """
        params: dict[str, _QueryValue] = {"caller": caller, "timeout": timeout_s}
        await self.request("POST", f"/channels/{_segment(channel_id)}/dial", params=params)

    async def channel_answer(self, channel_id: str) -> None:
        """Answer a ringing channel.

        Raises:
            AriNotFound: no such channel. AriConflict: not in Stasis.
            AriPreconditionFailed: channel in an invalid state.

        Source: ``POST /channels/{channelId}/answer``.
        """
        await self.request("POST", f"/channels/{_segment(channel_id)}/answer")

    async def channel_ring(self, channel_id: str) -> None:
        """Indicate ringing to a channel.

        Raises: as ``channel_answer``.

        Source: ``POST /channels/{channelId}/ring``.
        """
        await self.request("POST", f"/channels/{_segment(channel_id)}/ring")

    async def channel_ring_stop(self, channel_id: str) -> None:
        """Stop ringing indication on a channel.

        Raises: as ``channel_answer``.

        Source: ``DELETE /channels/{channelId}/ring``.
        """
        await self.request("DELETE", f"/channels/{_segment(channel_id)}/ring")

    async def channel_hangup(
        self, channel_id: str, *, reason: str | None = None, reason_code: int | None = None
    ) -> bool:
        """Hang up a channel. Returns True when hung up, False when it was already gone (404).

        Args:
            reason: ARI's reason name: ``normal``, ``busy``, ``congestion``, ``no_answer``, ``timeout``,
                ``rejected``, ``unallocated``, ``normal_unspecified``, ``number_incomplete``,
                ``codec_mismatch``, ``interworking``, ``failure``, ``answered_elsewhere``.
            reason_code: a Q.850 cause code instead of ``reason`` (e.g. 17 user busy).

        Raises:
            ValueError: both ``reason`` and ``reason_code`` given (ARI rejects it with 400).
            AriBadRequest: unknown ``reason``.

        Source: ``DELETE /channels/{channelId}``.
        """
        if reason is not None and reason_code is not None:
            raise ValueError("give reason or reason_code, not both")
        params: dict[str, _QueryValue] = {"reason": reason, "reason_code": reason_code}
        try:
            await self.request("DELETE", f"/channels/{_segment(channel_id)}", params=params)
        except AriNotFound:
            return False
        return True

    async def channel_continue(
        self,
        channel_id: str,
        *,
        context: str | None = None,
        extension: str | None = None,
        priority: int | None = None,
        label: str | None = None,
    ) -> None:
        """Leave Stasis and continue in the dialplan (at the given location, else after ``Stasis()``).

        Raises: as ``channel_answer``.

        Source: ``POST /channels/{channelId}/continue``.
        """
        params: dict[str, _QueryValue] = {
            "context": context,
            "extension": extension,
            "priority": priority,
            "label": label,
        }
        await self.request("POST", f"/channels/{_segment(channel_id)}/continue", params=params)

    async def channel_set_var(self, channel_id: str, variable: str, value: str | None) -> None:
        """Set (or, with ``value=None``, unset) a channel variable or function, e.g. ``CALLERID(name)``.

        Raises:
            AriBadRequest: no variable name. AriNotFound: no such channel. AriConflict: not in Stasis.

        Source: ``POST /channels/{channelId}/variable``.
        """
        params: dict[str, _QueryValue] = {"variable": variable, "value": value}
        await self.request("POST", f"/channels/{_segment(channel_id)}/variable", params=params)

    async def channel_get_var(self, channel_id: str, variable: str) -> str:
        """The value of a channel variable or function.

        Raises:
            AriNotFound: no such channel, or the variable is not set.
            AriConflict: not in Stasis.

        Source: ``GET /channels/{channelId}/variable``.
        """
        body = await self.request(
            "GET", f"/channels/{_segment(channel_id)}/variable", params={"variable": variable}
        )
        return from_json(Variable, body).value

    async def channel_play(
        self,
        channel_id: str,
        media: str | Sequence[str],
        *,
        playback_id: str | None = None,
        lang: str | None = None,
        offset_ms: int | None = None,
        skip_ms: int | None = None,
    ) -> Playback:
        """Start playing media URIs (``sound:``, ``recording:``, ``number:``, ``digits:``, ``characters:``,
        ``tone:``) in order on a channel.

        Args:
            playback_id: id for the playback (to control/stop it); Asterisk makes one when None.
            offset_ms: start offset into the first media; skip_ms: skip for forward/reverse controls.

        Raises:
            AriNotFound: no such channel. AriConflict: not in Stasis. AriPreconditionFailed: channel busy.

        Source: ``POST /channels/{channelId}/play``.
        """
        params: dict[str, _QueryValue] = {
            "media": _csv(media),
            "playbackId": playback_id,
            "lang": lang,
            "offsetms": offset_ms,
            "skipms": skip_ms,
        }
        body = await self.request("POST", f"/channels/{_segment(channel_id)}/play", params=params)
        return from_json(Playback, body)

    async def channel_send_dtmf(
        self,
        channel_id: str,
        dtmf: str,
        *,
        before_ms: int | None = None,
        between_ms: int | None = None,
        duration_ms: int | None = None,
        after_ms: int | None = None,
    ) -> None:
        """Send DTMF digits (``0-9 A-D * #``, ``,`` = pause) to a channel.

        Args:
            before_ms, after_ms: silence before/after (ARI default 0); between_ms: gap (default 100);
            duration_ms: length of each digit (default 100).

        Raises: as ``channel_answer``; AriBadRequest when ``dtmf`` is empty.

        Source: ``POST /channels/{channelId}/dtmf``.
        """
        params: dict[str, _QueryValue] = {
            "dtmf": dtmf,
            "before": before_ms,
            "between": between_ms,
            "duration": duration_ms,
            "after": after_ms,
        }
        await self.request("POST", f"/channels/{_segment(channel_id)}/dtmf", params=params)

    async def channel_hold(self, channel_id: str) -> None:
        """Put a channel on hold (indicates hold to its peer).

        Source: ``POST /channels/{channelId}/hold``.
        """
        await self.request("POST", f"/channels/{_segment(channel_id)}/hold")

    async def channel_unhold(self, channel_id: str) -> None:
        """Take a channel off hold.

        Source: ``DELETE /channels/{channelId}/hold``.
        """
        await self.request("DELETE", f"/channels/{_segment(channel_id)}/hold")

    async def channel_mute(self, channel_id: str, *, direction: str = "both") -> None:
        """Mute a channel's audio, ``direction`` ``in``, ``out`` or ``both``.

        Source: ``POST /channels/{channelId}/mute``.
        """
        await self.request("POST", f"/channels/{_segment(channel_id)}/mute", params={"direction": direction})

    async def channel_unmute(self, channel_id: str, *, direction: str = "both") -> None:
        """Unmute a channel's audio, ``direction`` ``in``, ``out`` or ``both``.

        Source: ``DELETE /channels/{channelId}/mute``.
        """
        await self.request(
            "DELETE", f"/channels/{_segment(channel_id)}/mute", params={"direction": direction}
        )

    async def channel_start_moh(self, channel_id: str, *, moh_class: str | None = None) -> None:
        """Play music on hold to a channel (``moh_class`` from musiconhold.conf, default ``default``).

        Source: ``POST /channels/{channelId}/moh``.
        """
        await self.request("POST", f"/channels/{_segment(channel_id)}/moh", params={"mohClass": moh_class})

    async def channel_stop_moh(self, channel_id: str) -> None:
        """Stop music on hold on a channel.

        Source: ``DELETE /channels/{channelId}/moh``.
        """
        await self.request("DELETE", f"/channels/{_segment(channel_id)}/moh")

    async def channel_snoop(
        self,
        channel_id: str,
        *,
        app: str | None = None,
        spy: str | None = None,
        whisper: str | None = None,
        app_args: str | Sequence[str] | None = None,
        snoop_id: str | None = None,
    ) -> Channel:
        """Create a snoop channel on ``channel_id`` that enters ``app`` (default ``self.app``).

        Args:
            spy: audio to hear from the channel: ``none`` (ARI default), ``in``, ``out``, ``both``.
            whisper: audio to inject into the channel: same values.

        Raises:
            AriBadRequest: invalid spy/whisper. AriNotFound: no such channel.

        Source: ``POST /channels/{channelId}/snoop``.
        """
        params: dict[str, _QueryValue] = {
            "app": app or self.app,
            "spy": spy,
            "whisper": whisper,
            "appArgs": _csv(app_args),
            "snoopId": snoop_id,
        }
        body = await self.request("POST", f"/channels/{_segment(channel_id)}/snoop", params=params)
        return from_json(Channel, body)

    async def channel_external_media(
        self,
        *,
        format: str,
        external_host: str | None = None,
        app: str | None = None,
        channel_id: str | None = None,
        encapsulation: str | None = None,
        transport: str | None = None,
        connection_type: str | None = None,
        direction: str | None = None,
        data: str | None = None,
        transport_data: str | None = None,
        variables: Mapping[str, str] | None = None,
    ) -> Channel:
        """Create an ExternalMedia channel in ``app`` (default ``self.app``) exchanging media with a host.

        Args:
            format: codec, e.g. ``"ulaw"`` (20 ms frames of 8 kHz µ-law = 160 bytes of payload).
            external_host: ``"host:port"`` to send RTP/AudioSocket to (required for ``rtp``/``audiosocket``).
            encapsulation: ``rtp`` (default), ``audiosocket``, ``none``.
            transport: ``udp`` (default), ``tcp``, ``websocket``.
            connection_type: ``client`` (default) or ``server`` (websocket).
            direction: ``both`` (default), ``in``, ``out``.
            data: AudioSocket UUID etc.; transport_data: websocket client options.

        Raises:
            AriBadRequest: invalid parameters. AriConflict: ``channel_id`` in use.

        Source: ``POST /channels/externalMedia``.
        """
        params: dict[str, _QueryValue] = {
            "app": app or self.app,
            "external_host": external_host,
            "format": format,
            "channelId": channel_id,
            "encapsulation": encapsulation,
            "transport": transport,
            "connection_type": connection_type,
            "direction": direction,
            "data": data,
            "transport_data": transport_data,
        }
        body = await self.request(
            "POST", "/channels/externalMedia", params=params, json=_variables_body(variables)
        )
        return from_json(Channel, body)

    # ------------------------------------------------------------------------------------------ bridges

    async def bridges_list(self) -> list[Bridge]:
        """All bridges.

        Source: ``GET /bridges``.
        """
        body = await self.request("GET", "/bridges")
        return [from_json(Bridge, item) for item in body]

    async def bridge_get(self, bridge_id: str) -> Bridge:
        """One bridge.

        Raises:
            AriNotFound: no such bridge.

        Source: ``GET /bridges/{bridgeId}``.
        """
        return from_json(Bridge, await self.request("GET", f"/bridges/{_segment(bridge_id)}"))

    async def bridge_create(
        self,
        *,
        bridge_type: str | Sequence[str] = "mixing",
        bridge_id: str | None = None,
        name: str | None = None,
    ) -> Bridge:
        """Create a bridge.

        Args:
            bridge_type: attributes, comma-joined: ``mixing``, ``holding``, ``dtmf_events``, ``proxy_media``,
                ``video_sfu``, ``video_single``, ``sdp_label``.
            bridge_id: id to give the bridge (Asterisk makes a UUID when None).

        Raises:
            AriConflict: ``bridge_id`` already in use.

        Source: ``POST /bridges``.
        """
        params: dict[str, _QueryValue] = {"type": _csv(bridge_type), "bridgeId": bridge_id, "name": name}
        return from_json(Bridge, await self.request("POST", "/bridges", params=params))

    async def bridge_add_channel(
        self,
        bridge_id: str,
        channel_ids: str | Sequence[str],
        *,
        role: str | None = None,
        absorb_dtmf: bool | None = None,
        mute: bool | None = None,
        inhibit_connected_line_updates: bool | None = None,
    ) -> None:
        """Add channels to a bridge (they must be in Stasis).

        Raises:
            AriBadRequest: a channel does not exist, or none given. AriNotFound: no such bridge.
            AriConflict: bridge not in Stasis, or a channel is recording.
            AriUnprocessable: a channel is not in a Stasis application.

        Source: ``POST /bridges/{bridgeId}/addChannel``.
        """
        params: dict[str, _QueryValue] = {
            "channel": _csv(channel_ids),
            "role": role,
            "absorbDTMF": absorb_dtmf,
            "mute": mute,
            "inhibitConnectedLineUpdates": inhibit_connected_line_updates,
        }
        await self.request("POST", f"/bridges/{_segment(bridge_id)}/addChannel", params=params)

    async def bridge_remove_channel(self, bridge_id: str, channel_ids: str | Sequence[str]) -> None:
        """Remove channels from a bridge.

        Raises:
            AriBadRequest: a channel does not exist. AriNotFound: no such bridge.
            AriConflict: bridge not in Stasis. AriUnprocessable: a channel is not in this bridge.

        Source: ``POST /bridges/{bridgeId}/removeChannel``.
        """
        params: dict[str, _QueryValue] = {"channel": _csv(channel_ids)}
        await self.request("POST", f"/bridges/{_segment(bridge_id)}/removeChannel", params=params)

    async def bridge_destroy(self, bridge_id: str) -> bool:
        """Destroy a bridge (its channels stay up, leaving it). False when it was already gone (404).

        Source: ``DELETE /bridges/{bridgeId}``.
        """
        try:
            await self.request("DELETE", f"/bridges/{_segment(bridge_id)}")
        except AriNotFound:
            return False
        return True

    # ------------------------------------------------------------------------------------------ others

    async def asterisk_info(self) -> dict[str, Any]:
        """Asterisk's build/system/config/status info as ARI returns it (``AsteriskInfo`` shape).

        Source: ``GET /asterisk/info``.
        """
        body = await self.request("GET", "/asterisk/info")
        return dict(body)

    async def applications_get(self, app: str | None = None) -> Application:
        """A Stasis application's subscriptions (default ``self.app``).

        Raises:
            AriNotFound: the application is not registered (no events WebSocket connected for it).

        Source: ``GET /applications/{applicationName}``.
        """
        return from_json(Application, await self.request("GET", f"/applications/{_segment(app or self.app)}"))

    async def endpoints_list(self) -> list[Endpoint]:
        """All endpoints (e.g. every PJSIP endpoint, with its state and channel ids).

        Source: ``GET /endpoints``.
        """
        body = await self.request("GET", "/endpoints")
        return [from_json(Endpoint, item) for item in body]

    async def endpoint_get(self, tech: str, resource: str) -> Endpoint:
        """One endpoint, e.g. ``endpoint_get("PJSIP", "alice")``.

        Raises:
            AriBadRequest: invalid parameters. AriNotFound: no such endpoint.

        Source: ``GET /endpoints/{tech}/{resource}``.
        """
        return from_json(
            Endpoint, await self.request("GET", f"/endpoints/{_segment(tech)}/{_segment(resource)}")
        )

    async def playback_stop(self, playback_id: str) -> bool:
        """Stop a playback. False when it was already finished/gone (404).

        Source: ``DELETE /playbacks/{playbackId}``.
        """
        try:
            await self.request("DELETE", f"/playbacks/{_segment(playback_id)}")
        except AriNotFound:
            return False
        return True


def _error_message(body: bytes) -> str:
    """The ``message`` of ARI's ``{"message": "..."}`` error body, else the body text (truncated)."""
    try:
        decoded = jsonlib.loads(body)
    except ValueError:
        return body[:500].decode(errors="replace").strip()
    if isinstance(decoded, dict) and isinstance(decoded.get("message"), str):
        return str(decoded["message"])
    return body[:500].decode(errors="replace").strip()
