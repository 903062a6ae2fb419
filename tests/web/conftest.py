"""Real peers for the web tests: the session's migrated PostgreSQL, an asyncpg pool, the app behind a real
in-process HTTP server (aiohttp's ``TestServer``), a clock the tests move, and builders in domain words
(``given_tenant``, ``given_user``, ``given_logged_in``, ``given_api_key``).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from ara_schema import provisioning
from ara_schema.pool import create_pool
from web.app import make_app
from web.auth import tokens
from web.auth.config import AuthConfig

PASSWORD = "correct horse battery staple"
_PASSWORD_HASH = tokens.hash_password(PASSWORD)  # one argon2 run for every user the tests create
JWT_SECRET = secrets.token_urlsafe(48)


@dataclass
class FakeClock:
    """Seconds since the epoch, moved by the test."""

    now: float = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class Tenant:
    id: int
    slug: str


@dataclass(frozen=True)
class User:
    id: int
    tenant: Tenant
    email: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Session:
    user: User
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


@dataclass
class Api:
    """The HTTP client plus the builders; ``calls`` keeps (status, body) of every request for failure output."""

    client: TestClient[Any, Any]
    pool: asyncpg.Pool
    clock: FakeClock
    calls: list[tuple[str, str, int]] = field(default_factory=list)

    async def request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, json: Any = None,
        data: str | bytes | None = None, params: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """``(status, parsed JSON body or None)``."""
        async with self.client.request(method, path, headers=headers, json=json, data=data, params=params) as resp:
            text = await resp.text()
            self.calls.append((method, path, resp.status))
            if resp.content_type == "application/json" and text:
                return resp.status, await resp.json()
            return resp.status, None

    async def given_tenant(self) -> Tenant:
        slug = "t" + secrets.token_hex(6)
        async with self.pool.acquire() as conn:
            tenant_id = await provisioning.create_tenant(conn, slug, f"Tenant {slug}")
        return Tenant(tenant_id, slug)

    async def given_user(self, tenant: Tenant, *roles: str, email: str | None = None) -> User:
        email = email or f"u{secrets.token_hex(5)}@{tenant.slug}.example"
        async with self.pool.acquire() as conn, conn.transaction():
            user_id = await conn.fetchval(
                "INSERT INTO users (tenant_id, email, display_name, password_hash) VALUES ($1, $2, $3, $4)"
                " RETURNING id", tenant.id, email, email.split("@")[0], _PASSWORD_HASH,
            )
            for role in roles:
                await conn.execute("INSERT INTO user_roles (user_id, tenant_id, role) VALUES ($1, $2, $3)",
                                   user_id, tenant.id, role)
        return User(user_id, tenant, email, roles)

    async def login(self, user: User, password: str = PASSWORD) -> Session:
        status, body = await self.request(
            "POST", "/api/auth/login", json={"tenant": user.tenant.slug, "email": user.email, "password": password}
        )
        assert status == 200, body
        return Session(user, body["access_token"], body["refresh_token"])

    async def given_logged_in(self, tenant: Tenant, *roles: str) -> Session:
        return await self.login(await self.given_user(tenant, *roles))

    async def given_extension(self, tenant: Tenant, extension: str, password: str = "a sip secret 1234") -> str:
        async with self.pool.acquire() as conn:
            return await provisioning.create_extension(conn, tenant.slug, extension, password)

    async def given_did(self, tenant: Tenant, number: str, target: str = "7001") -> int:
        async with self.pool.acquire() as conn:
            return await provisioning.create_did(conn, tenant.slug, number, "endpoint", target)

    async def given_api_key(self, admin: Session, role: str, name: str = "crm") -> dict[str, Any]:
        status, body = await self.request("POST", "/api/api-keys", headers=admin.headers,
                                          json={"name": name, "role": role})
        assert status == 201, body
        created: dict[str, Any] = body
        return created


@pytest.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(database_url, max_size=5)
    try:
        yield p
    finally:
        await p.close()


async def _status() -> dict[str, Any]:
    return {"checks": {"database": True}}


@pytest.fixture
async def api(pool: asyncpg.Pool) -> AsyncIterator[Api]:
    clock = FakeClock()
    app = make_app(_status, pool=pool, auth=AuthConfig(JWT_SECRET), clock=clock)
    async with TestClient(TestServer(app)) as client:
        yield Api(client, pool, clock)
