"""The scripts this FastAGI server answers, by path: ``agi://host:4573/<path>``.

=========  ===========================================================================================
path       what it does
=========  ===========================================================================================
route      looks the dialled number up for the tenant and sets the ``RINGLINE_*`` route variables
           (:mod:`dialplan.agi.routing`); AGISTATUS=SUCCESS whatever the decision
ivr        ``?flow=<name>``: IVR flows do not exist yet; answers ``FAILURE`` (AGISTATUS=FAILURE)
=========  ===========================================================================================

A script is an async callable taking the :class:`AgiSession` and returning an outcome label counted in the
server's statistics (``OK``/``NOROUTE``/``REJECTED`` for ``route``); it ends a session without its result by
raising :class:`~dialplan.agi.errors.AgiFailure`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import asyncpg

from dialplan.agi.channel import AgiChannel
from dialplan.agi.environment import AgiEnvironment
from dialplan.agi.errors import AgiFailure, FailureReason
from dialplan.agi.routing import decide, tenant_slug
from engine.calls.store import TenantRoute

__all__ = ["AgiSession", "IvrScript", "RouteResolver", "RouteScript", "Script", "ringline_scripts"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AgiSession:
    """One accepted FastAGI request, as a script sees it.

    Attributes:
        session_id: ``agi-<n>``, for log lines.
        peer: ``host:port`` of the connecting Asterisk.
        env: the request's environment.
        channel: commands to the requesting channel.
    """

    session_id: str
    peer: str
    env: AgiEnvironment
    channel: AgiChannel


Script = Callable[[AgiSession], Awaitable[str]]


class RouteResolver(Protocol):
    """The route lookup (:class:`engine.calls.store.CallStore` is one)."""

    async def resolve(self, tenant_slug: str, dialled: str | None) -> TenantRoute: ...


class RouteScript:
    """``route``: the routing decision for the call's DID into channel variables.

    Tenant: AGI argument 1, else ``?tenant=``, else the context ``ringline-agi-<slug>``. Number:
    ``agi_extension`` (``agi_dnid`` when the extension is ``s``).
    """

    def __init__(self, resolver: RouteResolver) -> None:
        self._resolver = resolver

    async def __call__(self, session: AgiSession) -> str:
        """Raises: AgiFailure ``MISSING_HEADER``, ``ROUTE_LOOKUP_FAILED`` or from the channel's commands."""
        env = session.env
        tenant = tenant_slug(env)
        if tenant is None:
            raise AgiFailure(
                FailureReason.MISSING_HEADER,
                "no tenant: pass it as AGI argument 1 or ?tenant=, or run AGI() in context ringline-agi-<slug>",
            )
        dialled = env.dialled
        if dialled is None:
            raise AgiFailure(FailureReason.MISSING_HEADER, "no dialled number (agi_extension and agi_dnid unset)")
        try:
            found = await self._resolver.resolve(tenant, dialled)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise AgiFailure(
                FailureReason.ROUTE_LOOKUP_FAILED, f"route lookup for {dialled!r} in {tenant!r} failed: {exc!r}"
            ) from exc
        decision = decide(found, tenant, dialled)
        for name, value in decision.variables().items():
            await session.channel.set_variable(name, value)
        log.info(
            "%s %s: tenant %s dialled %s -> %s %s",
            session.session_id,
            env.channel,
            tenant,
            dialled,
            decision.status,
            decision.route.dial_string if decision.status == "OK" and decision.route else decision.reason,
        )
        return decision.status


class IvrScript:
    """``ivr?flow=<name>``: flows are not built yet; always ``FAILURE`` with ``not_available``."""

    async def __call__(self, session: AgiSession) -> str:
        """Raises: AgiFailure ``NOT_AVAILABLE``, always."""
        flow = session.env.query.get("flow", "")
        raise AgiFailure(FailureReason.NOT_AVAILABLE, f"IVR flows are not available yet (flow {flow!r})")


def ringline_scripts(resolver: RouteResolver) -> Mapping[str, Script]:
    """Ringline's scripts by path: ``route`` (over ``resolver``) and ``ivr``."""
    return {"route": RouteScript(resolver), "ivr": IvrScript()}
