"""ARI events WebSocket that survives drops: reconnects forever, hooks on every (re)connection, no event lost.

Shape of one stream::

    reader task (owned)                       consumer (run(handler) or ``async for``)
    connect ─► put Connected(n) ─► read ─┐    Connected(n)    ─► await on_connected(n)
       ▲            put each event ◄─────┘    event ...       ─► handler(event) / yield event
       │  drop ─► put Disconnected(reason)    Disconnected(r) ─► await on_disconnected(r)
       └─ backoff (capped, jittered) ◄─┘

The reader always drains the socket into an unbounded queue, so a slow handler or a long ``on_connected``
(the engine reconciles its calls there) never stalls Asterisk's writes: Asterisk closes the socket when a
write blocks longer than ``ari.conf`` ``[general] websocket_write_timeout`` (default 100 ms).
The consumer sees one ordered sequence: all events of connection n, ``on_disconnected``, then
``on_connected(n + 1)`` completes before any event of connection n + 1 is delivered.

Drops: any error, a clean close by Asterisk (``ari shutdown websocket sessions``, module reload, shutdown),
or a missing PONG (aiohttp ``heartbeat``: a ping every ``heartbeat_s``, the connection is declared dead when
no PONG came within ``heartbeat_s / 2``).

Source: ``GET /events?app=<app>&subscribeAll=false`` (WebSocket, events.json).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random as random_module
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import aiohttp
from yarl import URL

from ._auth import basic_auth
from .models import ApplicationReplaced, Event, UnknownEvent, parse_event

__all__ = ["AriEventStream", "AriEventStreamStatistics"]

log = logging.getLogger(__name__)

#: How long closing our side waits for Asterisk's close frame (it answers in milliseconds when alive).
_WS_CLOSE_TIMEOUT_S = 1.0

EventHandler = Callable[[Event], Awaitable[None] | None]


@dataclass(frozen=True, slots=True)
class AriEventStreamStatistics:
    """A snapshot of an event stream.

    Attributes:
        connects: successful WebSocket handshakes so far (the n passed to ``on_connected``).
        reconnects: ``connects - 1`` once connected at least once.
        events_received: text messages read from the socket (each JSON object becomes exactly one event;
            anything else is logged and dropped).
        events_queued: received but not yet delivered to the consumer.
        last_error: why the last connection attempt failed or the last connection ended, or None.
        connected: whether a WebSocket is open right now.
    """

    connects: int
    reconnects: int
    events_received: int
    events_queued: int
    last_error: str | None
    connected: bool


@dataclass(frozen=True, slots=True)
class _Connected:
    count: int


@dataclass(frozen=True, slots=True)
class _Disconnected:
    reason: str


class _End:
    pass


_END = _End()
_QueueItem = Event | _Connected | _Disconnected | _End


class AriEventStream:
    """The events WebSocket of one Stasis application, reconnected for ever until ``close()``.

    Args:
        base_url: ARI root, ``http://host:port/ari`` (``https`` gives ``wss``).
        username, password: ``ari.conf`` user (HTTP basic auth on the upgrade request).
        app: Stasis application name to register.
        on_connected: awaited with the connection count (1, 2, ...) after every successful handshake, before
            any event of that connection is delivered. Exceptions are logged, delivery goes on.
        on_disconnected: called (awaited if it returns an awaitable) with a reason after each drop, after the
            last event of that connection. Exceptions are logged.
        session: shared ``aiohttp.ClientSession`` (not closed here); by default one is created and owned.
        heartbeat_s: WebSocket ping period in seconds; a PONG must come within half of it.
        connect_timeout_s: budget of one connection attempt (TCP + upgrade), seconds.
        initial_backoff_s, max_backoff_s: reconnect delay starts at ``initial_backoff_s`` and doubles per
            failed attempt up to ``max_backoff_s``; each delay is jittered to [50 %, 100 %]. A connection that
            lived at least ``max_backoff_s`` resets the delay.
        subscribe_all: ``subscribeAll`` query parameter (all Asterisk events instead of the app's).
        sleep, random: injectable ``asyncio.sleep`` and ``random.random`` for tests.

    Single consumer: either ``run(handler)`` or one ``async for event in stream``.
    """

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        app: str,
        on_connected: Callable[[int], Awaitable[None]] | None = None,
        on_disconnected: Callable[[str], Awaitable[None] | None] | None = None,
        session: aiohttp.ClientSession | None = None,
        heartbeat_s: float = 10.0,
        connect_timeout_s: float = 5.0,
        initial_backoff_s: float = 0.1,
        max_backoff_s: float = 5.0,
        subscribe_all: bool = False,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        random: Callable[[], float] = random_module.random,
    ) -> None:
        url = URL(base_url.rstrip("/") + "/events")
        scheme = {"http": "ws", "https": "wss"}.get(url.scheme, url.scheme)
        self.url = url.with_scheme(scheme).with_query(
            app=app, subscribeAll="true" if subscribe_all else "false"
        )
        self.app = app
        self.on_connected = on_connected
        self.on_disconnected = on_disconnected
        self.heartbeat_s = heartbeat_s
        self.connect_timeout_s = connect_timeout_s
        self.initial_backoff_s = initial_backoff_s
        self.max_backoff_s = max_backoff_s
        self._headers = {"Authorization": basic_auth(username, password)}
        self._session = session
        self._owns_session = session is None
        self._sleep = sleep
        self._random = random

        self._queue: asyncio.Queue[_QueueItem] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._connected = asyncio.Event()
        self._closing = False
        self._consuming = False
        self._connects = 0
        self._events_received = 0
        self._events_queued = 0
        self._last_error: str | None = None

    # ------------------------------------------------------------------------------------------ public

    def statistics(self) -> AriEventStreamStatistics:
        """A snapshot of counters and state (cannot block)."""
        return AriEventStreamStatistics(
            connects=self._connects,
            reconnects=max(self._connects - 1, 0),
            events_received=self._events_received,
            events_queued=self._events_queued,
            last_error=self._last_error,
            connected=self._connected.is_set(),
        )

    def start(self) -> None:
        """Start the owned reader task (idempotent; ``run``/``async for``/``async with`` call it)."""
        if self._closing:
            raise RuntimeError("AriEventStream is closed")
        if self._reader is None:
            self._reader = asyncio.create_task(self._read_forever(), name=f"ari-events[{self.app}]")

    async def wait_connected(self) -> None:
        """Wait until a WebSocket is open (returns at once when it is). Bound it with ``asyncio.timeout``."""
        self.start()
        await self._connected.wait()

    async def close(self) -> None:
        """Stop reading, close the socket (and the owned session), end ``run``/iteration after the events
        already received are delivered. Idempotent. Propagates an outside cancellation.
        """
        if self._closing:
            return
        self._closing = True
        reader, self._reader = self._reader, None
        try:
            if reader is not None:
                reader.cancel()
                try:
                    await reader
                except asyncio.CancelledError:
                    current = asyncio.current_task()
                    if current is not None and current.cancelling():
                        raise
        finally:
            self._queue.put_nowait(_END)
            if self._owns_session and self._session is not None:
                session, self._session = self._session, None
                await asyncio.shield(session.close())

    async def __aenter__(self) -> Self:
        self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def __aiter__(self) -> AsyncIterator[Event]:
        """Yield events in the order received, running the hooks in sequence.

        Ends after ``close()`` once every event received before it has been yielded (also when iteration
        starts only after ``close()``).
        """
        if self._consuming:
            raise RuntimeError("AriEventStream already has a consumer")
        self._consuming = True
        if not self._closing:
            self.start()
        try:
            while True:
                item = await self._queue.get()
                if isinstance(item, _End):
                    self._queue.put_nowait(item)  # a later consumer ends at once too
                    return
                if isinstance(item, _Connected):
                    await self._call_hook("on_connected", self.on_connected, item.count)
                elif isinstance(item, _Disconnected):
                    await self._call_hook("on_disconnected", self.on_disconnected, item.reason)
                else:
                    self._events_queued -= 1
                    yield item
        finally:
            self._consuming = False

    async def run(self, handler: EventHandler) -> None:
        """Deliver every event to ``handler`` (awaited if it returns an awaitable) until ``close()``.

        A handler exception is logged with the event type and delivery continues; cancellation of ``run``
        propagates (the reader keeps buffering until ``close()``).
        """
        async for event in self:
            try:
                result = handler(event)
                if result is not None:
                    await result
            except Exception:
                log.exception("ARI event handler failed on %s", event.type)

    # ------------------------------------------------------------------------------------------ reader

    async def _call_hook(
        self, name: str, hook: Callable[[Any], Awaitable[None] | None] | None, arg: Any
    ) -> None:
        if hook is None:
            return
        try:
            result = hook(arg)
            if result is not None:
                await result
        except Exception:
            log.exception("ARI events %s(%r) hook failed", name, arg)

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    def _backoff_s(self, attempt: int) -> float:
        """Delay before reconnect attempt ``attempt`` (0-based), seconds: capped doubling, jittered to
        [50 %, 100 %] of it."""
        capped = min(self.max_backoff_s, self.initial_backoff_s * 2.0**attempt)
        return capped * (0.5 + 0.5 * self._random())

    async def _read_forever(self) -> None:
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                async with asyncio.timeout(self.connect_timeout_s):
                    ws = await self._get_session().ws_connect(
                        self.url,
                        headers=self._headers,
                        heartbeat=self.heartbeat_s,
                        timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=_WS_CLOSE_TIMEOUT_S),
                        autoping=True,
                    )
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                self._last_error = f"connect failed: {exc.__class__.__name__}: {exc}"
                log.warning("ARI events %s: %s", self.app, self._last_error)
            except Exception as exc:  # anything else must not end the stream either
                self._last_error = f"connect failed: {exc.__class__.__name__}: {exc}"
                log.exception("ARI events %s: unexpected error connecting", self.app)
            else:
                reason = await self._read_connection(ws)
                self._last_error = reason
                self._queue.put_nowait(_Disconnected(reason))
                log.warning("ARI events %s: disconnected: %s", self.app, reason)
                if time.monotonic() - started >= self.max_backoff_s:
                    attempt = 0
            await self._sleep(self._backoff_s(attempt))
            attempt += 1

    async def _read_connection(self, ws: aiohttp.ClientWebSocketResponse) -> str:
        """Read one connection until it ends; return why it ended."""
        self._ws = ws
        self._connects += 1
        self._connected.set()
        self._queue.put_nowait(_Connected(self._connects))
        log.info("ARI events %s: connected (%d)", self.app, self._connects)
        reason = "closed"
        try:
            while True:
                msg = await ws.receive()
                if msg.type is aiohttp.WSMsgType.TEXT:
                    self._events_received += 1
                    self._enqueue(msg.data)
                elif msg.type is aiohttp.WSMsgType.ERROR:
                    reason = f"error: {msg.data.__class__.__name__}: {msg.data}"
                    break
                elif msg.type in (
                    aiohttp.WSMsgType.CLOSE,
                    aiohttp.WSMsgType.CLOSING,
                    aiohttp.WSMsgType.CLOSED,
                ):
                    reason = f"closed by server (code {ws.close_code})"
                    break
                else:
                    log.warning("ARI events %s: ignoring %s message", self.app, msg.type.name)
        except (aiohttp.ClientError, OSError) as exc:
            reason = f"error: {exc.__class__.__name__}: {exc}"
        except Exception as exc:  # a bug or an aiohttp surprise: treat as a drop, never end the stream
            log.exception("ARI events %s: unexpected error reading", self.app)
            reason = f"error: {exc.__class__.__name__}: {exc}"
        finally:
            self._connected.clear()
            self._ws = None
            # Bounded by _WS_CLOSE_TIMEOUT_S; returns at once when the connection is already dead.
            await ws.close()
        return reason

    def _enqueue(self, text: str) -> None:
        try:
            data = json.loads(text)
        except ValueError:
            log.error("ARI events %s: message is not JSON: %.200s", self.app, text)
            return
        if not isinstance(data, dict):
            log.error("ARI events %s: message is not a JSON object: %.200s", self.app, text)
            return
        event = parse_event(data)
        if isinstance(event, UnknownEvent) and event.error is not None:
            log.warning("ARI events %s: %s did not match its model: %s", self.app, event.type, event.error)
        elif isinstance(event, ApplicationReplaced):
            # Asterisk keeps this socket open but sends it nothing more; reconnecting would steal the app back
            # from the newer connection, so that is left to the application (it sees this event).
            log.warning("ARI events %s: another WebSocket took over the application", self.app)
        self._events_queued += 1
        self._queue.put_nowait(event)
