"""A PostgreSQL server for machines without one, from the ``pgserver`` wheel's bundled binaries.

Listens on TCP ``127.0.0.1:<port>`` (default 5433) because Asterisk in a chroot cannot see a socket
outside it; trust authentication for local and loopback connections (``initdb --auth=trust``); database
``ringline`` created. The server is a daemon (started by ``pg_ctl``) that outlives this process: whoever
calls ``start()`` owns it and calls ``stop()``; ``start()`` on a data directory whose server is already
running reuses it.

Running as root: PostgreSQL refuses to run as root. Like ``pgserver`` (which runs as a ``pgserver`` user
it creates with ``useradd``), every ``initdb``/``pg_ctl`` runs through ``runuser -u <system_user>`` as a
dedicated system user (default ``ringline-pg``, created with ``useradd --system`` if missing) that owns the
data directory. Unlike ``pgserver``, no parent directory's permissions are loosened: the data directory's
parents must already let that user through (``/var/lib/...``, ``/tmp/...`` do; ``/root/...`` does not -
the error says which directory blocks), and when the wheel itself sits somewhere that user cannot reach
(``/root/.pyenv/...``), its ``pginstall`` tree (~34 MB) is copied once to ``install_cache``.

Source: PostgreSQL 16 documentation, "initdb", "pg_ctl", "Server Setup and Operation" (section 19.1:
the server must not run as root), "postmaster.pid" layout in section 19.3; pgserver 0.1.4
``postgres_server.py`` (root handling).
"""

from __future__ import annotations

import contextlib
import errno
import importlib.util
import os
import pwd
import shutil
import socket
import stat
import subprocess
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql

from ara_schema.errors import EmbeddedPostgresError

__all__ = [
    "DEFAULT_DATABASE",
    "DEFAULT_INSTALL_CACHE",
    "DEFAULT_PORT",
    "DEFAULT_SYSTEM_USER",
    "EmbeddedPostgres",
    "pgserver_bin_dir",
]

DEFAULT_PORT = 5433
DEFAULT_DATABASE = "ringline"
DEFAULT_SYSTEM_USER = "ringline-pg"
DEFAULT_INSTALL_CACHE = Path("/var/cache/ringline")
"""Where the ``pginstall`` tree is copied when running as root and the wheel is unreachable for the user."""

_CONF_FILE = "ringline.conf"
_LOG_FILE = "postgres.log"
_BINARIES = ("initdb", "pg_ctl", "postgres")


def pgserver_bin_dir() -> Path:
    """``site-packages/pgserver/pginstall/bin``, found without importing ``pgserver`` (its import has side
    effects: lock files and warnings under ``XDG_RUNTIME_DIR``).

    Raises:
        EmbeddedPostgresError: the ``pgserver`` wheel is not installed.
    """
    spec = importlib.util.find_spec("pgserver")
    if spec is None or spec.origin is None:
        raise EmbeddedPostgresError("PostgreSQL binaries not found: the pgserver wheel is not installed")
    return Path(spec.origin).resolve().parent / "pginstall" / "bin"


def _is_root() -> bool:
    return os.geteuid() == 0


