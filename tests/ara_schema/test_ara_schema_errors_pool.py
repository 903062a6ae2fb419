"""SQLSTATE -> error tree, and the pool's connect errors/retries against a real server, a closed port, a
server that never answers, and a server that comes up while we retry (TCP proxy)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import asyncpg
import psycopg
import pytest

from ara_schema import errors
from ara_schema.pool import backoff_s, create_pool


class FakePgError(Exception):
    def __init__(self, sqlstate: str, message: str = "boom", constraint_name: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate
        self.constraint_name = constraint_name


@pytest.mark.parametrize(
    ("sqlstate", "expected"),
    [
        ("23505", errors.UniqueViolation),
        ("23503", errors.ForeignKeyViolation),
        ("23514", errors.CheckViolation),
        ("23502", errors.NotNullViolation),
        ("23P01", errors.IntegrityViolation),  # exclusion_violation: class fallback
        ("08006", errors.DatabaseUnavailable),
        ("28P01", errors.DatabaseUnavailable),
        ("3D000", errors.DatabaseUnavailable),
        ("57P03", errors.DatabaseUnavailable),
        ("42P01", errors.AraError),
    ],
)
def test_from_postgres_error_maps_sqlstate(sqlstate: str, expected: type[errors.AraError]) -> None:
    mapped = errors.from_postgres_error(FakePgError(sqlstate, "first line\ndetail"), host="db", port=5432)
    assert type(mapped) is expected
    assert mapped.sqlstate == sqlstate
    assert "\n" not in str(mapped)


def test_from_postgres_error_without_sqlstate_is_plain_ara_error() -> None:
    mapped = errors.from_postgres_error(RuntimeError("nope"))
    assert type(mapped) is errors.AraError
    assert mapped.sqlstate is None


async def test_given_real_unique_violation_from_asyncpg_then_unique_violation(migrated_dsn: str) -> None:
    conn = await asyncpg.connect(migrated_dsn)
    try:
        async with conn.transaction():
            await conn.execute("INSERT INTO tenants (slug, name) VALUES ('dup', 'Dup')")
            with pytest.raises(asyncpg.UniqueViolationError) as caught:
                await conn.execute("INSERT INTO tenants (slug, name) VALUES ('dup', 'Dup')")
            mapped = errors.from_postgres_error(caught.value)
            assert isinstance(mapped, errors.UniqueViolation)
            assert (mapped.constraint_name, mapped.table_name) == ("tenants_slug_key", "tenants")
            raise _Rollback
    except _Rollback:
        pass
    finally:
        await conn.close()


def test_given_real_unique_violation_from_psycopg_then_unique_violation(migrated_dsn: str) -> None:
    with psycopg.connect(migrated_dsn) as conn:
        conn.execute("INSERT INTO tenants (slug, name) VALUES ('dup', 'Dup')")
        with pytest.raises(errors.UniqueViolation) as caught, errors.translate_postgres_errors():
            conn.execute("INSERT INTO tenants (slug, name) VALUES ('dup', 'Dup')")
        assert caught.value.constraint_name == "tenants_slug_key"
        assert isinstance(caught.value.__cause__, psycopg.errors.UniqueViolation)
        conn.rollback()


class _Rollback(Exception):
    pass


async def test_create_pool_connects_and_queries(migrated_dsn: str) -> None:
    pool = await create_pool(migrated_dsn, min_size=1, max_size=2)
    try:
        assert await pool.fetchval("SELECT count(*) FROM ps_endpoints") == 0
    finally:
        await pool.close()


async def test_given_closed_port_when_create_pool_then_one_line_database_unavailable(
    free_port: Callable[[], int],
) -> None:
    port = free_port()
    with pytest.raises(errors.DatabaseUnavailable) as caught:
        await create_pool(f"postgresql://postgres@127.0.0.1:{port}/ringline")
    assert str(caught.value) == f"PostgreSQL at 127.0.0.1:{port} unavailable: Connection refused"


async def test_given_silent_server_when_create_pool_then_times_out_with_budget_in_message() -> None:
    with socket.socket() as silent:  # accepts TCP (kernel backlog) but never speaks
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        with pytest.raises(errors.DatabaseUnavailable, match=r"unavailable: no answer within 0\.3 s$"):
            await create_pool(f"postgresql://postgres@127.0.0.1:{port}/ringline", connect_timeout_s=0.3)


async def test_given_closed_port_when_retrying_then_capped_backoff_and_attempt_count(
    free_port: Callable[[], int],
) -> None:
    port = free_port()
    delays: list[float] = []

    async def fake_sleep(delay: float) -> None:
        delays.append(delay)

    with pytest.raises(errors.DatabaseUnavailable, match=r"Connection refused \(after 4 attempts\)$"):
        await create_pool(f"postgresql://postgres@127.0.0.1:{port}/x", attempts=4, sleep=fake_sleep)
    assert delays == [0.5, 1.0, 2.0]
    assert [backoff_s(n) for n in range(1, 8)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]


async def test_given_server_coming_up_during_retries_then_pool_connects(
    migrated_dsn: str, free_port: Callable[[], int], tcp_proxy: Callable[[str, int], Any]
) -> None:
    info = psycopg.conninfo.conninfo_to_dict(migrated_dsn)
    proxy = tcp_proxy(str(info["host"]), int(str(info["port"])))
    port = free_port()
    delays: list[float] = []

    async def sleep_then_server_appears(delay: float) -> None:
        delays.append(delay)
        if len(delays) == 2:
            await proxy.start(port)

    pool = await create_pool(
        f"postgresql://postgres@127.0.0.1:{port}/{info['dbname']}",
        attempts=5,
        sleep=sleep_then_server_appears,
    )
    try:
        assert await pool.fetchval("SELECT 1") == 1
        assert delays == [0.5, 1.0]
    finally:
        await pool.close()


async def test_given_missing_database_then_no_retry(pg_admin: str) -> None:
    delays: list[float] = []

    async def fake_sleep(delay: float) -> None:
        delays.append(delay)

    dsn = pg_admin.rsplit("/", 1)[0] + "/ara_schema_dev_missing"
    with pytest.raises(errors.DatabaseUnavailable, match='database "ara_schema_dev_missing" does not exist'):
        await create_pool(dsn, attempts=3, sleep=fake_sleep)
    assert delays == []


async def test_attempts_must_be_positive() -> None:
    with pytest.raises(ValueError, match="attempts"):
        await create_pool("postgresql://postgres@127.0.0.1:1/x", attempts=0)
