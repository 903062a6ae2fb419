"""Calls/s through a real Asterisk 22 into the engine's routing, next to a raw-aiohttp reference client.

    python bench/engine_cps.py                   # 25 50 100 150 200 250 calls/s, 10 s per step (~3.7 min)
    python bench/engine_cps.py --quick           # 25 and 100 calls/s, 5 s per step (< 1 min)
    python bench/engine_cps.py --rates 50,100 --step-s 15 --hold-s 0.5
    python bench/engine_cps.py --record          # rewrite bench/data/inbound_call_events.jsonl (3 calls)

Set-up (torn down at the end): a database ``ringline_bench_<random>`` on the PostgreSQL at ``--pg``, migrated
with ``ara_schema.migrate.upgrade`` and seeded with tenant ``bench`` and DID ``+1555999000`` routed
(``endpoint``) to ``Local/answer@bench-sink/n``; an Asterisk instance ``bench`` from the shared debootstrap
root (SIP 17060, ARI 17088, RTP 23000-23999) whose ``extensions.conf`` gets :data:`BENCH_DIALPLAN` appended
after rendering. Three processes are measured, each from ``/proc/<pid>/stat`` (utime + stime):

* the engine: this file re-run as ``engine_cps.py _engine`` -- ``engine.runtime.Engine`` exactly as
  ``python -m engine`` runs it (same env variables, default pool), subclassed only to keep latency samples,
  count REST requests and print both on ``SIGUSR1``;
* ``bench/reference_client.py``: the floor for Python ARI handling, in two flows (system ``reference``:
  answer and hang up, the flow the CPU goal is stated against; system ``ref-bridge``: the engine's ARI
  requests for the same call -- ring, create, dial, answer, bridge, tear down -- with no database);
* Asterisk (the ``AsteriskProcess`` pid), and the PostgreSQL backends connected to the bench database.

The load generator (this process) originates over ARI REST, open loop at the offered rate::

    POST /channels endpoint=Local/+1555999000@ringline-bench/n context=bench-orig extension=s
      ;1 -> [bench-orig] Wait(30): parked until the other half hangs up
      ;2 -> [ringline-bench] Stasis(ringline,bench) -> engine: StasisStart -> DID lookup (PostgreSQL) -> ring
            -> /channels/create Local/answer@bench-sink/n -> its StasisStart -> /dial -> Dial ANSWER
            -> answer + bridge; [bench-sink] hangs up after --hold-s -> teardown -> CDR + call_legs
    reference:  Local/1555999000@ref-in/n,        ;2 -> [ref-in] Stasis(ref) -> answer -> DELETE
    ref-bridge: Local/1555999000@ref-bridge-in/n, ;2 -> [ref-bridge-in] Stasis(ref,bridge) -> as the engine

Per step (one system, one rate): ``offered`` is the rate the generator achieved; ``sustained`` is answered
calls / max(step length, last answer - first originate); ``failed`` counts originate errors plus, for the
engine, calls whose CDR is not ANSWERED or missing, and for the reference, calls not answered and hung up.
CPU is counted from the first originate until Asterisk has no channel left (and, for the engine, every CDR
is written); ``sys %`` is the kernel's share of it (stime / (utime + stime)). Latency, milliseconds:
``decision`` is the span of the engine's histogram ``ringline_engine_decision_latency_seconds`` (from handling
the caller's ``StasisStart`` to issuing the first ARI command, which includes the DID lookup), taken as exact
samples from the same two clock reads; ``hist p99`` is the upper bound of the histogram bucket holding the
p99, read from the histogram itself; ``e2e`` runs from the ``StasisStart`` timestamp Asterisk wrote (ms
resolution, same host clock) to that first command, so it also covers the WebSocket and the engine's event
queue. The reference's are taken at the same points (StasisStart read -> first request sent).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import datetime as dt
import json
import logging
import os
import re
import secrets
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ara_schema import migrate, provisioning  # noqa: E402
from ara_schema.pool import create_pool  # noqa: E402
from dialplan.asterisk.config import AsteriskInstance  # noqa: E402
from dialplan.asterisk.paths import asterisk_root  # noqa: E402
from dialplan.asterisk.process import AsteriskProcess  # noqa: E402
from dialplan.asterisk.render import render_instance  # noqa: E402
from engine import metrics  # noqa: E402
from engine.ari.client import AriClient  # noqa: E402
from engine.ari.errors import AriError  # noqa: E402
from engine.ari.events import AriEventStream  # noqa: E402
from engine.ari.models import Channel, StasisStart  # noqa: E402
from engine.config import EngineConfig  # noqa: E402
from engine.runtime import Engine  # noqa: E402
from ringline.stack import db_parts  # noqa: E402

TENANT = "bench"
DID = "+1555999000"
SIP_PORT, ARI_PORT, RTP_START, RTP_END = 17060, 17088, 23000, 23999
ENGINE_ENDPOINT = f"Local/{DID}@ringline-{TENANT}/n"
SYSTEMS = {
    "engine": ENGINE_ENDPOINT,
    "ref-bridge": f"Local/{DID.lstrip('+')}@ref-bridge-in/n",
    "reference": f"Local/{DID.lstrip('+')}@ref-in/n",
}
"""Where the generator originates for each system (all park their first half in ``[bench-orig]``)."""
SINK_TARGET = "Local/answer@bench-sink/n"
RECORDING = ROOT / "bench" / "data" / "inbound_call_events.jsonl"
GOAL_CPS, GOAL_CPU_RATIO, GOAL_P99_MS = 200, 2.0, 10.0

BENCH_DIALPLAN = """
; --- appended by bench/engine_cps.py ---
[bench-orig]
exten => s,1,Wait(30)
 same => n,Hangup()

