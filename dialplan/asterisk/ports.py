"""Check that the ports an instance binds on 127.0.0.1 are free before starting Asterisk.

Asterisk does not fail when a PJSIP transport or the HTTP server cannot bind: it logs an ERROR and runs on
without SIP or ARI, which surfaces much later as a confusing timeout. Checking first gives a clear
:class:`~dialplan.asterisk.errors.PortInUse` naming the port.

TCP probes set ``SO_REUSEADDR`` so that connections left in TIME_WAIT by a previous run do not count as
"in use" (Linux then still refuses the bind while a socket *listens* on the port); UDP probes do not.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterable

from dialplan.asterisk.errors import PortInUse

__all__ = ["check_ports_free", "port_is_free"]

HOST = "127.0.0.1"


def port_is_free(port: int, proto: str) -> bool:
    """Whether ``port`` can be bound on 127.0.0.1 right now; ``proto`` is ``"tcp"`` or ``"udp"``."""
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, kind) as sock:
        if proto == "tcp":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def check_ports_free(wanted: Iterable[tuple[int, str, str]]) -> None:
    """Check ``(port, proto, purpose)`` triples, e.g. ``(5060, "udp", "sip")``.

    Raises:
        PortInUse: for the first port that cannot be bound.
    """
    for port, proto, purpose in wanted:
        if not port_is_free(port, proto):
            raise PortInUse(port, proto, purpose)
