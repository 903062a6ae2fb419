"""The FastAGI server: accepts Asterisk's ``AGI(agi://host:port/<script>)`` connections, one owned task each.

A session, with one time budget (``session_timeout_s``) over all of it::

    accept --read environment (environment_timeout_s)--> validate (agi_network_script, known script)
           --> script (route: lookup + SET VARIABLE ...) --> close          AGISTATUS=SUCCESS
    any AgiFailure whose reason can reply --> [SET VARIABLE RINGLINE_AGI_REASON] --> FAILURE <reason> --> close
                                                                                     AGISTATUS=FAILURE
    peer gone / channel hung up --> close (nothing can be said)

``RINGLINE_AGI_REASON`` is set only when the request came from a channel (``agi_channel``) and no command is
waiting for its reply, so the stream is known to be in step. Every failure is logged on one line with the
session id, the peer, the reason id and a sentence. A bug in a script is an ``internal_error`` (logged with
its traceback); no exception leaves a session task, and an outside cancellation (``stop()``) still
propagates after a best-effort ``FAILURE server stopping``.

Use ``async with AgiServer(scripts, port=4573) as server`` or :meth:`AgiServer.start` / :meth:`AgiServer.stop`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType, TracebackType

from dialplan.agi.channel import AgiChannel, send_failure_line
from dialplan.agi.environment import MAX_LINE_BYTES, AgiEnvironment, read_environment
from dialplan.agi.errors import AgiFailure, FailureReason
from dialplan.agi.scripts import AgiSession, Script

__all__ = ["DEFAULT_AGI_PORT", "AgiServer", "AgiStatistics"]

log = logging.getLogger(__name__)

DEFAULT_AGI_PORT = 4573
"""Asterisk's default FastAGI port (``AGI_PORT`` in ``res/res_agi.c``)."""

_REPLY_TIMEOUT_S = 1.0
"""Budget for the failure reply (``SET VARIABLE RINGLINE_AGI_REASON`` + ``FAILURE``), seconds."""
_CLOSE_TIMEOUT_S = 1.0
"""How long a closing connection may take to flush before it is aborted, seconds."""


@dataclass(frozen=True)
class AgiStatistics:
    """A snapshot of the server's counters since :meth:`AgiServer.start`.

    Attributes:
        requests: connections accepted.
        active: sessions running now.
        succeeded: sessions whose script ran to its end (whatever its routing decision).
        failures: :class:`~dialplan.agi.errors.FailureReason` value -> sessions that ended with it.
        outcomes: script outcome -> count (``route``: ``OK``, ``NOROUTE``, ``REJECTED``).
    """

    requests: int = 0
    active: int = 0
    succeeded: int = 0
    failures: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    outcomes: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))