[bench-sink]
exten => answer,1,Answer()
 same => n,Wait({hold_s})
 same => n,Hangup()

[ref-in]
exten => _X.,1,Stasis(ref)
 same => n,Hangup()

[ref-bridge-in]
exten => _X.,1,Stasis(ref,bridge)
 same => n,Hangup()
"""
"""Contexts the engine's route target and the generator's originates land in (``hold_s`` in seconds)."""

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> tuple[float, float]:
    """(utime, stime) of process ``pid`` (all its threads), seconds; zeros when it is gone.

    Source: proc(5), ``/proc/<pid>/stat`` fields 14 and 15, in clock ticks.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0, 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK


def machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot; busy excludes idle and iowait.

    Source: proc(5), ``/proc/stat`` line ``cpu``: user nice system idle iowait irq softirq steal ...
    """
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return sum(values) - values[3] - values[4], sum(values)


def quantile(values: Sequence[float], q: float) -> float:
    """Nearest-rank quantile (``q`` in 0..1) of ``values``; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def e2e_ms(pairs: Sequence[Sequence[Any]]) -> list[float]:
    """``[sent at (POSIX s), Asterisk's StasisStart timestamp]`` pairs -> latencies in ms."""
    out = []
    for sent, stamp in pairs:
        asterisk_at = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
        out.append((sent - asterisk_at) * 1000)
    return out


# ------------------------------------------------------------------------------------------ the engine child


class BenchEngine(Engine):
    """The engine's code paths unchanged; three hooks extended to keep latency samples (taken at the points its
    histogram already uses) and ``AriClient.request`` wrapped to count REST requests."""

    def __init__(self, config: EngineConfig, pool: asyncpg.Pool) -> None:
        super().__init__(config, pool)
        self._pending_stamp: str | None = None
        self._stamp_by_call: dict[str, str] = {}
        self.decision_s: list[float] = []
        self.e2e: list[tuple[float, str]] = []
        self.requests = 0
        request = self.ari.request  # every AriClient helper goes through it

        async def counted(
            method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None
        ) -> Any:
            self.requests += 1
            return await request(method, path, params=params, json=json)

        self.ari.request = counted  # type: ignore[method-assign]

    def _on_stasis_start(self, event: StasisStart) -> None:
        self._pending_stamp = event.timestamp
        try:
            super()._on_stasis_start(event)
        finally:
            self._pending_stamp = None

    def start_caller(self, channel: Channel, args: list[str]) -> None:
        super().start_caller(channel, args)
        call_id = self.dispatcher.call_for_channel(channel.id)
        if self._pending_stamp is not None and call_id is not None:
            self._stamp_by_call[call_id] = self._pending_stamp

    def _first_command(self, call_id: str) -> None:
        started = self._stasis_start_at.get(call_id)
        if started is not None:
            self.decision_s.append(self._clock.monotonic() - started)
            stamp = self._stamp_by_call.pop(call_id, None)
            if stamp is not None:
                self.e2e.append((time.time(), stamp))
        super()._first_command(call_id)

    def dump(self) -> None:
        """Print samples since the last dump, the histogram's cumulative buckets and counters; reset samples."""
        (family,) = metrics.DECISION_LATENCY.collect()
        buckets = [[float(s.labels["le"]), s.value] for s in family.samples if s.name.endswith("_bucket")]
        stats = self.statistics()
        print(
            json.dumps(
                {
                    "decision_s": self.decision_s,
                    "e2e": self.e2e,
                    "hist": buckets,
                    "events": stats.events_received,
                    "requests": self.requests,
                    "finished": stats.calls_finished,
                    "active": stats.active_calls,
                }
            ),
            flush=True,
        )
        self.decision_s, self.e2e = [], []


