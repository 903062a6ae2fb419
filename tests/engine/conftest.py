"""Real peers for the engine's tests: the Asterisk under test ("itest"), a peer Asterisk with SIP phones and
a carrier, a tenant with extensions and DIDs written through ``ara_schema``, and an engine in this process
whose ARI traffic passes through a TCP fault proxy.

Ports (below the ephemeral range, apart from a developer's instance and other test modules): main SIP 16060, ARI
16088, RTP 20000-20499; peer SIP 16070, RTP 21000-21499.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from ara_schema import provisioning
from ara_schema.pool import create_pool
from dialplan.asterisk.config import AsteriskInstance, VoicemailBox
from dialplan.asterisk.paths import asterisk_root
from dialplan.asterisk.process import AsteriskProcess
from dialplan.asterisk.provision import provision_root
from dialplan.asterisk.render import render_instance
from engine.config import EngineConfig
from engine.runtime import Engine
from ringline.stack import db_parts
from tests.faults import FaultProxy
from tests.peers.sip_peer import PeerCarrier, PeerPhone, SipPeer
from tests.scenarios import eventually

TENANT = "itest"
MAIN_SIP, MAIN_HTTP = 16060, 16088
PEER_SIP = 16070
ARI_USER, ARI_PASSWORD = "ringline-itest", secrets.token_urlsafe(16)

ANSWER_TONE_HZ = 600  # what the answering phone plays
CALLER_TONE_HZ = 1000  # what the carrier plays


@dataclass(frozen=True)
class Lab:
    """The tenant's numbers and the peers' handles."""

    asterisk: AsteriskProcess
    peer: SipPeer
    database_url: str
    did_answer: str = "+15550001"  # -> 1001 answers (fallback hangup)
    did_busy: str = "+15550002"  # -> 1002 busy (fallback voicemail 1002)
    did_noanswer: str = "+15550003"  # -> 1003 rings for ever, ring timeout 3 s (fallback hangup)
    did_busy_hangup: str = "+15550004"  # -> 1002 busy (fallback hangup)
    did_unregistered: str = "+15550005"  # -> 1009 has no contact (fallback hangup)
    did_voicemail: str = "+15550006"  # -> straight to mailbox 1002
    mailbox: str = "1002"


PASSWORDS = {ext: secrets.token_hex(8) for ext in ("1001", "1002", "1003", "1004", "1009", "carrier")}


async def _seed(conn: asyncpg.Connection) -> None:
    if await conn.fetchval("SELECT 1 FROM tenants WHERE slug = $1", TENANT):
        return
    await provisioning.create_tenant(conn, TENANT, "Integration Test")
    for ext in ("1001", "1002", "1003", "1004", "1009"):
        await provisioning.create_extension(conn, TENANT, ext, PASSWORDS[ext], display_name=f"Ext {ext}")
    await provisioning.create_trunk(conn, TENANT, "carrier", PASSWORDS["carrier"])
    await provisioning.create_did(conn, TENANT, "+15550001", "endpoint", "1001", fallback_type="hangup")
    await provisioning.create_did(
        conn, TENANT, "+15550002", "endpoint", "1002", fallback_type="voicemail", fallback_target="1002"
    )
    await provisioning.create_did(
        conn, TENANT, "+15550003", "endpoint", "1003", ring_timeout_s=3, fallback_type="hangup"
    )
    await provisioning.create_did(conn, TENANT, "+15550004", "endpoint", "1002", fallback_type="hangup")
    await provisioning.create_did(conn, TENANT, "+15550005", "endpoint", "1009", fallback_type="hangup")
    await provisioning.create_did(conn, TENANT, "+15550006", "voicemail", "1002")


@pytest.fixture(scope="session")
def root() -> Path:
    """The Asterisk debootstrap root, provisioned when missing (cached outside the checkout)."""
    path = asterisk_root()
    provision_root(path)
    return path


@pytest.fixture(scope="session")
async def lab(root: Path, database_url: str) -> AsyncIterator[Lab]:
    conn = await asyncpg.connect(database_url)
    try:
        await _seed(conn)
    finally:
        await conn.close()
    db = db_parts(database_url)
    inst = AsteriskInstance(
        name="itest",
        root=root,
        sip_port=MAIN_SIP,
        http_port=MAIN_HTTP,
        rtp_start=20000,
        rtp_end=20499,
        ari_user=ARI_USER,
        ari_password=ARI_PASSWORD,
        stasis_app="ringline",
        db_host=db.host,
        db_port=db.port,
        db_name=db.dbname,
        db_user=db.user,
        db_password=db.password,
        tenants=(TENANT,),
        mailboxes=(VoicemailBox("1002", "4321", "Ext 1002"),),
    )
    render_instance(inst)
    asterisk = AsteriskProcess(inst)
    await asterisk.start()
    peer = SipPeer(
        root,
        main_sip_port=MAIN_SIP,
        sip_port=PEER_SIP,
        phones=[
            PeerPhone(f"{TENANT}-1001", PASSWORDS["1001"], "answer", tone_hz=ANSWER_TONE_HZ, ring_s=0.5),
            PeerPhone(f"{TENANT}-1002", PASSWORDS["1002"], "busy"),
            PeerPhone(f"{TENANT}-1003", PASSWORDS["1003"], "noanswer"),
            PeerPhone(f"{TENANT}-1004", "not-the-password", "answer"),
        ],
        carrier=PeerCarrier(f"{TENANT}-carrier", PASSWORDS["carrier"]),
        rtp_start=21000,
        rtp_end=21499,
    )
    try:
        await peer.start()
        for ext in ("1001", "1002", "1003"):
            await peer.wait_registration(f"{TENANT}-{ext}", "Registered", timeout_s=20)
        yield Lab(asterisk=asterisk, peer=peer, database_url=database_url)
    finally:
        await peer.stop()
        await asterisk.stop()


@dataclass
class RunningEngine:
    engine: Engine
    proxy: FaultProxy
    task: asyncio.Task[None]
    pool: asyncpg.Pool


def engine_config(ari_url: str, database_url: str, instance_id: str = "itest") -> EngineConfig:
    return EngineConfig(
        ari_url=ari_url,
        ari_user=ARI_USER,
        ari_password=ARI_PASSWORD,
        database_url=database_url,
        app="ringline",
        instance_id=instance_id,
    )


@pytest.fixture
async def running_engine(lab: Lab) -> AsyncIterator[RunningEngine]:
    """An engine in this process; its ARI REST and WebSocket traffic goes through a fault proxy."""
    proxy = FaultProxy(target_host="127.0.0.1", target_port=MAIN_HTTP)
    port = await proxy.start()
    pool = await create_pool(lab.database_url)
    engine = Engine(engine_config(f"http://127.0.0.1:{port}", lab.database_url), pool)
    task = asyncio.create_task(engine.run())
    try:
        await asyncio.wait_for(engine.wait_connected(), 10)
        # the first reconciliation has run (it is awaited before the stream delivers events)
        await eventually(lambda: engine.last_reconcile is not None, timeout_s=10, what="first reconcile")
        yield RunningEngine(engine, proxy, task, pool)
    finally:
        await engine.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await pool.close()
        await proxy.stop()
