"""``python -m dialplan.agi``: settings, exit status 2 with a reason, and a real run stopped by SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import asyncpg
import pytest

from tests.dialplan.agi.client import asterisk_environment, request

REPO = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _run(env: dict[str, str], timeout_s: float = 20) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "dialplan.agi", cwd=REPO, env=env, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(proc.communicate(), timeout_s)
    assert proc.returncode is not None
    return proc.returncode, err.decode()


def _environ(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "RINGLINE_AGI_PORT", "RINGLINE_AGI_HOST")}
    env.update(overrides)
    return env


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({}, "missing environment variable DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/x", "RINGLINE_AGI_PORT": "port"}, "not a port"),
        ({"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/ringline"}, "unavailable"),
    ],
    ids=["no-database-url", "bad-port", "database-down"],
)
async def test_bad_settings_exit_2_with_one_line(overrides: dict[str, str], message: str) -> None:
    status, err = await _run(_environ(**overrides))
    assert status == 2
    assert message in err and err.startswith("dialplan.agi: ")


async def test_serves_routes_until_sigterm(agi_database_url: str, agi_pool: asyncpg.Pool) -> None:
    port = _free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "dialplan.agi",
        cwd=REPO,
        env=_environ(DATABASE_URL=agi_database_url, RINGLINE_AGI_PORT=str(port)),
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(15):
            while True:
                try:
                    transcript = await request(port, asterisk_environment())
                    break
                except OSError:  # not listening yet
                    await asyncio.sleep(0.1)
        assert transcript.variables["RINGLINE_ROUTE_STATUS"] == "OK"
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 10)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0
    assert f"FastAGI server on 127.0.0.1:{port}" in err.decode()
