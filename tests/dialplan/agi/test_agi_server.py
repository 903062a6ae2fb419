"""The FastAGI server over real TCP sockets, Asterisk's side played from hand-written request text, and the
route lookup against the real (seeded) PostgreSQL: decisions, malformed input, misbehaving peers, stop."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Mapping

import asyncpg
import pytest

from ara_schema.pool import create_pool
from dialplan.agi import AgiServer, FailureReason, ringline_scripts
from dialplan.agi.scripts import AgiSession, RouteScript, Script
from engine.calls.store import CallStore
from tests.dialplan.agi.client import FakeAsterisk, Transcript, asterisk_environment, encode_environment, request
from tests.dialplan.agi.conftest import (
    DID_ANSWER,
    DID_BUSY,
    DID_IVR,
    DID_SUSPENDED,
    DID_UNKNOWN,
    DID_VOICEMAIL,
    SUSPENDED_TENANT,
)
from tests.faults import FaultProxy

pytestmark = pytest.mark.peers

ROUTE_VARIABLES = [
    "RINGLINE_ROUTE_TYPE",
    "RINGLINE_DIAL",
    "RINGLINE_RING_TIMEOUT",
    "RINGLINE_FALLBACK_TYPE",
    "RINGLINE_FALLBACK_TARGET",
    "RINGLINE_ROUTE_CAUSE",
    "RINGLINE_ROUTE_REASON",
    "RINGLINE_ROUTE_STATUS",
]


@pytest.fixture
async def server(agi_pool: asyncpg.Pool) -> AsyncIterator[AgiServer]:
    async with AgiServer(ringline_scripts(CallStore(agi_pool, owner="agi")), port=0) as agi:
        yield agi


def given_server(scripts: Mapping[str, Script], **options: float) -> AgiServer:
    return AgiServer(scripts, port=0, **options)  # type: ignore[arg-type]


async def then_failures(server: AgiServer) -> dict[str, int]:
    await server.wait_idle()
    return dict(server.statistics().failures)


# -- routing decisions -------------------------------------------------------------------------------


async def test_route_ok_sets_every_variable_status_last_and_closes(server: AgiServer) -> None:
    transcript = await request(server.port, asterisk_environment(extension=DID_ANSWER))

    assert [c.split(" ")[2] for c in transcript.commands] == ROUTE_VARIABLES
    assert transcript.variables == {
        "RINGLINE_ROUTE_TYPE": "endpoint",
        "RINGLINE_DIAL": "PJSIP/agitest-1001",
        "RINGLINE_RING_TIMEOUT": "20",
        "RINGLINE_FALLBACK_TYPE": "hangup",
        "RINGLINE_FALLBACK_TARGET": "",
        "RINGLINE_ROUTE_CAUSE": "",
        "RINGLINE_ROUTE_REASON": "",
        "RINGLINE_ROUTE_STATUS": "OK",
    }
    assert transcript.failure is None and transcript.closed
    await server.wait_idle()
    stats = server.statistics()
    assert (stats.requests, stats.active, stats.succeeded, dict(stats.failures), dict(stats.outcomes)) == (
        1,
        0,
        1,
        {},
        {"OK": 1},
    )


async def test_route_carries_ring_timeout_and_voicemail_fallback(server: AgiServer) -> None:
    variables = (await request(server.port, asterisk_environment(extension=DID_VOICEMAIL))).variables
    assert variables["RINGLINE_DIAL"] == "PJSIP/agitest-1002"
    assert variables["RINGLINE_RING_TIMEOUT"] == "5"
    assert (variables["RINGLINE_FALLBACK_TYPE"], variables["RINGLINE_FALLBACK_TARGET"]) == ("voicemail", "1002")


async def test_an_extension_number_routes_to_its_endpoint(server: AgiServer) -> None:
    variables = (await request(server.port, asterisk_environment(extension="1002"))).variables
    assert (variables["RINGLINE_ROUTE_STATUS"], variables["RINGLINE_DIAL"]) == ("OK", "PJSIP/agitest-1002")


@pytest.mark.parametrize(
    ("env", "status", "cause", "reason_part"),
    [
        (asterisk_environment(extension=DID_UNKNOWN), "NOROUTE", "1", DID_UNKNOWN),
        (asterisk_environment(extension=DID_IVR), "NOROUTE", "41", "'ivr'"),
        (asterisk_environment(args=("nosuchtenant",)), "REJECTED", "21", "unknown tenant 'nosuchtenant'"),
        (
            asterisk_environment(args=(SUSPENDED_TENANT,), extension=DID_SUSPENDED),
            "REJECTED",
            "21",
            "is suspended",
        ),
    ],
    ids=["unknown-did", "ivr-route-type", "unknown-tenant", "suspended-tenant"],
)
async def test_route_refusals_say_why_with_a_cause(
    server: AgiServer, env: dict[str, str], status: str, cause: str, reason_part: str
) -> None:
    transcript = await request(server.port, env)

    variables = transcript.variables
    assert list(variables) == ROUTE_VARIABLES
    assert (variables["RINGLINE_ROUTE_STATUS"], variables["RINGLINE_ROUTE_CAUSE"]) == (status, cause)
    assert reason_part in variables["RINGLINE_ROUTE_REASON"]
    assert variables["RINGLINE_DIAL"] == ""
    assert transcript.failure is None  # a decision, not a failure: AGISTATUS=SUCCESS
    await server.wait_idle()
    assert dict(server.statistics().outcomes) == {status: 1}


@pytest.mark.parametrize(
    "env",
    [
        asterisk_environment(args=()),  # tenant from the context ringline-agi-agitest
        asterisk_environment("route?tenant=agitest", args=(), context="from-carrier"),
        asterisk_environment(extension="s", dnid=DID_ANSWER),  # the DNID when the extension is "s"
    ],
    ids=["context", "query", "dnid"],
)
async def test_tenant_and_number_come_from_the_other_headers_too(server: AgiServer, env: dict[str, str]) -> None:
    variables = (await request(server.port, env)).variables
    assert (variables["RINGLINE_ROUTE_STATUS"], variables["RINGLINE_DIAL"]) == ("OK", "PJSIP/agitest-1001")


async def test_ivr_flows_answer_failure_with_a_log_line(server: AgiServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="dialplan.agi")

    transcript = await request(server.port, asterisk_environment("ivr?flow=main", args=()))

    assert transcript.failure is not None and transcript.failure.startswith("not_available")
    assert transcript.variables == {
        "RINGLINE_AGI_REASON": "not_available: IVR flows are not available yet (flow 'main')"
    }
    assert transcript.closed
    assert any(
        "FAILURE not_available: IVR flows are not available yet (flow 'main')" in r.getMessage()
        for r in caplog.records
    )
    assert await then_failures(server) == {"not_available": 1}


# -- malformed requests ------------------------------------------------------------------------------


def _env_bytes(**kwargs: object) -> bytes:
    return encode_environment(asterisk_environment(**kwargs))  # type: ignore[arg-type]


MALFORMED: dict[str, tuple[bytes, FailureReason, bool]] = {
    # name: (what the peer sends, reason, whether RINGLINE_AGI_REASON is set first)
    "http-request": (b"GET /route HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", FailureReason.MALFORMED_ENVIRONMENT, False),
    "binary-garbage": (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n\n", FailureReason.MALFORMED_ENVIRONMENT, False),
    "garbage-before-environment": (b"hello asterisk\n" + _env_bytes(), FailureReason.MALFORMED_ENVIRONMENT, False),
    "garbage-inside-environment": (
        b"agi_network: yes\nagi_network_script: route\nnot a header\n\n",
        FailureReason.MALFORMED_ENVIRONMENT,
        False,
    ),
    "duplicate-header": (
        b"agi_network: yes\nagi_network_script: route\nagi_network_script: ivr\n\n",
        FailureReason.MALFORMED_ENVIRONMENT,
        False,
    ),
    "empty-environment": (b"\n", FailureReason.MISSING_HEADER, False),
    "no-agi-headers-at-all": (b"\r\n", FailureReason.MISSING_HEADER, False),
    "no-script-path": (_env_bytes(script=None), FailureReason.MISSING_HEADER, True),
    "unknown-script": (_env_bytes(script="nosuch"), FailureReason.UNKNOWN_SCRIPT, True),
    "route-without-tenant": (_env_bytes(args=(), context="default"), FailureReason.MISSING_HEADER, True),
    "route-without-number": (
        _env_bytes(extension="s", dnid="unknown"),
        FailureReason.MISSING_HEADER,
        True,
    ),
    "line-too-long": (
        b"agi_network: yes\nagi_request: " + b"x" * 10000 + b"\n\n",
        FailureReason.ENVIRONMENT_TOO_LARGE,
        False,
    ),
    "too-many-lines": (
        b"".join(b"agi_arg_%d: x\n" % n for n in range(1, 400)) + b"\n",
        FailureReason.ENVIRONMENT_TOO_LARGE,
        False,
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
async def test_malformed_requests_get_failure_and_a_log_line(
    server: AgiServer, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    data, reason, reason_variable = MALFORMED[case]
    caplog.set_level(logging.WARNING, logger="dialplan.agi")

    transcript = await request(server.port, data)

    assert transcript.failure is not None and transcript.failure.startswith(f"{reason.value}:"), transcript
    assert transcript.closed
    assert transcript.commands == (
        [f'SET VARIABLE RINGLINE_AGI_REASON "{transcript.failure}"'] if reason_variable else []
    )
    assert any(f"FAILURE {reason.value}:" in r.getMessage() for r in caplog.records)
    assert await then_failures(server) == {reason.value: 1}


# -- peers that misbehave ----------------------------------------------------------------------------


async def test_a_peer_gone_mid_environment_is_counted_and_the_loop_keeps_serving(server: AgiServer) -> None:
    asterisk = await FakeAsterisk.connect(server.port)
    await asterisk.send(b"agi_network: yes\nagi_network_scr")
    await asterisk.close()
    assert await then_failures(server) == {"disconnected": 1}

    # panoramisk's own handler spins on EOF here and freezes the loop; this server answers the next call
    async with asyncio.timeout(2):
        transcript = await request(server.port, asterisk_environment())
    assert transcript.variables["RINGLINE_ROUTE_STATUS"] == "OK"


async def test_a_peer_gone_mid_command_is_counted(server: AgiServer) -> None:
    transcript = await request(server.port, asterisk_environment(), reply=lambda command, index: None)

    assert len(transcript.commands) == 1
    assert await then_failures(server) == {"disconnected": 1}
    assert server.statistics().succeeded == 0


async def test_a_channel_hangup_ends_the_session_without_failure_line(server: AgiServer) -> None:
    def hang_up_at_third_command(command: str, index: int) -> bytes:
        return b"HANGUP\n" if index == 2 else b"200 result=1\n"

    transcript = await request(server.port, asterisk_environment(), reply=hang_up_at_third_command)

    assert len(transcript.commands) == 3 and transcript.failure is None and transcript.closed
    assert await then_failures(server) == {"caller_hangup": 1}


async def test_an_error_reply_answers_failure_without_more_commands(server: AgiServer) -> None:
    transcript = await request(
        server.port, asterisk_environment(), reply=lambda command, index: b"510 Invalid or unknown command\n"
    )

    assert len(transcript.commands) == 1  # out of step after an error: no RINGLINE_AGI_REASON
    assert transcript.failure is not None and transcript.failure.startswith("command_failed: SET VARIABLE answered 510")
    assert await then_failures(server) == {"command_failed": 1}


async def test_a_slow_environment_times_out(agi_pool: asyncpg.Pool) -> None:
    async with given_server(ringline_scripts(CallStore(agi_pool, owner="agi")), environment_timeout_s=0.2) as srv:
        asterisk = await FakeAsterisk.connect(srv.port)
        await asterisk.send(b"agi_network: yes\n")
        transcript = await asterisk.converse()
        assert transcript.failure is not None and transcript.failure.startswith("environment_timeout:")
        assert await then_failures(srv) == {"environment_timeout": 1}


async def test_a_silent_asterisk_exhausts_the_session_budget(agi_pool: asyncpg.Pool) -> None:
    async with given_server(ringline_scripts(CallStore(agi_pool, owner="agi")), session_timeout_s=0.3) as srv:
        asterisk = await FakeAsterisk.connect(srv.port)
        await asterisk.send(encode_environment(asterisk_environment()))
        first = await asterisk.reader.readline()  # the first SET VARIABLE, never answered
        rest = await asyncio.wait_for(asterisk.reader.read(), 2)
        await asterisk.close()
        assert first.startswith(b"SET VARIABLE ")
        assert rest.startswith(b"FAILURE session_timeout: session not done within 0.3 s")
        assert await then_failures(srv) == {"session_timeout": 1}


async def test_an_unreachable_database_answers_failure_with_the_reason(
    agi_database_url: str, pg_server: str
) -> None:
    host_port = pg_server.split("@", 1)[1].split("/", 1)[0]
    host, _, port = host_port.rpartition(":")
    proxy = FaultProxy(host, int(port))
    proxy_port = await proxy.start()
    dsn = agi_database_url.replace(host_port, f"127.0.0.1:{proxy_port}")
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        async with given_server(ringline_scripts(CallStore(pool, owner="agi"))) as srv:
            await proxy.stop()  # connections reset, nothing listens any more

            transcript = await request(srv.port, asterisk_environment())

            assert transcript.failure is not None and transcript.failure.startswith("route_lookup_failed:")
            assert transcript.variables["RINGLINE_AGI_REASON"] == transcript.failure
            assert await then_failures(srv) == {"route_lookup_failed": 1}
    finally:
        pool.terminate()


async def test_a_script_bug_is_an_internal_error_not_a_task_exception(caplog: pytest.LogCaptureFixture) -> None:
    async def broken(session: AgiSession) -> str:
        raise RuntimeError("boom")

    async with given_server({"route": broken}) as srv:
        transcript = await request(srv.port, asterisk_environment())
        assert transcript.failure == "internal_error: internal error: RuntimeError"
        assert await then_failures(srv) == {"internal_error": 1}
    assert any(r.exc_info is not None and "boom" in str(r.exc_info[1]) for r in caplog.records)


# -- lifecycle ---------------------------------------------------------------------------------------


async def test_stop_cancels_stuck_sessions_after_the_grace_and_tells_asterisk() -> None:
    started = asyncio.Event()

    async def stuck(session: AgiSession) -> str:
        started.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    srv = given_server({"route": stuck}, stop_grace_s=0.1)
    await srv.start()
    port = srv.port
    asterisk = await FakeAsterisk.connect(port)
    await asterisk.send(encode_environment(asterisk_environment()))
    await started.wait()

    async with asyncio.timeout(2):
        await srv.stop()
        transcript = await asterisk.converse()

    assert transcript.failure == "server_stopping" and transcript.closed
    stats = srv.statistics()
    assert (stats.active, dict(stats.failures)) == (0, {"server_stopping": 1})
    assert not srv.serving
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)
    await srv.stop()  # idempotent


async def test_stop_lets_a_running_session_finish_within_the_grace(agi_pool: asyncpg.Pool) -> None:
    entered, release = asyncio.Event(), asyncio.Event()
    route = RouteScript(CallStore(agi_pool, owner="agi"))

    async def slow_route(session: AgiSession) -> str:
        entered.set()
        await release.wait()
        return await route(session)

    srv = given_server({"route": slow_route}, stop_grace_s=5)
    await srv.start()
    pending = asyncio.create_task(request(srv.port, asterisk_environment()))
    await entered.wait()
    stopping = asyncio.create_task(srv.stop())
    await asyncio.sleep(0.05)  # stop() is now in its grace period
    assert not stopping.done()
    release.set()
    await stopping
    transcript: Transcript = await pending
    assert transcript.variables["RINGLINE_ROUTE_STATUS"] == "OK"
    assert srv.statistics().succeeded == 1


async def test_statistics_are_a_frozen_snapshot(server: AgiServer) -> None:
    before = server.statistics()
    await request(server.port, asterisk_environment(extension=DID_BUSY))
    await server.wait_idle()

    assert (before.requests, server.statistics().requests) == (0, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        before.requests = 5  # type: ignore[misc]
    with pytest.raises(TypeError):
        server.statistics().outcomes["OK"] = 2  # type: ignore[index]


async def test_start_twice_is_refused(server: AgiServer) -> None:
    with pytest.raises(RuntimeError, match="already serving"):
        await server.start()
