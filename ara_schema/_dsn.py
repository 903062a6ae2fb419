"""libpq connection strings: parsing, the ``host:port`` label for errors, SQLAlchemy URLs.

Accepted forms (libpq's own): ``postgresql://user[:password]@host[:port]/dbname[?param=value]``,
``postgres://...`` and the keyword form ``host=... port=... dbname=...``.

Source: PostgreSQL 16 documentation, libpq section 34.1.1 "Connection Strings".
"""

from __future__ import annotations

import dataclasses

import psycopg.conninfo
import sqlalchemy

DEFAULT_PORT = 5432


@dataclasses.dataclass(frozen=True, slots=True)
class Dsn:
    """A parsed DSN. ``params`` holds everything else libpq understood (``sslmode``, ...)."""

    host: str | None
    port: int
    user: str | None
    password: str | None
    dbname: str | None
    params: dict[str, str]

    @property
    def where(self) -> str:
        """``host:port`` as used in error messages (``localhost`` when libpq would use a socket)."""
        return f"{self.host or 'localhost'}:{self.port}"

    def sqlalchemy_url(self, driver: str = "postgresql+psycopg") -> sqlalchemy.URL:
        query = dict(self.params)
        host = self.host
        if host is not None and (host.startswith("/") or "," in host):
            query["host"] = host  # unix socket directory or multi-host: passed through to libpq
            host = None
        return sqlalchemy.URL.create(
            driver,
            username=self.user,
            password=self.password,
            host=host,
            port=self.port if host is not None else None,
            database=self.dbname,
            query=query,
        )


def parse(dsn: str) -> Dsn:
    """Parse ``dsn``. Raises ``ValueError`` (one line) when libpq would reject it."""
    try:
        parts = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise ValueError(f"invalid PostgreSQL DSN: {str(exc).splitlines()[0]}") from exc
    values = {k: str(v) for k, v in parts.items() if v is not None}
    port_text = values.pop("port", str(DEFAULT_PORT))
    try:
        port = int(port_text.split(",")[0])
    except ValueError:
        raise ValueError(f"invalid PostgreSQL DSN: port {port_text!r} is not a number") from None
    return Dsn(
        host=values.pop("host", None),
        port=port,
        user=values.pop("user", None),
        password=values.pop("password", None),
        dbname=values.pop("dbname", None),
        params=values,
    )
