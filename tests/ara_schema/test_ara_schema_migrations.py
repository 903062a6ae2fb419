"""Migrations against a real PostgreSQL: from empty, idempotent, concurrent, stepwise, and clear errors."""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg
import pytest

from ara_schema import migrate
from ara_schema.errors import DatabaseUnavailable, MigrationError
from ara_schema.migrations import VERSION_TABLE

RINGLINE_TABLES = {"tenants", "users", "user_roles", "dids", "cdr", "call_legs", "active_calls", "audit_log",
                   "crm_webhooks", "event_subscriptions", "event_outbox", "refresh_tokens", "api_keys"}
PS_TABLES = {
    "ps_endpoints",
    "ps_auths",
    "ps_aors",
    "ps_contacts",
    "ps_registrations",
    "ps_endpoint_id_ips",
    "ps_domain_aliases",
}


def _tables(dsn: str) -> set[str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {row[0] for row in rows}


def _version_rows(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        return [row[0] for row in conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchall()]


def test_given_empty_database_when_upgrade_then_every_table_exists_at_head(
    make_database: Callable[[], str],
) -> None:
    dsn = make_database()
    assert migrate.current(dsn) is None
    assert _tables(dsn) == set()

    migrate.upgrade(dsn)

    assert migrate.current(dsn) == "0005"
    assert _tables(dsn) == PS_TABLES | RINGLINE_TABLES | {VERSION_TABLE}


def test_given_database_at_head_when_upgrade_again_then_nothing_changes(migrated_dsn: str) -> None:
    before = _tables(migrated_dsn)
    migrate.upgrade(migrated_dsn)
    migrate.upgrade(migrated_dsn, "head")
    assert _tables(migrated_dsn) == before
    assert _version_rows(migrated_dsn) == ["0005"]


def test_given_empty_database_when_upgraded_step_by_step_then_same_head(
    make_database: Callable[[], str],
) -> None:
    dsn = make_database()
    migrate.upgrade(dsn, "0001")
    assert migrate.current(dsn) == "0001"
    assert _tables(dsn) == PS_TABLES | {VERSION_TABLE}
    migrate.upgrade(dsn)
    assert migrate.current(dsn) == "0005"


def test_given_two_engines_starting_together_when_both_upgrade_then_both_succeed(
    make_database: Callable[[], str],
) -> None:
    dsn = make_database()
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def run() -> None:
        barrier.wait()
        try:
            migrate.upgrade(dsn)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert _version_rows(dsn) == ["0005"]


def test_given_unknown_revision_when_upgrade_then_migration_error(migrated_dsn: str) -> None:
    with pytest.raises(MigrationError, match=r"cannot upgrade .* to 'nope'"):
        migrate.upgrade(migrated_dsn, "nope")
    assert migrate.current(migrated_dsn) == "0005"


def test_given_closed_port_when_upgrade_then_one_line_database_unavailable(
    free_port: Callable[[], int],
) -> None:
    port = free_port()
    with pytest.raises(DatabaseUnavailable) as caught:
        migrate.upgrade(f"postgresql://postgres@127.0.0.1:{port}/ringline")
    message = str(caught.value)
    assert message == f"PostgreSQL at 127.0.0.1:{port} unavailable: Connection refused"
    assert (caught.value.host, caught.value.port) == ("127.0.0.1", port)
    assert "\n" not in message


def test_given_closed_port_when_current_then_database_unavailable(free_port: Callable[[], int]) -> None:
    port = free_port()
    with pytest.raises(DatabaseUnavailable, match=f"127.0.0.1:{port} unavailable"):
        migrate.current(f"postgresql://postgres@127.0.0.1:{port}/ringline")


def test_given_missing_database_when_upgrade_then_reason_names_it(pg_admin: str) -> None:
    dsn = pg_admin.rsplit("/", 1)[0] + "/ara_schema_dev_does_not_exist"
    with pytest.raises(DatabaseUnavailable, match='database "ara_schema_dev_does_not_exist" does not exist'):
        migrate.upgrade(dsn)


def test_given_keyword_dsn_when_current_then_it_is_accepted(migrated_dsn: str) -> None:
    info = psycopg.conninfo.conninfo_to_dict(migrated_dsn)
    keyword = " ".join(f"{k}={v}" for k, v in info.items())
    assert migrate.current(keyword) == "0005"


def test_given_garbage_dsn_then_value_error() -> None:
    with pytest.raises(ValueError, match="invalid PostgreSQL DSN"):
        migrate.current("postgresql://host:notaport/db")
