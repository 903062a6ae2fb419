"""Why a FastAGI session ends without a routing result.

The tree::

    AgiFailure(reason, detail)      a session ends without doing its job; ``reason`` is a FailureReason
        reason.can_reply  True  ->  the server answers ``FAILURE <reason>`` (Asterisk sets AGISTATUS=FAILURE)
        reason.can_reply  False ->  the peer is gone (closed, reset) or the channel hung up: nothing is sent

``FAILURE`` is the one way a FastAGI server can make ``AGI()`` end with ``AGISTATUS=FAILURE``: a line
starting with ``failure`` (any case) where Asterisk expects a command. Source: Asterisk ``res/res_agi.c``
``run_agi()`` ("Special case for inability to execute child process") and ``agi_exec_full()``, which maps
``AGI_RESULT_FAILURE`` to ``AGISTATUS=FAILURE``.

A routing answer that sends no call anywhere (unknown DID, suspended tenant) is not a failure: the route
script sets ``RINGLINE_ROUTE_STATUS=NOROUTE|REJECTED`` and the session ends with ``AGISTATUS=SUCCESS``.
"""

from __future__ import annotations

import enum

__all__ = ["AgiFailure", "FailureReason"]


class FailureReason(enum.Enum):
    """Stable ids of session failures (the keys of ``AgiStatistics.failures``)."""

    DISCONNECTED = "disconnected"
    """The peer closed or reset the connection (mid-environment or mid-command)."""
    CALLER_HANGUP = "caller_hangup"
    """Asterisk sent ``HANGUP``: the channel hung up while the script ran."""
    MALFORMED_ENVIRONMENT = "malformed_environment"
    """A line of the environment is not ``agi_<name>: <value>`` (garbage, another protocol, a duplicate)."""
    ENVIRONMENT_TOO_LARGE = "environment_too_large"
    """A line, or the whole environment, is over the server's limits."""
    ENVIRONMENT_TIMEOUT = "environment_timeout"
    """The blank line ending the environment did not arrive in time."""
    MISSING_HEADER = "missing_header"
    """An ``agi_`` header the script needs is absent or empty (script path, tenant, dialled number)."""
    UNKNOWN_SCRIPT = "unknown_script"
    """``agi_network_script`` names no script of this server."""
    NOT_AVAILABLE = "not_available"
    """The script exists but cannot serve yet (IVR flows)."""
    ROUTE_LOOKUP_FAILED = "route_lookup_failed"
    """The database did not answer the route lookup."""
    COMMAND_FAILED = "command_failed"
    """Asterisk answered a command with something other than ``200`` (or an unparseable line)."""
    SESSION_TIMEOUT = "session_timeout"
    """The session's whole time budget ran out (a command or the lookup hung)."""
    SERVER_STOPPING = "server_stopping"
    """The server stopped while the session ran (after its grace period)."""
    INTERNAL_ERROR = "internal_error"
    """A bug in a script: logged with its traceback."""

    @property
    def can_reply(self) -> bool:
        """Whether a ``FAILURE`` line can still reach Asterisk (False once the peer or the channel is gone)."""
        return self not in (FailureReason.DISCONNECTED, FailureReason.CALLER_HANGUP)


class AgiFailure(Exception):
    """A session ends without its result.

    Attributes:
        reason: the :class:`FailureReason`.
        detail: one human-readable sentence for the log (and, where possible, ``RINGLINE_AGI_REASON``).
    """

    def __init__(self, reason: FailureReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail
