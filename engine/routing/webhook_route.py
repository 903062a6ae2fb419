"""What a ``webhook`` DID does with its CRM's answer: a :class:`~engine.calls.state.Route` or a hang-up.

A DID with ``route_type = 'webhook'`` names one of its tenant's ``crm_webhooks`` in ``route_target``. While the
caller hears ringback (the executor rings before asking), :class:`WebhookRouter` asks the CRM
(:func:`engine.routing.crm_webhook.ask`) and turns the answer into:

====================================  ==========================================================================
CRM answer                            outcome
====================================  ==========================================================================
``route`` to an endpoint of tenant    ``endpoint`` route to it with the DID's ring timeout and the CRM's
                                      ``caller_id`` and ``variables`` on the callee; if it does not answer, the
                                      DID's voicemail fallback, else a hang-up with the dial's cause (as for an
                                      ``endpoint`` DID)
``voicemail``                         ``voicemail`` route: the caller continues into ``ringline-voicemail``
``hangup``                            :class:`Rejection` with the CRM's Q.850 cause
anything unusable                     the DID's fallback route (below), logged at WARNING with the reason
====================================  ==========================================================================

Unusable: timeout, connection error, non-2xx, invalid JSON, invalid body (see
:mod:`engine.routing.crm_webhook`), a ``route`` target that is no endpoint of the tenant, a ``queue`` or
``ivr`` action (not built yet: an unknown target), or a DID that names no webhook of its tenant
(``not_configured``). Every ask is counted in ``ringline_engine_crm_webhook_results_total{result}`` with the
decision's action (``route``, ``voicemail``, ``hangup``) or the failure's ``result``.

The fallback route is the DID's ``fallback_type``/``fallback_target``: ``endpoint`` dials that extension (it
has no further fallback: busy or no answer hangs up with the dial's cause), ``voicemail`` continues into that
mailbox, ``hangup`` (or none configured, or a type this engine cannot take) hangs up with Q.850 41 temporary
failure: the number works, its routing did not, a later attempt may succeed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import aiohttp

from engine import metrics
from engine.calls.state import Call, Route
from engine.calls.store import endpoint_id
from engine.q850 import TEMPORARY_FAILURE
from engine.routing.crm_webhook import (
    DEFAULT_MAX_RESPONSE_BYTES,
    CrmDecision,
    CrmFailure,
    CrmWebhook,
    HangupAction,
    RouteAction,
    VoicemailAction,
    ask,
    build_payload,
)

log = logging.getLogger(__name__)

WEBHOOK_FAILED_CAUSE = TEMPORARY_FAILURE
"""Q.850 cause of a hang-up fallback after the CRM could not decide (41, temporary failure)."""


@dataclass(frozen=True, slots=True)
class Rejection:
    """Hang the caller up with Q.850 ``cause``; ``reason`` is one line for the log and ``RouteFailed``."""

    cause: int
    reason: str


class EndpointLookup(Protocol):
    """The part of :class:`engine.calls.store.CallStore` the router uses."""

    async def endpoint_exists(self, endpoint: str) -> bool: ...


def fallback_route(did_route: Route, tenant_slug: str) -> Route | Rejection:
    """The DID's configured fallback as a route of its own (pure)."""
    kind, target = did_route.fallback_type, did_route.fallback_target
    if kind == "endpoint" and target:
        return _endpoint_route(tenant_slug, target, did_route.ring_timeout_s)
    if kind == "voicemail" and target:
        return voicemail_route(target, did_route.ring_timeout_s)
    reason = "fallback hangup" if kind == "hangup" else f"no usable fallback ({kind or 'none'})"
    return Rejection(WEBHOOK_FAILED_CAUSE, reason)


def voicemail_route(mailbox: str, ring_timeout_s: int) -> Route:
    """A route straight to ``mailbox``; its fallback fields name the mailbox, as the CDR destination reads them."""
    return Route("voicemail", mailbox, "", ring_timeout_s, "voicemail", mailbox)


