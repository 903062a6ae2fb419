"""Routes of the API's own description (public, mounted with the API).

- ``GET /api/openapi.json`` -> the OpenAPI 3.1 document (``web.openapi.spec.build_openapi``)
- ``GET /api/docs`` -> an HTML page listing the operations; ``GET /api/docs/docs.js`` its script. Both are
  served from ``web/openapi/static/`` (no CDN, nothing third-party).
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from web.auth.guard import public
from web.openapi.doc import documented
from web.openapi.spec import build_openapi

_STATIC = Path(__file__).parent / "static"
_TAG = "meta"
_DOCS_HTML = (_STATIC / "docs.html").read_text(encoding="utf-8")
_DOCS_JS = (_STATIC / "docs.js").read_text(encoding="utf-8")


@public
@documented("This document (OpenAPI 3.1)", tag=_TAG)
async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(build_openapi(request.app))


@public
@documented("Interactive API documentation (HTML)", tag=_TAG, media_type="text/html")
async def docs_page(request: web.Request) -> web.Response:
    return web.Response(text=_DOCS_HTML, content_type="text/html")


@public
@documented("Script of the documentation page", tag=_TAG, media_type="text/javascript")
async def docs_script(request: web.Request) -> web.Response:
    return web.Response(text=_DOCS_JS, content_type="text/javascript")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/api/openapi.json", openapi_json)
    router.add_get("/api/docs", docs_page)
    router.add_get("/api/docs/docs.js", docs_script)
