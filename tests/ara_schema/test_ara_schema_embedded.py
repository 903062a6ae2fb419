"""EmbeddedPostgres from the pgserver wheel: TCP on a free port, reuse, migrations, stop, clear errors.

Runs the real binaries (as the ``ringline-pg`` system user when the tests run as root); ~5 s.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest

from ara_schema import migrate
from ara_schema.embedded import EmbeddedPostgres, pgserver_bin_dir
from ara_schema.errors import EmbeddedPostgresError


@pytest.fixture
def datadir(need_peer: Callable[[str, object], NoReturn]) -> Iterator[Path]:
    try:
        bin_dir = pgserver_bin_dir()
    except EmbeddedPostgresError as exc:
        need_peer("the pgserver wheel", exc)
    if not (bin_dir / "postgres").exists():
        need_peer("the pgserver wheel's binaries", bin_dir)
    # Directly under /tmp: its parents must be traversable by the system user the server runs as.
    path = Path(tempfile.mkdtemp(prefix="ara_schema_dev_embedded_", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_given_no_server_when_started_then_tcp_connection_migrations_and_stop(
    datadir: Path, free_port: Callable[[], int]
) -> None:
    port = free_port()
    server = EmbeddedPostgres(datadir, port=port)
    try:
        url = server.start()
        assert url == f"postgresql://postgres@127.0.0.1:{port}/ringline"
        assert server.is_running()
        assert server.running_port() == port

        with psycopg.connect(url, connect_timeout=5) as conn:
            assert conn.execute("SELECT current_database(), inet_server_port()").fetchone() == (
                "ringline",
                port,
            )

        assert EmbeddedPostgres(datadir, port=port).start() == url  # reuse: same datadir, already running

        migrate.upgrade(url)
        assert migrate.current(url) == "0005"

        with pytest.raises(EmbeddedPostgresError, match=f"already runs on port {port}, not {port + 1}"):
            EmbeddedPostgres(datadir, port=port + 1).start()
    finally:
        server.stop()
    assert not server.is_running()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/ringline", connect_timeout=2).close()

    # Restart on the same data directory keeps the data.
    try:
        server.start()
        assert migrate.current(server.url) == "0005"
    finally:
        server.stop()


def test_given_port_taken_by_another_process_then_clear_error(datadir: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen(1)
        port = squatter.getsockname()[1]
        with pytest.raises(
            EmbeddedPostgresError, match=f"port 127.0.0.1:{port} is already in use by another"
        ):
            EmbeddedPostgres(datadir, port=port).start()
    assert not (datadir / "PG_VERSION").exists()


def test_given_missing_binaries_then_clear_error(datadir: Path) -> None:
    with pytest.raises(EmbeddedPostgresError, match="PostgreSQL binaries not found: /nonexistent/bin/initdb"):
        EmbeddedPostgres(datadir, bin_dir="/nonexistent/bin").start()


def test_given_non_cluster_files_in_datadir_then_clear_error(
    datadir: Path, free_port: Callable[[], int]
) -> None:
    (datadir / "stray.txt").write_text("not a cluster")
    with pytest.raises(EmbeddedPostgresError, match="not empty"):
        EmbeddedPostgres(datadir, port=free_port()).start()
