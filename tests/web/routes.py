"""One valid example request per API route, so tests can generate their cases over the app's route table.

``EXAMPLES[(method, path template)](target) -> (path, json body)``; ``target`` names objects of the tenant
the request should touch (the actor's own in the permission matrix, another tenant's in the isolation tests).
A route without an example fails :func:`test_every_api_route_has_an_example`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import asyncpg

from tests.web.conftest import PASSWORD
from web.app import make_app
from web.auth.config import AuthConfig
from web.auth.guard import Guard, api_routes


@dataclass(frozen=True)
class Target:
    api_key_id: int
    refresh_token: str
    extension: str = "7001"
    did_number: str = "+15557000001"


Example = Callable[[Target], tuple[str, Any]]


def _unique() -> str:
    return secrets.token_hex(4)


def unique_number() -> str:
    """A fresh E.164 number (DID numbers are unique across tenants)."""
    return "+1555" + str(secrets.randbelow(10**9)).zfill(9)


EXAMPLES: dict[tuple[str, str], Example] = {
    ("POST", "/api/auth/login"): lambda t: ("/api/auth/login",
                                            {"tenant": "nosuch", "email": "a@b.example", "password": "x"}),
    ("POST", "/api/auth/refresh"): lambda t: ("/api/auth/refresh", {"refresh_token": t.refresh_token}),
    ("POST", "/api/auth/logout"): lambda t: ("/api/auth/logout", {"refresh_token": t.refresh_token}),
    ("POST", "/api/auth/password"): lambda t: ("/api/auth/password",
                                               {"old_password": PASSWORD, "new_password": "another good secret"}),
    ("GET", "/api/me"): lambda t: ("/api/me", None),
    ("GET", "/api/api-keys"): lambda t: ("/api/api-keys", None),
    ("POST", "/api/api-keys"): lambda t: ("/api/api-keys", {"name": f"k{_unique()}", "role": "viewer"}),
    ("DELETE", "/api/api-keys/{id}"): lambda t: (f"/api/api-keys/{t.api_key_id}", None),
    ("GET", "/api/users"): lambda t: ("/api/users", None),
    ("POST", "/api/users"): lambda t: ("/api/users", {"email": f"new{_unique()}@example.com",
                                                      "display_name": "New", "roles": ["viewer"]}),
    ("GET", "/api/extensions"): lambda t: ("/api/extensions", None),
    ("POST", "/api/extensions"): lambda t: ("/api/extensions", {"extension": str(secrets.randbelow(10**6) + 10**6),
                                                                "password": "a sip secret of length"}),
    ("GET", "/api/extensions/{extension}"): lambda t: (f"/api/extensions/{t.extension}", None),
    ("DELETE", "/api/extensions/{extension}"): lambda t: (f"/api/extensions/{t.extension}", None),
    ("GET", "/api/dids"): lambda t: ("/api/dids", None),
    ("POST", "/api/dids"): lambda t: ("/api/dids", {"number": unique_number(), "route_type": "endpoint",
                                                    "route_target": "7001"}),
    ("DELETE", "/api/dids/{number}"): lambda t: (f"/api/dids/{t.did_number}", None),
    ("GET", "/api/openapi.json"): lambda t: ("/api/openapi.json", None),
    ("GET", "/api/docs"): lambda t: ("/api/docs", None),
    ("GET", "/api/docs/docs.js"): lambda t: ("/api/docs/docs.js", None),
}


async def _status() -> dict[str, Any]:
    return {}


def app_routes() -> list[tuple[str, str, Guard]]:
    """The API route table of the real app (a placeholder pool: nothing connects)."""
    app = make_app(_status, pool=cast(asyncpg.Pool, object()), auth=AuthConfig(secrets.token_urlsafe(40)))
    return api_routes(app)


ROUTES = app_routes()
GUARDED = [(m, p, g) for m, p, g in ROUTES if g.permission is not None]
PUBLIC = [(m, p) for m, p, g in ROUTES if g.permission is None]
TENANT_ROWS = [(m, p, g) for m, p, g in GUARDED if g.tenant_rows]
