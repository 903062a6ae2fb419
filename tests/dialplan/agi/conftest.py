"""Fixtures of the FastAGI tests: their own freshly migrated database with tenant ``agitest`` (dropped at the
end), a strict loop (any exception reaching the event loop's handler fails the test), and the ports.

Ports (below the ephemeral range, apart from other suites): FastAGI 18573 (live test; the socket-level tests
bind port 0), main Asterisk SIP 18060, ARI 18088, RTP 24000-24249; SIP peer 18070, RTP 24250-24499.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import pytest

from ara_schema import migrate, provisioning
from ara_schema.pool import create_pool

AGI_PORT = 18573
MAIN_SIP, MAIN_HTTP, MAIN_RTP = 18060, 18088, (24000, 24249)
PEER_SIP, PEER_RTP = 18070, (24250, 24499)

TENANT = "agitest"
SUSPENDED_TENANT = "agisusp"
PASSWORDS = {name: secrets.token_hex(8) for name in ("1001", "1002", "carrier")}

DID_ANSWER = "+15557001"  # -> 1001 (answers), fallback hangup
DID_VOICEMAIL = "+15557002"  # -> 1002, ring 5 s, fallback voicemail 1002
DID_IVR = "+15557003"  # -> an IVR flow: not dialled by the dialplan yet
DID_BUSY = "+15557004"  # -> 1002 (busy), fallback hangup
DID_SUSPENDED = "+15557101"  # a DID of the suspended tenant
DID_UNKNOWN = "+15557999"


def _admin(pg_server: str, sql: str) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(pg_server)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@pytest.fixture(scope="package")
def agi_database_url(pg_server: str) -> Iterator[str]:
    """A database of its own for the FastAGI tests: created, migrated, dropped at the end."""
    name = f"ringline_agi_{uuid.uuid4().hex[:10]}"
    _admin(pg_server, f'CREATE DATABASE "{name}"')
    dsn = pg_server.rsplit("/", 1)[0] + "/" + name
    try:
        migrate.upgrade(dsn)
        yield dsn
    finally:
        _admin(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _seed(conn: asyncpg.Connection) -> None:
    await provisioning.create_tenant(conn, TENANT, "FastAGI Test")
    for ext in ("1001", "1002"):
        await provisioning.create_extension(conn, TENANT, ext, PASSWORDS[ext], display_name=f"Ext {ext}")
    await provisioning.create_trunk(conn, TENANT, "carrier", PASSWORDS["carrier"], context=f"ringline-agi-{TENANT}")
    await provisioning.create_did(conn, TENANT, DID_ANSWER, "endpoint", "1001", fallback_type="hangup")
    await provisioning.create_did(
        conn,
        TENANT,
        DID_VOICEMAIL,
        "endpoint",
        "1002",
        ring_timeout_s=5,
        fallback_type="voicemail",
        fallback_target="1002",
    )
    await provisioning.create_did(conn, TENANT, DID_IVR, "ivr", "main")
    await provisioning.create_did(conn, TENANT, DID_BUSY, "endpoint", "1002", fallback_type="hangup")
    await provisioning.create_tenant(conn, SUSPENDED_TENANT, "Suspended")
    await provisioning.create_did(conn, SUSPENDED_TENANT, DID_SUSPENDED, "endpoint", "1001")
    await conn.execute("UPDATE tenants SET status = 'suspended' WHERE slug = $1", SUSPENDED_TENANT)


@pytest.fixture(scope="package")
async def agi_pool(agi_database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the FastAGI database, seeded with the tenants and DIDs above."""
    pool = await create_pool(agi_database_url)
    try:
        async with pool.acquire() as conn:
            await _seed(conn)
        yield pool
    finally:
        await pool.close()


@pytest.fixture(autouse=True)
async def strict_loop() -> AsyncIterator[None]:
    """Fail the test when anything reaches the loop's exception handler (an unhandled task exception...)."""
    loop = asyncio.get_running_loop()
    seen: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: seen.append(context))
    try:
        yield
        await asyncio.sleep(0.05)  # let done callbacks and closing transports report
    finally:
        loop.set_exception_handler(previous)
    assert seen == [], f"the event loop reported: {[c.get('message') for c in seen]}"
