"""The ``ringline`` command.

    ringline run                         the main job: database, Asterisk, engine, web (Ctrl-C stops)
    ringline asterisk up|down|status     the local Asterisk (provisioned into a cached debootstrap root)
    ringline asterisk cli "<command>"    run an Asterisk CLI command on it
    ringline migrate                     apply the database migrations to DATABASE_URL (or the embedded db)

Every failure a user can cause or fix (bad configuration, unreachable database, missing root privileges, a
port in use) ends with a one-paragraph message and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from ara_schema.errors import AraError
from dialplan.asterisk.errors import AsteriskError
from ringline.settings import Settings, SettingsError, load_settings


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ringline", description="Ringline telephony engine")
    p.add_argument("--config", type=Path, help="TOML config file (keys as the settings; env vars win)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run database + Asterisk + engine + web")
    sub.add_parser("migrate", help="apply database migrations")
    ast = sub.add_parser("asterisk", help="manage the local Asterisk")
    ast_sub = ast.add_subparsers(dest="action", required=True)
    ast_sub.add_parser("up", help="provision (if needed) and start the local Asterisk in the background")
    ast_sub.add_parser("down", help="stop the local Asterisk")
    ast_sub.add_parser("status", help="show whether the local Asterisk runs")
    cli = ast_sub.add_parser("cli", help="run an Asterisk CLI command")
    cli.add_argument("cli_command", nargs="+")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        settings = load_settings(args.config)
        if args.command == "run":
            from ringline import stack

            with contextlib.suppress(KeyboardInterrupt):
                asyncio.run(stack.run(settings))
            return 0
        if args.command == "migrate":
            return asyncio.run(_migrate(settings))
        if args.command == "asterisk":
            return asyncio.run(_asterisk(settings, args.action, getattr(args, "cli_command", [])))
    except (SettingsError, AraError, AsteriskError) as exc:
        print(f"ringline: {exc}", file=sys.stderr)
        return 2
    return 1


async def _migrate(settings: Settings) -> int:
    from ara_schema import migrate
    from ringline import stack

    async with stack.database(settings) as dsn:
        await asyncio.to_thread(migrate.upgrade, dsn)
        print(f"migrated to {await asyncio.to_thread(migrate.current, dsn)}")
    return 0


async def _asterisk(settings: Settings, action: str, cli_command: list[str]) -> int:
    from ara_schema import migrate, provisioning
    from ara_schema.pool import create_pool
    from dialplan.asterisk import process
    from dialplan.asterisk.paths import asterisk_root
    from dialplan.asterisk.provision import provision_root
    from dialplan.asterisk.render import render_instance
    from ringline import stack

    if action == "up":
        await asyncio.to_thread(provision_root, asterisk_root())
        # Asterisk reads its endpoints from the database: it must be up and migrated; the embedded one is
        # started and left running for the background Asterisk.
        dsn = settings.database_url
        if dsn is None:
            from ara_schema.embedded import EmbeddedPostgres

            dsn = EmbeddedPostgres(settings.data_dir / "pgdata", port=settings.embedded_pg_port).start()
        await asyncio.to_thread(migrate.upgrade, dsn)
        pool = await create_pool(dsn)
        try:
            async with pool.acquire() as conn:
                tenants = await provisioning.tenant_slugs(conn)
        finally:
            await pool.close()
        inst = stack.instance_for(settings, dsn, tenants)
        await asyncio.to_thread(render_instance, inst)
        pid = await asyncio.to_thread(process.up_daemon, inst)
        print(f"asterisk up (pid {pid}); ARI http://127.0.0.1:{inst.http_port}/ari, SIP udp 127.0.0.1:{inst.sip_port}")
        return 0
    inst = stack.instance_for(settings, settings.database_url or "postgresql://127.0.0.1/ringline", [])
    if action == "down":
        stopped = await asyncio.to_thread(process.down_daemon, inst)
        print("asterisk stopped" if stopped else "asterisk was not running")
        return 0
    if action == "status":
        info = await asyncio.to_thread(process.status, inst)
        print(json.dumps(info, indent=2, default=str))
        return 0 if info.get("running") else 3
    if action == "cli":
        print(await process.AsteriskProcess(inst).cli(" ".join(cli_command)), end="")
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
