"""Errors raised by the local Asterisk sandbox (provisioning, configuration, process control).

Error tree::

    AsteriskError                     base of everything below; never raised itself
    ├── ProvisionError                building the debootstrap root failed (not root, debootstrap/apt failed)
    ├── InstanceConfigError           an AsteriskInstance field cannot be rendered (also a ValueError)
    ├── PortInUse                     a port the instance needs is already bound on 127.0.0.1
    ├── AsteriskStartError            Asterisk exited or did not answer ARI before the deadline
    ├── AsteriskNotRunning            an operation needs a running Asterisk and there is none
    └── AsteriskCliError              ``asterisk -rx`` failed (non-zero exit, no control socket, timeout)

Every error carries a human sentence first; the details (log tails, command lines) follow on the next
lines so that ``str(exc)`` is directly useful in a test failure or a CLI message.
"""

from __future__ import annotations

__all__ = [
    "AsteriskCliError",
    "AsteriskError",
    "AsteriskNotRunning",
    "AsteriskStartError",
    "InstanceConfigError",
    "PortInUse",
    "ProvisionError",
]


class AsteriskError(Exception):
    """Base class of the sandbox errors."""


class ProvisionError(AsteriskError):
    """The Asterisk root could not be built; the message ends with the tail of the failing tool's log."""


class InstanceConfigError(AsteriskError, ValueError):
    """An :class:`~dialplan.asterisk.config.AsteriskInstance` field is invalid (e.g. a tenant slug)."""


class PortInUse(AsteriskError):
    """A TCP or UDP port on 127.0.0.1 that the instance must bind is taken.

    Attributes:
        port: the port number.
        proto: ``"tcp"`` or ``"udp"``.
        purpose: what the instance wanted it for (``"http"``, ``"sip"``).
    """

    def __init__(self, port: int, proto: str, purpose: str) -> None:
        super().__init__(f"port {port}/{proto} on 127.0.0.1 ({purpose}) is already in use")
        self.port = port
        self.proto = proto
        self.purpose = purpose


class AsteriskStartError(AsteriskError):
    """Asterisk exited during start-up or ARI did not answer 200 before the deadline.

    Attributes:
        log_tail: the last lines of the instance's logs (console output, then ``messages.log``).
    """

    def __init__(self, message: str, log_tail: list[str]) -> None:
        body = "\n".join(log_tail) if log_tail else "(no log output)"
        super().__init__(f"{message}\n--- last log lines ---\n{body}")
        self.log_tail = log_tail


class AsteriskNotRunning(AsteriskError):
    """The instance has no running Asterisk process (no live pid, or the process already exited)."""


class AsteriskCliError(AsteriskError):
    """``asterisk -rx <command>`` failed.

    Attributes:
        command: the CLI command.
        returncode: exit status of ``asterisk -rx`` (``None`` on timeout).
        output: what it printed (stdout and stderr).
    """

    def __init__(self, command: str, returncode: int | None, output: str) -> None:
        status = "timed out" if returncode is None else f"exited {returncode}"
        super().__init__(f"asterisk -rx {command!r} {status}: {output.strip()[-2000:]}")
        self.command = command
        self.returncode = returncode
        self.output = output
