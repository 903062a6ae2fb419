"""A main instance from the real root over a freshly migrated ARA database, and the SIP peer against it.

Scenario: main runs as ``dialplan-test`` (SIP 15060, ARI 18088, tenants acme and globex); the peer runs as
``peer-15070`` with one phone per behaviour plus ``dialplan-ghost``, whose endpoint is not in the database.
Rows are written with plain SQL (md5_cred = md5("user:asterisk:password")).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from dialplan.asterisk.config import AsteriskInstance
from dialplan.asterisk.control import basic_auth_header
from dialplan.asterisk.errors import PortInUse
from dialplan.asterisk.process import AsteriskProcess, ProcessState
from dialplan.asterisk.render import render_instance
from tests.dialplan.conftest import (
    MAIN_HTTP_PORT,
    MAIN_RTP,
    MAIN_SIP_PORT,
    PEER_RTP,
    PEER_SIP_PORT,
    db_fields,
)
from tests.peers.audio import voiced_seconds
from tests.peers.sip_peer import PeerCarrier, PeerPhone, SipPeer

pytestmark = pytest.mark.peers

ARI_USER = "dialplan-test"
ARI_PASSWORD = secrets.token_urlsafe(16)
PHONES = {
    "dialplan-alice": PeerPhone("dialplan-alice", "pw-alice", "answer", tone_hz=700),
    "dialplan-bob": PeerPhone("dialplan-bob", "pw-bob", "busy"),
    "dialplan-carol": PeerPhone("dialplan-carol", "pw-carol", "noanswer"),
    "dialplan-dave": PeerPhone("dialplan-dave", "pw-dave", "reject"),
}
GHOST = PeerPhone("dialplan-ghost", "pw-ghost", "answer")
TRUNK = PeerCarrier("dialplan-trunk", "pw-trunk")


def given_instance(root: Path, database_url: str, **overrides: Any) -> AsteriskInstance:
    fields: dict[str, Any] = {
        "name": "dialplan-test",
        "root": root,
        "sip_port": MAIN_SIP_PORT,
        "http_port": MAIN_HTTP_PORT,
        "rtp_start": MAIN_RTP[0],
        "rtp_end": MAIN_RTP[1],
        "ari_user": ARI_USER,
        "ari_password": ARI_PASSWORD,
        "tenants": ("acme", "globex"),
        **db_fields(database_url),
    }
    fields.update(overrides)
    return AsteriskInstance(**fields)


async def given_endpoints_in_database(database_url: str) -> None:
    """ps_aors/ps_auths/ps_endpoints rows for the phones (context ringline-acme) and the trunk."""
    conn = await asyncpg.connect(database_url)
    try:
        for user, password, aor in [(p.username, p.password, True) for p in PHONES.values()] + [
            (TRUNK.trunk_username, TRUNK.trunk_password, False)
        ]:
            await conn.execute("DELETE FROM ps_endpoints WHERE id = $1", user)
            await conn.execute("DELETE FROM ps_auths WHERE id = $1", user)
            await conn.execute("DELETE FROM ps_aors WHERE id = $1", user)
            if aor:
                await conn.execute(
                    "INSERT INTO ps_aors (id, max_contacts, remove_existing) VALUES ($1, 1, 'yes')", user
                )
            await conn.execute(
                "INSERT INTO ps_auths (id, auth_type, username, md5_cred) VALUES ($1, 'md5', $1, md5($2))",
                user,
                f"{user}:asterisk:{password}",
            )
            await conn.execute(
                "INSERT INTO ps_endpoints (id, transport, aors, auth, context, disallow, allow, direct_media)"
                " VALUES ($1, 'transport-udp', $2, $1, 'ringline-acme', 'all', 'ulaw', 'no')",
                user,
                user if aor else None,
            )
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def main_asterisk(provisioned_root: Path, database_url: str) -> AsyncIterator[AsteriskProcess]:
    await given_endpoints_in_database(database_url)
    inst = given_instance(provisioned_root, database_url)
    render_instance(inst)
    process = AsteriskProcess(inst)
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


@pytest.fixture(scope="module")
async def peer(provisioned_root: Path, main_asterisk: AsteriskProcess) -> AsyncIterator[SipPeer]:
    sip_peer = SipPeer(
        provisioned_root,
        main_sip_port=MAIN_SIP_PORT,
        sip_port=PEER_SIP_PORT,
        phones=[*PHONES.values(), GHOST],
        carrier=TRUNK,
        rtp_start=PEER_RTP[0],
        rtp_end=PEER_RTP[1],
    )
    async with sip_peer:
        for username in PHONES:
            await sip_peer.wait_registration(username, "Registered", timeout_s=20)
        yield sip_peer


@pytest.fixture
async def ari_session(main_asterisk: AsteriskProcess) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Authorization": basic_auth_header(ARI_USER, ARI_PASSWORD)}
    async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{MAIN_HTTP_PORT}", headers=headers) as s:
        yield s


class AriEvents:
    """ARI events of application ``ringline`` as a queue (a minimal stand-in for the engine)."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> AriEvents:
        self._ws = await self.session.ws_connect("/ari/events?app=ringline")
        self._task = asyncio.create_task(self._read(self._ws))
        return self

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.TEXT:
                await self.queue.put(json.loads(msg.data))

    async def __aexit__(self, *exc: object) -> None:
        assert self._ws is not None and self._task is not None
        await self._ws.close()
        await self._task

    async def wait_for(self, event_type: str, timeout_s: float = 10.0) -> dict[str, Any]:
        async with asyncio.timeout(timeout_s):
            while True:
                event = await self.queue.get()
                if event["type"] == event_type:
                    return event