def _record_raw_events(path: Path) -> None:
    """Append the text of every events-WebSocket message to ``path`` before the engine parses it."""
    sink = path.open("w", encoding="utf-8")
    enqueue = AriEventStream._enqueue

    def recording(stream: AriEventStream, text: str) -> None:
        sink.write((json.dumps(json.loads(text)) if "\n" in text else text) + "\n")
        sink.flush()
        enqueue(stream, text)

    AriEventStream._enqueue = recording  # type: ignore[method-assign,assignment]


async def _serve_engine() -> None:
    env = os.environ
    config = EngineConfig(
        ari_url=env["RINGLINE_ARI_URL"],
        ari_user=env["RINGLINE_ARI_USER"],
        ari_password=env["RINGLINE_ARI_PASSWORD"],
        database_url=env["DATABASE_URL"],
        instance_id="bench",
    )
    pool = await create_pool(config.database_url, attempts=3)
    engine = BenchEngine(config, pool)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGUSR1, engine.dump)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(engine.run(), name="engine")
            await asyncio.wait_for(engine.wait_connected(), 10)
            print(json.dumps({"ready": True}), flush=True)
            await stop.wait()
            await engine.close()  # run() returns once the event stream is closed
    finally:
        await pool.close()


def engine_child(argv: list[str]) -> None:
    """``engine_cps.py _engine [--record PATH]``: the engine process the benchmark measures."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if argv[:1] == ["--record"]:
        _record_raw_events(Path(argv[1]))
    asyncio.run(_serve_engine())


# ------------------------------------------------------------------------------------------ the lab


@dataclass
class Lab:
    """The bench's database, Asterisk and ARI credentials."""

    dsn: str
    asterisk: AsteriskProcess
    ari_http: str
    ari_user: str
    ari_password: str
    logs: Path


@contextlib.asynccontextmanager
async def bench_lab(pg: str, hold_s: float) -> AsyncIterator[Lab]:
    """A fresh migrated database with tenant ``bench``, and Asterisk instance ``bench``; both removed after."""
    name = f"ringline_bench_{secrets.token_hex(5)}"
    admin = await asyncpg.connect(pg)
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = pg.rsplit("/", 1)[0] + "/" + name
    asterisk: AsteriskProcess | None = None
    try:
        await asyncio.to_thread(migrate.upgrade, dsn)
        conn = await asyncpg.connect(dsn)
        try:
            await provisioning.create_tenant(conn, TENANT, "Benchmark", max_concurrent_calls=1_000_000)
            await conn.execute(
                "INSERT INTO dids (tenant_id, number, route_type, route_target, ring_timeout_s)"
                " SELECT id, $2, 'endpoint', $3, 10 FROM tenants WHERE slug = $1",
                TENANT,
                DID,
                SINK_TARGET,
            )
        finally:
            await conn.close()
        db = db_parts(dsn)
        password = secrets.token_urlsafe(16)
        inst = AsteriskInstance(
            name="bench",
            root=asterisk_root(),
            sip_port=SIP_PORT,
            http_port=ARI_PORT,
            rtp_start=RTP_START,
            rtp_end=RTP_END,
            ari_user="ringline-bench",
            ari_password=password,
            stasis_app="ringline",
            db_host=db.host,
            db_port=db.port,
            db_name=db.dbname,
            db_user=db.user,
            db_password=db.password,
            tenants=(TENANT,),
        )
        render_instance(inst)
        with (inst.layout.host_config_dir / "extensions.conf").open("a") as conf:
            conf.write(BENCH_DIALPLAN.format(hold_s=hold_s))
        asterisk = AsteriskProcess(inst)
        await asterisk.start()
        logs = Path(tempfile.mkdtemp(prefix="ringline-bench-"))
        yield Lab(dsn, asterisk, f"http://127.0.0.1:{ARI_PORT}", inst.ari_user, password, logs)
    finally:
        if asterisk is not None:
            await asterisk.stop()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


