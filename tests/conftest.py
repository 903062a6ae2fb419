"""Session-wide real peers: a PostgreSQL database, the Asterisk debootstrap root.

PostgreSQL: the server on 127.0.0.1:5432 when one answers (this project's machines and CI), otherwise an
embedded one from the ``pgserver`` wheel. Each session gets its own freshly migrated database.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from ara_schema import migrate
from ara_schema.embedded import EmbeddedPostgres


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """DSN of a PostgreSQL server's maintenance database (``postgres``)."""
    if os.environ.get("RINGLINE_TEST_PG"):
        yield os.environ["RINGLINE_TEST_PG"]
    elif _port_open("127.0.0.1", 5432):
        yield "postgresql://postgres@127.0.0.1:5432/postgres"
    else:
        embedded = EmbeddedPostgres(Path(os.environ.get("TMPDIR", "/tmp")) / "ringline-test-pg", port=55432)
        dsn = embedded.start()
        yield dsn.rsplit("/", 1)[0] + "/postgres"
        embedded.stop()


@pytest.fixture(scope="session")
def database_url(pg_server: str) -> Iterator[str]:
    """A fresh, migrated database for this test session; dropped at the end."""
    name = f"ringline_test_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(pg_server)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    dsn = pg_server.rsplit("/", 1)[0] + "/" + name
    migrate.upgrade(dsn)
    yield dsn
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url)
    try:
        yield conn
    finally:
        await conn.close()
