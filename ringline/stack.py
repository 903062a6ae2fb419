"""The main job: database, migrations, demo seed, local Asterisk, engine and web, started and stopped in order.

Start order (stop is the reverse): PostgreSQL (``DATABASE_URL`` or embedded) -> alembic migrations -> asyncpg
pool -> demo tenant seed -> FastAGI server -> Asterisk (provisioned root, rendered configs, supervised process;
skipped when ``RINGLINE_ARI_URL`` points at an existing Asterisk) -> engine (ARI events) -> web (health/status/metrics,
REST API).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import asyncpg
from aiohttp import web

from ara_schema import migrate, provisioning
from ara_schema.embedded import EmbeddedPostgres
from ara_schema.pool import create_pool
from dialplan.agi.scripts import ringline_scripts
from dialplan.agi.server import AgiServer
from dialplan.asterisk.config import AsteriskInstance
from dialplan.asterisk.paths import asterisk_root
from dialplan.asterisk.process import AsteriskProcess, load_or_create_credentials
from dialplan.asterisk.provision import provision_root
from dialplan.asterisk.render import render_instance
from engine.calls.store import CallStore
from engine.config import EngineConfig
from engine.runtime import Engine
from ringline.settings import Settings
from web.app import make_app
from web.auth.config import AuthConfig, load_or_create_jwt_secret

log = logging.getLogger("ringline")

DEMO_TENANT = "demo"
DEMO_DID = "+15550100"
DEMO_EXTENSIONS = ("1001", "1002")


@dataclass(frozen=True, slots=True)
class DbParts:
    """A libpq URL split into the fields Asterisk's ``res_pgsql.conf`` wants."""

    host: str
    port: int
    dbname: str
    user: str
    password: str


def db_parts(dsn: str) -> DbParts:
    """``postgresql://user:pw@host:5432/db`` -> :class:`DbParts` (host defaults to 127.0.0.1)."""
    u = urlsplit(dsn)
    return DbParts(
        host=u.hostname or "127.0.0.1",
        port=u.port or 5432,
        dbname=(u.path or "/postgres").lstrip("/") or "postgres",
        user=unquote(u.username or "postgres"),
        password=unquote(u.password or ""),
    )


@contextlib.asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[str]:
    """Yield a DSN: ``DATABASE_URL`` if set, else an embedded PostgreSQL kept under ``data_dir/pgdata``."""
    if settings.database_url:
        yield settings.database_url
        return
    embedded = EmbeddedPostgres(settings.data_dir / "pgdata", port=settings.embedded_pg_port)
    dsn = await asyncio.to_thread(embedded.start)
    try:
        yield dsn
    finally:
        await asyncio.to_thread(embedded.stop)


async def seed_demo(pool: asyncpg.Pool, data_dir: Path) -> dict[str, Any]:
    """Create the demo tenant (two extensions, a DID routed to the first) once; return its credentials.

    SIP passwords are stored in the database only as digests; the plain ones are kept for the operator in
    ``data_dir/demo-credentials.json`` (mode 0600).
    """
    creds_file = data_dir / "demo-credentials.json"
    saved_text = await asyncio.to_thread(_read_or_none, creds_file)
    async with pool.acquire() as conn:
        exists = await conn.fetchval("SELECT 1 FROM tenants WHERE slug = $1", DEMO_TENANT)
        if exists and saved_text is not None:
            saved: dict[str, Any] = json.loads(saved_text)
            return saved
        async with conn.transaction():
            if exists:
                await conn.execute("DELETE FROM ps_endpoints WHERE id LIKE 'demo-%'")
                await conn.execute("DELETE FROM ps_auths WHERE id LIKE 'demo-%'")
                await conn.execute("DELETE FROM ps_aors WHERE id LIKE 'demo-%'")
                await conn.execute("DELETE FROM tenants WHERE slug = $1", DEMO_TENANT)
            await provisioning.create_tenant(conn, DEMO_TENANT, "Demo Call Centre")
            extensions = []
            for ext in DEMO_EXTENSIONS:
                password = secrets.token_urlsafe(12)
                username = await provisioning.create_extension(
                    conn, DEMO_TENANT, ext, password, display_name=f"Demo {ext}"
                )
                extensions.append({"extension": ext, "username": username, "password": password})
            await provisioning.create_did(
                conn, DEMO_TENANT, DEMO_DID, "endpoint", DEMO_EXTENSIONS[0],
                ring_timeout_s=20, fallback_type="hangup",
            )
    demo = {"tenant": DEMO_TENANT, "did": DEMO_DID, "did_target": DEMO_EXTENSIONS[0], "extensions": extensions}
    await asyncio.to_thread(_write_private, creds_file, json.dumps(demo, indent=2))
    return demo