class Child:
    """A measured subprocess that prints ``{"ready": true}``, then one JSON line per ``SIGUSR1``."""

    def __init__(self, name: str, proc: asyncio.subprocess.Process, log: Path) -> None:
        self.name, self.proc, self.log = name, proc, log

    @classmethod
    async def start(cls, name: str, argv: list[str], log: Path, env: dict[str, str] | None = None) -> Child:
        with log.open("wb") as stderr:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, *argv, stdout=asyncio.subprocess.PIPE, stderr=stderr, env=env, limit=2**24
            )  # a dump line holds every latency sample of a step
        child = cls(name, proc, log)
        line = await child._line(20)
        if not json.loads(line).get("ready"):
            raise RuntimeError(f"{name} did not start: {line!r}; see {log}")
        return child

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def _line(self, timeout_s: float) -> str:
        assert self.proc.stdout is not None
        async with asyncio.timeout(timeout_s):
            line = await self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name} exited ({await self.proc.wait()}); see {self.log}")
        return line.decode()

    async def dump(self) -> dict[str, Any]:
        """Its samples and counters since the previous dump."""
        self.proc.send_signal(signal.SIGUSR1)
        data: dict[str, Any] = json.loads(await self._line(10))
        return data

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


# ------------------------------------------------------------------------------------------ load


@dataclass
class Offered:
    """What the generator did in one step."""

    calls: int
    ok: int = 0
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    first_at: float = 0.0
    rate: float = 0.0


class Generator:
    """Open-loop originates over ARI REST (the bench's own keep-alive session, not measured)."""

    def __init__(self, lab: Lab) -> None:
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=24))
        self.ari = AriClient(
            lab.ari_http + "/ari", lab.ari_user, lab.ari_password, app="bench-gen", session=self._session
        )

    async def close(self) -> None:
        await self._session.close()

    async def offer(self, endpoint: str, context: str, rate: float, duration_s: float) -> Offered:
        """Originate ``rate * duration_s`` calls to ``endpoint``, the i-th at ``i / rate`` s from the start."""
        offered = Offered(calls=max(1, round(rate * duration_s)))
        loop = asyncio.get_running_loop()
        start = loop.time()
        offered.first_at = time.time()
        async with asyncio.TaskGroup() as tg:
            for i in range(offered.calls):
                delay = start + i / rate - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                tg.create_task(self._originate(endpoint, context, offered))
            last = loop.time()
        offered.rate = offered.calls / (last - start + 1 / rate)
        return offered

    async def _originate(self, endpoint: str, context: str, offered: Offered) -> None:
        try:
            await self.ari.channel_originate(
                endpoint=endpoint, context=context, extension="s", priority=1, timeout_s=30
            )
            offered.ok += 1
        except AriError as exc:
            offered.errors[f"{type(exc).__name__}: {exc}"[:160]] += 1

    async def channel_count(self) -> int:
        return len(await self.ari.request("GET", "/channels"))

    async def hangup_all(self) -> int:
        channels = await self.ari.request("GET", "/channels")
        for ch in channels:
            await self.ari.channel_hangup(ch["id"])
        return len(channels)


# ------------------------------------------------------------------------------------------ one step


@dataclass
class Step:
    """One system at one offered rate."""

    system: str
    rate: float
    offered: float = 0.0
    sustained: float = 0.0
    calls: int = 0
    failed: int = 0
    failures: collections.Counter[str] = field(default_factory=collections.Counter)
    window_s: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    """CPU seconds (utime + stime) in the step window by process: engine, reference, asterisk, postgres, bench."""
    sys_s: dict[str, float] = field(default_factory=dict)
    """The stime part of :attr:`cpu`."""
    decision_ms: list[float] = field(default_factory=list)
    e2e_ms: list[float] = field(default_factory=list)
    hist_p99_ms: float | None = None
    machine_busy: float = 0.0
    """Share of all CPUs of the machine busy during the step (0..1; 1 = every core saturated)."""
    events_per_call: float = 0.0
    requests_per_call: float = 0.0
    drained: bool = True
    notes: list[str] = field(default_factory=list)

    @property
    def process(self) -> str:
        """The measured process of the system: ``engine`` or ``reference`` (both reference flows)."""
        return "engine" if self.system == "engine" else "reference"

    def cpu_per_1k(self, who: str) -> float:
        """CPU seconds of process ``who`` per 1,000 offered calls."""
        return self.cpu.get(who, 0.0) / max(self.calls, 1) * 1000

    def percent(self, who: str) -> float:
        """CPU of process ``who`` in % of one core over the step window."""
        return self.cpu.get(who, 0.0) / max(self.window_s, 1e-9) * 100

    @property
    def clean(self) -> bool:
        return self.failed == 0 and self.drained and self.sustained >= 0.95 * self.rate


