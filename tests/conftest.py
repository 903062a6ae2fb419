"""Session-wide real peers, provisioned before collection so every test module finds them:

- the Asterisk debootstrap root (built when missing, about 1-3 minutes; cached outside the checkout);
- PostgreSQL: the server on 127.0.0.1:5432 when one answers (this project's machines and CI), otherwise an
  embedded one from the ``pgserver`` wheel on 127.0.0.1:55432, announced to every module through
  ``RINGLINE_TEST_PG`` / ``RINGLINE_TEST_PG_ADMIN_DSN``. Each session gets its own freshly migrated database.
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
from dialplan.asterisk.paths import asterisk_root
from dialplan.asterisk.provision import provision_root


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


_embedded: EmbeddedPostgres | None = None


def pytest_sessionstart(session: pytest.Session) -> None:
    global _embedded
    provision_root(asterisk_root(), log=lambda m: print(f"[asterisk root] {m}", flush=True))
    if os.environ.get("RINGLINE_TEST_PG") or _port_open("127.0.0.1", 5432):
        return
    _embedded = EmbeddedPostgres(Path("/tmp/ringline-test-pg"), port=55432)
    dsn = _embedded.start()
    admin = dsn.rsplit("/", 1)[0] + "/postgres"
    os.environ["RINGLINE_TEST_PG"] = admin
    os.environ.setdefault("RINGLINE_TEST_PG_ADMIN_DSN", admin)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _embedded is not None:
        _embedded.stop()


@pytest.fixture(scope="session")
def pg_server() -> str:
    """DSN of a PostgreSQL server's maintenance database (``postgres``)."""
    return os.environ.get("RINGLINE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


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
