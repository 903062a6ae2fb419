"""Performs the effects of the call state machine over ARI and PostgreSQL, returning follow-up events.

ARI requests that fail because ARI is unreachable (connection refused/reset, timeout: ``AriUnavailable``) are
retried with capped backoff for ``retry_budget_s`` in total, so a call survives an ARI restart or a cut
connection. A refusal by ARI (4xx) is not retried: it becomes an event (``EffectFailed``, or for a dial that
cannot even start, ``DialStatusChanged(CHANUNAVAIL)`` so that the DID's fallback applies).

A ``webhook`` DID rings the caller first, then asks the tenant's CRM (:mod:`engine.routing.webhook_route`)
while the caller hears ringback; the answer (or the DID's fallback) becomes ``RouteResolved``/``RouteFailed``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from engine.ari.errors import AriHttpError, AriUnavailable
from engine.ari.retry import retry_while_unavailable
from engine.calls import effects as fx
from engine.calls.events import CallEvent, DialStatusChanged, EffectFailed, RouteFailed, RouteResolved
from engine.calls.state import Call, Route
from engine.calls.store import CallStore, TenantRoute
from engine.q850 import TEMPORARY_FAILURE
from engine.routing.decision import Refusal, decide
from engine.routing.webhook_route import Rejection, WebhookRouter

log = logging.getLogger(__name__)

ENGINE_ROUTE_TYPES = frozenset({"endpoint", "voicemail", "webhook"})
"""DID route types the ARI engine handles (queue and IVR routes come later)."""
T = TypeVar("T")


class AriCalls(Protocol):
    """The part of :class:`engine.ari.client.AriClient` the executor uses."""

    async def channel_ring(self, channel_id: str) -> None: ...
    async def channel_answer(self, channel_id: str) -> None: ...
    async def channel_hangup(
        self, channel_id: str, *, reason: str | None = None, reason_code: int | None = None
    ) -> bool: ...
    async def channel_continue(
        self,
        channel_id: str,
        *,
        context: str | None = None,
        extension: str | None = None,
        priority: int | None = None,
        label: str | None = None,
    ) -> None: ...
    async def bridge_destroy(self, bridge_id: str) -> bool: ...
    async def request(
        self, method: str, path: str, *, params: dict[str, str] | None = None, json: object | None = None
    ) -> object: ...


class ActiveCounter(Protocol):
    def active_calls(self, tenant_slug: str) -> int: ...


class Executor:
    """Turns effects into I/O. One instance per engine; stateless between calls."""

    def __init__(
        self,
        ari: AriCalls,
        store: CallStore,
        *,
        app: str,
        counter: ActiveCounter,
        retry_budget_s: float = 15.0,
        on_first_command: Callable[[str], None] | None = None,
        on_finished: Callable[[Call], None] | None = None,
        webhooks: WebhookRouter | None = None,
    ) -> None:
        self._ari = ari
        self._webhooks = webhooks
        self._store = store
        self._app = app
        self._counter = counter
        self._retry_budget_s = retry_budget_s
        self._on_first_command = on_first_command
        self._on_finished = on_finished
        self._finishing: set[asyncio.Task[None]] = set()

    async def perform(self, call: Call, effect: fx.Effect) -> list[CallEvent]:
        """Perform one effect for ``call``; returns the events it produced (possibly none)."""
        if log.isEnabledFor(logging.DEBUG):
            log.debug("call %s: perform %s", call.call_id, type(effect).__name__)
        try:
            return await self._perform(call, effect)
        except AriHttpError as exc:
            log.warning("call %s: %s refused by ARI: %s", call.call_id, type(effect).__name__, exc)
            return [EffectFailed(call.call_id, type(effect).__name__, str(exc))]
        except AriUnavailable as exc:
            log.error("call %s: ARI unreachable for %s past the retry budget: %s",
                      call.call_id, type(effect).__name__, exc)
            return [EffectFailed(call.call_id, type(effect).__name__, str(exc))]

    async def _perform(self, call: Call, effect: fx.Effect) -> list[CallEvent]:
        match effect:
            case fx.ResolveRoute():
                return [await self._resolve(call, effect)]
            case fx.Ring(channel_id=ch):
                self._first_command(call)
                await self._retry(lambda: self._ari.channel_ring(ch))
            case fx.CreateCallee():
                return await self._create_callee(call, effect)
            case fx.Dial():
                return await self._dial(call, effect)
            case fx.Answer(channel_id=ch):
                await self._retry(lambda: self._ari.channel_answer(ch))
            case fx.Bridge(bridge_id=bridge_id, channel_ids=channel_ids):
                await self._retry(
                    lambda: self._ari.request("POST", f"/bridges/{bridge_id}", params={"type": "mixing"})
                )
                await self._retry(
                    lambda: self._ari.request(
                        "POST", f"/bridges/{bridge_id}/addChannel", params={"channel": ",".join(channel_ids)}
                    )
                )
            case fx.Hangup(channel_id=ch, cause=cause):
                self._first_command(call)
                await self._retry(lambda: self._ari.channel_hangup(ch, reason_code=cause))
            case fx.Continue(channel_id=ch, context=context, extension=exten):
                # keep receiving this channel's events after it leaves Stasis, to learn when it hangs up
                await self._retry(
                    lambda: self._ari.request(
                        "POST", f"/applications/{self._app}/subscription", params={"eventSource": f"channel:{ch}"}
                    )
                )
                await self._retry(
                    lambda: self._ari.channel_continue(ch, context=context, extension=exten, priority=1)
                )
            case fx.DestroyBridge(bridge_id=bridge_id):
                await self._retry(lambda: self._ari.bridge_destroy(bridge_id))
            case fx.Persist(call=snap):
                await self._store.persist(snap)
            case fx.FinishCall(call=done):
                await self._finish(done)
            case fx.PublishEvent(event_type=event_type, call=subject, at=at):
                await self._store.publish(event_type, subject, at=at)
        return []

    def _first_command(self, call: Call) -> None:
        if self._on_first_command is not None:
            self._on_first_command(call.call_id)

    async def _resolve(self, call: Call, effect: fx.ResolveRoute) -> CallEvent:
        found = await self._store.resolve(effect.tenant_slug, effect.did)
        decision = decide(
            found,
            effect.tenant_slug,
            effect.did,
            usable_types=ENGINE_ROUTE_TYPES,
            active_calls=self._counter.active_calls(effect.tenant_slug),
        )
        if isinstance(decision, Refusal):
            return RouteFailed(call.call_id, decision.cause, decision.reason, tenant_id=found.tenant_id)
        assert found.tenant_id is not None
        if decision.route_type == "webhook":
            if self._webhooks is None:
                return RouteFailed(call.call_id, TEMPORARY_FAILURE, "no CRM webhook client", tenant_id=found.tenant_id)
            return await self._resolve_webhook(call, found, decision, self._webhooks)
        return RouteResolved(call.call_id, decision, found.tenant_id)

    async def _resolve_webhook(
        self, call: Call, found: TenantRoute, did_route: Route, webhooks: WebhookRouter
    ) -> CallEvent:
        """Ring the caller, then ask the CRM: its answer (or the DID's fallback) is the route."""
        assert found.tenant_id is not None
        self._first_command(call)
        await self._retry(lambda: self._ari.channel_ring(call.caller.channel_id))
        outcome = await webhooks.route(call, did_route, found.webhook, found.did_number)
        if isinstance(outcome, Rejection):
            return RouteFailed(call.call_id, outcome.cause, outcome.reason, tenant_id=found.tenant_id)
        return RouteResolved(call.call_id, outcome, found.tenant_id)

    async def _create_callee(self, call: Call, effect: fx.CreateCallee) -> list[CallEvent]:
        variables: dict[str, str] = dict(effect.variables)
        if effect.caller_id_num:
            variables["CALLERID(num)"] = effect.caller_id_num
        if effect.caller_id_name:
            variables["CALLERID(name)"] = effect.caller_id_name
        try:
            await self._retry(
                lambda: self._ari.request(
                    "POST",
                    "/channels/create",
                    params={
                        "endpoint": effect.dial_string,
                        "app": self._app,
                        "channelId": effect.channel_id,
                        "originator": effect.caller_channel_id,
                    },
                    json={"variables": variables} if variables else None,
                )
            )
        except AriHttpError as exc:
            # e.g. an endpoint with no registered contact: Asterisk cannot even create the channel
            log.info("call %s: cannot create %s: %s", call.call_id, effect.dial_string, exc)
            return [DialStatusChanged(call.call_id, "CHANUNAVAIL")]
        return []

    async def _dial(self, call: Call, effect: fx.Dial) -> list[CallEvent]:
        try:
            await self._retry(
                lambda: self._ari.request(
                    "POST",
                    f"/channels/{effect.channel_id}/dial",
                    params={"caller": effect.caller_channel_id, "timeout": str(effect.timeout_s)},
                )
            )
        except AriHttpError as exc:
            log.info("call %s: cannot dial %s: %s", call.call_id, effect.channel_id, exc)
            return [DialStatusChanged(call.call_id, "CHANUNAVAIL")]
        return []

    async def _finish(self, call: Call) -> None:
        """Write the CDR under ``asyncio.shield``: an engine being cancelled still completes the write."""
        task = asyncio.ensure_future(self._store.finish(call))
        self._finishing.add(task)
        task.add_done_callback(self._finishing.discard)
        await asyncio.shield(task)
        if self._on_finished is not None:
            self._on_finished(call)

    async def wait_finishing(self, timeout_s: float = 5.0) -> None:
        """Wait for CDR writes still in flight (used at shutdown)."""
        if self._finishing:
            await asyncio.wait(set(self._finishing), timeout=timeout_s)

    async def _retry(self, op: Callable[[], Awaitable[T]]) -> T:
        """Run ``op``, retrying while ARI is unreachable, within the executor's retry budget."""
        return await retry_while_unavailable(op, budget_s=self._retry_budget_s)