class Runner:
    """Runs steps against the engine or the reference and measures them."""

    def __init__(self, lab: Lab, engine: Child, reference: Child, gen: Generator, db: asyncpg.Connection) -> None:
        self.lab, self.engine, self.reference, self.gen, self.db = lab, engine, reference, gen, db
        self._hist: list[list[float]] = []
        self._events = self._requests = 0

    async def _pg_backends(self) -> list[int]:
        rows = await self.db.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [r["pid"] for r in rows]

    def _cpu(self, pg: list[int]) -> dict[str, tuple[float, float]]:
        pid = self.lab.asterisk.pid
        assert pid is not None
        return {
            "engine": cpu_s(self.engine.pid),
            "reference": cpu_s(self.reference.pid),
            "asterisk": cpu_s(pid),
            "bench": cpu_s(os.getpid()),
            **{f"pg{p}": cpu_s(p) for p in pg},
        }

    async def _drain(self, want_cdr: int | None, cdr_from: int, budget_s: float) -> bool:
        """Wait until Asterisk has no channel (and ``want_cdr`` CDRs exist past ``cdr_from``)."""
        deadline = time.monotonic() + budget_s
        while time.monotonic() < deadline:
            if await self.gen.channel_count() == 0 and (
                want_cdr is None
                or await self.db.fetchval("SELECT count(*) FROM cdr WHERE id > $1", cdr_from) >= want_cdr
            ):
                return True
            await asyncio.sleep(0.2)
        return False

    async def warm_up(self, hold_s: float) -> None:
        """20 calls per system at 20 calls/s, not reported (pools, connections, first-call imports)."""
        for system in SYSTEMS:
            await self.step(system, 20, 1.0, hold_s)
        self._hist = []

    async def step(self, system: str, rate: float, duration_s: float, hold_s: float) -> Step:
        child = self.engine if system == "engine" else self.reference
        before = await child.dump()  # resets its samples
        if system == "engine":
            self._hist, self._events, self._requests = before["hist"], before["events"], before["requests"]
        cdr_from = await self.db.fetchval("SELECT coalesce(max(id), 0) FROM cdr")
        pg = await self._pg_backends()
        cpu0, ticks0 = self._cpu(pg), machine_ticks()
        offered = await self.gen.offer(SYSTEMS[system], "bench-orig", rate, duration_s)
        drained = await self._drain(offered.ok if system == "engine" else None, cdr_from, hold_s + 20)
        pg_after = await self._pg_backends()
        cpu1, ticks1 = self._cpu(pg_after), machine_ticks()
        window = time.time() - offered.first_at
        stats = await child.dump()
        step = Step(system, rate, offered=offered.rate, calls=offered.calls, window_s=window, drained=drained)
        if not drained:
            step.notes.append(f"not drained after {hold_s + 20:.0f} s: hung up {await self.gen.hangup_all()} channels")
            await self._drain(None, cdr_from, 10)
        step.failures.update(offered.errors)
        step.machine_busy = (ticks1[0] - ticks0[0]) / max(ticks1[1] - ticks0[1], 1)
        cpu0["postgres"] = _sum(cpu0.get(f"pg{p}", (0.0, 0.0)) for p in pg_after)
        cpu1["postgres"] = _sum(cpu1[f"pg{p}"] for p in pg_after)
        for who in ("engine", "reference", "asterisk", "bench", "postgres"):
            (u0, s0), (u1, s1) = cpu0.get(who, (0.0, 0.0)), cpu1.get(who, (0.0, 0.0))
            step.cpu[who], step.sys_s[who] = max(0.0, u1 + s1 - u0 - s0), max(0.0, s1 - s0)
        step.e2e_ms = e2e_ms(stats["e2e"])
        if system == "engine":
            answered, last_answer = await self._engine_outcome(cdr_from, offered, step)
            step.decision_ms = [s * 1000 for s in stats["decision_s"]]
            step.hist_p99_ms = _hist_p99_ms(self._hist, stats["hist"])
            step.events_per_call = (stats["events"] - self._events) / max(offered.calls, 1)
            step.requests_per_call = (stats["requests"] - self._requests) / max(offered.calls, 1)
        else:
            answered, last_answer = stats["answered"], stats["last_answer_at"]
            if offered.ok > stats["completed"]:
                step.failures["not answered and hung up by the reference"] += offered.ok - stats["completed"]
            step.decision_ms = [s * 1000 for s in stats["handled_s"]]
            step.events_per_call = stats["events"] / max(offered.calls, 1)
            step.requests_per_call = stats["requests"] / max(offered.calls, 1)
        step.failed = sum(step.failures.values())
        step.sustained = answered / max(offered.calls / rate, last_answer - offered.first_at, 1e-9)
        return step

    async def _engine_outcome(self, cdr_from: int, offered: Offered, step: Step) -> tuple[int, float]:
        rows = await self.db.fetch(
            "SELECT disposition, hangup_cause, count(*) AS n, max(answer_at) AS last_answer"
            " FROM cdr WHERE id > $1 GROUP BY 1, 2",
            cdr_from,
        )
        answered, last, written = 0, 0.0, 0
        for r in rows:
            written += r["n"]
            if r["disposition"] == "ANSWERED":
                answered += r["n"]
                last = max(last, r["last_answer"].timestamp())
            else:
                step.failures[f"CDR {r['disposition']} cause {r['hangup_cause']}"] += r["n"]
        if written < offered.ok:
            step.failures["no CDR written"] += offered.ok - written
        for call in await self.db.fetch(
            "SELECT call_id, disposition, hangup_cause, start_at, answer_at, end_at FROM cdr"
            " WHERE id > $1 AND disposition <> 'ANSWERED' ORDER BY id LIMIT 3",
            cdr_from,
        ):
            legs = await self.db.fetch(
                "SELECT role, start_at, answer_at, end_at, hangup_cause FROM call_legs WHERE call_id = $1 ORDER BY id",
                call["call_id"],
            )
            step.notes.append(f"CDR {_row(call, call['start_at'])}; legs: " + "; ".join(
                _row(leg, call["start_at"]) for leg in legs
            ))
        return answered, last


