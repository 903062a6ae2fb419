"""The web application: health, a status page, Prometheus metrics and, given a database pool, the REST API.

Routes:
- ``GET /health`` -> ``{"status": "ok"|"degraded", "checks": {...}}`` (200 when ok, 503 when degraded)
- ``GET /`` -> an HTML status page (engine, ARI, calls, how to place a test call)
- ``GET /metrics`` -> Prometheus text exposition of the process's metrics
- ``/api/...`` (with ``pool`` and ``auth``) -> ``web.auth.http``, ``web.provisioning.http`` (extensions, DIDs),
  ``web.openapi.http`` (``/api/openapi.json``, ``/api/docs``); every API route passes the guard
  (``web.auth.guard``) and every API error is JSON (``web.errors``)

Middlewares, outermost first: errors (JSON errors, logged 500s) -> guard (authenticate, scope, authorise).
"""

from __future__ import annotations

import time
from pathlib import Path

import asyncpg
import jinja2
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from web.auth import guard
from web.auth import http as auth_http
from web.auth.config import AuthConfig
from web.errors import error_middleware
from web.keys import AUTH_CONFIG, CLOCK, POOL, STATUS, TEMPLATES, Clock, StatusProvider
from web.openapi import http as openapi_http
from web.provisioning import http as provisioning_http

__all__ = ["STATUS", "TEMPLATES", "StatusProvider", "make_app"]

_TEMPLATE_DIR = Path(__file__).parent / "templates"


def make_app(
    status: StatusProvider,
    *,
    pool: asyncpg.Pool | None = None,
    auth: AuthConfig | None = None,
    clock: Clock = time.time,
) -> web.Application:
    """Build the aiohttp application. ``status`` returns the current status dict (see ``/health``).

    With ``pool`` and ``auth`` the API is mounted; ``clock`` (seconds since the epoch) is what token expiry
    is measured against.

    Raises:
        ValueError: only one of ``pool`` and ``auth`` given.
        RuntimeError: an ``/api/`` route without a guard declaration.
    """
    if (pool is None) != (auth is None):
        raise ValueError("pool and auth go together")
    app = web.Application(middlewares=[error_middleware, guard.guard_middleware])
    app[STATUS] = status
    app[TEMPLATES] = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATE_DIR), autoescape=True, undefined=jinja2.StrictUndefined
    )
    app[CLOCK] = clock
    app.router.add_get("/health", health)
    app.router.add_get("/", index)
    app.router.add_get("/metrics", metrics)
    if pool is not None and auth is not None:
        app[POOL] = pool
        app[AUTH_CONFIG] = auth
        auth_http.add_routes(app.router)
        provisioning_http.add_routes(app.router)
        openapi_http.add_routes(app.router)
    guard.check_routes(app)
    return app


async def health(request: web.Request) -> web.Response:
    status = await request.app[STATUS]()
    ok = all(bool(v) for v in status.get("checks", {}).values())
    body = {"status": "ok" if ok else "degraded", **status}
    return web.json_response(body, status=200 if ok else 503)


async def index(request: web.Request) -> web.Response:
    status = await request.app[STATUS]()
    html = request.app[TEMPLATES].get_template("status.html").render(status=status)
    return web.Response(text=html, content_type="text/html")


async def metrics(request: web.Request) -> web.Response:
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})
