"""The one request-layer guard: every ``/api/`` route declares what it needs, one middleware enforces it.

A handler is decorated with :func:`requires` (a :class:`~web.permissions.Permission`) or :func:`public`;
:func:`check_routes` refuses to build an app with an undeclared ``/api/`` route. For a guarded route the
middleware:

1. authenticates: ``Authorization: Bearer <access token>`` (RFC 6750 section 2.1) or ``X-API-Key: <key>``;
   neither -> 401 ``unauthenticated``;
2. scopes: the request's tenant is the principal's, or the one named by ``X-Ringline-Tenant: <tenants.id>``
   when the principal holds ``tenants.any`` (superadmin); naming another tenant without it -> 403
   ``tenant_forbidden``; an unknown tenant -> 404;
3. authorises: the permission must be among the principal's (``web.permissions``) -> else 403 ``forbidden``;
   ``user_only`` routes refuse API keys (403 ``user_required``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aiohttp import web

from web.auth import services, store
from web.errors import API_PREFIX, Forbidden, NotFound, Unauthenticated, ValidationFailed
from web.keys import AUTH_CONFIG, CLOCK, POOL, set_principal
from web.permissions import Permission

TENANT_HEADER = "X-Ringline-Tenant"
API_KEY_HEADER = "X-API-Key"
_ATTR = "__ringline_guard__"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Handler)


@dataclass(frozen=True, slots=True)
class Guard:
    """What a route needs. ``permission`` None = public. ``tenant_rows``: the route reads or writes rows of the
    request's tenant (tests generate their isolation cases from it)."""

    permission: Permission | None
    user_only: bool = False
    tenant_rows: bool = False


def requires(permission: Permission, *, user_only: bool = False, tenant_rows: bool = False) -> Callable[[H], H]:
    """Mark a handler as needing ``permission`` (and a user, not an API key, when ``user_only``)."""

    def mark(handler: H) -> H:
        setattr(handler, _ATTR, Guard(permission, user_only=user_only, tenant_rows=tenant_rows))
        return handler

    return mark


def public(handler: H) -> H:
    """Mark a handler that authenticates by other means (login, refresh, logout) or not at all."""
    setattr(handler, _ATTR, Guard(None))
    return handler


def guard_of(handler: object) -> Guard | None:
    """The declaration on ``handler``; None when it has none."""
    found = getattr(handler, _ATTR, None)
    return found if isinstance(found, Guard) else None


def api_routes(app: web.Application) -> list[tuple[str, str, Guard]]:
    """``(method, path template, guard)`` of every ``/api/`` route (HEAD excluded).

    Raises:
        RuntimeError: an ``/api/`` route declares nothing.
    """
    found = []
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if not path.startswith(API_PREFIX) or route.method == "HEAD":
            continue
        declared = guard_of(route.handler)
        if declared is None:
            raise RuntimeError(f"{route.method} {path} declares no permission (use requires() or public)")
        found.append((route.method, path, declared))
    return found


def check_routes(app: web.Application) -> None:
    """Refuse an app with an undeclared ``/api/`` route (see :func:`api_routes`)."""
    api_routes(app)


async def _principal(request: web.Request) -> services.Principal:
    authorization = request.headers.get("Authorization")
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("Authorization must be 'Bearer <token>'", error_id="invalid_token")
        return await services.authenticate_bearer(
            request.app[POOL], request.app[AUTH_CONFIG], request.app[CLOCK], token.strip()
        )
    key = request.headers.get(API_KEY_HEADER)
    if key:
        return await services.authenticate_api_key(request.app[POOL], key)
    raise Unauthenticated("credentials required (Authorization: Bearer or X-API-Key)")


async def _tenant(request: web.Request, principal: services.Principal) -> int:
    named = request.headers.get(TENANT_HEADER)
    if named is None:
        return principal.tenant_id
    if not named.isdigit() or not 0 < int(named) < 2**63:
        raise ValidationFailed(f"{TENANT_HEADER} must be a tenant id", details={"header": TENANT_HEADER})
    tenant_id = int(named)
    if tenant_id == principal.tenant_id:
        return tenant_id
    if Permission.TENANTS_ANY not in principal.permissions:
        raise Forbidden("cannot act in another tenant", error_id="tenant_forbidden")
    async with request.app[POOL].acquire() as conn:
        if not await store.tenant_exists(conn, tenant_id):
            raise NotFound(f"no tenant {tenant_id}")
    return tenant_id


@web.middleware
async def guard_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authenticate, scope and authorise every guarded ``/api/`` request (see the module docstring)."""
    declared = guard_of(request.match_info.handler)
    if declared is None and request.path.startswith(API_PREFIX) and request.match_info.http_exception is None:
        raise RuntimeError(f"{request.method} {request.path} reached without a guard declaration")
    if declared is None or declared.permission is None:
        return await handler(request)  # not an API route, public, or the router's own 404/405
    principal = await _principal(request)
    tenant_id = await _tenant(request, principal)
    if declared.permission not in principal.permissions:
        raise Forbidden(f"permission {declared.permission} required", details={"permission": declared.permission})
    if declared.user_only and principal.user_id is None:
        raise Forbidden("only a logged-in user may do this", error_id="user_required")
    set_principal(request, principal, tenant_id)
    return await handler(request)