# -- the main instance ---------------------------------------------------------------------------


async def test_main_starts_with_no_error_lines(main_asterisk: AsteriskProcess) -> None:
    lines = main_asterisk.messages_since_start()
    assert any("modules will be loaded" in line for line in lines)
    assert [line for line in lines if "ERROR[" in line] == []


async def test_ari_answers_with_the_rendered_credentials(ari_session: aiohttp.ClientSession) -> None:
    async with ari_session.get("/ari/asterisk/info") as resp:
        assert resp.status == 200
        info = await resp.json()
    assert info["system"]["version"].startswith("22.")
    url = f"http://127.0.0.1:{MAIN_HTTP_PORT}/ari/asterisk/info"
    async with aiohttp.ClientSession() as anonymous, anonymous.get(url) as resp:
        assert resp.status == 401


async def test_cli_reports_asterisk_22(main_asterisk: AsteriskProcess) -> None:
    assert "Asterisk 22" in await main_asterisk.cli("core show version")


async def test_realtime_is_connected_and_pjsip_has_no_config_endpoints(
    main_asterisk: AsteriskProcess,
) -> None:
    assert "Connected to" in await main_asterisk.cli("realtime show pgsql status")
    transports = await main_asterisk.cli("pjsip show transports")
    assert "transport-udp" in transports and "transport-tcp" in transports
    assert "Objects found: 2" in transports
    assert "Stasis(ringline,acme)" in await main_asterisk.cli("dialplan show ringline-acme")
    await main_asterisk.reload("res_pjsip.so")