def _row(row: asyncpg.Record, t0: dt.datetime) -> str:
    """A CDR or leg row, its times as seconds after ``t0``."""
    return ", ".join(
        f"{k}={(v - t0).total_seconds():+.3f}s" if isinstance(v, dt.datetime) else f"{k}={v}" for k, v in row.items()
    )


def _sum(pairs: Iterable[tuple[float, float]]) -> tuple[float, float]:
    user = system = 0.0
    for u, s in pairs:
        user, system = user + u, system + s
    return user, system


def _hist_p99_ms(before: list[list[float]], after: list[list[float]]) -> float | None:
    """Upper bound (ms) of the histogram bucket holding the p99 of the observations between two reads."""
    prior = {le: n for le, n in before}
    delta = [(le, n - prior.get(le, 0.0)) for le, n in after]
    total = delta[-1][1] if delta else 0.0
    if total <= 0:
        return None
    for le, n in delta:
        if n >= 0.99 * total:
            return le * 1000
    return None


# ------------------------------------------------------------------------------------------ report


def _ms(values: Sequence[float], q: float) -> str:
    v = quantile(values, q)
    return "-" if v != v else f"{v:.1f}"


def report(steps: list[Step], hold_s: float) -> str:
    """The results table and the goals, as text."""
    head = (
        f"{'rate':>5} {'system':<10} {'offered':>7} {'sustained':>9} {'failed':>6} {'CPU s/1k':>8} {'sys %':>5}"
        f" {'CPU %':>5} {'Ast s/1k':>8} {'Ast %':>5} {'PG s/1k':>7} {'x ref':>5} {'x same':>6} {'dec p50':>7}"
        f" {'dec p99':>7} {'hist p99':>8} {'e2e p50':>7} {'e2e p99':>7} {'ev/call':>7} {'req/call':>8} {'gen %':>5}"
        f" {'box %':>5}"
    )
    lines = [head, "-" * len(head)]
    by_key = {(s.system, s.rate): s for s in steps}
    for s in steps:
        own = s.cpu_per_1k(s.process)
        ratios = ["", ""]
        for i, base in enumerate(("reference", "ref-bridge")):
            ref = by_key.get((base, s.rate))
            if s.system == "engine" and ref is not None and ref.cpu_per_1k("reference") > 0:
                ratios[i] = f"{own / ref.cpu_per_1k('reference'):.2f}"
        hist = "" if s.hist_p99_ms is None else f"<={s.hist_p99_ms:g}"
        kernel = s.sys_s[s.process] / max(s.cpu[s.process], 1e-9) * 100
        lines.append(
            f"{s.rate:>5g} {s.system:<10} {s.offered:>7.1f} {s.sustained:>9.1f} {s.failed:>6} {own:>8.2f}"
            f" {kernel:>5.0f} {s.percent(s.process):>5.0f} {s.cpu_per_1k('asterisk'):>8.2f}"
            f" {s.percent('asterisk'):>5.0f} {s.cpu_per_1k('postgres'):>7.2f} {ratios[0]:>5} {ratios[1]:>6}"
            f" {_ms(s.decision_ms, 0.5):>7} {_ms(s.decision_ms, 0.99):>7} {hist:>8} {_ms(s.e2e_ms, 0.5):>7}"
            f" {_ms(s.e2e_ms, 0.99):>7} {s.events_per_call:>7.1f} {s.requests_per_call:>8.1f}"
            f" {s.percent('bench'):>5.0f} {s.machine_busy * 100:>5.0f}"
        )
    lines += [
        "",
        "offered, sustained: calls/s. CPU s/1k: CPU seconds (utime + stime) per 1,000 calls of the system's process"
        " (engine, or reference_client.py for both reference flows); sys %: its kernel share; CPU %: its load in %"
        " of one core over the step. Ast: Asterisk; PG: the PostgreSQL backends of the bench database."
        " x ref / x same: engine CPU per call / reference_client's, answer-only flow / same ARI flow (ref-bridge)."
        " dec: StasisStart handled -> first ARI command (the span of ringline_engine_decision_latency_seconds),"
        " exact samples; hist p99: bucket bound holding the p99, read from that histogram; e2e: Asterisk's"
        " StasisStart timestamp -> first command; all ms. ev/call, req/call: ARI events received and REST"
        " requests sent per call. gen %: the load generator (this process). box %: the whole machine's CPUs"
        f" busy (/proc/stat; 100 = all {os.cpu_count()} saturated). Engine calls hold {hold_s:g} s.",
    ]
    for s in steps:
        for what, n in s.failures.most_common(5):
            lines.append(f"  {s.system} @ {s.rate:g}/s: {n} x {what}")
        lines.extend(f"  {s.system} @ {s.rate:g}/s: {note}" for note in s.notes)
    return "\n".join([*lines, "", *_goals(steps)])


