"""The floor for Python ARI handling: a raw-aiohttp client with no models, no state machine, no database.

    python bench/reference_client.py --ari http://127.0.0.1:17088 --user U --password P [--app ref]

One events WebSocket (``GET /ari/events?app=ref``) and one keep-alive REST session; every message is decoded
with ``json.loads``. Two flows, chosen by the ``StasisStart`` args:

* no args (``Stasis(ref)``): ``POST /channels/{id}/answer``, then ``DELETE /channels/{id}`` -- the floor the
  benchmark's goal is stated against (2 requests and 4 events a call);
* ``bridge`` (``Stasis(ref,bridge)``): the engine's inbound call, same ARI requests in the same order, but
  with the route fixed and nothing stored -- ring, ``/channels/create`` the callee ``<caller id>-callee``
  (:data:`SINK`), ``/dial`` it on its ``StasisStart``, answer + mixing bridge + ``addChannel`` on
  ``Dial ANSWER``, and on the callee's ``ChannelHangupRequest`` hang the caller up and destroy the bridge
  (8 requests and 26 events a call).

``bench/engine_cps.py`` runs it as a subprocess and compares the engine's CPU per call with this one's.
Measurement: prints ``{"ready": true}`` once the WebSocket is open; on ``SIGUSR1`` prints one JSON line with
the counters and latencies since the previous ``SIGUSR1`` and resets them. Latencies, seconds: ``handled_s``
from reading the ``StasisStart`` to sending the first request (answer, or ring), the span of the engine's
``ringline_engine_decision_latency_seconds``; ``e2e`` pairs ``[sent at (POSIX s), StasisStart timestamp]``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import signal
import sys
import time
from collections.abc import Awaitable
from typing import Any

import aiohttp

SINK = "Local/answer@bench-sink/n"
"""What the bridge flow dials (the route target ``bench/engine_cps.py`` gives the engine's DID)."""


class Stats:
    """Counters and latency samples since the last :meth:`dump`."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.started = self.answered = self.completed = self.failed = self.events = self.requests = 0
        self.handled_s: list[float] = []
        self.e2e: list[tuple[float, str]] = []
        self.last_answer_at = 0.0

    def first_request(self, event: dict[str, Any], received: float) -> None:
        self.handled_s.append(time.monotonic() - received)
        self.e2e.append((time.time(), event["timestamp"]))

    def dump(self) -> None:
        print(json.dumps(vars(self)), flush=True)
        self.reset()


class Client:
    """The handlers of both flows over one REST session."""

    def __init__(self, http: aiohttp.ClientSession, base: str, app: str, stats: Stats) -> None:
        self.http, self.base, self.app, self.stats = http, base, app, stats
        self.bridging: dict[str, asyncio.Task[None]] = {}  # caller id -> its answer + bridge task

    async def call(self, method: str, path: str, **params: str) -> None:
        """One request; for a DELETE, 404 (already gone) is success, as for the engine's ``AriClient``."""
        self.stats.requests += 1
        async with self.http.request(method, self.base + path, params=params) as response:
            if not (method == "DELETE" and response.status == 404):
                response.raise_for_status()

    async def answer_and_hang_up(self, event: dict[str, Any], received: float) -> None:
        channel = event["channel"]["id"]
        self.stats.first_request(event, received)
        await self.call("POST", f"/channels/{channel}/answer")
        self.stats.answered += 1
        self.stats.last_answer_at = time.time()
        await self.call("DELETE", f"/channels/{channel}")
        self.stats.completed += 1

    async def ring_and_create(self, event: dict[str, Any], received: float) -> None:
        caller = event["channel"]["id"]
        self.stats.first_request(event, received)
        await self.call("POST", f"/channels/{caller}/ring")
        await self.call(
            "POST", "/channels/create", endpoint=SINK, app=self.app, channelId=f"{caller}-callee", originator=caller
        )

    async def answer_and_bridge(self, caller: str, callee: str) -> None:
        await self.call("POST", f"/channels/{caller}/answer")
        self.stats.answered += 1
        self.stats.last_answer_at = time.time()
        await self.call("POST", f"/bridges/{caller}-bridge", type="mixing")
        await self.call("POST", f"/bridges/{caller}-bridge/addChannel", channel=f"{caller},{callee}")

    async def tear_down(self, caller: str) -> None:
        bridging = self.bridging.pop(caller, None)
        if bridging is not None:
            await bridging
        await self.call("DELETE", f"/channels/{caller}")
        await self.call("DELETE", f"/bridges/{caller}-bridge")
        self.stats.completed += 1

    def on_event(self, event: dict[str, Any], received: float, tasks: asyncio.TaskGroup) -> None:
        kind, channel = event["type"], (event.get("channel") or event.get("peer") or {}).get("id", "")
        if kind == "StasisStart" and not channel.endswith("-callee"):
            self.stats.started += 1
            flow = self.ring_and_create if event["args"] == ["bridge"] else self.answer_and_hang_up
            tasks.create_task(self.guard(flow(event, received)))
        elif kind == "StasisStart":
            caller = channel.removesuffix("-callee")
            dial = self.call("POST", f"/channels/{channel}/dial", caller=caller, timeout="10")
            tasks.create_task(self.guard(dial))
        elif kind == "Dial" and event.get("dialstatus") == "ANSWER":
            caller = channel.removesuffix("-callee")
            self.bridging[caller] = tasks.create_task(self.guard(self.answer_and_bridge(caller, channel)))
        elif kind == "ChannelHangupRequest" and channel.endswith("-callee"):
            tasks.create_task(self.guard(self.tear_down(channel.removesuffix("-callee"))))

    async def guard(self, step: Awaitable[None]) -> None:
        try:
            await step
        except aiohttp.ClientError as exc:
            self.stats.failed += 1
            print(f"reference: {exc}", file=sys.stderr)


async def run(ari: str, user: str, password: str, app: str) -> None:
    """Serve ``app`` until the process is terminated (SIGTERM's default action: nothing to clean up here)."""
    base = ari.rstrip("/") + "/ari"
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    stats = Stats()
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, stats.dump)
    connector = aiohttp.TCPConnector(limit=32)  # the engine's AriClient pool size
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Basic {token}"}, connector=connector) as http,
        http.ws_connect(base.replace("http", "ws", 1) + f"/events?app={app}") as ws,
        asyncio.TaskGroup() as tasks,
    ):
        client = Client(http, base, app, stats)
        print(json.dumps({"ready": True}), flush=True)
        async for msg in ws:
            stats.events += 1
            client.on_event(json.loads(msg.data), time.monotonic(), tasks)
    raise SystemExit(f"reference: events WebSocket ended ({ws.close_code})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--ari", required=True, help="ARI HTTP base, e.g. http://127.0.0.1:17088")
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--app", default="ref")
    args = parser.parse_args()
    asyncio.run(run(args.ari, args.user, args.password, args.app))


if __name__ == "__main__":
    main()
