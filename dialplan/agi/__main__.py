"""Run the FastAGI server alone: ``python -m dialplan.agi``.

Environment: ``DATABASE_URL`` (required, ``postgresql://user@host:5432/db``), ``RINGLINE_AGI_PORT`` (default
4573), ``RINGLINE_AGI_HOST`` (default ``127.0.0.1``). Runs until SIGINT or SIGTERM (exit status 0). A missing
or malformed setting, an unreachable database or a port that cannot be bound ends with a one-line reason on
stderr and exit status 2.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from ara_schema.errors import AraError
from ara_schema.pool import create_pool
from dialplan.agi.scripts import ringline_scripts
from dialplan.agi.server import DEFAULT_AGI_PORT, AgiServer
from engine.calls.store import CallStore

_PROG = "dialplan.agi"


class _ConfigError(Exception):
    """A setting is missing or malformed (exit status 2)."""


@dataclass(frozen=True)
class _Settings:
    database_url: str
    host: str
    port: int


def _settings(environ: Mapping[str, str]) -> _Settings:
    """Raises: _ConfigError."""
    database_url = environ.get("DATABASE_URL", "").strip()
    if not database_url:
        raise _ConfigError("missing environment variable DATABASE_URL")
    raw_port = environ.get("RINGLINE_AGI_PORT", "").strip() or str(DEFAULT_AGI_PORT)
    if not raw_port.isdigit() or not 1 <= int(raw_port) <= 65535:
        raise _ConfigError(f"RINGLINE_AGI_PORT={raw_port!r} is not a port number (1-65535)")
    host = environ.get("RINGLINE_AGI_HOST", "").strip() or "127.0.0.1"
    return _Settings(database_url, host, int(raw_port))


async def _run(settings: _Settings) -> None:
    """Serve until SIGINT/SIGTERM.

    Raises:
        AraError: the database is unreachable.
        OSError: the port cannot be bound.
    """
    pool = await create_pool(settings.database_url, attempts=3)
    try:
        store = CallStore(pool, owner="agi")
        async with AgiServer(ringline_scripts(store), host=settings.host, port=settings.port):
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await stop.wait()
    finally:
        await pool.close()


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = _settings(os.environ)
        asyncio.run(_run(settings))
    except _ConfigError as exc:
        print(f"{_PROG}: {exc}", file=sys.stderr)
        return 2
    except AraError as exc:
        print(f"{_PROG}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{_PROG}: cannot listen for FastAGI: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
