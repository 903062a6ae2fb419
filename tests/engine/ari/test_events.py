"""AriEventStream against a fake ARI events WebSocket (and the fault proxy): order, hooks, drops, backoff."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSCloseCode, web

from engine.ari._auth import basic_auth
from engine.ari.events import AriEventStream
from engine.ari.models import ChannelVarset, Event, UnknownEvent
from tests.faults import FaultProxy

FIXTURES = Path(__file__).parent / "fixtures" / "events"


def numbered(n: int) -> dict[str, Any]:
    return {"type": "TestNumbered", "application": "app", "timestamp": "t", "n": n}


def number_of(event: Event) -> int:
    assert isinstance(event, UnknownEvent)
    n: int = event.raw["n"]
    return n


class FakeEventsServer:
    """ARI's ``/ari/events`` upgrade: checks auth and query, then lets the test push messages or close."""

    def __init__(self) -> None:
        self.sockets: list[web.WebSocketResponse] = []
        self.queries: list[dict[str, str]] = []
        self.new_socket = asyncio.Event()
        self.url = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != basic_auth("u", "p"):
            return web.Response(status=401)
        self.queries.append(dict(request.query))
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        self.new_socket.set()
        async for _ in ws:  # keep open until the client or the test closes it
            pass
        return ws

    async def wait_sockets(self, count: int) -> web.WebSocketResponse:
        async with asyncio.timeout(5):
            while len(self.sockets) < count:
                self.new_socket.clear()
                await self.new_socket.wait()
        return self.sockets[count - 1]

    async def send(self, *messages: dict[str, Any] | str) -> None:
        ws = self.sockets[-1]
        for message in messages:
            await ws.send_str(message if isinstance(message, str) else json.dumps(message))


