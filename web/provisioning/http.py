"""Routes of the tenant's telephony objects (mounted by ``web.app.make_app`` with the API).

- ``GET /api/extensions?limit=&cursor=`` -> :class:`ExtensionPage` (with registration from ``ps_contacts``);
  ``POST`` :class:`ExtensionIn` -> 201 :class:`ExtensionOut` | 409 ``extension_exists``
- ``GET /api/extensions/{extension}`` -> :class:`ExtensionOut` | 404; ``DELETE`` -> 204 | 404
- ``GET /api/dids?limit=&cursor=`` -> :class:`DidPage`; ``POST`` :class:`DidIn` -> 201 :class:`DidOut` |
  409 ``limit_reached`` (``tenants.max_dids``) / ``did_exists``
- ``DELETE /api/dids/{number}`` -> 204 | 404 (``number`` E.164, ``+`` literal or ``%2B``)
"""

from __future__ import annotations

import re

from aiohttp import web
from pydantic import BaseModel

from ara_schema.tables.tenancy import E164_PATTERN
from web.auth.guard import requires
from web.auth.schemas import PageQuery, parse_body, parse_query
from web.errors import ValidationFailed
from web.keys import CLOCK, POOL, principal, tenant_id
from web.openapi.doc import documented
from web.permissions import Permission as P
from web.provisioning import services
from web.provisioning.schemas import (
    EXTENSION_PATTERN,
    DidIn,
    DidOut,
    DidPage,
    ExtensionIn,
    ExtensionOut,
    ExtensionPage,
    ExtensionPageQuery,
)

_EXT_PARAM = {"extension": {"type": "string", "pattern": EXTENSION_PATTERN}}
_DID_PARAM = {"number": {"type": "string", "pattern": E164_PATTERN}}


def _json(model: BaseModel, status: int = 200) -> web.Response:
    return web.Response(text=model.model_dump_json(), status=status, content_type="application/json")


def _path(request: web.Request, name: str, pattern: str) -> str:
    """Path parameter ``name`` matching ``pattern``. Raises: ValidationFailed otherwise."""
    value = request.match_info[name]
    if not re.fullmatch(pattern, value):
        raise ValidationFailed(f"invalid {name} in path", details={name: value})
    return value


@requires(P.EXTENSIONS_READ, tenant_rows=True)
@documented("List the tenant's extensions with their registration", tag="extensions", response=ExtensionPage,
            query=ExtensionPageQuery)
async def list_extensions(request: web.Request) -> web.Response:
    page = parse_query(request.query, ExtensionPageQuery)
    return _json(await services.list_extensions(request.app[POOL], request.app[CLOCK], tenant_id(request), page))


@requires(P.EXTENSIONS_WRITE, tenant_rows=True)
@documented("Create an extension (PJSIP endpoint, auth, aor)", tag="extensions", status=201,
            response=ExtensionOut, body=ExtensionIn, errors=(409,))
async def create_extension(request: web.Request) -> web.Response:
    body = await parse_body(request, ExtensionIn)
    app = request.app
    return _json(await services.create_extension(app[POOL], app[CLOCK], principal(request), tenant_id(request),
                                                 body), 201)


@requires(P.EXTENSIONS_READ, tenant_rows=True)
@documented("One extension with its registration", tag="extensions", response=ExtensionOut,
            path_params=_EXT_PARAM)
async def get_extension(request: web.Request) -> web.Response:
    extension = _path(request, "extension", EXTENSION_PATTERN)
    return _json(await services.get_extension(request.app[POOL], request.app[CLOCK], tenant_id(request), extension))


@requires(P.EXTENSIONS_WRITE, tenant_rows=True)
@documented("Delete an extension (and its contacts)", tag="extensions", status=204, path_params=_EXT_PARAM)
async def delete_extension(request: web.Request) -> web.Response:
    extension = _path(request, "extension", EXTENSION_PATTERN)
    await services.delete_extension(request.app[POOL], principal(request), tenant_id(request), extension)
    return web.Response(status=204)


@requires(P.DIDS_READ, tenant_rows=True)
@documented("List the tenant's DIDs", tag="dids", response=DidPage, query=PageQuery)
async def list_dids(request: web.Request) -> web.Response:
    page = parse_query(request.query, PageQuery)
    return _json(await services.list_dids(request.app[POOL], tenant_id(request), page))


@requires(P.DIDS_WRITE, tenant_rows=True)
@documented("Create a DID (within tenants.max_dids)", tag="dids", status=201, response=DidOut, body=DidIn,
            errors=(409,))
async def create_did(request: web.Request) -> web.Response:
    body = await parse_body(request, DidIn)
    return _json(await services.create_did(request.app[POOL], principal(request), tenant_id(request), body), 201)


@requires(P.DIDS_WRITE, tenant_rows=True)
@documented("Delete a DID", tag="dids", status=204, path_params=_DID_PARAM)
async def delete_did(request: web.Request) -> web.Response:
    number = _path(request, "number", E164_PATTERN)
    await services.delete_did(request.app[POOL], principal(request), tenant_id(request), number)
    return web.Response(status=204)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/api/extensions", list_extensions)
    router.add_post("/api/extensions", create_extension)
    router.add_get("/api/extensions/{extension}", get_extension)
    router.add_delete("/api/extensions/{extension}", delete_extension)
    router.add_get("/api/dids", list_dids)
    router.add_post("/api/dids", create_did)
    router.add_delete("/api/dids/{number}", delete_did)