def _goals(steps: list[Step]) -> list[str]:
    def best(system: str) -> float:
        return max((s.rate for s in steps if s.system == system and s.clean), default=0.0)

    def ratios(base: str) -> list[float]:
        refs = {s.rate: s.cpu_per_1k("reference") for s in steps if s.system == base}
        return [s.cpu_per_1k("engine") / refs[s.rate] for s in clean if refs.get(s.rate)]

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    clean = [s for s in steps if s.system == "engine" and s.clean]
    eng, same, ref = best("engine"), best("ref-bridge"), best("reference")
    to_ref, to_same = ratios("reference"), ratios("ref-bridge")
    p99 = max((quantile(s.decision_ms, 0.99) for s in clean), default=float("nan"))
    return [
        "Goals (a clean step: 0 failed, drained, sustained >= 95 % of the offered rate):",
        f"  throughput: engine clean up to {eng:g} calls/s; the same ARI flow without the engine (ref-bridge) up to"
        f" {same:g}; answer-only (reference) up to {ref:g}. Goal: engine >= what Asterisk sustains and >="
        f" {GOAL_CPS} -> {verdict(eng >= same and eng >= GOAL_CPS)}",
        "  CPU per call, engine / reference (answer-only) on clean engine steps: "
        + (", ".join(f"{r:.2f}" for r in to_ref) or "-")
        + f"; goal <= {GOAL_CPU_RATIO:g} -> {verdict(bool(to_ref) and max(to_ref) <= GOAL_CPU_RATIO)}"
        + "; engine / ref-bridge (same ARI flow, for scale): "
        + (", ".join(f"{r:.2f}" for r in to_same) or "-"),
        f"  decision latency p99 on clean engine steps: worst {p99:.1f} ms; goal < {GOAL_P99_MS:g} ms -> "
        f"{verdict(bool(clean) and p99 < GOAL_P99_MS)}",
    ]


def log_summary(log: Path) -> list[str]:
    """WARNING/ERROR lines (and the reference's error lines) of a child's log, grouped with ids blanked."""
    seen: collections.Counter[str] = collections.Counter()
    for line in log.read_text(errors="replace").splitlines():
        if " WARNING " in line or " ERROR " in line or line.startswith(("Traceback", "reference:")):
            text = line.split(" ", 2)[-1]
            seen[re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}|\d{10}\.\d+", "<id>", text)[:200]] += 1
    return [f"  {n} x {text}" for text, n in seen.most_common(12)]


