"""The routing rules shared by every entry point (the ARI engine and FastAGI): what a database lookup means.

=======================================  ===========  ============
database says                            outcome      Q.850 cause
=======================================  ===========  ============
no such tenant                           rejected     21
tenant not ``active``/``trial``          rejected     21
over ``max_concurrent_calls``            rejected     34 (only where live calls are counted)
no DID or extension for the number       noroute      1
a route type this entry point can't use  noroute      41
otherwise                                the route    -
=======================================  ===========  ============
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from engine.calls.state import Route
from engine.calls.store import TenantRoute
from engine.q850 import CALL_REJECTED, NORMAL_CIRCUIT_CONGESTION, TEMPORARY_FAILURE, UNALLOCATED_NUMBER

ROUTABLE_TENANT_STATUSES = frozenset({"active", "trial"})
"""``tenants.status`` values whose calls are routed."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """The call is not routed: hang the caller up with Q.850 ``cause``. ``route`` is set for an unusable type."""

    kind: Literal["rejected", "noroute"]
    cause: int
    reason: str
    route: Route | None = None


def decide(
    found: TenantRoute,
    tenant: str,
    dialled: str | None,
    *,
    usable_types: frozenset[str],
    active_calls: int | None = None,
) -> Route | Refusal:
    """Apply the table above to a lookup result (:meth:`engine.calls.store.CallStore.resolve`).

    ``active_calls`` is the tenant's live call count including this one, or None where nothing counts them.
    """
    if found.tenant_id is None:
        return Refusal("rejected", CALL_REJECTED, f"unknown tenant {tenant!r}")
    if found.tenant_status not in ROUTABLE_TENANT_STATUSES:
        return Refusal("rejected", CALL_REJECTED, f"tenant {tenant!r} is {found.tenant_status}")
    if active_calls is not None and active_calls > found.max_concurrent_calls:
        return Refusal(
            "rejected", NORMAL_CIRCUIT_CONGESTION, f"tenant over max_concurrent_calls ({found.max_concurrent_calls})"
        )
    route = found.route
    if route is None:
        return Refusal("noroute", UNALLOCATED_NUMBER, f"no DID or extension {dialled!r} in tenant {tenant!r}")
    if route.route_type not in usable_types or (route.route_type == "endpoint" and not route.dial_string):
        return Refusal(
            "noroute", TEMPORARY_FAILURE, f"route type {route.route_type!r} of {dialled!r} is not handled here", route
        )
    return route
