"""Fixtures of the ARI tests: a throwaway Asterisk 22, a client, a recording event stream.

Without the debootstrap root the live tests skip, or FAIL when ``CI=true``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

import pytest

from engine.ari.client import AriClient
from engine.ari.events import AriEventStream
from engine.ari.models import Event
from tests.engine.ari import asterisk_instance
from tests.engine.ari.asterisk_instance import AsteriskInstance

E = TypeVar("E", bound=Event)


@pytest.fixture(scope="session")
def asterisk() -> Iterator[AsteriskInstance]:
    """A running Asterisk 22 on 127.0.0.1:28088 (ARI) / 25060 (SIP) for the whole session."""
    if not asterisk_instance.root_ready():
        reason = f"Asterisk root not ready: {asterisk_instance.READY_MARKER} missing"
        pytest.fail(reason)  # the test session provisions the root (tests/conftest.py); missing = failure
    instance = asterisk_instance.start()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture
async def ari(asterisk: AsteriskInstance) -> AsyncIterator[AriClient]:
    """A client; every channel and bridge left at the end of the test is removed."""
    client = AriClient(asterisk.base_url, asterisk.username, asterisk.password, app=asterisk.app)
    try:
        yield client
    finally:
        for channel in await client.channels_list():
            await client.channel_hangup(channel.id)
        for bridge in await client.bridges_list():
            await client.bridge_destroy(bridge.id)
        await client.close()


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class EventRecorder:
    """Consumes an ``AriEventStream`` and records events and hook calls, for assertions with deadlines."""

    stream: AriEventStream

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.connected: list[int] = []
        self.disconnected: list[str] = []
        self.log: list[str] = []  # "connected 1", "event StasisStart", "disconnected ..." in delivery order
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    async def on_connected(self, count: int) -> None:
        self.connected.append(count)
        self.log.append(f"connected {count}")
        await self._notify()

    async def on_disconnected(self, reason: str) -> None:
        self.disconnected.append(reason)
        self.log.append(f"disconnected {reason}")
        await self._notify()

    async def _handle(self, event: Event) -> None:
        self.events.append(event)
        self.log.append(f"event {event.type}")
        await self._notify()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def start(self) -> None:
        self._task = asyncio.create_task(self.stream.run(self._handle))

    async def stop(self) -> None:
        await self.stream.close()
        if self._task is not None:
            await self._task

    async def wait_until(self, predicate: Callable[[], bool], *, timeout_s: float = 5.0) -> None:
        """Wait until ``predicate()`` holds (checked after every delivery), at most ``timeout_s``."""
        async with asyncio.timeout(timeout_s), self._changed:
            await self._changed.wait_for(predicate)

    async def wait_for(
        self, cls: type[E], where: Callable[[E], bool] = lambda _: True, *, timeout_s: float = 5.0
    ) -> E:
        """The first recorded event of type ``cls`` matching ``where``, waiting up to ``timeout_s``."""

        def found() -> E | None:
            for event in self.events:
                if isinstance(event, cls) and where(event):
                    return event
            return None

        await self.wait_until(lambda: found() is not None, timeout_s=timeout_s)
        result = found()
        assert result is not None
        return result


def make_recorder(
    instance: AsteriskInstance,
    *,
    base_url: str | None = None,
    heartbeat_s: float = 10.0,
    connect_timeout_s: float = 5.0,
) -> EventRecorder:
    """An ``EventRecorder`` on a new stream for the test app (through ``base_url``, e.g. a fault proxy)."""
    recorder = EventRecorder()
    recorder.stream = AriEventStream(
        base_url or instance.base_url,
        instance.username,
        instance.password,
        app=instance.app,
        on_connected=recorder.on_connected,
        on_disconnected=recorder.on_disconnected,
        heartbeat_s=heartbeat_s,
        connect_timeout_s=connect_timeout_s,
    )
    return recorder


@pytest.fixture
async def events(asterisk: AsteriskInstance) -> AsyncIterator[EventRecorder]:
    """A connected event stream for the test app, recording everything."""
    recorder = make_recorder(asterisk)
    recorder.start()
    async with asyncio.timeout(5):
        await recorder.stream.wait_connected()
    try:
        yield recorder
    finally:
        await recorder.stop()
