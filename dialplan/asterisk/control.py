"""Command lines, CLI output checks, pid files and log tails shared by the supervised and daemon modes.

Everything here is synchronous and cheap (no waiting on Asterisk) except :func:`cli_sync`, which runs
``asterisk -rx`` to completion and is meant for the synchronous ``ringline asterisk`` CLI only.

Command lines (``-C`` selects the instance's asterisk.conf, whose astrundir holds the CLI socket)::

    chroot <root> asterisk -C /etc/ringline/<name>/asterisk.conf -f -U asterisk -G asterisk -n   # supervised
    chroot <root> asterisk -C /etc/ringline/<name>/asterisk.conf -F -U asterisk -G asterisk -n   # daemon
    chroot <root> asterisk -C /etc/ringline/<name>/asterisk.conf -rx "<command>"                 # CLI

Source: ``asterisk -h`` (``-f`` do not fork, ``-F`` always fork, ``-n`` no colour, ``-rx`` remote command).
"""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

from dialplan.asterisk.config import AsteriskInstance, InstanceLayout
from dialplan.asterisk.errors import AsteriskCliError

__all__ = [
    "asterisk_argv",
    "basic_auth_header",
    "check_cli_output",
    "cli_argv",
    "cli_sync",
    "daemon_argv",
    "foreground_argv",
    "log_tail",
    "pid_matches",
    "read_pid",
    "required_ports",
    "tail_lines",
]

_RUN_AS = ("-U", "asterisk", "-G", "asterisk")
_CLI_FAILURES = ("No such command", "Unable to connect to remote asterisk")


def asterisk_argv(layout: InstanceLayout, *args: str) -> list[str]:
    """``chroot <root> asterisk -C <asterisk.conf> <args...>``."""
    return ["chroot", str(layout.root), "asterisk", "-C", str(layout.asterisk_conf), *args]


def foreground_argv(layout: InstanceLayout) -> list[str]:
    """Command line of a supervised Asterisk (stays in the foreground, no console)."""
    return asterisk_argv(layout, "-f", *_RUN_AS, "-n")


def daemon_argv(layout: InstanceLayout) -> list[str]:
    """Command line of a detached Asterisk (forks; the pid is in astrundir/asterisk.pid)."""
    return asterisk_argv(layout, "-F", *_RUN_AS, "-n")


def cli_argv(layout: InstanceLayout, command: str) -> list[str]:
    """Command line running one CLI command against the instance's control socket."""
    return asterisk_argv(layout, "-rx", command)


def check_cli_output(command: str, returncode: int, output: str) -> str:
    """Return ``output`` of a finished ``asterisk -rx``, or raise if it reports a failure.

    ``asterisk -rx`` exits 0 even for an unknown command, so the output is checked too.

    Raises:
        AsteriskCliError: non-zero exit, no control socket, or "No such command".
    """
    if returncode != 0 or output.lstrip().startswith(_CLI_FAILURES):
        raise AsteriskCliError(command, returncode, output)
    return output


def cli_sync(layout: InstanceLayout, command: str, *, timeout_s: float = 10.0) -> str:
    """Run one CLI command synchronously; return its output.

    Raises:
        AsteriskCliError: see :func:`check_cli_output`; also on timeout (``returncode`` None).
    """
    try:
        done = subprocess.run(
            cli_argv(layout, command),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise AsteriskCliError(command, None, str(exc.output or "")) from exc
    return check_cli_output(command, done.returncode, done.stdout + done.stderr)


def basic_auth_header(user: str, password: str) -> str:
    """``Authorization`` header value for ARI (RFC 7617 Basic; aiohttp 3.14 deprecates ``BasicAuth``)."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def required_ports(inst: AsteriskInstance, *, ari: bool = True) -> list[tuple[int, str, str]]:
    """``(port, proto, purpose)`` the instance binds on 127.0.0.1: SIP UDP+TCP, and HTTP if ``ari``."""
    ports = [(inst.sip_port, "udp", "sip"), (inst.sip_port, "tcp", "sip")]
    if ari:
        ports.append((inst.http_port, "tcp", "http"))
    return ports


def pid_matches(pid: int, layout: InstanceLayout) -> bool:
    """Whether ``pid`` is a live (not zombie) Asterisk started with this instance's asterisk.conf."""
    proc = Path("/proc") / str(pid)
    try:
        cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        stat = (proc / "stat").read_text()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[-1].split()[0] if ")" in stat else "?"
    conf = str(layout.asterisk_conf).encode()
    return state != "Z" and conf in cmdline and any(arg.endswith(b"asterisk") for arg in cmdline)


def read_pid(layout: InstanceLayout) -> int | None:
    """Pid from astrundir/asterisk.pid if that process is this instance's live Asterisk, else ``None``."""
    try:
        pid = int(layout.pidfile.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if pid > 0 and pid_matches(pid, layout) else None


def tail_lines(path: Path, n: int, *, offset: int = 0) -> list[str]:
    """Last ``n`` lines of ``path`` after byte ``offset`` (``[]`` if the file does not exist)."""
    try:
        with path.open("rb") as fh:
            fh.seek(offset if offset <= os.fstat(fh.fileno()).st_size else 0)
            data = fh.read()
    except OSError:
        return []
    return data.decode(errors="replace").splitlines()[-n:] if n > 0 else []


def log_tail(layout: InstanceLayout, n: int = 30, *, messages_offset: int = 0) -> list[str]:
    """The last ``n`` lines of console.log then of messages.log (from ``messages_offset``), labelled."""
    lines: list[str] = []
    for label, path, offset in (
        ("console.log", layout.console_log, 0),
        ("messages.log", layout.messages_log, messages_offset),
    ):
        tail = tail_lines(path, n, offset=offset)
        if tail:
            lines.append(f"[{label}]")
            lines.extend(tail)
    return lines
