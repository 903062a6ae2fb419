"""API errors: every failure of an ``/api/`` route is JSON ``{"error_id", "message", "details"}``.

Error tree (``error_id`` -> HTTP status)::

    ApiError                         base; ``error_id`` is stable, ``message`` one human line, ``details`` JSON
    ├── BadRequest                   400 ``malformed_json`` (body is not JSON / not an object)
    ├── ValidationFailed             422 ``validation_failed`` (pydantic errors in ``details.errors``)
    ├── Unauthenticated              401 ``unauthenticated`` (no credentials), ``invalid_token``,
    │                                    ``token_expired``, ``invalid_api_key``, ``invalid_credentials``,
    │                                    ``invalid_refresh_token``, ``refresh_token_reused``
    ├── Forbidden                    403 ``forbidden`` (permission missing), ``tenant_forbidden``,
    │                                    ``role_forbidden``, ``user_required``
    ├── NotFound                     404 ``not_found``
    └── Conflict                     409 ``user_exists``, ``extension_exists``, ``did_exists``,
                                         ``limit_reached`` (a tenant limit; ``details.limit`` names it,
                                         e.g. ``max_dids``)
    (aiohttp's own HTTP errors)      same status, ``error_id`` from :data:`HTTP_ERROR_IDS` (``not_found``,
                                     ``method_not_allowed``, ``payload_too_large`` ...)
    (anything else)                  500 ``internal``, logged with its traceback

Source: RFC 9110 section 15.5 (4xx), RFC 6750 section 3 (``WWW-Authenticate: Bearer`` on 401).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger("ringline.web")

API_PREFIX = "/api/"

HTTP_ERROR_IDS = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}
"""``error_id`` for errors aiohttp raises itself (router, body size limit)."""


class ApiError(Exception):
    """An error the client caused or must see; rendered by :func:`error_middleware`."""

    status = 400
    error_id = "bad_request"

    def __init__(self, message: str, *, error_id: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if error_id is not None:
            self.error_id = error_id
        self.details = details if details is not None else {}


class BadRequest(ApiError):
    status, error_id = 400, "malformed_json"


class ValidationFailed(ApiError):
    status, error_id = 422, "validation_failed"


class Unauthenticated(ApiError):
    status, error_id = 401, "unauthenticated"


class Forbidden(ApiError):
    status, error_id = 403, "forbidden"


class NotFound(ApiError):
    status, error_id = 404, "not_found"


class Conflict(ApiError):
    status, error_id = 409, "conflict"


def error_response(status: int, error_id: str, message: str, details: Any = None) -> web.Response:
    """The JSON body every API error has."""
    body = {"error_id": error_id, "message": message, "details": details if details is not None else {}}
    headers = {"WWW-Authenticate": 'Bearer realm="ringline"'} if status == 401 else None
    return web.json_response(body, status=status, headers=headers)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost middleware: :class:`ApiError` and aiohttp's HTTP errors become JSON on ``/api/``; any other
    exception becomes a logged 500 ``internal`` (everywhere). Cancellation propagates (it is no ``Exception``).
    """
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.error_id, exc.message, exc.details)
    except web.HTTPException as exc:
        if exc.status < 400 or not request.path.startswith(API_PREFIX):
            raise
        error_id = HTTP_ERROR_IDS.get(exc.status, f"http_{exc.status}")
        return error_response(exc.status, error_id, exc.reason)
    except Exception:
        log.exception("unexpected error in %s %s", request.method, request.path)
        return error_response(500, "internal", "internal server error")
