"""Asterisk's side of FastAGI, played by a test over a real TCP connection to the server under test.

:func:`asterisk_environment` builds what Asterisk 22's ``setup_env()`` sends; :class:`FakeAsterisk` sends it
(or any bytes), answers the server's commands like Asterisk does (``200 result=1``) and records them, until the
server writes ``FAILURE`` or closes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


def asterisk_environment(
    script: str | None = "route",
    *,
    args: tuple[str, ...] = ("agitest",),
    context: str = "ringline-agi-agitest",
    extension: str = "+15557001",
    dnid: str = "+15557001",
    port: int = 4573,
    omit: tuple[str, ...] = (),
) -> dict[str, str]:
    """The environment Asterisk 22 sends for ``AGI(agi://127.0.0.1:<port>/<script>,<args>)``, minus ``omit``."""
    url = f"agi://127.0.0.1:{port}" + (f"/{script}" if script is not None else "")
    env = {"agi_network": "yes"}
    if script:
        env["agi_network_script"] = script
    env |= {
        "agi_request": url,
        "agi_channel": "PJSIP/agitest-carrier-00000001",
        "agi_language": "en",
        "agi_type": "PJSIP",
        "agi_uniqueid": "1700000000.1",
        "agi_version": "22.10.1",
        "agi_callerid": "+15551234",
        "agi_calleridname": "unknown",
        "agi_callingpres": "0",
        "agi_callingani2": "0",
        "agi_callington": "0",
        "agi_callingtns": "0",
        "agi_dnid": dnid,
        "agi_rdnis": "unknown",
        "agi_context": context,
        "agi_extension": extension,
        "agi_priority": "1",
        "agi_enhanced": "0.0",
        "agi_accountcode": "",
        "agi_threadid": "140000000000000",
    }
    for n, arg in enumerate(args, start=1):
        env[f"agi_arg_{n}"] = arg
    return {k: v for k, v in env.items() if k not in omit}


def encode_environment(env: Mapping[str, str]) -> bytes:
    return "".join(f"{k}: {v}\n" for k, v in env.items()).encode() + b"\n"


def unquote(argument: str) -> str:
    """Inverse of ``dialplan.agi.channel.quote_argument`` as Asterisk's ``parse_args()`` reads it."""
    out, escaped = [], False
    for ch in argument:
        if escaped:
            out.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch != '"':
            out.append(ch)
    return "".join(out)


@dataclass
class Transcript:
    """What the server said in one session."""

    commands: list[str] = field(default_factory=list)
    failure: str | None = None
    """The text after ``FAILURE `` when the server answered FAILURE."""
    closed: bool = False
    """The server closed the connection (EOF)."""

    @property
    def variables(self) -> dict[str, str]:
        """``SET VARIABLE`` name -> value, in order."""
        result: dict[str, str] = {}
        for command in self.commands:
            if command.startswith("SET VARIABLE "):
                name, _, value = command.removeprefix("SET VARIABLE ").partition(" ")
                result[name] = unquote(value)
        return result


Reply = Callable[[str, int], bytes | None]
"""``(command, index) -> reply bytes``; ``None`` closes the connection instead of answering."""


def ok_reply(command: str, index: int) -> bytes | None:
    return b"200 result=1\n"


class FakeAsterisk:
    """One FastAGI connection from the test's side."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, port: int) -> FakeAsterisk:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()

    async def converse(self, reply: Reply = ok_reply, timeout_s: float = 5.0) -> Transcript:
        """Answer commands with ``reply`` until FAILURE or EOF (then read to EOF); return what was said."""
        transcript = Transcript()
        async with asyncio.timeout(timeout_s):
            while True:
                try:
                    raw = await self.reader.readline()
                except ConnectionError:
                    raw = b""
                if not raw:
                    transcript.closed = True
                    break
                line = raw.decode().rstrip("\n")
                if line.lower().startswith("failure"):
                    transcript.failure = line.partition(" ")[2]
                    continue  # Asterisk stops here; the server closes next
                if transcript.failure is not None:
                    transcript.commands.append(line)  # nothing may follow FAILURE: recorded to be asserted
                    continue
                answer = reply(line, len(transcript.commands))
                transcript.commands.append(line)
                if answer is None:
                    await self.close()
                    return transcript
                self.writer.write(answer)
                await self.writer.drain()
        await self.close()
        return transcript


async def request(port: int, env: Mapping[str, str] | bytes, reply: Reply = ok_reply) -> Transcript:
    """Connect, send ``env`` (a mapping, or raw bytes as they are), converse."""
    asterisk = await FakeAsterisk.connect(port)
    await asterisk.send(env if isinstance(env, bytes) else encode_environment(env))
    return await asterisk.converse(reply)
