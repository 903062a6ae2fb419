"""A supervised Asterisk process: started, watched and stopped by an asyncio program (tests, the engine).

``AsteriskProcess`` runs ``chroot <root> asterisk -f -C /etc/ringline/<name>/asterisk.conf -U asterisk
-G asterisk -n`` as a child process. It owns two things and cleans both up in :meth:`AsteriskProcess.stop`:
the child (``core stop now``, then SIGTERM, then SIGKILL; always reaped) and the task draining its
stdout/stderr into ``<log dir>/console.log``.

States (one ``_set_state`` logs each ``old -> new``)::

    NEW -> STARTING -> RUNNING -> STOPPING -> EXITED
               \\-------------------------------^   (start failed: the child is stopped, then EXITED)

A process in EXITED can be started again. Readiness means: ARI ``GET /ari/asterisk/info`` answers 200 with
the instance's credentials (skipped with ``ari=False``), then ``core waitfullybooted`` returns.

The daemon functions for ``ringline asterisk up|down|status`` live in :mod:`dialplan.asterisk.daemon` and
are re-exported here, as is :func:`load_or_create_credentials`.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from types import TracebackType
from typing import IO

import aiohttp

from dialplan.asterisk.config import AsteriskInstance, InstanceLayout
from dialplan.asterisk.control import (
    basic_auth_header,
    check_cli_output,
    cli_argv,
    foreground_argv,
    log_tail,
    required_ports,
    tail_lines,
)
from dialplan.asterisk.credentials import load_or_create_credentials as load_or_create_credentials
from dialplan.asterisk.daemon import down_daemon as down_daemon
from dialplan.asterisk.daemon import status as status
from dialplan.asterisk.daemon import up_daemon as up_daemon
from dialplan.asterisk.errors import AsteriskCliError, AsteriskNotRunning, AsteriskStartError
from dialplan.asterisk.ports import check_ports_free

__all__ = [
    "AsteriskProcess",
    "ProcessState",
    "down_daemon",
    "load_or_create_credentials",
    "run_cli",
    "status",
    "up_daemon",
]

logger = logging.getLogger(__name__)

LOG_TAIL_LINES = 30
_POLL_S = 0.1
_TERM_GRACE_S = 3.0


class ProcessState(enum.Enum):
    NEW = "new"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    EXITED = "exited"


class AsteriskProcess:
    """One supervised Asterisk instance (see the module docstring).

    Args:
        inst: the instance; its configs must already be rendered into the root.
        ari: whether the instance serves ARI (readiness probe and the HTTP port check); the tests' SIP
            peer runs without HTTP.

    Use as ``async with AsteriskProcess(inst) as ast: ...`` or call :meth:`start` / :meth:`stop`.
    """

    def __init__(self, inst: AsteriskInstance, *, ari: bool = True) -> None:
        self.inst = inst
        self.ari = ari
        self._state = ProcessState.NEW
        self._proc: asyncio.subprocess.Process | None = None
        self._drain_task: asyncio.Task[None] | None = None
        self._stop_task: asyncio.Task[int | None] | None = None
        self._console: IO[bytes] | None = None
        self._messages_offset = 0

    # -- observation ---------------------------------------------------------------------------------

    @property
    def layout(self) -> InstanceLayout:
        return self.inst.layout

    @property
    def state(self) -> ProcessState:
        return self._state

    @property
    def pid(self) -> int | None:
        """Pid of the child (``chroot`` execs ``asterisk``, so this is Asterisk's pid), or ``None``."""
        return self._proc.pid if self._proc is not None else None

    @property
    def returncode(self) -> int | None:
        """Exit status of the child once it has exited (negative: killed by that signal), else ``None``."""
        return self._proc.returncode if self._proc is not None else None

    def log_tail(self, n: int = LOG_TAIL_LINES) -> list[str]:
        """The last ``n`` lines of console.log and of messages.log since the last :meth:`start`."""
        return log_tail(self.layout, n, messages_offset=self._messages_offset)

    def messages_since_start(self) -> list[str]:
        """All lines Asterisk wrote to messages.log since the last :meth:`start` (e.g. to find ``ERROR[``)."""
        return tail_lines(self.layout.messages_log, 1 << 30, offset=self._messages_offset)

    def _set_state(self, new: ProcessState) -> None:
        if new is not self._state:
            logger.info("asterisk %s: %s -> %s", self.inst.name, self._state.value, new.value)
            self._state = new

    # -- lifecycle -----------------------------------------------------------------------------------

    async def start(self, timeout_s: float = 30.0) -> None:
        """Start Asterisk and wait until it is ready; one ``timeout_s`` budget covers every step.

        Raises:
            PortInUse: the SIP (UDP/TCP) or HTTP port is taken on 127.0.0.1; nothing was started.
            AsteriskStartError: Asterisk exited, or was not ready before the deadline (it is stopped first);
                carries the last log lines.
            RuntimeError: the process is not NEW or EXITED.
        """
        if self._state not in (ProcessState.NEW, ProcessState.EXITED):
            raise RuntimeError(f"cannot start asterisk {self.inst.name}: process is {self._state.name}")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        check_ports_free(required_ports(self.inst, ari=self.ari))
        self._stop_task = None
        messages = self.layout.messages_log
        self._messages_offset = messages.stat().st_size if messages.exists() else 0
        self._set_state(ProcessState.STARTING)
        try:
            self._console = self.layout.console_log.open("wb")
            self._proc = await asyncio.create_subprocess_exec(
                *foreground_argv(self.layout),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            self._drain_task = asyncio.create_task(
                self._drain(self._proc, self._console), name=f"asterisk-{self.inst.name}-drain"
            )
            await self._wait_ready(deadline)
        except BaseException as exc:
            await asyncio.shield(self._stop_once(_TERM_GRACE_S))
            if isinstance(exc, AsteriskStartError | asyncio.CancelledError) or not isinstance(exc, Exception):
                raise
            raise AsteriskStartError(
                f"asterisk {self.inst.name} failed to start: {exc}", self.log_tail()
            ) from exc
        self._set_state(ProcessState.RUNNING)

    async def _wait_ready(self, deadline: float) -> None:
        """Poll ARI (if enabled) then run ``core waitfullybooted``, all before ``deadline`` (loop time)."""
        loop = asyncio.get_running_loop()
        if self.ari:
            url = f"{self.inst.ari_url}/asterisk/info"
            # aiohttp 3.14 deprecates BasicAuth; send the RFC 7617 header directly
            headers = {"Authorization": basic_auth_header(self.inst.ari_user, self.inst.ari_password)}
            async with aiohttp.ClientSession(headers=headers) as session:
                while True:
                    self._raise_if_exited()
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        raise AsteriskStartError(
                            f"asterisk {self.inst.name}: ARI {url} not ready in time", self.log_tail()
                        )
                    if await _ari_status(session, url, min(1.0, remaining)) == 200:
                        break
                    await asyncio.sleep(_POLL_S)
        else:
            while not self.layout.control_socket.exists():
                self._raise_if_exited()
                if loop.time() >= deadline:
                    raise AsteriskStartError(
                        f"asterisk {self.inst.name}: no control socket in time", self.log_tail()
                    )
                await asyncio.sleep(_POLL_S)
        while True:
            self._raise_if_exited()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AsteriskStartError(
                    f"asterisk {self.inst.name}: not fully booted in time", self.log_tail()
                )
            try:
                await self.cli("core waitfullybooted", timeout_s=remaining)
                return
            except AsteriskCliError:
                await asyncio.sleep(_POLL_S)

    def _raise_if_exited(self) -> None:
        if self._proc is None or self._proc.returncode is not None:
            code = None if self._proc is None else self._proc.returncode
            raise AsteriskStartError(f"asterisk {self.inst.name} exited with status {code}", self.log_tail())

    async def stop(self, timeout_s: float = 10.0) -> int | None:
        """Stop Asterisk (``core stop now``, then SIGTERM, then SIGKILL) and reap it; idempotent.

        The shutdown runs in a task owned by this object and shielded from the caller's cancellation,
        so a cancelled ``stop()`` still leaves no process behind. Returns the exit status (``None`` if
        never started).
        """
        return await asyncio.shield(self._stop_once(timeout_s))

    def _stop_once(self, timeout_s: float) -> asyncio.Task[int | None]:
        if self._stop_task is None:
            self._stop_task = asyncio.create_task(
                self._stop_impl(timeout_s), name=f"asterisk-{self.inst.name}-stop"
            )
        return self._stop_task

    async def _stop_impl(self, timeout_s: float) -> int | None:
        proc = self._proc
        if proc is None:
            self._set_state(ProcessState.EXITED)
            return None
        self._set_state(ProcessState.STOPPING)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout_s, 0.5)
        if proc.returncode is None:
            try:
                await run_cli(self.layout, "core stop now", timeout_s=max(deadline - loop.time(), 0.5))
            except AsteriskCliError as exc:  # e.g. no control socket yet: go straight to SIGTERM
                logger.info("asterisk %s: 'core stop now' failed (%s); SIGTERM", self.inst.name, exc)
            else:
                await _wait_exit(proc, deadline - loop.time())
        if proc.returncode is None:
            logger.info("asterisk %s: still running; SIGTERM", self.inst.name)
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            await _wait_exit(proc, _TERM_GRACE_S)
        if proc.returncode is None:
            logger.warning("asterisk %s: still running after SIGTERM; SIGKILL", self.inst.name)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        await proc.wait()
        if self._drain_task is not None:
            try:
                await asyncio.wait_for(self._drain_task, _TERM_GRACE_S)
            except TimeoutError:
                logger.warning("asterisk %s: output drain did not finish; cancelled", self.inst.name)
            self._drain_task = None
        if self._console is not None:
            self._console.close()
            self._console = None
        self._set_state(ProcessState.EXITED)
        return proc.returncode

    @staticmethod
    async def _drain(proc: asyncio.subprocess.Process, sink: IO[bytes]) -> None:
        """Copy the child's merged stdout/stderr into ``sink`` until EOF."""
        assert proc.stdout is not None
        while chunk := await proc.stdout.read(65536):
            sink.write(chunk)
            sink.flush()

    # -- CLI ----------------------------------------------------------------------------------------

    async def cli(self, command: str, *, timeout_s: float = 10.0) -> str:
        """Run one Asterisk CLI command (``asterisk -rx``) and return its output.

        Works on an instance this object did not start (e.g. a daemon from ``up_daemon``): the command goes
        to the instance's control socket.

        Raises:
            AsteriskNotRunning: this object started Asterisk and it has exited since.
            AsteriskCliError: non-zero exit, unknown command, no control socket, or timeout.
        """
        if self._proc is not None and self._proc.returncode is not None:
            raise AsteriskNotRunning(f"asterisk {self.inst.name} is not running ({self._state.name})")
        return await run_cli(self.layout, command, timeout_s=timeout_s)

    async def reload(self, module: str) -> str:
        """``module reload <module>`` (e.g. ``res_pjsip.so``); returns Asterisk's answer.

        Raises:
            AsteriskCliError: the module does not exist or does not support reloads.
        """
        output = await self.cli(f"module reload {module}")
        if "reloaded successfully" not in output and "Reloaded" not in output:
            raise AsteriskCliError(f"module reload {module}", 0, output)
        return output

    async def __aenter__(self) -> AsteriskProcess:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


async def run_cli(layout: InstanceLayout, command: str, *, timeout_s: float = 10.0) -> str:
    """Run ``asterisk -rx command`` against any instance's control socket; see :meth:`AsteriskProcess.cli`."""
    proc = await asyncio.create_subprocess_exec(
        *cli_argv(layout, command),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout_s)
    except TimeoutError as exc:
        raise AsteriskCliError(command, None, "") from exc
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await asyncio.shield(proc.wait())
    assert proc.returncode is not None
    return check_cli_output(command, proc.returncode, out.decode(errors="replace"))


async def _ari_status(session: aiohttp.ClientSession, url: str, timeout_s: float) -> int | None:
    """HTTP status of ``GET url``, or ``None`` when nothing answers (connection refused, timeout)."""
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=timeout_s)) as resp:
            await resp.read()
            return resp.status
    except (aiohttp.ClientError, TimeoutError):
        return None


async def _wait_exit(proc: asyncio.subprocess.Process, timeout_s: float) -> None:
    """Wait up to ``timeout_s`` for ``proc`` to exit; return either way."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(proc.wait(), max(timeout_s, 0.0))
