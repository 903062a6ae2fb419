"""The FastAGI environment: the ``agi_<name>: <value>`` lines Asterisk sends before the first command.

What Asterisk 22 sends on ``AGI(agi://127.0.0.1:4573/route?x=1,acme)``, one line each, then a blank line::

    agi_network: yes
    agi_network_script: route?x=1          (only when the URL has a path)
    agi_request: agi://127.0.0.1:4573/route?x=1
    agi_channel: PJSIP/acme-carrier-00000001
    agi_language, agi_type, agi_uniqueid, agi_version, agi_callerid, agi_calleridname, agi_callingpres,
    agi_callingani2, agi_callington, agi_callingtns, agi_dnid, agi_rdnis,
    agi_context: ringline-agi-acme
    agi_extension: +15550100
    agi_priority, agi_enhanced, agi_accountcode, agi_threadid,
    agi_arg_1: acme                        (one per AGI() argument after the URL)

Source: Asterisk ``res/res_agi.c`` ``launch_netscript()`` (``agi_network``, ``agi_network_script``) and
``setup_env()`` (the rest, ``"agi_%s: %s\\n"``; an unknown caller id or DNID reads ``unknown``).

:func:`read_environment` reads them with limits (line length, line count, total bytes); the caller bounds
the time. Anything else raises :class:`~dialplan.agi.errors.AgiFailure`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import parse_qs

from dialplan.agi.errors import AgiFailure, FailureReason

__all__ = ["MAX_ENVIRONMENT_BYTES", "MAX_ENVIRONMENT_LINES", "MAX_LINE_BYTES", "AgiEnvironment", "read_environment"]

MAX_LINE_BYTES = 8192
"""Longest environment line accepted, bytes (also the StreamReader limit the server sets)."""
MAX_ENVIRONMENT_LINES = 256
"""Most environment lines accepted (Asterisk sends 21 plus one per AGI() argument)."""
MAX_ENVIRONMENT_BYTES = 65536
"""Largest environment accepted, bytes."""

_LINE_RE = re.compile(r"(agi_[a-z0-9_]+): ?(.*)")
_ARG_RE = re.compile(r"agi_arg_([1-9][0-9]*)")
_UNSET = frozenset({"", "unknown"})
"""Values ``setup_env()`` sends for an absent caller id / DNID / RDNIS."""


@dataclass(frozen=True)
class AgiEnvironment:
    """One request's environment, keyed by header name (``agi_extension`` -> ``+15550100``)."""

    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def get(self, name: str) -> str | None:
        """Header ``name`` (``agi_context``) stripped, or ``None`` when absent or empty."""
        value = self.headers.get(name, "").strip()
        return value or None

    @property
    def network_script(self) -> str | None:
        """``agi_network_script``: the URL's path and query, e.g. ``route`` or ``ivr?flow=main``."""
        return self.get("agi_network_script")

    @property
    def script(self) -> str:
        """The script path without query and surrounding slashes: ``ivr?flow=main`` -> ``ivr``."""
        return (self.network_script or "").partition("?")[0].strip("/")

    @property
    def query(self) -> Mapping[str, str]:
        """Query parameters of the script (the last value wins): ``ivr?flow=main`` -> ``{"flow": "main"}``."""
        query = (self.network_script or "").partition("?")[2]
        return {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}

    @property
    def args(self) -> tuple[str, ...]:
        """``agi_arg_1``, ``agi_arg_2``, ... in order (the AGI() arguments after the URL)."""
        numbered = sorted(
            (int(m.group(1)), value) for name, value in self.headers.items() if (m := _ARG_RE.fullmatch(name))
        )
        return tuple(value for _, value in numbered)

    @property
    def channel(self) -> str | None:
        """``agi_channel``, e.g. ``PJSIP/acme-carrier-00000001``; present only when a real channel asked."""
        return self.get("agi_channel")

    @property
    def context(self) -> str | None:
        """``agi_context``: the dialplan context that ran ``AGI()``."""
        return self.get("agi_context")

    @property
    def dialled(self) -> str | None:
        """The dialled number: ``agi_extension``, or ``agi_dnid`` when the extension is ``s`` or unset."""
        extension = self.get("agi_extension")
        if extension is not None and extension != "s" and extension not in _UNSET:
            return extension
        dnid = self.get("agi_dnid")
        return dnid if dnid is not None and dnid not in _UNSET else None


async def read_environment(
    reader: asyncio.StreamReader,
    *,
    max_lines: int = MAX_ENVIRONMENT_LINES,
    max_bytes: int = MAX_ENVIRONMENT_BYTES,
) -> AgiEnvironment:
    """Read the environment up to and including its blank line.

    Lines end in ``\\n`` (a ``\\r`` before it is dropped). The reader's own limit bounds one line.

    Raises:
        AgiFailure: ``DISCONNECTED`` (EOF or reset before the blank line), ``MALFORMED_ENVIRONMENT`` (a line
            that is not ``agi_<name>: <value>``, or a header sent twice), ``ENVIRONMENT_TOO_LARGE``.
    """
    headers: dict[str, str] = {}
    total = 0
    for number in range(1, max_lines + 2):
        try:
            raw = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            partial = " and part of another" if exc.partial else ""
            raise AgiFailure(
                FailureReason.DISCONNECTED,
                f"peer closed the connection after {number - 1} environment line(s){partial}",
            ) from None
        except asyncio.LimitOverrunError:
            raise AgiFailure(
                FailureReason.ENVIRONMENT_TOO_LARGE, f"environment line {number} is longer than the limit"
            ) from None
        except ConnectionError as exc:
            raise AgiFailure(FailureReason.DISCONNECTED, f"connection lost in the environment: {exc}") from None
        total += len(raw)
        line = raw.removesuffix(b"\n").removesuffix(b"\r")
        if not line:
            return AgiEnvironment(MappingProxyType(headers))
        if total > max_bytes or number > max_lines:
            raise AgiFailure(
                FailureReason.ENVIRONMENT_TOO_LARGE,
                f"environment over {max_lines} lines or {max_bytes} bytes",
            )
        name, value = _parse_line(line, number)
        if name in headers:
            raise AgiFailure(FailureReason.MALFORMED_ENVIRONMENT, f"header {name} sent twice (line {number})")
        headers[name] = value
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


def _parse_line(line: bytes, number: int) -> tuple[str, str]:
    text = line.decode("utf-8", errors="replace")
    match = _LINE_RE.fullmatch(text)
    if match is None:
        raise AgiFailure(
            FailureReason.MALFORMED_ENVIRONMENT,
            f"environment line {number} is not 'agi_<name>: <value>': {_excerpt(text)}",
        )
    return match.group(1), match.group(2)


def _excerpt(text: str, limit: int = 60) -> str:
    """A short, log-safe ``repr`` of what the peer sent."""
    return repr(text[:limit] + ("..." if len(text) > limit else ""))
