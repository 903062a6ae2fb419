"""Process lifecycle against the real root, without a database: failed starts, cancellation, daemon mode.

Uses the main test ports (SIP 15060, HTTP 18088) while no other instance of this suite runs; a realtime
database is not needed for Asterisk to boot (res_config_pgsql connects lazily and retries).
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from dialplan.asterisk.config import AsteriskInstance
from dialplan.asterisk.errors import AsteriskStartError
from dialplan.asterisk.ports import port_is_free
from dialplan.asterisk.process import AsteriskProcess, ProcessState, down_daemon, status, up_daemon
from dialplan.asterisk.render import render_instance
from tests.dialplan.conftest import MAIN_HTTP_PORT, MAIN_RTP, MAIN_SIP_PORT

pytestmark = pytest.mark.peers


@pytest.fixture
def instance(provisioned_root: Path) -> Iterator[AsteriskInstance]:
    inst = AsteriskInstance(
        name="dialplan-lifecycle",
        root=provisioned_root,
        sip_port=MAIN_SIP_PORT,
        http_port=MAIN_HTTP_PORT,
        rtp_start=MAIN_RTP[0],
        rtp_end=MAIN_RTP[1],
        ari_user="lifecycle",
        ari_password=secrets.token_urlsafe(16),
        db_name="ringline_dialplan_no_such_db",
    )
    render_instance(inst)
    yield inst
    down_daemon(inst)


def ports_free() -> bool:
    return all(
        port_is_free(port, proto)
        for port, proto in ((MAIN_SIP_PORT, "udp"), (MAIN_SIP_PORT, "tcp"), (MAIN_HTTP_PORT, "tcp"))
    )


async def test_start_that_never_gets_ready_fails_with_the_log_and_leaves_nothing(
    instance: AsteriskInstance,
) -> None:
    """ARI answers 401 to credentials other than the rendered ones, so readiness never comes."""
    wrong = dataclasses.replace(instance, ari_password="not-the-rendered-one")
    process = AsteriskProcess(wrong)
    with pytest.raises(AsteriskStartError) as info:
        await process.start(timeout_s=3)
    assert "not ready in time" in str(info.value)
    assert any("modules will be loaded" in line for line in info.value.log_tail)
    assert process.state is ProcessState.EXITED and process.returncode is not None
    assert ports_free()


async def test_cancelled_start_stops_the_child(instance: AsteriskInstance) -> None:
    process = AsteriskProcess(instance)
    task = asyncio.create_task(process.start(timeout_s=30))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert process.state is ProcessState.EXITED and process.returncode is not None
    assert ports_free()


async def test_supervised_start_stop_and_restart(instance: AsteriskInstance) -> None:
    process = AsteriskProcess(instance)
    async with process:
        assert process.state is ProcessState.RUNNING and process.pid is not None
        assert "fully booted" in await process.cli("core waitfullybooted")
    assert process.state.value == "exited" and process.returncode == 0
    assert ports_free()
    await process.start()
    await process.stop()
    assert process.returncode == 0


def test_daemon_up_status_down(instance: AsteriskInstance) -> None:
    assert status(instance)["running"] is False
    pid = up_daemon(instance)
    assert up_daemon(instance) == pid  # already running: same pid, nothing started
    info = status(instance)
    assert info["running"] is True and info["pid"] == pid
    assert info["version"] is not None and info["version"].startswith("Asterisk 22")
    assert info["endpoints"] == 0
    assert down_daemon(instance) is True
    assert down_daemon(instance) is False
    assert status(instance)["running"] is False
    assert ports_free()