def decision_route(decision: CrmDecision, did_route: Route, tenant_slug: str) -> Route | Rejection | CrmFailure:
    """The CRM's decision as a route (pure; whether a ``route`` target exists is the caller's check).

    ``queue``/``ivr`` come back as ``CrmFailure("unknown_target")``: those parts are not built yet.
    """
    action = decision.action
    if isinstance(action, RouteAction):
        endpoint = endpoint_id(tenant_slug, action.target)
        caller_id = action.caller_id
        return Route(
            "endpoint",
            endpoint,
            f"PJSIP/{endpoint}",
            did_route.ring_timeout_s,
            did_route.fallback_type,
            did_route.fallback_target,
            caller_id_num=caller_id.number if caller_id else None,
            caller_id_name=caller_id.name if caller_id else None,
            variables=tuple(sorted(action.variables.items())),
        )
    if isinstance(action, VoicemailAction):
        return voicemail_route(action.target, did_route.ring_timeout_s)
    if isinstance(action, HangupAction):
        return Rejection(action.cause, f"CRM asked to hang up (cause {action.cause})")
    return CrmFailure(
        "unknown_target", f"action {action.action!r} (target {action.target!r}) is not built yet", decision.elapsed_s
    )


def _endpoint_route(tenant_slug: str, target: str, ring_timeout_s: int) -> Route:
    if "/" in target:  # an operator-set dial string (``Local/...``), as DID targets allow
        return Route("endpoint", target, target, ring_timeout_s)
    endpoint = endpoint_id(tenant_slug, target)
    return Route("endpoint", endpoint, f"PJSIP/{endpoint}", ring_timeout_s)


class WebhookRouter:
    """Routes calls to ``webhook`` DIDs. Holds no per-call state; the HTTP session belongs to the engine.

    Args:
        session: returns the engine's shared ``aiohttp.ClientSession`` (created on first use).
        endpoints: checks that a CRM's ``route`` target is an endpoint (``ps_endpoints``).
        max_timeout_s: cap on any webhook's ``timeout_s`` (seconds).
        max_response_bytes: largest CRM response body read (bytes).
        now: POSIX seconds for the signature timestamp.
    """

    def __init__(
        self,
        session: Callable[[], aiohttp.ClientSession],
        endpoints: EndpointLookup,
        *,
        max_timeout_s: float = 10.0,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._session = session
        self._endpoints = endpoints
        self._max_timeout_s = max_timeout_s
        self._max_response_bytes = max_response_bytes
        self._now = now

    async def route(
        self, call: Call, did_route: Route, webhook: CrmWebhook | None, did_number: str | None
    ) -> Route | Rejection:
        """Ask the CRM about ``call`` and return where it goes; never raises for the CRM's faults."""
        outcome = await self._ask(call, did_route, webhook, did_number)
        if isinstance(outcome, CrmFailure):
            metrics.CRM_WEBHOOK_RESULTS.labels(outcome.result).inc()
            fallback = fallback_route(did_route, call.tenant_slug)
            log.warning(
                "call %s: CRM webhook %s for DID %s unusable (%s: %s) after %.3f s; fallback %s",
                call.call_id,
                webhook.webhook_id if webhook else did_route.target,
                did_number,
                outcome.result,
                outcome.reason,
                outcome.elapsed_s,
                _describe(fallback),
            )
            return fallback
        return outcome

    async def _ask(
        self, call: Call, did_route: Route, webhook: CrmWebhook | None, did_number: str | None
    ) -> Route | Rejection | CrmFailure:
        if webhook is None:
            return CrmFailure("not_configured", f"route_target {did_route.target!r} names no webhook of the tenant")
        payload = build_payload(
            tenant=call.tenant_slug,
            call_id=call.call_id,
            caller=call.caller_id_num,
            dialled=call.did,
            did=did_number,
            caller_name=call.caller_id_name,
        )
        answer = await ask(
            self._session(),
            webhook,
            payload,
            budget_s=min(webhook.timeout_s, self._max_timeout_s),
            max_response_bytes=self._max_response_bytes,
            now=self._now,
        )
        metrics.CRM_WEBHOOK_SECONDS.observe(answer.elapsed_s)
        if isinstance(answer, CrmFailure):
            return answer
        outcome = decision_route(answer, did_route, call.tenant_slug)
        if (
            isinstance(outcome, Route)
            and outcome.route_type == "endpoint"
            and not await self._endpoints.endpoint_exists(outcome.target)
        ):
            return CrmFailure("unknown_target", f"{outcome.target!r} is no endpoint of the tenant", answer.elapsed_s)
        if not isinstance(outcome, CrmFailure):
            metrics.CRM_WEBHOOK_RESULTS.labels(answer.action.action).inc()
            log.debug(
                "call %s: CRM webhook %d answered %s in %.3f s -> %s",
                call.call_id, webhook.webhook_id, answer.action.action, answer.elapsed_s, _describe(outcome),
            )
        return outcome


def _describe(outcome: Route | Rejection) -> str:
    if isinstance(outcome, Rejection):
        return f"hangup (cause {outcome.cause})"
    return f"{outcome.route_type} {outcome.target}"