def _read_or_none(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by the owner only (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def instance_for(settings: Settings, dsn: str, tenants: list[str], name: str = "main") -> AsteriskInstance:
    """The local Asterisk instance Ringline runs, with generated ARI credentials kept in ``data_dir``."""
    user, password = load_or_create_credentials(settings.data_dir)
    db = db_parts(dsn)
    return AsteriskInstance(
        name=name,
        root=asterisk_root(),
        sip_port=settings.sip_port,
        http_port=settings.ari_port,
        rtp_start=settings.rtp_start,
        rtp_end=settings.rtp_end,
        ari_user=user,
        ari_password=password,
        stasis_app=settings.app,
        db_host=db.host,
        db_port=db.port,
        db_name=db.dbname,
        db_user=db.user,
        db_password=db.password,
        tenants=tuple(tenants),
        agi_port=settings.agi_port,
    )


async def run(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Run the whole stack until SIGINT/SIGTERM (or ``stop`` is set)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    async with contextlib.AsyncExitStack() as stack:
        dsn = await stack.enter_async_context(database(settings))
        log.info("database: %s", _redact(dsn))
        await asyncio.to_thread(migrate.upgrade, dsn)
        pool = await create_pool(dsn, attempts=5)
        stack.push_async_callback(pool.close)
        demo = await seed_demo(pool, settings.data_dir)
        async with pool.acquire() as conn:
            tenants = await provisioning.tenant_slugs(conn)
        # FastAGI: ordinary dialplan (contexts ringline-agi-<tenant>) asks the same routing as the engine
        await stack.enter_async_context(
            AgiServer(ringline_scripts(CallStore(pool, owner="agi")), port=settings.agi_port)
        )

        if settings.external_asterisk:
            assert settings.ari_url is not None
            ari_url, ari_user, ari_password = settings.ari_url, settings.ari_user or "", settings.ari_password or ""
        else:
            root = asterisk_root()
            await asyncio.to_thread(provision_root, root, log=lambda m: log.info("asterisk root: %s", m))
            inst = instance_for(settings, dsn, tenants)
            await asyncio.to_thread(render_instance, inst)
            asterisk = AsteriskProcess(inst)
            await asterisk.start()
            stack.push_async_callback(asterisk.stop)
            ari_url = f"http://127.0.0.1:{inst.http_port}"
            ari_user, ari_password = inst.ari_user, inst.ari_password

        engine = Engine(
            EngineConfig(
                ari_url=ari_url, ari_user=ari_user, ari_password=ari_password, database_url=dsn,
                app=settings.app, instance_id=settings.instance_id,
            ),
            pool,
        )
        engine_task = asyncio.create_task(engine.run(), name="engine")
        stack.push_async_callback(_stop_engine, engine, engine_task)
        await asyncio.wait_for(engine.wait_connected(), timeout=30)

        async def status() -> dict[str, Any]:
            s = engine.statistics()
            db_ok = True
            try:
                async with pool.acquire(timeout=2) as conn:
                    await conn.fetchval("SELECT 1")
            except (OSError, asyncpg.PostgresError, TimeoutError):
                db_ok = False
            return {
                "checks": {"ari": s.ari_connected, "database": db_ok},
                "engine": {
                    "active_calls": s.active_calls,
                    "ari_connects": s.ari_connects,
                    "events_received": s.events_received,
                    "calls_finished": s.calls_finished,
                    "calls_readopted": s.calls_readopted,
                },
                "demo": {**demo, "sip": f"127.0.0.1:{settings.sip_port}"},
            }

        jwt_secret = await asyncio.to_thread(load_or_create_jwt_secret, settings.data_dir)
        runner = web.AppRunner(make_app(status, pool=pool, auth=AuthConfig(jwt_secret)))
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        site = web.TCPSite(runner, settings.http_host, settings.http_port)
        await site.start()
        print(_banner(settings, demo), flush=True)
        done, _ = await asyncio.wait(
            {asyncio.create_task(stop.wait()), engine_task}, return_when=asyncio.FIRST_COMPLETED
        )
        if engine_task in done and engine_task.exception() is not None:
            raise engine_task.exception()  # type: ignore[misc]
        log.info("stopping")


async def _stop_engine(engine: Engine, task: asyncio.Task[None]) -> None:
    await engine.close()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _redact(dsn: str) -> str:
    u = urlsplit(dsn)
    if u.password:
        return dsn.replace(f":{u.password}@", ":***@")
    return dsn


def _banner(settings: Settings, demo: dict[str, Any]) -> str:
    exts = "\n".join(
        f"    extension {e['extension']}: SIP user {e['username']}  password {e['password']}"
        for e in demo["extensions"]
    )
    return f"""
Ringline is running.
  status page : http://{settings.http_host}:{settings.http_port}/   (health: /health, metrics: /metrics)
  SIP         : udp 127.0.0.1:{settings.sip_port}  (register a softphone with one of these)
{exts}
  DID         : {demo['did']} -> extension {demo['did_target']}

Place a test call:
  1. register a SIP softphone as {demo['extensions'][0]['username']} (server 127.0.0.1:{settings.sip_port}),
  2. call the DID from Asterisk itself (the engine routes it to the phone):
       ringline asterisk cli "channel originate Local/{demo['did']}@ringline-{demo['tenant']} application Wait 20"
     or dial 1001 from a second phone registered as {demo['extensions'][1]['username']}.
Stop with Ctrl-C.
"""