class EmbeddedPostgres:
    """One PostgreSQL server on ``datadir``, listening on ``host:port`` (TCP only, no unix socket).

    ``start()``/``stop()`` block (seconds: initdb ~2 s the first time, start ~1 s); call them outside the
    event loop. ``start_timeout_s``: how long ``pg_ctl`` waits for the server to be ready.
    """

    def __init__(
        self,
        datadir: str | os.PathLike[str],
        *,
        port: int = DEFAULT_PORT,
        host: str = "127.0.0.1",
        database: str = DEFAULT_DATABASE,
        system_user: str = DEFAULT_SYSTEM_USER,
        bin_dir: str | os.PathLike[str] | None = None,
        install_cache: str | os.PathLike[str] = DEFAULT_INSTALL_CACHE,
        start_timeout_s: float = 30.0,
    ) -> None:
        if not 1 <= port <= 65535:
            raise ValueError(f"port must be 1..65535, got {port}")
        self.datadir = Path(datadir).absolute()
        self.port = port
        self.host = host
        self.database = database
        self.system_user = system_user
        self._bin_dir = Path(bin_dir) if bin_dir is not None else None
        self._install_cache = Path(install_cache)
        self.start_timeout_s = start_timeout_s

    # -- public API ---------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``postgresql://postgres@<host>:<port>/<database>``."""
        return f"postgresql://postgres@{self.host}:{self.port}/{self.database}"

    def start(self) -> str:
        """Initialise ``datadir`` if needed, start the server unless it already runs, create the database;
        returns ``url``. Idempotent.

        Raises:
            EmbeddedPostgresError: binaries missing, port taken by another process, the server of this
                datadir already running on another port, datadir unusable, initdb/pg_ctl failure (with
                the log's last lines and its path).
        """
        bin_dir = self._usable_bin_dir()
        self._prepare_datadir()
        running_port = self.running_port()
        if running_port is not None:
            if running_port != self.port:
                raise EmbeddedPostgresError(
                    f"the PostgreSQL of {self.datadir} already runs on port {running_port}, not {self.port}; "
                    "stop it first or use that port"
                )
        else:
            self._check_port_free()
            if not (self.datadir / "PG_VERSION").exists():
                self._initdb(bin_dir)
            self._write_config()
            self._pg_ctl(
                bin_dir,
                "start",
                "-w",
                "-t",
                str(max(1, round(self.start_timeout_s))),
                "-l",
                str(self.datadir / _LOG_FILE),
            )
        self._ensure_database()
        return self.url

    def stop(self) -> None:
        """Stop the server (fast shutdown: open sessions are cut) if it runs; no-op otherwise.

        Raises:
            EmbeddedPostgresError: ``pg_ctl stop`` failed.
        """
        if self.running_port() is None:
            return
        self._pg_ctl(
            self._usable_bin_dir(), "stop", "-m", "fast", "-w", "-t", str(max(1, round(self.start_timeout_s)))
        )

    def is_running(self) -> bool:
        """Whether a postmaster runs from ``datadir`` (on any port)."""
        return self.running_port() is not None

    def running_port(self) -> int | None:
        """Port of the postmaster running from ``datadir``, from ``postmaster.pid`` (line 1 pid, line 2
        datadir, line 4 port); None when there is none or the file is stale."""
        try:
            lines = (self.datadir / "postmaster.pid").read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            return None
        if not cmdline or not cmdline[0].endswith(b"postgres"):
            return None  # stale file, pid reused by another program
        if Path(lines[1]).resolve() != self.datadir.resolve():
            return None
        return port

    # -- steps ----------------------------------------------------------------------------------------

    def _usable_bin_dir(self) -> Path:
        bin_dir = self._bin_dir if self._bin_dir is not None else pgserver_bin_dir()
        for name in _BINARIES:
            path = bin_dir / name
            if not os.access(path, os.X_OK):
                raise EmbeddedPostgresError(
                    f"PostgreSQL binaries not found: {path} is missing or not executable"
                )
        if not _is_root():
            return bin_dir
        self._ensure_system_user()
        if self._user_can("-x", bin_dir / "postgres"):
            return bin_dir
        return self._copied_install(bin_dir)

    def _ensure_system_user(self) -> None:
        try:
            pwd.getpwnam(self.system_user)
            return
        except KeyError:
            pass
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        result = subprocess.run(
            [
                useradd,
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                self.system_user,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 and result.returncode != 9:  # 9: exists (created concurrently)
            detail = result.stderr.strip() or f"useradd exit status {result.returncode}"
            raise EmbeddedPostgresError(f"cannot create system user {self.system_user!r}: {detail}")

    def _copied_install(self, bin_dir: Path) -> Path:
        """Copy the install once to ``install_cache/pginstall-<version>``; returns the copy's bin dir.

        The wheel's layout is kept: ``pgserver/pginstall/{bin,lib,share}`` (PostgreSQL finds lib/share
        relative to its binary) and ``pgserver.libs`` (auditwheel-vendored libpq, found through the
        binaries' ``RPATH $ORIGIN/../../../pgserver.libs``).
        """
        install = bin_dir.parent  # .../pgserver/pginstall
        vendored = install.parent.parent / f"{install.parent.name}.libs"  # .../pgserver.libs
        version = subprocess.run(
            [str(bin_dir / "postgres"), "--version"], capture_output=True, text=True, check=False
        ).stdout.split()[-1:]
        target = self._install_cache / f"pginstall-{version[0] if version else 'unknown'}"
        layout = [(install, Path(install.parent.name) / install.name)]
        if vendored.is_dir():
            layout.append((vendored, Path(vendored.name)))
        if not (target / ".complete").exists():
            self._install_cache.mkdir(parents=True, exist_ok=True)
            self._install_cache.chmod(0o755)
            staging = Path(tempfile.mkdtemp(prefix=".pginstall-", dir=self._install_cache))
            tree = staging / "tree"
            try:
                for source, relative in layout:
                    shutil.copytree(source, tree / relative, symlinks=True)
                for path in [tree, *tree.rglob("*")]:
                    if not path.is_symlink():
                        mode = path.stat().st_mode
                        extra = 0o055 if path.is_dir() or mode & stat.S_IXUSR else 0o044
                        path.chmod(mode | extra)
                (tree / ".complete").write_text(f"copied from {install}\n")
                with contextlib.suppress(OSError):
                    tree.rename(target)  # fails only if another process won the race: its copy is as good
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        result = target / layout[0][1] / "bin"
        if not self._user_can("-x", result / "postgres"):
            raise EmbeddedPostgresError(
                f"system user {self.system_user!r} cannot execute {result / 'postgres'}: "
                f"{self._blocking_parent(result)} is not traversable for it (set install_cache elsewhere)"
            )
        return result

    def _prepare_datadir(self) -> None:
        try:
            self.datadir.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise EmbeddedPostgresError(
                f"cannot create data directory {self.datadir}: {exc.strerror}"
            ) from exc
        if not _is_root():
            return
        entry = pwd.getpwnam(self.system_user)
        if self.datadir.stat().st_uid != entry.pw_uid:
            if (self.datadir / "PG_VERSION").exists() or any(self.datadir.iterdir()):
                raise EmbeddedPostgresError(
                    f"data directory {self.datadir} is not empty and not owned by {self.system_user!r}"
                )
            os.chown(self.datadir, entry.pw_uid, entry.pw_gid)
        self.datadir.chmod(0o700)
        if not self._user_can("-w", self.datadir):
            raise EmbeddedPostgresError(
                f"system user {self.system_user!r} cannot reach data directory {self.datadir}: "
                f"{self._blocking_parent(self.datadir)} is not traversable for it (choose a data directory "
                "whose parents it can traverse, e.g. under /var/lib, or grant o+x on that directory)"
            )

    def _check_port_free(self) -> None:
        with socket.socket(
            socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM
        ) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the postmaster does
            try:
                probe.bind((self.host, self.port))
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise EmbeddedPostgresError(
                        f"port {self.host}:{self.port} is already in use by another process "
                        f"(not the PostgreSQL of {self.datadir}); choose another port"
                    ) from exc
                raise EmbeddedPostgresError(
                    f"cannot listen on {self.host}:{self.port}: {exc.strerror}"
                ) from exc

    def _initdb(self, bin_dir: Path) -> None:
        if any(self.datadir.iterdir()):
            raise EmbeddedPostgresError(
                f"data directory {self.datadir} is not empty and holds no PostgreSQL cluster (no PG_VERSION)"
            )
        self._run(
            bin_dir / "initdb",
            "-D",
            str(self.datadir),
            "-U",
            "postgres",
            "--auth=trust",
            "--auth-local=trust",
            "--encoding=UTF8",
            "--locale=C",
            what="initdb",
        )

    def _write_config(self) -> None:
        """``ringline.conf`` (rewritten every start: host/port may change) included from postgresql.conf."""
        settings = {
            "listen_addresses": self.host,
            "port": str(self.port),
            "unix_socket_directories": "",
        }
        body = "".join(f"{key} = '{value}'\n" for key, value in settings.items())
        conf = self.datadir / _CONF_FILE
        conf.write_text("# Written by ara_schema.embedded on every start; edits are lost.\n" + body)
        main_conf = self.datadir / "postgresql.conf"
        include = f"include_if_exists = '{_CONF_FILE}'\n"
        if include not in main_conf.read_text():
            with main_conf.open("a") as handle:
                handle.write("\n" + include)
        if _is_root():
            entry = pwd.getpwnam(self.system_user)
            os.chown(conf, entry.pw_uid, entry.pw_gid)

    def _pg_ctl(self, bin_dir: Path, action: str, *options: str) -> None:
        self._run(bin_dir / "pg_ctl", action, "-D", str(self.datadir), *options, what=f"pg_ctl {action}")

    def _ensure_database(self) -> None:
        admin = f"postgresql://postgres@{self.host}:{self.port}/postgres?connect_timeout=10"
        try:
            with psycopg.connect(admin, autocommit=True) as conn:
                exists = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)
                ).fetchone()
                if exists is None:
                    with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
        except psycopg.Error as exc:
            raise EmbeddedPostgresError(
                f"embedded PostgreSQL on {self.host}:{self.port} started but database {self.database!r} "
                f"could not be created: {str(exc).splitlines()[0]}"
            ) from exc

    # -- process plumbing ---------------------------------------------------------------------------

    def _as_user(self, argv: list[str]) -> list[str]:
        if not _is_root():
            return argv
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"
        return [runuser, "-u", self.system_user, "--", *argv]

    def _user_can(self, test_flag: str, path: Path) -> bool:
        """``test <flag> path`` as the system user (authoritative: ACLs, groups, every parent)."""
        result = subprocess.run(
            self._as_user(["test", test_flag, str(path)]), capture_output=True, check=False, cwd="/"
        )
        return result.returncode == 0

    def _blocking_parent(self, path: Path) -> Path:
        """The first ancestor of ``path`` the system user cannot traverse (best effort)."""
        for parent in [*reversed(path.parents), path]:
            if not self._user_can("-x", parent):
                return parent
        return path

    def _run(self, executable: Path, *args: str, what: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C", LANG="C")
        # Output to files, not pipes: the postmaster pg_ctl forks must not hold our pipes open.
        with tempfile.TemporaryFile("w+") as output:
            try:
                result = subprocess.run(
                    self._as_user([str(executable), *args]),
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    cwd="/",
                    env=env,
                    check=False,
                    timeout=self.start_timeout_s + 30,
                )
            except subprocess.TimeoutExpired as exc:
                raise EmbeddedPostgresError(f"{what} did not finish within {exc.timeout:g} s") from exc
            if result.returncode == 0:
                return
            output.seek(0)
            detail = output.read().strip().splitlines()
        log = self.datadir / _LOG_FILE
        log_tail: list[str] = []
        with contextlib.suppress(OSError):
            log_tail = [line for line in log.read_text().splitlines() if line.strip()][-3:]
        reason = " | ".join((detail[-2:] if detail else []) + log_tail) or f"exit status {result.returncode}"
        raise EmbeddedPostgresError(f"{what} failed for {self.datadir} (log: {log}): {reason}")