@pytest.fixture
async def server() -> AsyncIterator[FakeEventsServer]:
    fake = FakeEventsServer()
    app = web.Application()
    app.router.add_get("/ari/events", fake.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.url = f"http://127.0.0.1:{runner.addresses[0][1]}/ari"
    try:
        yield fake
    finally:
        for ws in fake.sockets:
            await ws.close()
        await runner.cleanup()


class Recorder:
    def __init__(self) -> None:
        self.log: list[str] = []
        self.events: list[Event] = []
        self.changed = asyncio.Event()

    async def on_connected(self, count: int) -> None:
        self.log.append(f"connected {count}")
        self.changed.set()

    def on_disconnected(self, reason: str) -> None:
        self.log.append(f"disconnected {reason}")
        self.changed.set()

    async def handle(self, event: Event) -> None:
        self.events.append(event)
        self.log.append(
            f"event {number_of(event)}" if isinstance(event, UnknownEvent) else f"event {event.type}"
        )
        self.changed.set()

    async def wait_until(self, predicate: Callable[[], bool], timeout_s: float = 5.0) -> None:
        async with asyncio.timeout(timeout_s):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()


class Delays:
    """Injected sleep: records the requested delays, sleeps a token amount."""

    def __init__(self) -> None:
        self.requested: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.requested.append(seconds)
        await asyncio.sleep(0.001)


def make_stream(url: str, recorder: Recorder, **kwargs: Any) -> AriEventStream:
    return AriEventStream(
        url,
        "u",
        "p",
        app="app",
        on_connected=recorder.on_connected,
        on_disconnected=recorder.on_disconnected,
        **kwargs,
    )


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


async def poll_until(predicate: Callable[[], bool], *, timeout_s: float = 5.0) -> None:
    """Poll ``predicate`` every 5 ms until it holds; TimeoutError after ``timeout_s``."""
    async with asyncio.timeout(timeout_s):
        while True:
            if predicate():
                return
            await asyncio.sleep(0.005)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# ---------------------------------------------------------------------------------------------- delivery


async def test_url_query_and_auth(server: FakeEventsServer, recorder: Recorder) -> None:
    stream = make_stream(server.url, recorder)
    assert str(stream.url) == server.url.replace("http://", "ws://") + "/events?app=app&subscribeAll=false"
    assert make_stream("https://pbx:8089/ari/", recorder).url.scheme == "wss"
    async with stream:
        await server.wait_sockets(1)
    assert server.queries == [{"app": "app", "subscribeAll": "false"}]


async def test_on_connected_then_events_in_order(server: FakeEventsServer, recorder: Recorder) -> None:
    async with make_stream(server.url, recorder) as stream:
        running = asyncio.create_task(stream.run(recorder.handle))
        await server.wait_sockets(1)
        await server.send(*(numbered(i) for i in range(50)))
        await recorder.wait_until(lambda: len(recorder.events) == 50)
        real = json.loads((FIXTURES / "ChannelVarset.json").read_text())[0]
        await server.send(real)
        await recorder.wait_until(lambda: len(recorder.events) == 51)
    await running
    assert recorder.log == ["connected 1", *(f"event {i}" for i in range(50)), "event ChannelVarset"]
    assert isinstance(recorder.events[-1], ChannelVarset)
    stats = stream.statistics()
    assert (stats.connects, stats.reconnects, stats.events_received, stats.events_queued) == (1, 0, 51, 0)


async def test_clean_close_by_server_reconnects_with_hooks_in_order(
    server: FakeEventsServer, recorder: Recorder
) -> None:
    delays = Delays()
    async with make_stream(server.url, recorder, sleep=delays, random=lambda: 1.0) as stream:
        running = asyncio.create_task(stream.run(recorder.handle))
        first = await server.wait_sockets(1)
        await server.send(numbered(1), numbered(2))
        await recorder.wait_until(lambda: len(recorder.events) == 2)
        await first.close(code=WSCloseCode.OK)
        await server.wait_sockets(2)
        await server.send(numbered(3))
        await recorder.wait_until(lambda: len(recorder.events) == 3)
        stats = stream.statistics()
    await running
    assert recorder.log == [
        "connected 1",
        "event 1",
        "event 2",
        "disconnected closed by server (code 1000)",
        "connected 2",
        "event 3",
    ]
    assert delays.requested == [0.1]
    assert (stats.connects, stats.reconnects, stats.connected) == (2, 1, True)
    assert stats.last_error == "closed by server (code 1000)"


async def test_on_connected_completes_before_events_while_reading_goes_on(
    server: FakeEventsServer, recorder: Recorder
) -> None:
    release = asyncio.Event()

    async def slow_reconcile(count: int) -> None:
        recorder.log.append(f"reconciling {count}")
        await release.wait()
        recorder.log.append(f"reconciled {count}")

    stream = AriEventStream(server.url, "u", "p", app="app", on_connected=slow_reconcile)
    async with stream:
        running = asyncio.create_task(stream.run(recorder.handle))
        await server.wait_sockets(1)
        await server.send(numbered(1), numbered(2))
        await poll_until(lambda: stream.statistics().events_received >= 2)
        assert stream.statistics().events_queued == 2  # read off the socket while the hook still runs
        assert recorder.events == []
        release.set()
        await recorder.wait_until(lambda: len(recorder.events) == 2)
    await running
    assert recorder.log == ["reconciling 1", "reconciled 1", "event 1", "event 2"]


async def test_handler_errors_are_logged_with_the_event_type_and_delivery_goes_on(
    server: FakeEventsServer, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    async def fragile(event: Event) -> None:
        if number_of(event) == 1:
            raise RuntimeError("boom")
        await recorder.handle(event)

    async with make_stream(server.url, recorder) as stream:
        running = asyncio.create_task(stream.run(fragile))
        await server.wait_sockets(1)
        with caplog.at_level(logging.ERROR, logger="engine.ari.events"):
            await server.send(numbered(1), numbered(2))
            await recorder.wait_until(lambda: len(recorder.events) == 1)
    await running
    assert number_of(recorder.events[0]) == 2
    assert "ARI event handler failed on TestNumbered" in caplog.text
    assert "boom" in caplog.text


async def test_hook_errors_are_logged_and_delivery_goes_on(
    server: FakeEventsServer, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(count: int) -> None:
        raise RuntimeError("reconcile failed")

    stream = AriEventStream(server.url, "u", "p", app="app", on_connected=broken)
    with caplog.at_level(logging.ERROR, logger="engine.ari.events"):
        async with stream:
            running = asyncio.create_task(stream.run(recorder.handle))
            await server.wait_sockets(1)
            await server.send(numbered(1))
            await recorder.wait_until(lambda: len(recorder.events) == 1)
        await running
    assert "on_connected(1) hook failed" in caplog.text


async def test_sync_handler_and_async_iteration(server: FakeEventsServer) -> None:
    seen: list[int] = []
    stream = AriEventStream(server.url, "u", "p", app="app")
    async with stream:
        running = asyncio.create_task(stream.run(lambda event: seen.append(number_of(event))))
        await server.wait_sockets(1)
        await server.send(numbered(1), numbered(2))
        await poll_until(lambda: len(seen) >= 2)
        with pytest.raises(RuntimeError, match="consumer"):
            async for _ in stream:
                pass
    await running
    assert seen == [1, 2]

    iterated: list[int] = []
    async with AriEventStream(server.url, "u", "p", app="app") as second:
        await server.wait_sockets(2)
        await server.send(numbered(7))
        async for event in second:
            iterated.append(number_of(event))
            break
    assert iterated == [7]


async def test_unknown_types_are_delivered_and_non_json_is_logged(
    server: FakeEventsServer, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    async with make_stream(server.url, recorder) as stream:
        running = asyncio.create_task(stream.run(recorder.handle))
        await server.wait_sockets(1)
        with caplog.at_level(logging.WARNING, logger="engine.ari.events"):
            await server.send(
                "not json", "[1, 2]", {"type": "ChannelVarset", "application": "a"}, numbered(1)
            )
            await recorder.wait_until(lambda: len(recorder.events) == 2)
    await running
    broken, unknown = recorder.events
    assert isinstance(broken, UnknownEvent) and broken.type == "ChannelVarset" and broken.error
    assert isinstance(unknown, UnknownEvent) and unknown.error is None
    assert "message is not JSON" in caplog.text
    assert "not a JSON object" in caplog.text
    assert "ChannelVarset did not match its model" in caplog.text
    assert stream.statistics().events_received == 4


async def test_application_replaced_is_delivered_and_logged(
    server: FakeEventsServer, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    replaced = json.loads((FIXTURES / "ApplicationReplaced.json").read_text())[0]
    async with make_stream(server.url, recorder) as stream:
        running = asyncio.create_task(stream.run(recorder.handle))
        await server.wait_sockets(1)
        with caplog.at_level(logging.WARNING, logger="engine.ari.events"):
            await server.send(replaced)
            await recorder.wait_until(lambda: len(recorder.events) == 1)
    await running
    assert recorder.events[0].type == "ApplicationReplaced"
    assert "another WebSocket took over" in caplog.text


# ---------------------------------------------------------------------------------------------- drops


async def test_backoff_doubles_from_initial_caps_and_jitters(recorder: Recorder) -> None:
    delays = Delays()
    url = f"http://127.0.0.1:{free_port()}/ari"
    stream = make_stream(
        url, recorder, sleep=delays, random=lambda: 0.0, initial_backoff_s=0.1, max_backoff_s=1.0
    )
    stream.start()
    await poll_until(lambda: len(delays.requested) >= 7)
    await stream.close()
    # random() == 0 -> 50 % of the capped delay
    assert delays.requested[:7] == pytest.approx([0.05, 0.1, 0.2, 0.4, 0.5, 0.5, 0.5])
    stats = stream.statistics()
    assert stats.connects == 0 and not stats.connected
    assert stats.last_error is not None and stats.last_error.startswith("connect failed")


async def test_fault_proxy_cut_reconnects(server: FakeEventsServer, recorder: Recorder) -> None:
    port = int(server.url.split(":")[2].split("/")[0])
    proxy = FaultProxy("127.0.0.1", port)
    proxy_port = await proxy.start()
    try:
        async with make_stream(f"http://127.0.0.1:{proxy_port}/ari", recorder) as stream:
            running = asyncio.create_task(stream.run(recorder.handle))
            await server.wait_sockets(1)
            await server.send(numbered(1))
            await recorder.wait_until(lambda: len(recorder.events) == 1)
            await proxy.cut_all()
            await server.wait_sockets(2)
            await server.send(numbered(2))
            await recorder.wait_until(lambda: len(recorder.events) == 2)
        await running
    finally:
        await proxy.stop()
    assert recorder.log[0:2] == ["connected 1", "event 1"]
    assert recorder.log[2].startswith("disconnected ")
    assert recorder.log[3:] == ["connected 2", "event 2"]


async def test_heartbeat_detects_a_silently_dead_connection(
    server: FakeEventsServer, recorder: Recorder
) -> None:
    port = int(server.url.split(":")[2].split("/")[0])
    proxy = FaultProxy("127.0.0.1", port)
    proxy_port = await proxy.start()
    try:
        stream = make_stream(
            f"http://127.0.0.1:{proxy_port}/ari", recorder, heartbeat_s=0.2, connect_timeout_s=0.3
        )
        async with stream:
            running = asyncio.create_task(stream.run(recorder.handle))
            await stream.wait_connected()  # the 101 went through the proxy
            proxy.pause()
            loop = asyncio.get_running_loop()
            paused_at = loop.time()
            await recorder.wait_until(lambda: any(e.startswith("disconnected") for e in recorder.log))
            detected_after = loop.time() - paused_at
            assert not stream.statistics().connected
            await asyncio.sleep(0.5)  # attempts during the pause time out at connect_timeout_s
            assert stream.statistics().connects == 1
            proxy.resume()
            await recorder.wait_until(lambda: "connected 2" in recorder.log)
        await running
    finally:
        await proxy.stop()
    assert detected_after < 0.2 + 0.1 + 0.3  # one ping period + pong wait (heartbeat/2) + slack
    assert "PONG" in recorder.log[1]


async def test_close_delivers_what_was_received_then_ends_run(
    server: FakeEventsServer, recorder: Recorder
) -> None:
    stream = make_stream(server.url, recorder)
    stream.start()
    await server.wait_sockets(1)
    await server.send(*(numbered(i) for i in range(5)))
    await poll_until(lambda: stream.statistics().events_received >= 5)
    await stream.close()
    await stream.close()  # idempotent
    async with asyncio.timeout(5):
        await stream.run(recorder.handle)  # the consumer starts late: still gets every received event
    assert [number_of(e) for e in recorder.events] == [0, 1, 2, 3, 4]
    with pytest.raises(RuntimeError, match="closed"):
        stream.start()


async def test_outside_cancellation_of_run_propagates(server: FakeEventsServer, recorder: Recorder) -> None:
    async with make_stream(server.url, recorder) as stream:
        running = asyncio.create_task(stream.run(recorder.handle))
        await server.wait_sockets(1)
        await asyncio.sleep(0.01)
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        assert stream.statistics().connected


async def test_cancelling_close_propagates(server: FakeEventsServer, recorder: Recorder) -> None:
    stream = make_stream(server.url, recorder)
    stream.start()
    await server.wait_sockets(1)
    closing = asyncio.create_task(stream.close())
    await asyncio.sleep(0)  # close() is now awaiting the cancelled reader
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing


async def test_wait_connected(server: FakeEventsServer, recorder: Recorder) -> None:
    async with make_stream(server.url, recorder) as stream:
        async with asyncio.timeout(5):
            await stream.wait_connected()
        assert stream.statistics().connected
