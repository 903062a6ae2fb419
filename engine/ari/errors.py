"""Errors raised by the ARI client.

The tree::

    AriError                        anything this package raises about ARI
    ├── AriHttpError                Asterisk answered with a non-2xx status (status, method, path, message)
    │   ├── AriBadRequest           400: a parameter is missing/malformed, two exclude each other, or a
    │   │                                channel named in a query does not exist (bridge addChannel)
    │   ├── AriNotFound             404: the addressed channel/bridge/playback/... does not exist (any more)
    │   ├── AriConflict             409: the object is in the wrong state (not in Stasis, recording) or an
    │   │                                id is already taken
    │   ├── AriPreconditionFailed   412: the channel is in an invalid state for the operation
    │   └── AriUnprocessable        422: an object named in the query exists but cannot take part (channel
    │                                    not in Stasis for addChannel, not in this bridge for removeChannel)
    └── AriUnavailable              no answer: connection refused/reset, TLS/HTTP protocol error, timeout

``AriUnavailable`` after a non-idempotent request (originate, create) means the outcome is unknown: the
request may have been executed. Pass your own ``channel_id``/``bridge_id`` and reconcile with a ``GET``.

"Already gone" is not an error where it is the goal: ``AriClient.channel_hangup``, ``bridge_destroy`` and
``playback_stop`` return ``False`` on 404 instead of raising ``AriNotFound``.

Status meanings: Asterisk's ARI api-docs, ``errorResponses`` of each operation (rest-api/api-docs/*.json).
"""

from __future__ import annotations


class AriError(Exception):
    """Base class of every ARI error."""


class AriHttpError(AriError):
    """Asterisk answered a REST request with a non-2xx status.

    Attributes:
        status: HTTP status code, e.g. 404.
        method: HTTP method of the request, e.g. ``"POST"``.
        path: ARI path of the request, relative to ``/ari``, e.g. ``"/channels/abc/answer"``.
        message: the ``message`` of Asterisk's JSON error body, or the raw body text.
    """

    def __init__(self, status: int, method: str, path: str, message: str) -> None:
        super().__init__(status, method, path, message)
        self.status = status
        self.method = method
        self.path = path
        self.message = message

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}: {self.message}"


class AriBadRequest(AriHttpError):
    """400: invalid parameters (including a channel named in a query that does not exist)."""


class AriNotFound(AriHttpError):
    """404: the addressed object does not exist."""


class AriConflict(AriHttpError):
    """409: the object is in a state that does not allow the operation."""


class AriPreconditionFailed(AriHttpError):
    """412: the channel is in a state that does not allow the operation."""


class AriUnprocessable(AriHttpError):
    """422: an object named in the request exists but cannot take part (e.g. a channel not in Stasis)."""


class AriUnavailable(AriError):
    """Asterisk could not be reached or did not answer in time; the request's outcome is unknown.

    Attributes:
        method: HTTP method, or ``"WS"`` for the events WebSocket.
        path: ARI path of the request.
        reason: what went wrong, e.g. ``"ClientConnectorError: Cannot connect to host ..."``.
    """

    def __init__(self, method: str, path: str, reason: str) -> None:
        super().__init__(method, path, reason)
        self.method = method
        self.path = path
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.method} {self.path}: ARI unavailable: {self.reason}"


_BY_STATUS: dict[int, type[AriHttpError]] = {
    400: AriBadRequest,
    404: AriNotFound,
    409: AriConflict,
    412: AriPreconditionFailed,
    422: AriUnprocessable,
}


def http_error(status: int, method: str, path: str, message: str) -> AriHttpError:
    """The most specific ``AriHttpError`` subclass for ``status`` (``AriHttpError`` itself when none)."""
    return _BY_STATUS.get(status, AriHttpError)(status, method, path, message)
