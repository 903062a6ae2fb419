"""The engine: subscribes to ARI, owns the calls, routes inbound calls and writes CDRs.

Wiring of one engine instance: an :class:`~engine.ari.client.AriClient` for REST, an
:class:`~engine.ari.events.AriEventStream` for events (reconnecting with capped backoff), a
:class:`~engine.dispatch.Dispatcher` (one ordered inbox per call), an :class:`~engine.calls.executor.Executor`
for the effects and a :class:`~engine.calls.store.CallStore` on PostgreSQL. After every (re)connection the
engine reconciles with Asterisk (:mod:`engine.calls.recovery`) before handling further events. One HTTP client
session, created on first use and closed by :meth:`Engine.close`, carries the CRM routing webhooks
(:mod:`engine.routing.webhook_route`) and the event webhooks: a :class:`~engine.webhooks.deliverer.Deliverer`
started by :meth:`Engine.run` and stopped by :meth:`Engine.close` drains the event outbox to the tenants' CRMs.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp
import asyncpg

from engine import metrics
from engine.ari.client import AriClient
from engine.ari.events import AriEventStream
from engine.ari.models import (
    Bridge,
    Channel,
    ChannelDestroyed,
    ChannelHangupRequest,
    Dial,
    Event,
    StasisStart,
)
from engine.ari.retry import retry_while_unavailable
from engine.calls import recovery
from engine.calls.events import CalleeReady, CallerArrived, DialStatusChanged, LegGone
from engine.calls.executor import Executor
from engine.calls.state import Call, new_call
from engine.calls.store import CallStore
from engine.clock import Clock, SystemClock
from engine.config import EngineConfig
from engine.dispatch import Dispatcher
from engine.q850 import NORMAL_CLEARING
from engine.routing.webhook_route import WebhookRouter
from engine.stasis import dialled_number, endpoint_of
from engine.webhooks.deliverer import Deliverer

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EngineStatistics:
    """A point-in-time view of the engine (for the status page and tests)."""

    active_calls: int
    ari_connected: bool
    ari_connects: int
    events_received: int
    calls_finished: int
    calls_readopted: int


class Engine:
    """One engine instance. ``await engine.run()`` until cancelled; ``await engine.close()`` to stop cleanly."""

    def __init__(self, config: EngineConfig, pool: asyncpg.Pool, *, clock: Clock | None = None) -> None:
        self.config = config
        self._clock = clock or SystemClock()
        ari_root = config.ari_url.rstrip("/") + "/ari"
        self.ari = AriClient(ari_root, config.ari_user, config.ari_password, app=config.app)
        self.store = CallStore(pool, owner=config.instance_id, default_ring_timeout_s=config.default_ring_timeout_s)
        self._http: aiohttp.ClientSession | None = None
        self._executor = Executor(
            self.ari,
            self.store,
            app=config.app,
            counter=self,
            retry_budget_s=config.ari_retry_budget_s,
            on_first_command=self._first_command,
            on_finished=self._finished,
            webhooks=WebhookRouter(
                self.http_session,
                self.store,
                max_timeout_s=config.crm_webhook_max_timeout_s,
                max_response_bytes=config.crm_webhook_max_response_bytes,
                now=self._clock.now,
            ),
        )
        self.deliverer = Deliverer(
            pool,
            self.http_session,
            owner=f"{config.instance_id}-{uuid.uuid4().hex[:12]}",
            settings=config.event_delivery,
            clock=self._clock,
        )
        self.dispatcher = Dispatcher(self._executor.perform, self._clock, self._on_change)
        self._events = AriEventStream(
            ari_root,
            config.ari_user,
            config.ari_password,
            app=config.app,
            on_connected=self._on_connected,
            on_disconnected=self._on_disconnected,
        )
        self._stasis_start_at: dict[str, float] = {}
        self._event_counters: dict[str, Any] = {}
        self._finished_count = 0
        self._readopted_count = 0
        self._restored = False
        self.last_reconcile: recovery.ReconcileReport | None = None

    # ----------------------------------------------------------------- lifecycle
    async def run(self) -> None:
        """Deliver events and consume ARI events until cancelled (reconnecting as needed)."""
        self.deliverer.start()
        try:
            await self._events.run(self._handle)
        finally:
            await self.deliverer.close()

    async def wait_connected(self) -> None:
        await self._events.wait_connected()

    async def close(self) -> None:
        """Stop taking events, let CDR writes in flight finish, cancel call actors, stop the event deliverer
        (events not yet delivered stay in the outbox), close ARI and HTTP."""
        await self._events.close()
        await self._executor.wait_finishing()
        await self.dispatcher.close()
        await self.deliverer.close()
        await self.ari.close()
        if self._http is not None:
            http, self._http = self._http, None
            await http.close()

    def http_session(self) -> aiohttp.ClientSession:
        """The engine's HTTP client session for outbound webhooks (CRM routing), created on first use."""
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.config.crm_webhook_connections),
                trust_env=False,
            )
        return self._http

    def statistics(self) -> EngineStatistics:
        s = self._events.statistics()
        return EngineStatistics(
            active_calls=len(self.dispatcher),
            ari_connected=s.connected,
            ari_connects=s.connects,
            events_received=s.events_received,
            calls_finished=self._finished_count,
            calls_readopted=self._readopted_count,
        )

    def active_calls(self, tenant_slug: str) -> int:
        return self.dispatcher.count_for_tenant(tenant_slug)

    # ----------------------------------------------------------------- events in
    def _handle(self, event: Event) -> None:
        """Map one ARI event to its call's inbox. Never awaits: ordering is kept by the per-call inboxes."""
        started = self._clock.monotonic()
        counter = self._event_counters.get(event.type)
        if counter is None:  # labels() takes a lock and builds a key: once per event type, not per event
            counter = self._event_counters[event.type] = metrics.ARI_EVENTS.labels(event.type)
        counter.inc()
        if log.isEnabledFor(logging.DEBUG):
            log.debug("ARI %s %s", event.type, event)
        if isinstance(event, StasisStart):
            self._on_stasis_start(event)
        elif isinstance(event, Dial):
            call_id = self.dispatcher.call_for_channel(event.peer.id)
            if call_id is not None and event.dialstatus:
                self.dispatcher.put_nowait(call_id, DialStatusChanged(call_id, event.dialstatus))
        elif isinstance(event, ChannelHangupRequest | ChannelDestroyed):
            channel = event.channel
            call_id = self.dispatcher.call_for_channel(channel.id)
            if call_id is not None:
                self.dispatcher.put_nowait(
                    call_id, LegGone(call_id, channel.id, event.cause, self._clock.now())
                )
        metrics.EVENT_HANDLING.observe(self._clock.monotonic() - started)

    def _on_stasis_start(self, event: StasisStart) -> None:
        channel = event.channel
        call_id = self.dispatcher.call_for_channel(channel.id)
        if call_id is not None:
            # a callee we created, entering the app: now it can be dialled
            self.dispatcher.put_nowait(call_id, CalleeReady(call_id))
            return
        if channel.id.endswith(recovery.CALLEE_SUFFIX):
            return  # a callee of a call we no longer have; reconciliation hangs it up
        self.start_caller(channel, list(event.args))

    def start_caller(self, channel: Channel, args: list[str]) -> None:
        """Route a caller channel that is in our Stasis app; ``args[0]`` is the tenant slug."""
        call_id = str(uuid.uuid4())
        tenant = args[0] if args else ""
        arrived = CallerArrived(
            call_id=call_id,
            channel_id=channel.id,
            tenant_slug=tenant,
            did=dialled_number(channel),
            caller_id_num=channel.caller.number or None,
            caller_id_name=channel.caller.name or None,
            endpoint=endpoint_of(channel),
            at=self._clock.now(),
        )
        self._stasis_start_at[call_id] = self._clock.monotonic()
        call, effects = new_call(arrived)
        self.dispatcher.start(call, effects)
        metrics.ACTIVE_CALLS.set(len(self.dispatcher))

    # ----------------------------------------------------------------- reconnects
    async def _on_connected(self, connects: int) -> None:
        if connects > 1:
            metrics.ARI_RECONNECTS.inc()
        snapshots: list[Call] = []
        if not self._restored:
            snapshots = await self.store.load_active()
            self._restored = True
        channels, bridges = await self._list_with_retry()
        report = recovery.plan(
            app=self.config.app,
            channels=channels,
            bridges=bridges,
            dispatcher=self.dispatcher,
            snapshots=snapshots,
            now=self._clock.now(),
            start_caller=self.start_caller,
        )
        for channel_id in report.orphan_channels:
            await self.ari.channel_hangup(channel_id, reason_code=NORMAL_CLEARING)
        for bridge_id in report.orphan_bridges:
            await self.ari.bridge_destroy(bridge_id)
        self._readopted_count += len(report.readopted)
        metrics.CALLS_READOPTED.inc(len(report.readopted))
        metrics.ORPHANS_HUNG_UP.inc(len(report.orphan_channels) + len(report.orphan_bridges))
        metrics.ACTIVE_CALLS.set(len(self.dispatcher))
        self.last_reconcile = report
        log.info(
            "ARI connection %d: reconciled (readopted=%d, legs missing=%d, new callers=%d, orphans=%d)",
            connects,
            len(report.readopted),
            len(report.legs_missing),
            len(report.new_callers),
            len(report.orphan_channels) + len(report.orphan_bridges),
        )

    async def _list_with_retry(self) -> tuple[list[Channel], list[Bridge]]:
        """``GET /channels`` and ``GET /bridges``, retried while ARI is unreachable (the events socket just
        connected, so REST normally answers at once)."""
        return await retry_while_unavailable(
            lambda: self._list_now(), budget_s=self.config.ari_retry_budget_s
        )

    async def _list_now(self) -> tuple[list[Channel], list[Bridge]]:
        return await self.ari.channels_list(), await self.ari.bridges_list()

    def _on_disconnected(self, reason: str) -> None:
        log.warning("ARI events connection lost: %s (calls in progress: %d)", reason, len(self.dispatcher))

    # ----------------------------------------------------------------- call hooks
    def _on_change(self, before: Call, after: Call) -> None:
        if before.state is not after.state:
            log.debug("call %s: %s -> %s", after.call_id, before.state.value, after.state.value)

    def _first_command(self, call_id: str) -> None:
        started = self._stasis_start_at.pop(call_id, None)
        if started is not None:
            metrics.DECISION_LATENCY.observe(self._clock.monotonic() - started)

    def _finished(self, call: Call) -> None:
        self._finished_count += 1
        self._stasis_start_at.pop(call.call_id, None)
        metrics.CALLS.labels(call.disposition or "FAILED").inc()
        # the actor is forgotten right after this returns; count without it
        metrics.ACTIVE_CALLS.set(max(0, len(self.dispatcher) - 1))

