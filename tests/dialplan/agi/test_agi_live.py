"""FastAGI against a real Asterisk 22: ordinary dialplan (no ARI) routes carrier calls through the server.

Scenario: main Asterisk ``agitest`` (SIP 18060, ARI 18088) renders context ``ringline-agi-agitest`` with
``AGI(agi://127.0.0.1:18573/route,agitest)`` then ``Dial(${RINGLINE_DIAL},${RINGLINE_RING_TIMEOUT})``; the
tenant's trunk lands there. The peer Asterisk (SIP 18070) registers phone ``agitest-1001`` (answers) and
``agitest-1002`` (busy) and places the carrier's calls. The FastAGI server runs in this process on the
tenant's own database.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from dialplan.agi import AgiServer, IvrScript, ringline_scripts
from dialplan.asterisk.config import AsteriskInstance, VoicemailBox
from dialplan.asterisk.process import AsteriskProcess
from dialplan.asterisk.render import render_instance
from engine.calls.store import CallStore
from tests.dialplan.agi.conftest import (
    AGI_PORT,
    DID_ANSWER,
    DID_BUSY,
    DID_UNKNOWN,
    MAIN_HTTP,
    MAIN_RTP,
    MAIN_SIP,
    PASSWORDS,
    PEER_RTP,
    PEER_SIP,
    TENANT,
)
from tests.dialplan.conftest import db_fields
from tests.peers.sip_peer import PeerCarrier, PeerPhone, SipPeer

pytestmark = pytest.mark.peers


@pytest.fixture(scope="module")
async def agi_server(agi_pool: asyncpg.Pool) -> AsyncIterator[AgiServer]:
    async with AgiServer(ringline_scripts(CallStore(agi_pool, owner="agi")), port=AGI_PORT) as server:
        yield server


@pytest.fixture(scope="module")
async def main_asterisk(
    provisioned_root: Path, agi_database_url: str, agi_pool: asyncpg.Pool
) -> AsyncIterator[AsteriskProcess]:
    inst = AsteriskInstance(
        name="agitest",
        root=provisioned_root,
        sip_port=MAIN_SIP,
        http_port=MAIN_HTTP,
        rtp_start=MAIN_RTP[0],
        rtp_end=MAIN_RTP[1],
        ari_user="agitest",
        ari_password=secrets.token_urlsafe(16),
        tenants=(TENANT,),
        mailboxes=(VoicemailBox("1002", "4321", "Ext 1002"),),
        agi_port=AGI_PORT,
        **db_fields(agi_database_url),  # type: ignore[arg-type]
    )
    render_instance(inst)
    async with AsteriskProcess(inst) as process:
        yield process


@pytest.fixture(scope="module")
async def peer(provisioned_root: Path, main_asterisk: AsteriskProcess) -> AsyncIterator[SipPeer]:
    sip_peer = SipPeer(
        provisioned_root,
        main_sip_port=MAIN_SIP,
        sip_port=PEER_SIP,
        phones=[
            PeerPhone(f"{TENANT}-1001", PASSWORDS["1001"], "answer", tone_hz=600, ring_s=0.5),
            PeerPhone(f"{TENANT}-1002", PASSWORDS["1002"], "busy"),
        ],
        carrier=PeerCarrier(f"{TENANT}-carrier", PASSWORDS["carrier"]),
        rtp_start=PEER_RTP[0],
        rtp_end=PEER_RTP[1],
    )
    async with sip_peer:
        for ext in ("1001", "1002"):
            await sip_peer.wait_registration(f"{TENANT}-{ext}", "Registered", timeout_s=20)
        yield sip_peer


async def test_main_loads_agi_with_no_error_lines(main_asterisk: AsteriskProcess) -> None:
    assert "res_agi.so" in await main_asterisk.cli("module show like res_agi")
    assert "AGI" in await main_asterisk.cli("core show application AGI")
    assert [line for line in main_asterisk.messages_since_start() if "ERROR[" in line] == []


async def test_a_dialplan_call_routed_by_agi_reaches_the_registered_phone(
    agi_server: AgiServer, main_asterisk: AsteriskProcess, peer: SipPeer
) -> None:
    call = await peer.place_call(DID_ANSWER, tone_hz=1000, talk_s=2.0)
    await call.wait_ended(timeout_s=30)

    assert (call.dial_status, call.answered) == ("ANSWER", True)
    await peer.wait_phone_recording(f"{TENANT}-1001")  # the phone answered and heard the call
    stats = agi_server.statistics()
    assert stats.outcomes.get("OK", 0) >= 1 and dict(stats.failures) == {}
    assert [line for line in main_asterisk.messages_since_start() if "ERROR[" in line] == []


async def test_a_busy_phone_takes_the_dids_hangup_fallback(agi_server: AgiServer, peer: SipPeer) -> None:
    call = await peer.place_call(DID_BUSY, tone_hz=1000, talk_s=1.0)
    cause = await call.wait_ended(timeout_s=30)

    assert (call.dial_status, call.answered, cause) == ("BUSY", False, 17)


async def test_an_unknown_did_is_refused_with_unallocated_number(agi_server: AgiServer, peer: SipPeer) -> None:
    before = agi_server.statistics().outcomes.get("NOROUTE", 0)

    call = await peer.place_call(DID_UNKNOWN, tone_hz=1000, talk_s=1.0)
    cause = await call.wait_ended(timeout_s=30)

    assert (call.answered, cause) == (False, 1)
    assert agi_server.statistics().outcomes.get("NOROUTE", 0) == before + 1


async def test_a_failure_answer_sends_the_call_to_the_failed_branch(
    agi_server: AgiServer, main_asterisk: AsteriskProcess, peer: SipPeer
) -> None:
    """Asterisk 22 reads our ``FAILURE`` line as AGISTATUS=FAILURE: the context hangs up with 34 (SIP 503)."""
    await agi_server.stop()
    try:
        async with AgiServer({"route": IvrScript()}, port=AGI_PORT) as failing:
            call = await peer.place_call(DID_ANSWER, tone_hz=1000, talk_s=1.0)
            cause = await call.wait_ended(timeout_s=30)
            await failing.wait_idle()
            assert dict(failing.statistics().failures) == {"not_available": 1}
    finally:
        await agi_server.start()

    assert (call.answered, cause) == (False, 34)


async def test_no_agi_server_is_a_failure_too(agi_server: AgiServer, peer: SipPeer) -> None:
    await agi_server.stop()
    try:
        call = await peer.place_call(DID_ANSWER, tone_hz=1000, talk_s=1.0)
        cause = await call.wait_ended(timeout_s=30)
    finally:
        await agi_server.start()

    assert (call.answered, cause) == (False, 34)
