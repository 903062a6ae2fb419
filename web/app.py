"""The web application: health, a status page and Prometheus metrics (REST, Socket.IO and pages come later).

Routes:
- ``GET /health`` -> ``{"status": "ok"|"degraded", "checks": {...}}`` (200 when ok, 503 when degraded)
- ``GET /`` -> an HTML status page (engine, ARI, calls, how to place a test call)
- ``GET /metrics`` -> Prometheus text exposition of the process's metrics
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

StatusProvider = Callable[[], Awaitable[dict[str, Any]]]
STATUS: web.AppKey[StatusProvider] = web.AppKey("status", StatusProvider)  # type: ignore[arg-type]
TEMPLATES: web.AppKey[jinja2.Environment] = web.AppKey("templates", jinja2.Environment)

_TEMPLATE_DIR = Path(__file__).parent / "templates"


def make_app(status: StatusProvider) -> web.Application:
    """Build the aiohttp application. ``status`` returns the current status dict (see ``/health``)."""
    app = web.Application()
    app[STATUS] = status
    app[TEMPLATES] = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATE_DIR), autoescape=True, undefined=jinja2.StrictUndefined
    )
    app.router.add_get("/health", health)
    app.router.add_get("/", index)
    app.router.add_get("/metrics", metrics)
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
