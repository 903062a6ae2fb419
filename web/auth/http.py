"""Routes of the auth feature (mounted by ``web.app.make_app`` when a pool is given).

- ``POST /api/auth/login`` ``{tenant, email, password}`` -> 200 :class:`TokensOut` | 401 ``invalid_credentials``
- ``POST /api/auth/refresh`` ``{refresh_token}`` -> 200 :class:`TokensOut` (rotated) | 401
- ``POST /api/auth/logout`` ``{refresh_token}`` -> 204 (idempotent)
- ``POST /api/auth/password`` ``{old_password, new_password}`` -> 204; other sessions revoked
- ``GET /api/me`` -> :class:`MeOut`
- ``GET /api/api-keys`` -> ``{"items": [ApiKeyOut]}``; ``POST`` ``{name, role}`` -> 201 :class:`ApiKeyCreatedOut`;
  ``DELETE /api/api-keys/{id}`` -> 204 | 404
- ``GET /api/users?limit=&cursor=`` -> :class:`UserPage`; ``POST`` :class:`UserIn` -> 201 :class:`UserOut` | 409
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel

from web.auth import services
from web.auth.guard import public, requires
from web.auth.schemas import (
    ApiKeyCreatedOut,
    ApiKeyIn,
    ApiKeyList,
    LoginIn,
    MeOut,
    PageQuery,
    PasswordChangeIn,
    RefreshIn,
    TokensOut,
    UserIn,
    UserOut,
    UserPage,
    parse_body,
    parse_id,
    parse_query,
)
from web.keys import AUTH_CONFIG, CLOCK, POOL, principal, tenant_id
from web.openapi.doc import documented
from web.permissions import Permission as P


def _json(model: BaseModel | dict[str, object], status: int = 200) -> web.Response:
    text = model.model_dump_json() if isinstance(model, BaseModel) else None
    if text is None:
        return web.json_response(model, status=status)
    return web.Response(text=text, status=status, content_type="application/json")


@public
@documented("Log in: access + refresh token", tag="auth", response=TokensOut, body=LoginIn, errors=(401,))
async def login(request: web.Request) -> web.Response:
    body = await parse_body(request, LoginIn)
    app = request.app
    return _json(await services.login(app[POOL], app[AUTH_CONFIG], app[CLOCK], body))


@public
@documented("Rotate a refresh token", tag="auth", response=TokensOut, body=RefreshIn, errors=(401,))
async def refresh(request: web.Request) -> web.Response:
    body = await parse_body(request, RefreshIn)
    app = request.app
    return _json(await services.refresh(app[POOL], app[AUTH_CONFIG], app[CLOCK], body.refresh_token))


@public
@documented("End the session of a refresh token (idempotent)", tag="auth", status=204, body=RefreshIn)
async def logout(request: web.Request) -> web.Response:
    body = await parse_body(request, RefreshIn)
    await services.logout(request.app[POOL], request.app[CLOCK], body.refresh_token)
    return web.Response(status=204)


@requires(P.PROFILE_WRITE, user_only=True, tenant_rows=True)
@documented("Change one's password; other sessions are revoked", tag="auth", status=204,
            body=PasswordChangeIn)
async def change_password(request: web.Request) -> web.Response:
    body = await parse_body(request, PasswordChangeIn)
    await services.change_password(request.app[POOL], request.app[CLOCK], principal(request), body)
    return web.Response(status=204)


@requires(P.PROFILE_READ)
@documented("Who is asking", tag="auth", response=MeOut)
async def me(request: web.Request) -> web.Response:
    return _json(services.me(principal(request)))


@requires(P.API_KEYS_READ, tenant_rows=True)
@documented("List the tenant's API keys", tag="api-keys", response=ApiKeyList)
async def list_api_keys(request: web.Request) -> web.Response:
    keys = await services.list_api_keys(request.app[POOL], tenant_id(request))
    return _json(ApiKeyList(items=keys))


@requires(P.API_KEYS_WRITE, tenant_rows=True)
@documented("Create an API key (shown once)", tag="api-keys", status=201, response=ApiKeyCreatedOut,
            body=ApiKeyIn)
async def create_api_key(request: web.Request) -> web.Response:
    body = await parse_body(request, ApiKeyIn)
    created = await services.create_api_key(request.app[POOL], principal(request), tenant_id(request), body)
    return _json(created, status=201)


@requires(P.API_KEYS_WRITE, tenant_rows=True)
@documented("Revoke an API key", tag="api-keys", status=204, path_params={"id": {"type": "integer", "minimum": 1}})
async def revoke_api_key(request: web.Request) -> web.Response:
    key_id = parse_id(request.match_info["id"])
    await services.revoke_api_key(request.app[POOL], request.app[CLOCK], principal(request), tenant_id(request), key_id)
    return web.Response(status=204)


@requires(P.USERS_READ, tenant_rows=True)
@documented("List the tenant's users", tag="users", response=UserPage, query=PageQuery)
async def list_users(request: web.Request) -> web.Response:
    page = parse_query(request.query, PageQuery)
    return _json(await services.list_users(request.app[POOL], tenant_id(request), page))


@requires(P.USERS_WRITE, tenant_rows=True)
@documented("Create a user", tag="users", status=201, response=UserOut, body=UserIn, errors=(409,))
async def create_user(request: web.Request) -> web.Response:
    body = await parse_body(request, UserIn)
    return _json(await services.create_user(request.app[POOL], principal(request), tenant_id(request), body), 201)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/api/auth/login", login)
    router.add_post("/api/auth/refresh", refresh)
    router.add_post("/api/auth/logout", logout)
    router.add_post("/api/auth/password", change_password)
    router.add_get("/api/me", me)
    router.add_get("/api/api-keys", list_api_keys)
    router.add_post("/api/api-keys", create_api_key)
    router.add_delete("/api/api-keys/{id}", revoke_api_key)
    router.add_get("/api/users", list_users)
    router.add_post("/api/users", create_user)
