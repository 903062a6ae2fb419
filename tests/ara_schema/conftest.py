"""Fixtures for ara_schema tests.

A real PostgreSQL (127.0.0.1:5432 unless ``RINGLINE_TEST_PG_ADMIN_DSN`` is set), one fresh uniquely named
database per test module (``ara_schema_dev_<module>_<hex>``, dropped after), and a TCP proxy to make the
server appear late.

A missing peer skips locally and FAILS when ``CI=true``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, NoReturn

import asyncpg
import psycopg
import pytest
from psycopg import sql

from ara_schema import migrate

ADMIN_DSN = os.environ.get("RINGLINE_TEST_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def _need_peer(what: str, reason: object) -> NoReturn:
    # the test session provides PostgreSQL (tests/conftest.py: the local server or an embedded one)
    pytest.fail(f"needs {what}: {reason}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def need_peer() -> Callable[[str, object], NoReturn]:
    """``need_peer(what, reason)``: fail a test whose real peer is missing (never a skip)."""
    return _need_peer


@pytest.fixture(scope="session")
def free_port() -> Callable[[], int]:
    """``free_port()``: a TCP port on 127.0.0.1 nobody listens on (closed right after binding)."""
    return _free_port


def _dsn_for(dbname: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(ADMIN_DSN)
    user, host, port = info.get("user", "postgres"), info.get("host", "127.0.0.1"), info.get("port", 5432)
    return f"postgresql://{user}@{host}:{port}/{dbname}"


@pytest.fixture(scope="session")
def pg_admin() -> str:
    try:
        psycopg.connect(ADMIN_DSN, connect_timeout=3).close()
    except psycopg.Error as exc:
        _need_peer(f"PostgreSQL at {ADMIN_DSN}", str(exc).splitlines()[0])
    return ADMIN_DSN


@pytest.fixture(scope="module")
def make_database(pg_admin: str, request: pytest.FixtureRequest) -> Iterator[Callable[[], str]]:
    """Factory: a new empty database per call; all dropped (FORCE) when the module ends."""
    created: list[str] = []
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_ara_schema_")[:20]

    def make() -> str:
        name = f"ara_schema_dev_{module}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(pg_admin, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        created.append(name)
        return _dsn_for(name)

    yield make
    with psycopg.connect(pg_admin, autocommit=True) as admin:
        for name in created:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def migrated_dsn(make_database: Callable[[], str]) -> str:
    dsn = make_database()
    migrate.upgrade(dsn)
    return dsn


@pytest.fixture
async def conn(migrated_dsn: str) -> AsyncIterator[Any]:
    """An asyncpg connection inside a transaction rolled back after the test (tests stay independent)."""
    connection = await asyncpg.connect(migrated_dsn)
    transaction = connection.transaction()
    await transaction.start()
    try:
        yield connection
    finally:
        with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError):
            await transaction.rollback()
        await connection.close()


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; ``start()`` may come late to simulate a server coming up."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self, port: int) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        if self._server is not None:
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
            self._writers.add(up_writer)
            async with asyncio.TaskGroup() as group:
                group.create_task(self._pipe(reader, up_writer))
                group.create_task(self._pipe(up_reader, writer))
        except OSError:
            pass
        finally:
            writer.close()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()


@pytest.fixture
async def tcp_proxy() -> AsyncIterator[Callable[[str, int], TcpProxy]]:
    """``tcp_proxy(target_host, target_port)`` -> a ``TcpProxy`` (not listening yet); all closed after."""
    proxies: list[TcpProxy] = []

    def make(host: str, port: int) -> TcpProxy:
        proxy = TcpProxy(host, port)
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        await proxy.close()
