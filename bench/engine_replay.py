"""A recorded ARI event stream replayed through the engine's dispatch and call state machine, in process.

    python bench/engine_replay.py [--calls 4000] [--concurrency 200] [--repeat 3]

Input: ``bench/data/inbound_call_events.jsonl``, the raw text of every events-WebSocket message the engine
received for a few real calls through Asterisk 22 (recorded with ``python bench/engine_cps.py --record``:
inbound call -> DID route -> callee created and dialled -> answered -> bridged -> callee hangs up; 26 events a
call). The stream is cut into calls at each caller ``StasisStart``; ``--calls`` calls are synthesised by
rewriting the call's ids in the text (the engine's call id, which also names the callee channel and the
bridge, and the caller's channel id). The engine's ``uuid.uuid4`` is replaced by the planned call ids, so the
callee ids it derives match the rewritten events.

What runs: a real :class:`engine.runtime.Engine` -- its ``_handle`` (event -> call inbox, Prometheus metrics),
its :class:`~engine.dispatch.Dispatcher` and one ``CallActor`` task per call, the pure ``transition`` and the
real :class:`~engine.calls.executor.Executor` -- with no I/O behind the executor: an ARI stub whose requests
return at once and a store stub whose ``resolve`` answers the DID's route (so ``ResolveRoute`` yields
``RouteResolved`` exactly as with PostgreSQL) and whose ``persist``/``finish`` do nothing. ``--concurrency``
calls are in flight; each loop turn hands one event of each to the engine, then yields to the event loop so
the actors run (many events per loop turn, as when the WebSocket reader delivers a burst). Not included: the
socket read and the ``AriEventStream`` queue hop.

Reported, events/s on one core (single thread; CPU time / wall time is printed): the engine including
``json.loads`` + ``parse_event`` per message, the engine on pre-parsed events, and the baseline measured in
the same run: ``json.loads`` + ``parse_event`` alone over the same texts. Every replayed call must end
ANSWERED with its CDR handed to the store, and no warning may be logged, or the run fails.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import logging
import re
import sys
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.ari.models import Event, parse_event  # noqa: E402
from engine.calls.executor import Executor  # noqa: E402
from engine.calls.state import Call, Route  # noqa: E402
from engine.calls.store import TenantRoute  # noqa: E402
from engine.config import EngineConfig  # noqa: E402
from engine.dispatch import Dispatcher  # noqa: E402
from engine.runtime import Engine  # noqa: E402

RECORDING = ROOT / "bench" / "data" / "inbound_call_events.jsonl"
GOAL_EVENTS_PER_S = 20_000
SINK_TARGET = "Local/answer@bench-sink/n"
"""The DID's route target in the recording (``bench/engine_cps.py`` seeds it)."""
_CALLEE_RE = re.compile(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-callee")
T = TypeVar("T")


@dataclass(frozen=True)
class CallTemplate:
    """The recorded messages of one call and the ids to rewrite in them."""

    texts: tuple[str, ...]
    call_id: str
    caller_id: str

    def rewrite(self, call_id: str, caller_id: str) -> list[str]:
        caller = re.compile(rf"(?<![\d.]){re.escape(self.caller_id)}(?!\d)")
        return [caller.sub(caller_id, t.replace(self.call_id, call_id)) for t in self.texts]


def load_templates(path: Path) -> list[CallTemplate]:
    """Cut the recorded stream into calls, each starting at a caller's ``StasisStart``.

    Raises:
        ValueError: a call mentions a channel other than its caller and the callee the engine created.
    """
    calls: list[list[str]] = []
    for text in path.read_text(encoding="utf-8").splitlines():
        data = json.loads(text)
        if data["type"] == "StasisStart" and not data["channel"]["id"].endswith("-callee"):
            calls.append([])
        if calls:
            calls[-1].append(text)
    templates = []
    for texts in calls:
        caller_id = json.loads(texts[0])["channel"]["id"]
        match = _CALLEE_RE.search("\n".join(texts))
        if match is None:
            raise ValueError(f"call of caller {caller_id} has no callee channel")
        call_id = match.group(1)
        for text in texts:
            data = json.loads(text)
            for key in ("channel", "peer"):
                channel = data.get(key) or {}
                if channel.get("id") not in (None, caller_id, f"{call_id}-callee"):
                    raise ValueError(f"unexpected channel {channel['id']} in the call of {caller_id}")
        templates.append(CallTemplate(tuple(texts), call_id, caller_id))
    return templates


def synthesize(templates: list[CallTemplate], n: int) -> tuple[list[list[str]], list[str]]:
    """``n`` calls (texts per call) cycling through the templates, and their planned engine call ids."""
    call_ids = [f"00000000-0000-4000-8000-{k:012x}" for k in range(n)]
    calls = [templates[k % len(templates)].rewrite(call_ids[k], f"1700000000.{k}") for k in range(n)]
    return calls, call_ids


# ------------------------------------------------------------------------------------------ no-I/O peers


class NoIoAri:
    """ARI requests that succeed at once (the ``AriCalls`` protocol of the executor)."""

    async def channel_ring(self, channel_id: str) -> None:
        return None

    async def channel_answer(self, channel_id: str) -> None:
        return None

    async def channel_hangup(
        self, channel_id: str, *, reason: str | None = None, reason_code: int | None = None
    ) -> bool:
        return True

    async def channel_continue(self, channel_id: str, **_: Any) -> None:
        return None

    async def bridge_destroy(self, bridge_id: str) -> bool:
        return True

    async def request(
        self, method: str, path: str, *, params: dict[str, str] | None = None, json: object | None = None
    ) -> object:
        return None


class NoIoStore:
    """The DID's route as ``CallStore.resolve`` returns it for the recorded calls; writes are dropped."""

    def __init__(self) -> None:
        self._found = TenantRoute(1, "active", 1_000_000, Route("endpoint", SINK_TARGET, SINK_TARGET, 10))
        self.dispositions: collections.Counter[str] = collections.Counter()

    async def resolve(self, tenant_slug: str, dialled: str | None) -> TenantRoute:
        return self._found

    async def persist(self, call: Call) -> None:
        return None

    async def finish(self, call: Call) -> None:
        self.dispositions[call.disposition or "None"] += 1

    async def publish(self, event_type: str, call: Call, *, at: float) -> int:
        return 0  # event outbox rows (call.ringing / call.answered) are database writes: dropped here


def no_io_engine() -> tuple[Engine, NoIoStore]:
    """A real :class:`Engine` whose executor talks to :class:`NoIoAri` and :class:`NoIoStore`."""
    config = EngineConfig(
        ari_url="http://127.0.0.1:9", ari_user="none", ari_password="none", database_url="postgresql://none"
    )
    engine = Engine(config, cast(Any, None))  # the pool is only stored; the store below replaces its use
    store = NoIoStore()
    executor = Executor(
        NoIoAri(),
        cast(Any, store),
        app=config.app,
        counter=engine,
        on_first_command=engine._first_command,
        on_finished=engine._finished,
    )
    engine._executor = executor
    engine.dispatcher = Dispatcher(executor.perform, engine._clock, engine._on_change)
    return engine, store


# ------------------------------------------------------------------------------------------ runs


async def replay(
    engine: Engine, calls: list[list[T]], call_ids: list[str], concurrency: int, feed: Callable[[T], None]
) -> float:
    """Feed ``calls`` round-robin, ``concurrency`` at a time, until every call has ended; wall seconds."""
    planned = iter(call_ids)
    waiting = iter(calls)
    active: list[Iterator[T]] = []
    started = time.perf_counter()
    with mock.patch("engine.runtime.uuid", types.SimpleNamespace(uuid4=lambda: next(planned))):
        while True:
            while len(active) < concurrency:
                nxt = next(waiting, None)
                if nxt is None:
                    break
                active.append(iter(nxt))
            if not active:
                break
            still: list[Iterator[T]] = []
            for events in active:
                item = next(events, None)
                if item is not None:
                    feed(item)
                    still.append(events)
            active = still
            await asyncio.sleep(0)  # the actors take their inboxes
        await engine.dispatcher.wait_idle()
    return time.perf_counter() - started


@dataclass
class Result:
    name: str
    events: int
    wall_s: float
    cpu_s: float

    @property
    def rate(self) -> float:
        return self.events / self.wall_s


class WarningCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: collections.Counter[str] = collections.Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.seen[record.getMessage()[:160]] += 1


async def run_engine(
    name: str, calls: list[list[T]], call_ids: list[str], concurrency: int,
    feed_of: Callable[[Engine], Callable[[T], None]],
) -> Result:
    engine, store = no_io_engine()
    warnings = WarningCounter()
    logging.getLogger().addHandler(warnings)
    gc.collect()
    cpu0 = time.process_time()
    try:
        wall = await replay(engine, calls, call_ids, concurrency, feed_of(engine))
    finally:
        logging.getLogger().removeHandler(warnings)
    cpu = time.process_time() - cpu0
    if store.dispositions != {"ANSWERED": len(calls)} or warnings.seen:
        raise SystemExit(f"{name}: replay went wrong: CDRs {dict(store.dispositions)}, logged {dict(warnings.seen)}")
    return Result(name, sum(len(c) for c in calls), wall, cpu)


def run_parse_only(texts: list[str]) -> Result:
    gc.collect()
    cpu0, t0 = time.process_time(), time.perf_counter()
    for text in texts:
        parse_event(json.loads(text))
    return Result("baseline: json.loads + parse_event only", len(texts), time.perf_counter() - t0,
                  time.process_time() - cpu0)


async def main_async(args: argparse.Namespace) -> None:
    templates = load_templates(RECORDING)
    calls, call_ids = synthesize(templates, args.calls)
    parsed: list[list[Event]] = [[parse_event(json.loads(t)) for t in call] for call in calls]
    flat = [t for call in calls for t in call]
    print(f"python {sys.version.split()[0]}; {len(templates)} recorded calls, "
          f"{sum(len(t.texts) for t in templates) / len(templates):.0f} events each; replaying {args.calls} calls "
          f"({len(flat)} events), {args.concurrency} in flight, best of {args.repeat}")

    def with_parse(engine: Engine) -> Callable[[str], None]:
        handle = engine._handle
        return lambda text: handle(parse_event(json.loads(text)))

    def pre_parsed(engine: Engine) -> Callable[[Event], None]:
        return engine._handle

    best: dict[str, Result] = {}
    for _ in range(args.repeat):
        for result in (
            run_parse_only(flat),
            await run_engine("engine incl. json.loads + parse_event", calls, call_ids,
                             args.concurrency, with_parse),
            await run_engine("engine excl. parse (pre-parsed events)", parsed, call_ids,
                             args.concurrency, pre_parsed),
        ):
            if result.name not in best or result.rate > best[result.name].rate:
                best[result.name] = result
    base = next(r for name, r in best.items() if name.startswith("baseline"))
    print(f"{'':<42} {'events/s':>10} {'calls/s':>8} {'x baseline':>10} {'CPU/wall':>8}")
    per_call = len(flat) / args.calls
    for r in best.values():
        print(f"{r.name:<42} {r.rate:>10,.0f} {r.rate / per_call:>8,.0f} {r.rate / base.rate:>10.2f}"
              f" {r.cpu_s / r.wall_s:>8.2f}")
    incl = best["engine incl. json.loads + parse_event"].rate
    verdict = "PASS" if incl >= GOAL_EVENTS_PER_S else "FAIL"
    print(f"goal: >= {GOAL_EVENTS_PER_S:,} events/s on one core, parse included: {incl:,.0f} -> {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=4000, help="synthesised calls per run")
    parser.add_argument("--concurrency", type=int, default=200, help="calls in flight")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each variant; the best is reported")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
