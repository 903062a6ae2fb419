"""A CRM that receives event webhooks, in the test process: a real aiohttp server that verifies each request's
signature, records what arrived (``arrivals``, at receipt) and what it answered 2xx (``completed``), dedupes by
``Idempotency-Key`` the way a CRM should, and can be held (``hold_after``) or started late (connection refused
until then)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from engine.routing.crm_webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from engine.webhooks.events import EVENT_HEADER, IDEMPOTENCY_HEADER

PATH = "/events"


def free_port() -> int:
    """A TCP port nobody listens on now (connections to it are refused until a receiver binds it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Delivery:
    """One request: its headers' event and key, the parsed body, whether the signature verified."""

    key: str
    event_type: str
    payload: dict[str, Any]
    verified: bool
    body: bytes = b""
    timestamp: str = ""
    signature: str = ""

    @property
    def call_id(self) -> str:
        return str(self.payload["data"]["call_id"])


@dataclass
class EventReceiver:
    secret: str
    port: int = field(default_factory=free_port)
    delay_s: float = 0.0
    hold_after: int | None = None
    """Requests after this many arrivals wait for :attr:`release` before answering."""
    arrivals: list[Delivery] = field(default_factory=list)
    completed: list[Delivery] = field(default_factory=list)
    overlaps: list[str] = field(default_factory=list)
    """Keys that arrived while a request with the same key was still being answered."""
    release: asyncio.Event = field(default_factory=asyncio.Event)
    _in_flight: set[str] = field(default_factory=set)
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PATH}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post(PATH, self._handle)
        self._runner = web.AppRunner(app, handler_cancellation=True)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def deduped(self) -> dict[str, Delivery]:
        """What a CRM keeps: the first completed delivery of each key."""
        kept: dict[str, Delivery] = {}
        for d in self.completed:
            kept.setdefault(d.key, d)
        return kept

    def completed_counts(self) -> Counter[str]:
        return Counter(d.key for d in self.completed)

    def order_of(self, call_id: str) -> list[str]:
        """Event types of one call in the order they were first answered."""
        return [d.event_type for d in self.deduped().values() if d.call_id == call_id]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        timestamp = request.headers.get(TIMESTAMP_HEADER, "")
        signature = request.headers.get(SIGNATURE_HEADER, "")
        delivery = Delivery(
            key=request.headers.get(IDEMPOTENCY_HEADER, ""),
            event_type=request.headers.get(EVENT_HEADER, ""),
            payload=json.loads(body),
            verified=verify(self.secret, timestamp, body, signature),
            body=body,
            timestamp=timestamp,
            signature=signature,
        )
        verified = delivery.verified
        self.arrivals.append(delivery)
        if not verified:
            return web.json_response({"error": "bad signature"}, status=401)
        if delivery.key in self._in_flight:
            self.overlaps.append(delivery.key)
        self._in_flight.add(delivery.key)
        try:
            if self.hold_after is not None and len(self.arrivals) > self.hold_after:
                await self.release.wait()
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
        finally:
            self._in_flight.discard(delivery.key)
        self.completed.append(delivery)
        return web.json_response({"ok": True})
