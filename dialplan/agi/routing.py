"""The ``route`` script's decision, as pure functions: which tenant, which number, and what to tell Asterisk.

The lookup itself is the ARI engine's (:meth:`engine.calls.store.CallStore.resolve`: the tenant's DID, then
its extensions); :func:`decide` applies the same rules as the engine's executor, so a DID routes the same
way whether its call enters ``Stasis()`` or ``AGI()``:

=======================================  ==========  ============  =============================================
database says                            status      Q.850 cause   dialplan does
=======================================  ==========  ============  =============================================
no such tenant                           REJECTED    21            ``Hangup(${RINGLINE_ROUTE_CAUSE})``
tenant not ``active``/``trial``          REJECTED    21            same
no DID or extension for the number       NOROUTE     1             same
route type other than ``endpoint``       NOROUTE     41            same (queues, IVR, ... are not dialled yet)
an ``endpoint`` route                    OK          -             ``Dial(${RINGLINE_DIAL},${RINGLINE_RING_TIMEOUT})``
=======================================  ==========  ============  =============================================

Not applied here: the engine's ``max_concurrent_calls`` check, which counts the engine's own live calls;
calls routed through AGI are not counted by anything yet.

Channel variables set by the route script (all of them, every time, ``""`` when not applicable, so a value
left by an earlier ``AGI()`` on the same channel never survives; ``RINGLINE_ROUTE_STATUS`` last):
``RINGLINE_ROUTE_TYPE``, ``RINGLINE_DIAL``, ``RINGLINE_RING_TIMEOUT`` (seconds), ``RINGLINE_FALLBACK_TYPE``,
``RINGLINE_FALLBACK_TARGET``, ``RINGLINE_ROUTE_CAUSE``, ``RINGLINE_ROUTE_REASON``, ``RINGLINE_ROUTE_STATUS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dialplan.agi.environment import AgiEnvironment
from engine.calls.state import Route
from engine.calls.store import TenantRoute
from engine.routing.decision import ROUTABLE_TENANT_STATUSES, Refusal
from engine.routing.decision import decide as shared_decide

__all__ = ["AGI_CONTEXT_PREFIX", "ROUTABLE_TENANT_STATUSES", "RouteDecision", "RouteStatus", "decide", "tenant_slug"]

RouteStatus = Literal["OK", "NOROUTE", "REJECTED"]

DIALPLAN_ROUTE_TYPES = frozenset({"endpoint"})
"""Route types the dialplan can dial after ``AGI()`` (the others need the engine)."""

AGI_CONTEXT_PREFIX = "ringline-agi-"
"""Per-tenant AGI contexts are ``ringline-agi-<slug>`` (``dialplan/asterisk/templates/extensions.conf.j2``)."""
_STASIS_CONTEXT_PREFIX = "ringline-"


@dataclass(frozen=True)
class RouteDecision:
    """What the route script tells the channel.

    Attributes:
        status: ``OK`` (dial ``route``), ``NOROUTE`` or ``REJECTED`` (hang up with ``cause``).
        reason: one sentence for the log and ``RINGLINE_ROUTE_REASON`` (``""`` when OK).
        cause: Q.850 cause to hang the caller up with when not OK.
        route: the route when OK (also the route type when NOROUTE for an unsupported type).
    """

    status: RouteStatus
    reason: str = ""
    cause: int | None = None
    route: Route | None = None

    def variables(self) -> dict[str, str]:
        """Channel variable -> value, in the order to set them (``RINGLINE_ROUTE_STATUS`` last)."""
        route = self.route if self.status == "OK" else None
        return {
            "RINGLINE_ROUTE_TYPE": self.route.route_type if self.route is not None else "",
            "RINGLINE_DIAL": route.dial_string if route is not None else "",
            "RINGLINE_RING_TIMEOUT": str(route.ring_timeout_s) if route is not None else "",
            "RINGLINE_FALLBACK_TYPE": (route.fallback_type or "") if route is not None else "",
            "RINGLINE_FALLBACK_TARGET": (route.fallback_target or "") if route is not None else "",
            "RINGLINE_ROUTE_CAUSE": str(self.cause) if self.cause is not None else "",
            "RINGLINE_ROUTE_REASON": self.reason,
            "RINGLINE_ROUTE_STATUS": self.status,
        }


def tenant_slug(env: AgiEnvironment) -> str | None:
    """The tenant of a request: AGI argument 1, else query ``tenant=``, else the context's name.

    ``AGI(agi://h/route,acme)``, ``AGI(agi://h/route?tenant=acme)`` and a call in context
    ``ringline-agi-acme`` (or ``ringline-acme``) all give ``acme``. ``None`` when none says.
    """
    args = env.args
    if args and args[0].strip():
        return args[0].strip()
    from_query = env.query.get("tenant", "").strip()
    if from_query:
        return from_query
    context = env.context or ""
    prefix = AGI_CONTEXT_PREFIX if context.startswith(AGI_CONTEXT_PREFIX) else _STASIS_CONTEXT_PREFIX
    slug = context.removeprefix(prefix) if context.startswith(prefix) else ""
    return slug or None


def decide(found: TenantRoute, tenant: str, dialled: str) -> RouteDecision:
    """The decision for ``dialled`` in ``tenant`` given what the database said (the engine's shared rules,
    :func:`engine.routing.decision.decide`, with only ``endpoint`` routes usable from the dialplan)."""
    decision = shared_decide(found, tenant, dialled, usable_types=DIALPLAN_ROUTE_TYPES)
    if isinstance(decision, Refusal):
        status: RouteStatus = "REJECTED" if decision.kind == "rejected" else "NOROUTE"
        return RouteDecision(status, decision.reason, decision.cause, decision.route)
    return RouteDecision("OK", route=decision)
