"""Calls in progress survive ARI connection loss and an engine crash (real Asterisk, real SIP, real PostgreSQL).

- the ARI connection (REST + events WebSocket, through a TCP fault proxy) is cut mid-call: the engine
  reconnects, the call goes on with audio and ends normally, the CDR is complete;
- ARI is unreachable while the caller hangs up: after reconnecting, the engine finds the missed hangup,
  releases the other party and completes the CDR;
- the engine process is killed with SIGKILL mid-call and started again: it re-adopts the bridged call from
  ``active_calls`` and completes its CDR when the call ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from engine.ari.client import AriClient
from engine.calls.state import CallState
from tests.engine.conftest import (
    ANSWER_TONE_HZ,
    ARI_PASSWORD,
    ARI_USER,
    CALLER_TONE_HZ,
    MAIN_HTTP,
    TENANT,
    Lab,
    RunningEngine,
)
from tests.engine.test_calls_live import cdr_for
from tests.peers.audio import voiced_seconds
from tests.scenarios import eventually

REPO = Path(__file__).resolve().parents[2]


def bridged_calls(running: RunningEngine) -> list[str]:
    return [c.call_id for c in running.engine.dispatcher.calls() if c.state is CallState.BRIDGED]


async def test_ari_connection_cut_mid_call_keeps_the_call(lab: Lab, running_engine: RunningEngine) -> None:
    since = time.time()
    call = await lab.peer.place_call(lab.did_answer, tone_hz=CALLER_TONE_HZ, talk_s=8.0)
    await eventually(lambda: bridged_calls(running_engine), timeout_s=15, what="call bridged")
    engine = running_engine.engine
    connects = engine.statistics().ari_connects
    await running_engine.proxy.cut_all()  # REST keep-alive and events WebSocket both drop
    await eventually(
        lambda: engine.statistics().ari_connects > connects and engine.statistics().ari_connected,
        timeout_s=10,
        what="events WebSocket reconnected",
    )
    report = running_engine.engine.last_reconcile
    assert report is not None and report.legs_missing == [] and report.orphan_channels == []
    assert len(running_engine.engine.dispatcher) == 1  # the call is still ours
    cause = await call.wait_ended(timeout_s=30)
    assert call.answered and cause == 16
    # audio kept flowing both ways for the whole call
    assert voiced_seconds(call.recording_path, ANSWER_TONE_HZ) >= 6.5
    phone_wav = await lab.peer.wait_phone_recording(f"{TENANT}-1001")
    assert voiced_seconds(phone_wav, CALLER_TONE_HZ) >= 6.5
    cdr = await cdr_for(lab.database_url, lab.did_answer, since)
    assert cdr["disposition"] == "ANSWERED"
    assert abs(cdr["billsec_s"] - 8) <= 1, cdr
    assert len(cdr["legs"]) == 2 and all(leg["end_at"] is not None for leg in cdr["legs"])
    await eventually(lambda: len(running_engine.engine.dispatcher) == 0, what="call released")


async def test_hangup_missed_while_ari_is_down_is_found_after_reconnect(
    lab: Lab, running_engine: RunningEngine
) -> None:
    since = time.time()
    call = await lab.peer.place_call(lab.did_answer, tone_hz=CALLER_TONE_HZ, talk_s=3.0)
    await eventually(lambda: bridged_calls(running_engine), timeout_s=15, what="call bridged")
    running_engine.proxy.pause()  # no new ARI connections, no bytes forwarded
    await running_engine.proxy.cut_all()
    # the carrier hangs up while the engine cannot hear about it
    assert await call.wait_ended(timeout_s=20) == 16
    await asyncio.sleep(0.5)
    running_engine.proxy.resume()
    cdr = await cdr_for(lab.database_url, lab.did_answer, since, timeout_s=20)
    report = running_engine.engine.last_reconcile
    assert report is not None and len(report.legs_missing) == 1
    assert cdr["disposition"] == "ANSWERED"
    assert all(leg["end_at"] is not None for leg in cdr["legs"])
    # the phone was released by the engine, not left alone in the bridge
    async with _ari() as ari:
        channels = await ari.channels_list()
    assert not [c for c in channels if c.id.endswith("-callee")]


@contextlib.asynccontextmanager
async def _ari() -> AsyncIterator[AriClient]:
    client = AriClient(f"http://127.0.0.1:{MAIN_HTTP}/ari", ARI_USER, ARI_PASSWORD, app="itest-probe")
    try:
        yield client
    finally:
        await client.close()


async def _start_engine_process(database_url: str, log: Path) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "RINGLINE_ARI_URL": f"http://127.0.0.1:{MAIN_HTTP}",
        "RINGLINE_ARI_USER": ARI_USER,
        "RINGLINE_ARI_PASSWORD": ARI_PASSWORD,
        "DATABASE_URL": database_url,
        "RINGLINE_INSTANCE_ID": "crash-test",
    }
    out = log.open("ab")
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "engine", cwd=REPO, env=env, stdout=out, stderr=out
        )
    finally:
        out.close()


@pytest.fixture
async def engine_log(tmp_path: Path) -> Path:
    return tmp_path / "engine.log"


async def test_engine_killed_mid_call_readopts_the_call_after_restart(lab: Lab, engine_log: Path) -> None:
    since = time.time()
    first = await _start_engine_process(lab.database_url, engine_log)
    second: asyncio.subprocess.Process | None = None
    conn = await asyncpg.connect(lab.database_url)
    try:
        await eventually(lambda: "connected (1)" in engine_log.read_text(), timeout_s=15, what="engine connected")
        call = await lab.peer.place_call(lab.did_answer, tone_hz=CALLER_TONE_HZ, talk_s=10.0)
        await eventually(
            lambda: conn.fetchval(
                "SELECT count(*) FROM active_calls WHERE owner = 'crash-test' AND state = 'BRIDGED'"
            ),
            timeout_s=15,
            what="bridged call persisted",
        )
        first.send_signal(signal.SIGKILL)
        await first.wait()
        await asyncio.sleep(1.0)  # the call is on its own in Asterisk for a while
        second = await _start_engine_process(lab.database_url, engine_log)
        await eventually(lambda: "readopted=1" in engine_log.read_text(), timeout_s=15, what="call re-adopted")
        cause = await call.wait_ended(timeout_s=30)
        assert call.answered and cause == 16
        assert voiced_seconds(call.recording_path, ANSWER_TONE_HZ) >= 8.5  # audio through the crash
        cdr = await cdr_for(lab.database_url, lab.did_answer, since, timeout_s=20)
        assert cdr["disposition"] == "ANSWERED"
        assert abs(cdr["billsec_s"] - 10) <= 1, cdr
        assert all(leg["end_at"] is not None for leg in cdr["legs"])
        assert await conn.fetchval("SELECT count(*) FROM active_calls WHERE owner = 'crash-test'") == 0
    finally:
        await conn.close()
        for proc in (first, second):
            if proc is not None and proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(proc.wait(), 10)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()


async def test_orphan_channel_created_by_an_engine_is_hung_up_on_reconnect(
    lab: Lab, running_engine: RunningEngine
) -> None:
    # a callee channel of a call no engine knows (e.g. its engine died between create and dial)
    orphan = "00000000-0000-4000-8000-000000000000-callee"
    async with _ari() as ari:
        await ari.request(
            "POST",
            "/channels/create",
            params={"endpoint": f"PJSIP/{TENANT}-1003", "app": "ringline", "channelId": orphan},
        )
        assert orphan in {c.id for c in await ari.channels_list()}
        connects = running_engine.engine.statistics().ari_connects
        await running_engine.proxy.cut_all()
        await eventually(
            lambda: running_engine.engine.statistics().ari_connects > connects, timeout_s=10, what="reconnected"
        )

        async def orphan_gone() -> bool:
            return orphan not in {c.id for c in await ari.channels_list()}

        await eventually(orphan_gone, timeout_s=10, what="orphan hung up")
    report = running_engine.engine.last_reconcile
    assert report is not None and report.orphan_channels == [orphan]
