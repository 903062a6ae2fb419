"""The floor for Python ARI handling: a raw-aiohttp client that answers and hangs up every call.

    python bench/reference_client.py --ari http://127.0.0.1:17088 --user U --password P [--app ref]

One events WebSocket (``GET /ari/events?app=ref``) and one keep-alive REST session. Every message is decoded
with ``json.loads``; on ``StasisStart`` a task sends ``POST /channels/{id}/answer`` then
``DELETE /channels/{id}``. Nothing else: no models, no state, no database. ``bench/engine_cps.py`` runs it as
a subprocess and compares the engine's CPU per call with this one's.

Measurement (kept apart from the handling above): prints ``{"ready": true}`` once the WebSocket is open; on
``SIGUSR1`` prints one JSON line with the counters and latencies since the previous ``SIGUSR1`` and resets
them. Latencies, seconds: ``handled_s`` from reading the ``StasisStart`` to
sending the answer request (the engine's ``ringline_engine_decision_latency_seconds`` measures the same
span), ``e2e`` pairs ``[sent at (POSIX s), StasisStart timestamp (Asterisk's, ms resolution)]``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import signal
import sys
import time
from typing import Any

import aiohttp


class Stats:
    """Counters and latency samples since the last :meth:`dump`."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.started = self.answered = self.completed = self.failed = self.events = self.requests = 0
        self.handled_s: list[float] = []
        self.e2e: list[tuple[float, str]] = []
        self.last_answer_at = 0.0

    def dump(self) -> None:
        print(json.dumps(vars(self)), flush=True)
        self.reset()


async def handle(
    http: aiohttp.ClientSession, base: str, event: dict[str, Any], received: float, stats: Stats
) -> None:
    """Answer and hang up the channel of one ``StasisStart`` read at ``received`` (monotonic s)."""
    path = f"{base}/channels/{event['channel']['id']}"
    stats.handled_s.append(time.monotonic() - received)
    stats.e2e.append((time.time(), event["timestamp"]))
    try:
        stats.requests += 1
        async with http.post(f"{path}/answer") as response:
            response.raise_for_status()
        stats.answered += 1
        stats.last_answer_at = time.time()
        stats.requests += 1
        async with http.delete(path) as response:
            response.raise_for_status()
        stats.completed += 1
    except aiohttp.ClientError as exc:
        stats.failed += 1
        print(f"reference: {event['channel']['id']}: {exc}", file=sys.stderr)


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
        asyncio.TaskGroup() as calls,
    ):
        print(json.dumps({"ready": True}), flush=True)
        async for msg in ws:
            event = json.loads(msg.data)
            stats.events += 1
            if event["type"] == "StasisStart":
                stats.started += 1
                calls.create_task(handle(http, base, event, time.monotonic(), stats))
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
