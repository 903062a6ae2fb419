"""The command side of one FastAGI session: send a command, read Asterisk's reply (panoramisk).

After the environment, the server writes one command per line and Asterisk answers each with
``200 result=<n> [(data)]`` (``510`` unknown command, ``511`` dead channel, ``520`` usage), possibly preceded
by ``100 Trying...``. When the channel hangs up, Asterisk writes ``HANGUP`` on its own (``AGISIGHUP``, on by
default). Source: Asterisk ``res/res_agi.c`` ``agi_handle_command()``, ``run_agi()``.

panoramisk's :class:`~panoramisk.fast_agi.Request` does the write, the ``100 Trying`` loop and the result
parsing; this module turns its outcomes into :class:`~dialplan.agi.errors.AgiFailure`. Only this module
imports panoramisk: its server side (``Application.handler``) is not used because it spins without awaiting
when a peer closes mid-environment (``reader.read()`` keeps returning ``b""``), freezing the event loop, and
it swallows ``CancelledError``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from panoramisk.fast_agi import Request  # type: ignore[import-untyped]

from dialplan.agi.environment import AgiEnvironment
from dialplan.agi.errors import AgiFailure, FailureReason

__all__ = ["AgiChannel", "AgiReply", "quote_argument", "send_failure_line"]

_FAILURE_DETAIL_CHARS = 200
"""Longest reason text sent after ``FAILURE`` (Asterisk reads command lines into a 2 KiB buffer)."""


@dataclass(frozen=True)
class AgiReply:
    """A ``200`` reply: ``200 result=1 (timeout)`` -> ``AgiReply(200, "1", "timeout")``."""

    status_code: int
    result: str
    data: str


def quote_argument(value: str) -> str:
    """One AGI command argument, double-quoted, with ``\\`` and ``"`` escaped and line breaks as spaces.

    Source: Asterisk ``res/res_agi.c`` ``parse_args()`` (quotes group words, a backslash escapes the next
    character).
    """
    flat = value.replace("\r", " ").replace("\n", " ")
    return '"' + flat.replace("\\", "\\\\").replace('"', '\\"') + '"'


class AgiChannel:
    """Commands to the channel that opened a FastAGI session.

    Args:
        reader, writer: the session's streams, positioned after the environment.
        env: the session's environment (handed to panoramisk's ``Request`` as its headers).
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, env: AgiEnvironment) -> None:
        self._reader = reader
        self._request: Any = Request(app=None, headers=dict(env.headers), reader=reader, writer=writer)
        self._in_step = True

    @property
    def in_step(self) -> bool:
        """Whether every command sent so far got its ``200`` reply (so the next reply read is our own)."""
        return self._in_step

    async def command(self, command: str) -> AgiReply:
        """Send ``command`` (one line, no newline) and return Asterisk's ``200`` reply.

        Raises:
            ValueError: ``command`` contains a line break.
            AgiFailure: ``CALLER_HANGUP`` (Asterisk said ``HANGUP``), ``DISCONNECTED`` (EOF or reset),
                ``COMMAND_FAILED`` (any other reply, or a line that does not parse).
        """
        if "\n" in command or "\r" in command:
            raise ValueError(f"AGI command contains a line break: {command!r}")
        verb = " ".join(command.split(" ", 2)[:2])  # e.g. "SET VARIABLE", for messages
        self._in_step = False
        try:
            reply: dict[str, Any] = await self._request.send_command(command)
        except ConnectionError as exc:
            raise AgiFailure(FailureReason.DISCONNECTED, f"connection lost during {verb}: {exc}") from None
        except ValueError:
            # panoramisk parses the status code with int(): an empty line (EOF) or garbage lands here
            if self._reader.at_eof():
                raise AgiFailure(FailureReason.DISCONNECTED, f"peer closed during {verb}") from None
            raise AgiFailure(FailureReason.COMMAND_FAILED, f"unparseable reply to {verb}") from None
        error = reply.get("error")
        if error == "AGIResultHangup":
            raise AgiFailure(FailureReason.CALLER_HANGUP, f"channel hung up during {verb}")
        if error is not None or reply.get("status_code") != 200:
            first_line = (str(reply.get("msg") or "").strip().splitlines() or [""])[0]
            answer = " ".join(str(part) for part in (reply.get("status_code"), error, first_line) if part)
            raise AgiFailure(FailureReason.COMMAND_FAILED, f"{verb} answered {answer}")
        result, data = reply.get("result", ("", ""))
        self._in_step = True
        return AgiReply(200, str(result), str(data))

    async def set_variable(self, name: str, value: str) -> None:
        """``SET VARIABLE <name> "<value>"`` (channel variable; Asterisk always answers ``200 result=1``).

        Raises:
            AgiFailure: see :meth:`command`.
        """
        await self.command(f"SET VARIABLE {name} {quote_argument(value)}")


async def send_failure_line(writer: asyncio.StreamWriter, detail: str) -> None:
    """Write ``FAILURE <detail>\\n`` and drain: Asterisk ends ``AGI()`` with ``AGISTATUS=FAILURE`` and sends no
    reply. A connection that is already closed or reset is ignored: nothing more can be said to it."""
    text = " ".join(detail.split())[:_FAILURE_DETAIL_CHARS]
    if writer.is_closing():
        return
    try:
        writer.write(f"FAILURE {text}\n".encode())
        await writer.drain()
    except ConnectionError:
        pass
