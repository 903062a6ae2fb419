"""Detached Asterisk for ``ringline asterisk up|down|status|cli``: synchronous, pid-file based.

The caller renders first, then starts::

    provision_root(inst.root)          # dialplan.asterisk.provision (once per machine)
    render_instance(inst)              # dialplan.asterisk.render
    pid = up_daemon(inst)              # forks (asterisk -F); returns once ARI answers 200

Asterisk writes its own pid file, ``<root>/var/lib/ringline/<name>/run/asterisk.pid``; a pid counts as
running only if ``/proc/<pid>`` is a live (non-zombie) ``asterisk`` whose command line names this
instance's asterisk.conf, so a stale pid file is harmless. The daemon's output goes to messages.log
(logger.conf); the forking parent's output is appended to console.log.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from typing import TypedDict

from dialplan.asterisk.config import AsteriskInstance
from dialplan.asterisk.control import (
    basic_auth_header,
    cli_sync,
    daemon_argv,
    log_tail,
    pid_matches,
    read_pid,
    required_ports,
)
from dialplan.asterisk.errors import AsteriskCliError, AsteriskStartError
from dialplan.asterisk.ports import check_ports_free

__all__ = ["AsteriskStatus", "down_daemon", "status", "up_daemon"]

_POLL_S = 0.1
_TERM_GRACE_S = 3.0


class AsteriskStatus(TypedDict):
    """What :func:`status` reports; the fields after ``pid`` are ``None`` when not running."""

    name: str
    running: bool
    pid: int | None
    version: str | None
    uptime: str | None
    endpoints: int | None
    ari_url: str
    sip: str


def up_daemon(inst: AsteriskInstance, *, timeout_s: float = 30.0) -> int:
    """Start ``inst`` detached (or find it running) and wait until ARI answers; return its pid.

    Raises:
        PortInUse: the SIP or HTTP port is taken (and the instance is not already running).
        AsteriskStartError: the daemon exited or was not ready in ``timeout_s`` (it is stopped then);
            carries the last log lines.
    """
    layout = inst.layout
    running = read_pid(layout)
    if running is not None:
        return running
    check_ports_free(required_ports(inst))
    deadline = time.monotonic() + timeout_s
    messages_offset = layout.messages_log.stat().st_size if layout.messages_log.exists() else 0

    def fail(message: str) -> AsteriskStartError:
        return AsteriskStartError(message, log_tail(layout, messages_offset=messages_offset))

    with layout.console_log.open("ab") as console:
        try:
            done = subprocess.run(
                daemon_argv(layout),
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                timeout=timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise fail(f"asterisk {inst.name}: 'asterisk -F' did not return in {timeout_s} s") from exc
    if done.returncode != 0:
        raise fail(f"asterisk {inst.name}: 'asterisk -F' exited with status {done.returncode}")
    seen_pid: int | None = None
    while True:
        pid = read_pid(layout)
        if pid is not None:
            seen_pid = pid
            if _ari_ready(inst, min(1.0, max(deadline - time.monotonic(), 0.1))):
                break
        elif seen_pid is not None:
            raise fail(f"asterisk {inst.name} (pid {seen_pid}) exited during start-up")
        if time.monotonic() >= deadline:
            down_daemon(inst)
            raise fail(f"asterisk {inst.name}: ARI {inst.ari_url} not ready in {timeout_s} s")
        time.sleep(_POLL_S)
    try:
        cli_sync(layout, "core waitfullybooted", timeout_s=max(deadline - time.monotonic(), 1.0))
    except AsteriskCliError as exc:
        down_daemon(inst)
        raise fail(f"asterisk {inst.name}: not fully booted: {exc}") from exc
    return pid


def down_daemon(inst: AsteriskInstance, *, timeout_s: float = 10.0) -> bool:
    """Stop the instance's Asterisk (``core stop now``, then SIGTERM, then SIGKILL).

    Returns:
        ``True`` if one was running and is now gone, ``False`` if none was running.
    """
    layout = inst.layout
    pid = read_pid(layout)
    if pid is None:
        return False
    deadline = time.monotonic() + timeout_s
    with contextlib.suppress(AsteriskCliError):  # no socket or no answer: fall through to signals
        cli_sync(layout, "core stop now", timeout_s=timeout_s)
    if _wait_gone(pid, inst, deadline):
        return True
    for sig, grace in ((signal.SIGTERM, _TERM_GRACE_S), (signal.SIGKILL, _TERM_GRACE_S)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return True
        if _wait_gone(pid, inst, time.monotonic() + grace):
            return True
    return not pid_matches(pid, layout)


def status(inst: AsteriskInstance) -> AsteriskStatus:
    """Whether the instance runs, and if so its pid, version, ``core show uptime`` and endpoint count.

    Endpoints are counted from ``pjsip show endpoints`` (for a main instance: the ARA rows Asterisk sees).
    A CLI command that fails leaves its field ``None``.
    """
    layout = inst.layout
    pid = read_pid(layout)
    result = AsteriskStatus(
        name=inst.name,
        running=pid is not None,
        pid=pid,
        version=None,
        uptime=None,
        endpoints=None,
        ari_url=inst.ari_url,
        sip=f"127.0.0.1:{inst.sip_port}",
    )
    if pid is None:
        return result
    try:
        result["version"] = cli_sync(layout, "core show version").splitlines()[0].strip()
        result["uptime"] = " / ".join(
            line.strip() for line in cli_sync(layout, "core show uptime").splitlines() if line.strip()
        )
        result["endpoints"] = parse_objects_found(cli_sync(layout, "pjsip show endpoints"))
    except (AsteriskCliError, IndexError):
        pass
    return result


def parse_objects_found(output: str) -> int:
    """Count from a ``pjsip show <objects>`` listing: ``Objects found: N``, or 0 for ``No objects found.``."""
    for line in output.splitlines():
        line = line.strip()
        if line.startswith("Objects found:"):
            return int(line.split(":", 1)[1])
    return 0


def _ari_ready(inst: AsteriskInstance, timeout_s: float) -> bool:
    """Whether ``GET /ari/asterisk/info`` with the instance's credentials answers 200."""
    request = urllib.request.Request(
        f"{inst.ari_url}/asterisk/info",
        headers={"Authorization": basic_auth_header(inst.ari_user, inst.ari_password)},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError, TimeoutError):
        return False


def _wait_gone(pid: int, inst: AsteriskInstance, deadline: float) -> bool:
    """Poll until ``pid`` is no longer this instance's live Asterisk; ``False`` at the deadline."""
    while pid_matches(pid, inst.layout):
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_S)
    return True