async def test_ports_in_use_raise_port_in_use_before_starting(
    main_asterisk: AsteriskProcess, provisioned_root: Path, database_url: str
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    for overrides, expected in (
        ({"sip_port": MAIN_SIP_PORT, "http_port": free_port}, MAIN_SIP_PORT),
        ({"sip_port": free_port, "http_port": MAIN_HTTP_PORT}, MAIN_HTTP_PORT),
    ):
        second = AsteriskProcess(
            given_instance(provisioned_root, database_url, name="dialplan-test-2", **overrides)
        )
        with pytest.raises(PortInUse) as info:
            await second.start(timeout_s=5)
        assert info.value.port == expected
        assert second.state is ProcessState.NEW and second.pid is None


# -- the SIP peer against it ----------------------------------------------------------------------


async def test_peer_phone_unknown_to_main_is_not_registered(
    peer: SipPeer, main_asterisk: AsteriskProcess, database_url: str
) -> None:
    """Given no ps_endpoints row for dialplan-ghost, its REGISTER is refused and no contact is written."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not any(
        "dialplan-ghost" in line and "No matching endpoint found" in line
        for line in main_asterisk.messages_since_start()
    ):
        assert loop.time() < deadline, "main never saw the ghost's REGISTER"
        await asyncio.sleep(0.1)
    status = await peer.registration_status()
    assert status["dialplan-ghost"] in {"Rejected", "Unregistered"}
    assert all(status[u] == "Registered" for u in PHONES)
    conn = await asyncpg.connect(database_url)
    try:
        contacts = await conn.fetch(
            "SELECT id, uri FROM ps_contacts WHERE endpoint IN ('dialplan-ghost', $1)", "dialplan-alice"
        )
    finally:
        await conn.close()
    assert [r["uri"] for r in contacts] == [f"sip:dialplan-alice@127.0.0.1:{PEER_SIP_PORT}"]


@pytest.mark.parametrize(
    ("username", "cause"),
    [("dialplan-bob", 17), ("dialplan-carol", 19), ("dialplan-dave", 21)],
)
async def test_peer_phone_behaviours_give_their_q850_cause(
    peer: SipPeer, ari_session: aiohttp.ClientSession, username: str, cause: int
) -> None:
    async with AriEvents(ari_session) as events:
        params = {"endpoint": f"PJSIP/{username}", "app": "ringline", "timeout": "2"}
        async with ari_session.post("/ari/channels", params=params) as resp:
            assert resp.status == 200
        destroyed = await events.wait_for("ChannelDestroyed", timeout_s=10)
    assert destroyed["cause"] == cause


async def test_carrier_call_reaches_the_tenant_context_and_audio_flows_both_ways(
    peer: SipPeer, ari_session: aiohttp.ClientSession
) -> None:
    """The carrier calls +15550100; main hands it to Stasis(ringline, acme); the app bridges it to alice."""
    async with AriEvents(ari_session) as events:
        call = await peer.place_call("+15550100", tone_hz=1000, talk_s=3.0)
        start = await events.wait_for("StasisStart")
        assert start["args"] == ["acme"]
        assert start["channel"]["dialplan"]["context"] == "ringline-acme"
        assert start["channel"]["dialplan"]["exten"] == "+15550100"
        assert start["channel"]["caller"]["number"] == TRUNK.trunk_username
        inbound = start["channel"]["id"]
        async with ari_session.post("/ari/bridges", params={"type": "mixing"}) as resp:
            bridge = (await resp.json())["id"]
        await ari_session.post(f"/ari/channels/{inbound}/answer")
        await ari_session.post(f"/ari/bridges/{bridge}/addChannel", params={"channel": inbound})
        params = {"endpoint": "PJSIP/dialplan-alice", "app": "ringline", "appArgs": "callee"}
        async with ari_session.post("/ari/channels", params=params) as resp:
            outbound = (await resp.json())["id"]
        await events.wait_for("StasisStart")
        await ari_session.post(f"/ari/bridges/{bridge}/addChannel", params={"channel": outbound})
        cause = await call.wait_ended(timeout_s=20)
        await ari_session.delete(f"/ari/channels/{outbound}")
        await ari_session.delete(f"/ari/bridges/{bridge}")
    assert (cause, call.dial_status, call.answered) == (16, "ANSWER", True)
    alice_heard = await peer.wait_phone_recording("dialplan-alice", timeout_s=10)
    assert voiced_seconds(call.recording_path, 700, 0.5) > 1.5  # the carrier heard alice
    assert voiced_seconds(alice_heard, 1000, 0.5) > 1.5  # alice heard the carrier


async def test_carrier_hangs_up_early(peer: SipPeer, ari_session: aiohttp.ClientSession) -> None:
    async with AriEvents(ari_session) as events:
        call = await peer.place_call("+15550101", tone_hz=1000, talk_s=60.0, record=False)
        start = await events.wait_for("StasisStart")
        await ari_session.post(f"/ari/channels/{start['channel']['id']}/answer")
        await asyncio.sleep(0.5)
        await call.hangup()
        assert await call.wait_ended(timeout_s=5) == 16
        await events.wait_for("StasisEnd")
    assert not call.recording_path.exists()


async def test_main_rejecting_busy_is_seen_by_the_carrier(
    peer: SipPeer, ari_session: aiohttp.ClientSession
) -> None:
    async with AriEvents(ari_session) as events:
        call = await peer.place_call("+15550102", tone_hz=1000, talk_s=5.0)
        start = await events.wait_for("StasisStart")
        await ari_session.delete(f"/ari/channels/{start['channel']['id']}", params={"reason": "busy"})
        assert await call.wait_ended(timeout_s=5) == 17
    assert (call.dial_status, call.answered) == ("BUSY", False)
