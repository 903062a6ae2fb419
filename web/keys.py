"""Typed application state (``web.AppKey``) and request state keys, in one place.

Handlers read ``request.app[POOL]``; the guard (``web.auth.guard``) records the principal and the request's
tenant (:func:`set_principal`) before any handler runs, handlers read them with :func:`principal` and
:func:`tenant_id`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import asyncpg
import jinja2
from aiohttp import web

if TYPE_CHECKING:
    from web.auth.config import AuthConfig
    from web.auth.services import Principal

StatusProvider = Callable[[], Awaitable[dict[str, Any]]]
Clock = Callable[[], float]
"""Wall-clock time in seconds since the epoch (``time.time``); injected so tests can move it."""

STATUS: web.AppKey[StatusProvider] = web.AppKey("status", StatusProvider)  # type: ignore[arg-type]
TEMPLATES: web.AppKey[jinja2.Environment] = web.AppKey("templates", jinja2.Environment)
POOL: web.AppKey[asyncpg.Pool] = web.AppKey("pool", asyncpg.Pool)
AUTH_CONFIG: web.AppKey[AuthConfig] = web.AppKey("auth_config")
CLOCK: web.AppKey[Clock] = web.AppKey("clock")

_PRINCIPAL: web.RequestKey[Principal] = web.RequestKey("principal")
_TENANT_ID: web.RequestKey[int] = web.RequestKey("tenant_id", int)


def set_principal(request: web.Request, principal: Principal, tenant_id: int) -> None:
    """Called by the guard only: who is asking, and the tenant this request is scoped to."""
    request[_PRINCIPAL] = principal
    request[_TENANT_ID] = tenant_id


def principal(request: web.Request) -> Principal:
    """The authenticated principal (the guard ran before the handler)."""
    return request[_PRINCIPAL]


def tenant_id(request: web.Request) -> int:
    """The tenant every store call of this request is scoped to: the principal's own, or the one a superadmin
    names with ``X-Ringline-Tenant``."""
    return request[_TENANT_ID]
