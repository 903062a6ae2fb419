"""Errors raised by ``ara_schema``, and their mapping from PostgreSQL SQLSTATE codes.

Error tree::

    AraError                        base of everything raised here; ``sqlstate`` is the code or None
    ├── DatabaseUnavailable         cannot reach / log in to the server (refused, timeout, DNS,
    │                               auth rejected, database missing, server starting or shutting down,
    │                               SQLSTATE class 08, 28, 3D000, 53300, 57P01-57P03)
    ├── MigrationError              alembic could not bring the schema to the wanted revision
    ├── EmbeddedPostgresError       the bundled server (``ara_schema.embedded``) cannot be set up or
    │                               started: binaries missing, port taken, data directory unusable,
    │                               initdb/pg_ctl failed
    └── IntegrityViolation          SQLSTATE class 23; ``constraint_name`` names the constraint
        ├── UniqueViolation         23505 (e.g. ``tenants_slug_key``, ``ps_endpoints_pkey``)
        ├── ForeignKeyViolation     23503
        ├── CheckViolation          23514 (e.g. ``dids_number_check``)
        └── NotNullViolation        23502

Every message is one human line; the driver exception stays reachable as ``__cause__``
(raise with ``raise from_postgres_error(exc) from exc``).

Source: PostgreSQL 16 documentation, Appendix A "PostgreSQL Error Codes".
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = [
    "AraError",
    "CheckViolation",
    "DatabaseUnavailable",
    "EmbeddedPostgresError",
    "ForeignKeyViolation",
    "IntegrityViolation",
    "MigrationError",
    "NotNullViolation",
    "UniqueViolation",
    "from_postgres_error",
    "translate_postgres_errors",
]


class AraError(Exception):
    """Base class. ``sqlstate`` is the five-character SQLSTATE when a server error is behind it."""

    def __init__(self, message: str, *, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


class DatabaseUnavailable(AraError):
    """The PostgreSQL server cannot be used: ``str(exc)`` is ``PostgreSQL at host:port unavailable: reason``.

    ``host``/``port`` are where we tried (None when unknown), ``reason`` is the short cause
    (``Connection refused``, ``no answer within 5.0 s``, ``database "x" does not exist``).
    """

    def __init__(
        self,
        host: str | None,
        port: int | None,
        reason: str,
        *,
        sqlstate: str | None = None,
    ) -> None:
        where = f"{host}:{port}" if host is not None else "(unknown address)"
        super().__init__(f"PostgreSQL at {where} unavailable: {reason}", sqlstate=sqlstate)
        self.host = host
        self.port = port
        self.reason = reason


class MigrationError(AraError):
    """A migration failed or the database is at a revision this code does not know."""


class EmbeddedPostgresError(AraError):
    """``ara_schema.embedded`` could not provide a server; the message says what and where (paths, port)."""


class IntegrityViolation(AraError):
    """SQLSTATE class 23. ``constraint_name`` and ``table_name`` when the server reported them."""

    def __init__(
        self,
        message: str,
        *,
        sqlstate: str | None = None,
        constraint_name: str | None = None,
        table_name: str | None = None,
    ) -> None:
        super().__init__(message, sqlstate=sqlstate)
        self.constraint_name = constraint_name
        self.table_name = table_name


class UniqueViolation(IntegrityViolation):
    """23505 unique_violation."""


class ForeignKeyViolation(IntegrityViolation):
    """23503 foreign_key_violation."""


class CheckViolation(IntegrityViolation):
    """23514 check_violation."""


class NotNullViolation(IntegrityViolation):
    """23502 not_null_violation."""


# Authoritative table: SQLSTATE -> class (PostgreSQL Appendix A). Class-level fallbacks below.
_INTEGRITY_BY_SQLSTATE: dict[str, type[IntegrityViolation]] = {
    "23505": UniqueViolation,
    "23503": ForeignKeyViolation,
    "23514": CheckViolation,
    "23502": NotNullViolation,
}
_UNAVAILABLE_SQLSTATES = frozenset(
    {
        "3D000",  # invalid_catalog_name: database does not exist
        "53300",  # too_many_connections
        "57P01",  # admin_shutdown
        "57P02",  # crash_shutdown
        "57P03",  # cannot_connect_now (starting up / shutting down)
    }
)
_UNAVAILABLE_CLASSES = frozenset({"08", "28"})  # connection_exception, invalid_authorization_specification


def _sqlstate_of(exc: BaseException) -> str | None:
    """SQLSTATE of an asyncpg / psycopg error, or of a SQLAlchemy ``DBAPIError`` wrapping one."""
    for candidate in (exc, getattr(exc, "orig", None)):
        code = getattr(candidate, "sqlstate", None)
        if isinstance(code, str) and len(code) == 5:
            return code
    return None


def _diag(exc: BaseException, name: str) -> str | None:
    """A diagnostic field (``constraint_name``, ``table_name``) from asyncpg or psycopg errors."""
    for candidate in (exc, getattr(exc, "orig", None)):
        if candidate is None:
            continue
        value = getattr(candidate, name, None)  # asyncpg
        if value is None:
            value = getattr(getattr(candidate, "diag", None), name, None)  # psycopg
        if isinstance(value, str):
            return value
    return None


def _first_line(exc: BaseException) -> str:
    for candidate in (getattr(exc, "orig", None), exc):
        if candidate is None:
            continue
        text = str(getattr(candidate, "message", "") or candidate).strip()
        if text:
            return text.splitlines()[0].strip()
    return type(exc).__name__


def from_postgres_error(exc: BaseException, *, host: str | None = None, port: int | None = None) -> AraError:
    """Map a driver exception to the error tree (returns it; the caller raises ``from exc``).

    ``exc``: an ``asyncpg.PostgresError``, a ``psycopg.Error`` or a SQLAlchemy ``DBAPIError`` around one;
    anything without a SQLSTATE becomes a plain ``AraError``. ``host``/``port`` label
    ``DatabaseUnavailable`` messages.
    """
    if isinstance(exc, AraError):
        return exc
    sqlstate = _sqlstate_of(exc)
    message = _first_line(exc)
    if sqlstate is None:
        return AraError(message)
    integrity = _INTEGRITY_BY_SQLSTATE.get(sqlstate)
    if integrity is None and sqlstate.startswith("23"):
        integrity = IntegrityViolation
    if integrity is not None:
        return integrity(
            message,
            sqlstate=sqlstate,
            constraint_name=_diag(exc, "constraint_name"),
            table_name=_diag(exc, "table_name"),
        )
    if sqlstate in _UNAVAILABLE_SQLSTATES or sqlstate[:2] in _UNAVAILABLE_CLASSES:
        return DatabaseUnavailable(host, port, message, sqlstate=sqlstate)
    return AraError(message, sqlstate=sqlstate)


@contextlib.contextmanager
def translate_postgres_errors() -> Iterator[None]:
    """Re-raise driver errors that carry a SQLSTATE as the matching ``AraError`` (cause kept)."""
    try:
        yield
    except AraError:
        raise
    except Exception as exc:
        if _sqlstate_of(exc) is None:
            raise
        raise from_postgres_error(exc) from exc
