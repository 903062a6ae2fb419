"""Apply the Ringline schema (Asterisk ARA ``ps_*`` tables + Ringline tables) with alembic.

No ``alembic.ini``: the ``Config`` is built here and the migrations ship inside the package
(``ara_schema/migrations``). Driver: psycopg 3 (``postgresql+psycopg``), sync - call from a thread or
before the event loop starts, not from inside a coroutine.

Idempotent and safe to run concurrently: the whole upgrade runs in one transaction (PostgreSQL DDL is
transactional) holding a transaction-level advisory lock, so a second caller waits, then finds nothing to do.
"""

from __future__ import annotations

import re
from pathlib import Path

import alembic.command
import alembic.config
import alembic.util
import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext

from ara_schema import _dsn
from ara_schema.errors import DatabaseUnavailable, MigrationError, from_postgres_error
from ara_schema.migrations import VERSION_TABLE

__all__ = ["MIGRATIONS_DIR", "current", "upgrade"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
"""alembic ``script_location``."""

CONNECT_TIMEOUT_S = 10
"""libpq ``connect_timeout`` (whole seconds, libpq treats values below 2 as 2) unless the DSN sets one."""

MIGRATION_LOCK_KEY = 0x52494E474C494E45
"""``pg_advisory_xact_lock`` key serialising concurrent upgrades (ASCII ``RINGLINE``)."""

_LIBPQ_PREFIX = re.compile(r"^(connection failed: )?(connection to server (at|on) .*? failed: )?(FATAL: +)?")


def _reason(exc: BaseException) -> str:
    """The short cause out of a libpq connection error (``Connection refused``,
    ``database "x" does not exist``, ``connection timeout expired``)."""
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    if not lines:
        return type(orig).__name__
    return _LIBPQ_PREFIX.sub("", lines[0]) or lines[0]


def _engine(dsn: _dsn.Dsn) -> sa.Engine:
    url = dsn.sqlalchemy_url()
    query = dict(url.query)
    query.setdefault("connect_timeout", str(CONNECT_TIMEOUT_S))
    query.setdefault("application_name", "ara_schema.migrate")
    return sa.create_engine(url.set(query=query), poolclass=sa.pool.NullPool)


def _connect(engine: sa.Engine, dsn: _dsn.Dsn) -> sa.Connection:
    try:
        return engine.connect()
    except sa.exc.DBAPIError as exc:
        raise DatabaseUnavailable(dsn.host or "localhost", dsn.port, _reason(exc)) from exc


def _alembic_config(connection: sa.Connection) -> alembic.config.Config:
    config = alembic.config.Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def upgrade(dsn: str, revision: str = "head") -> None:
    """Bring the database at ``dsn`` (``postgresql://user@host:port/db``) to ``revision``.

    Raises:
        ValueError: ``dsn`` is not a valid libpq DSN.
        DatabaseUnavailable: cannot connect (message names host:port and the reason) or the connection
            dropped mid-way (nothing is committed then).
        MigrationError: unknown revision, or a migration statement failed (rolled back).
    """
    parsed = _dsn.parse(dsn)
    engine = _engine(parsed)
    try:
        with _connect(engine, parsed) as connection:
            try:
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
                alembic.command.upgrade(_alembic_config(connection), revision)
                connection.commit()
            except alembic.util.CommandError as exc:
                raise MigrationError(f"cannot upgrade {parsed.where} to {revision!r}: {exc}") from exc
            except sa.exc.DBAPIError as exc:
                mapped = from_postgres_error(exc, host=parsed.host or "localhost", port=parsed.port)
                if isinstance(mapped, DatabaseUnavailable) or exc.connection_invalidated:
                    raise DatabaseUnavailable(
                        parsed.host or "localhost", parsed.port, _reason(exc), sqlstate=mapped.sqlstate
                    ) from exc
                raise MigrationError(
                    f"migration to {revision!r} failed on {parsed.where}: {mapped}", sqlstate=mapped.sqlstate
                ) from exc
    finally:
        engine.dispose()


def current(dsn: str) -> str | None:
    """The revision the database at ``dsn`` is at (``"0002"``), or None before the first upgrade.

    Raises:
        ValueError: ``dsn`` is not a valid libpq DSN.
        DatabaseUnavailable: cannot connect.
    """
    parsed = _dsn.parse(dsn)
    engine = _engine(parsed)
    try:
        with _connect(engine, parsed) as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            return context.get_current_revision()
    finally:
        engine.dispose()