class AgiServer:
    """A FastAGI server over ``scripts`` (path -> script; see :mod:`dialplan.agi.scripts`).

    Args:
        scripts: the scripts by path (``route``, ``ivr``).
        host, port: where to listen (TCP); port 0 picks a free one (see :attr:`port`).
        environment_timeout_s: time for the whole environment to arrive after the connection, seconds.
        session_timeout_s: budget of a whole session (environment, lookup, commands), seconds.
        stop_grace_s: how long :meth:`stop` lets running sessions finish before cancelling them, seconds.
    """

    def __init__(
        self,
        scripts: Mapping[str, Script],
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_AGI_PORT,
        environment_timeout_s: float = 5.0,
        session_timeout_s: float = 30.0,
        stop_grace_s: float = 2.0,
    ) -> None:
        if environment_timeout_s <= 0 or session_timeout_s <= 0 or stop_grace_s < 0:
            raise ValueError("timeouts must be positive (stop_grace_s may be 0)")
        self._scripts = dict(scripts)
        self.host = host
        self._port = port
        self.environment_timeout_s = environment_timeout_s
        self.session_timeout_s = session_timeout_s
        self.stop_grace_s = stop_grace_s
        self._server: asyncio.Server | None = None
        self._stop_task: asyncio.Task[None] | None = None
        self._sessions: set[asyncio.Task[None]] = set()
        self._requests = 0
        self._succeeded = 0
        self._failures: collections.Counter[str] = collections.Counter()
        self._outcomes: collections.Counter[str] = collections.Counter()

    # -- observation ---------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The listening port (the bound one once started, useful with ``port=0``)."""
        if self._server is not None and self._server.sockets:
            return int(self._server.sockets[0].getsockname()[1])
        return self._port

    @property
    def serving(self) -> bool:
        return self._server is not None

    def statistics(self) -> AgiStatistics:
        """Counters since :meth:`start` (see :class:`AgiStatistics`)."""
        return AgiStatistics(
            requests=self._requests,
            active=len(self._sessions),
            succeeded=self._succeeded,
            failures=MappingProxyType(dict(self._failures)),
            outcomes=MappingProxyType(dict(self._outcomes)),
        )

    async def wait_idle(self) -> None:
        """Wait until no session is running."""
        while self._sessions:
            await asyncio.wait(set(self._sessions))

    # -- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on ``host:port``.

        Raises:
            OSError: the address is taken or cannot be bound.
            RuntimeError: already serving.
        """
        if self._server is not None:
            raise RuntimeError(f"cannot start FastAGI server: already serving on {self.host}:{self.port}")
        self._stop_task = None
        self._requests = self._succeeded = 0
        self._failures.clear()
        self._outcomes.clear()
        self._server = await asyncio.start_server(self._accept, self.host, self._port, limit=MAX_LINE_BYTES)
        log.info("FastAGI server on %s:%d (scripts: %s)", self.host, self.port, ", ".join(sorted(self._scripts)))

    async def stop(self) -> None:
        """Stop listening, give running sessions ``stop_grace_s``, then cancel and await the rest; idempotent.

        The shutdown runs in a task shielded from the caller's cancellation, so a cancelled ``stop()`` still
        leaves no session behind.
        """
        if self._stop_task is None:
            if self._server is None:
                return
            self._stop_task = asyncio.create_task(self._stop_impl(self._server), name="agi-server-stop")
        await asyncio.shield(self._stop_task)

    async def _stop_impl(self, server: asyncio.Server) -> None:
        server.close()
        if self._sessions:
            _, pending = await asyncio.wait(set(self._sessions), timeout=self.stop_grace_s)
            for task in pending:
                task.cancel()
            if pending:
                log.info("FastAGI server stopping: cancelled %d running session(s)", len(pending))
                await asyncio.wait(pending)
        await server.wait_closed()
        self._server = None
        log.info("FastAGI server on %s:%d stopped", self.host, self._port)

    async def __aenter__(self) -> AgiServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # -- sessions ------------------------------------------------------------------------------------

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """``asyncio.start_server`` callback: start the connection's session as a task this server owns."""
        self._requests += 1
        session_id = f"agi-{self._requests}"
        peername = writer.get_extra_info("peername")
        peer = f"{peername[0]}:{peername[1]}" if isinstance(peername, tuple) else str(peername)
        task = asyncio.create_task(self._serve(session_id, peer, reader, writer), name=session_id)
        self._sessions.add(task)
        task.add_done_callback(self._session_done)

    def _session_done(self, task: asyncio.Task[None]) -> None:
        self._sessions.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:  # _serve catches everything
            log.error("%s: session task failed: %r", task.get_name(), exc, exc_info=exc)

    async def _serve(
        self, session_id: str, peer: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        log.debug("%s: connection from %s", session_id, peer)
        try:
            await self._session(session_id, peer, reader, writer)
        except asyncio.CancelledError:
            self._failures[FailureReason.SERVER_STOPPING.value] += 1
            log.warning("%s from %s: FAILURE %s", session_id, peer, FailureReason.SERVER_STOPPING.value)
            with contextlib.suppress(ConnectionError, RuntimeError):
                if not writer.is_closing():
                    writer.write(f"FAILURE {FailureReason.SERVER_STOPPING.value}\n".encode())
            raise
        finally:
            await _close(writer)

    async def _session(
        self, session_id: str, peer: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        env: AgiEnvironment | None = None
        channel: AgiChannel | None = None
        budget = asyncio.timeout(self.session_timeout_s)
        try:
            async with budget:
                env = await self._read_environment(reader)
                channel = AgiChannel(reader, writer, env)
                script = self._script_for(env)
                outcome = await script(AgiSession(session_id, peer, env, channel))
        except AgiFailure as exc:
            failure = exc
        except Exception as exc:
            if isinstance(exc, TimeoutError) and budget.expired():
                failure = AgiFailure(
                    FailureReason.SESSION_TIMEOUT, f"session not done within {self.session_timeout_s:g} s"
                )
            else:
                log.exception("%s from %s: script %r raised", session_id, peer, env.script if env else None)
                failure = AgiFailure(FailureReason.INTERNAL_ERROR, f"internal error: {type(exc).__name__}")
        else:
            self._succeeded += 1
            self._outcomes[outcome] += 1
            return
        await self._fail(session_id, peer, env, channel, writer, failure)

    async def _read_environment(self, reader: asyncio.StreamReader) -> AgiEnvironment:
        """The environment, within ``environment_timeout_s``.

        Raises:
            AgiFailure: from :func:`read_environment`, or ``ENVIRONMENT_TIMEOUT``.
        """
        try:
            async with asyncio.timeout(self.environment_timeout_s):
                return await read_environment(reader)
        except TimeoutError:
            raise AgiFailure(
                FailureReason.ENVIRONMENT_TIMEOUT,
                f"no complete environment (ending in a blank line) within {self.environment_timeout_s:g} s",
            ) from None

    def _script_for(self, env: AgiEnvironment) -> Script:
        """The script the environment asks for.

        Raises:
            AgiFailure: ``MISSING_HEADER`` (empty environment, no ``agi_network_script``), ``UNKNOWN_SCRIPT``.
        """
        if not env.headers:
            raise AgiFailure(FailureReason.MISSING_HEADER, "empty environment: no agi_ headers before the blank line")
        if env.network_script is None:
            raise AgiFailure(
                FailureReason.MISSING_HEADER,
                "no agi_network_script: the AGI URL names no script (want agi://host:port/route)",
            )
        script = self._scripts.get(env.script)
        if script is None:
            raise AgiFailure(
                FailureReason.UNKNOWN_SCRIPT,
                f"unknown script {env.script!r} (known: {', '.join(sorted(self._scripts))})",
            )
        return script

    async def _fail(
        self,
        session_id: str,
        peer: str,
        env: AgiEnvironment | None,
        channel: AgiChannel | None,
        writer: asyncio.StreamWriter,
        failure: AgiFailure,
    ) -> None:
        """Log and count ``failure``; answer ``FAILURE`` when the peer can still hear it."""
        reason = failure.reason
        self._failures[reason.value] += 1
        where = f" {env.channel} script {env.script!r}" if env is not None and env.channel else ""
        log.warning("%s from %s%s: FAILURE %s: %s", session_id, peer, where, reason.value, failure.detail)
        if not reason.can_reply:
            return
        try:
            async with asyncio.timeout(_REPLY_TIMEOUT_S):
                if env is not None and env.channel and channel is not None and channel.in_step:
                    with contextlib.suppress(AgiFailure):
                        await channel.set_variable("RINGLINE_AGI_REASON", f"{reason.value}: {failure.detail}")
                await send_failure_line(writer, f"{reason.value}: {failure.detail}")
        except TimeoutError:
            log.info("%s: FAILURE reply not delivered within %g s", session_id, _REPLY_TIMEOUT_S)


async def _close(writer: asyncio.StreamWriter) -> None:
    """Close the connection; abort it when it cannot flush within ``_CLOSE_TIMEOUT_S``."""
    writer.close()
    try:
        # wait_for, not asyncio.timeout: this also runs while the session task is being cancelled
        await asyncio.wait_for(writer.wait_closed(), _CLOSE_TIMEOUT_S)
    except TimeoutError:
        writer.transport.abort()
    except OSError:  # reset by the peer: closed all the same
        pass