# ------------------------------------------------------------------------------------------ main


async def _children(lab: Lab, record: Path | None) -> tuple[Child, Child]:
    env = dict(
        os.environ,
        RINGLINE_ARI_URL=lab.ari_http,
        RINGLINE_ARI_USER=lab.ari_user,
        RINGLINE_ARI_PASSWORD=lab.ari_password,
        DATABASE_URL=lab.dsn,
    )
    extra = ["--record", str(record)] if record else []
    engine = await Child.start("engine", [__file__, "_engine", *extra], lab.logs / "engine.log", env)
    reference = await Child.start(
        "reference",
        [
            str(ROOT / "bench" / "reference_client.py"),
            *("--ari", lab.ari_http, "--user", lab.ari_user, "--password", lab.ari_password),
        ],
        lab.logs / "reference.log",
    )
    return engine, reference


async def run(args: argparse.Namespace) -> None:
    rates = [float(r) for r in args.rates.split(",")]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; rates {args.rates} calls/s, "
          f"{args.step_s:g} s per step, hold {args.hold_s:g} s")
    async with bench_lab(args.pg, args.hold_s) as lab:
        engine, reference = await _children(lab, None)
        gen = Generator(lab)
        db = await asyncpg.connect(lab.dsn)
        steps: list[Step] = []
        try:
            runner = Runner(lab, engine, reference, gen, db)
            await runner.warm_up(args.hold_s)
            for rate in rates:
                for system in SYSTEMS:
                    step = await runner.step(system, rate, args.step_s, args.hold_s)
                    steps.append(step)
                    print(f"  {system:<10} {rate:>5g}/s: sustained {step.sustained:.1f}/s, failed {step.failed},"
                          f" window {step.window_s:.1f} s", flush=True)
        finally:
            await db.close()
            await gen.close()
            await engine.stop()
            await reference.stop()
        print()
        print(report(steps, args.hold_s))
        print(f"\nEngine log ({lab.logs / 'engine.log'}): warnings/errors")
        print("\n".join(log_summary(lab.logs / "engine.log")) or "  none")
        print(f"Reference log ({lab.logs / 'reference.log'}):")
        print("\n".join(log_summary(lab.logs / "reference.log")) or "  none")


async def record(args: argparse.Namespace) -> None:
    """Record the engine's raw ARI events for ``args.calls`` calls, one at a time, into :data:`RECORDING`."""
    RECORDING.parent.mkdir(parents=True, exist_ok=True)
    async with bench_lab(args.pg, args.hold_s) as lab:
        engine, reference = await _children(lab, RECORDING)
        gen = Generator(lab)
        db = await asyncpg.connect(lab.dsn)
        try:
            runner = Runner(lab, engine, reference, gen, db)
            for _ in range(args.calls):
                step = await runner.step("engine", 1, 1.0, args.hold_s)
                if step.failed:
                    raise RuntimeError(f"recorded call failed: {dict(step.failures)}")
                await asyncio.sleep(0.5)  # the last events of a call (ChannelDestroyed ...) arrive after its CDR
        finally:
            await db.close()
            await gen.close()
            await engine.stop()
            await reference.stop()
    kinds = collections.Counter(json.loads(line)["type"] for line in RECORDING.read_text().splitlines())
    print(f"recorded {sum(kinds.values())} events of {args.calls} calls into {RECORDING}:")
    for kind, n in kinds.most_common():
        print(f"  {n:>3} {kind}")


def main() -> None:
    if sys.argv[1:2] == ["_engine"]:
        engine_child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rates", default="25,50,100,150,200,250", help="offered calls/s, comma-separated")
    parser.add_argument("--step-s", type=float, default=10.0, help="seconds of load per step")
    parser.add_argument("--hold-s", type=float, default=0.5, help="seconds the sink holds an answered call")
    parser.add_argument("--quick", action="store_true", help="rates 25,100 and 5 s steps")
    parser.add_argument("--record", action="store_true", help=f"record raw events of calls into {RECORDING}")
    parser.add_argument("--calls", type=int, default=3, help="calls to record with --record")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="maintenance database of the PostgreSQL server to create the bench database on")
    args = parser.parse_args()
    if args.quick:
        args.rates, args.step_s = "25,100", 5.0
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(record(args) if args.record else run(args))


if __name__ == "__main__":
    main()
