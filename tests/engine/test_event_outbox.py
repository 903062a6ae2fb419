"""The event outbox and its deliverer against a real PostgreSQL and a real aiohttp CRM in this process: a CRM that
is down for a while, two deliverers sharing one outbox, a deliverer cancelled mid-batch, an engine that died
holding claimed rows, and ``call.ended`` written in the CDR's transaction."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import asyncpg
import pytest

from ara_schema import provisioning
from ara_schema.pool import create_pool
from engine.calls import notifier
from engine.calls.state import Call, CallState, Leg, Route
from engine.calls.store import CallStore
from engine.webhooks import outbox
from engine.webhooks.backoff import Backoff
from engine.webhooks.deliverer import Deliverer, DeliverySettings
from engine.webhooks.events import CALL_ANSWERED, CALL_ENDED, CALL_RINGING, EventType, event_key
from tests.engine.event_receiver import EventReceiver
from tests.scenarios import eventually

SECRET = secrets.token_hex(24)
CALL_EVENTS: tuple[EventType, ...] = (CALL_RINGING, CALL_ANSWERED, CALL_ENDED)
FAST = DeliverySettings(
    request_timeout_s=2.0, batch_size=5, poll_interval_s=0.05, claim_lease_s=5.0,
    backoff=Backoff(initial_s=0.05, max_s=0.3, jitter=0.5),
)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def tenant(pool: asyncpg.Pool) -> tuple[int, str]:
    """A fresh tenant (its own subscriptions and rows)."""
    slug = f"ev{uuid.uuid4().hex[:10]}"
    async with pool.acquire() as conn:
        return await provisioning.create_tenant(conn, slug, "Events"), slug


async def given_subscription(
    pool: asyncpg.Pool, tenant_id: int, url: str, types: tuple[str, ...] = CALL_EVENTS
) -> int:
    async with pool.acquire() as conn:
        sub_id: int = await conn.fetchval(
            "INSERT INTO event_subscriptions (tenant_id, url, secret, event_types) VALUES ($1, $2, $3, $4)"
            " RETURNING id",
            tenant_id, url, SECRET, list(types),
        )
        return sub_id


async def given_call_events(pool: asyncpg.Pool, tenant_id: int, slug: str, calls: int) -> list[str]:
    """``calls`` calls' ringing, answered and ended events, in that order per call; returns the call ids."""
    call_ids = [str(uuid.uuid4()) for _ in range(calls)]
    now = time.time()
    async with pool.acquire() as conn:
        for event_type in CALL_EVENTS:
            for call_id in call_ids:
                async with conn.transaction():
                    await outbox.enqueue(
                        conn,
                        tenant_id=tenant_id,
                        event_type=event_type,
                        key=event_key(call_id, event_type),
                        payload={"id": str(event_key(call_id, event_type)), "type": event_type, "tenant": slug,
                                 "occurred_at": None, "data": {"call_id": call_id}},
                        ordering_key=call_id,
                    )
    assert now  # rows are due at once (next_attempt_at defaults to now())
    return call_ids


async def rows(pool: asyncpg.Pool, subscription_id: int) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        return [dict(r) for r in await conn.fetch(
            "SELECT * FROM event_outbox WHERE subscription_id = $1 ORDER BY id", subscription_id
        )]


def then_every_event_arrived_once_in_order(receiver: EventReceiver, call_ids: list[str]) -> None:
    expected = {str(event_key(c, t)) for c in call_ids for t in CALL_EVENTS}
    assert set(receiver.deduped()) == expected  # none lost
    assert all(n == 1 for n in receiver.completed_counts().values()), receiver.completed_counts()  # none twice
    assert all(d.verified for d in receiver.arrivals)
    for d in receiver.completed:
        assert d.payload["id"] == d.key and d.payload["type"] == d.event_type
    for call_id in call_ids:
        assert receiver.order_of(call_id) == list(CALL_EVENTS), call_id


@contextlib.asynccontextmanager
async def running(deliverer: Deliverer) -> AsyncIterator[Deliverer]:
    deliverer.start()
    try:
        yield deliverer
    finally:
        await deliverer.close()


async def test_crm_down_then_back_receives_every_event_once_in_order_per_call(
    pool: asyncpg.Pool, http: aiohttp.ClientSession, tenant: tuple[int, str]
) -> None:
    tenant_id, slug = tenant
    receiver = EventReceiver(SECRET)  # not started: connection refused
    sub = await given_subscription(pool, tenant_id, receiver.url)
    call_ids = await given_call_events(pool, tenant_id, slug, calls=6)
    async with running(Deliverer(pool, lambda: http, settings=FAST)) as deliverer:

        async def retried_while_down() -> bool:
            heads = [r for r in await rows(pool, sub) if r["event_type"] == CALL_RINGING]
            return all(r["attempts"] >= 2 for r in heads)

        await eventually(retried_while_down, what="every call's first event retried while the CRM is down")
        state = await rows(pool, sub)
        assert all(r["delivered_at"] is None for r in state)
        assert all("Connect" in (r["last_error"] or "") for r in state if r["event_type"] == CALL_RINGING)
        # later events of a call wait behind its first: never attempted out of order
        assert all(r["attempts"] == 0 for r in state if r["event_type"] != CALL_RINGING)
        await receiver.start()
        try:
            await eventually(lambda: len(receiver.deduped()) == 18, what="every event delivered")
            await eventually(
                lambda: deliverer.statistics().delivered == 18, what="every delivery recorded"
            )
        finally:
            await receiver.stop()
    then_every_event_arrived_once_in_order(receiver, call_ids)
    state = await rows(pool, sub)
    assert all(r["delivered_at"] is not None and r["claimed_by"] is None for r in state)


async def test_two_deliverers_on_one_outbox_never_send_the_same_row_at_once(
    pool: asyncpg.Pool, http: aiohttp.ClientSession, tenant: tuple[int, str]
) -> None:
    tenant_id, slug = tenant
    receiver = EventReceiver(SECRET, delay_s=0.02)
    await receiver.start()
    try:
        await given_subscription(pool, tenant_id, receiver.url)
        first, second = Deliverer(pool, lambda: http, settings=FAST), Deliverer(pool, lambda: http, settings=FAST)
        async with running(first), running(second):
            call_ids = await given_call_events(pool, tenant_id, slug, calls=20)
            await eventually(lambda: len(receiver.deduped()) == 60, timeout_s=30, what="every event delivered")
            await eventually(
                lambda: first.statistics().delivered + second.statistics().delivered == 60,
                what="every delivery recorded",
            )
        assert receiver.overlaps == []
        assert first.statistics().delivered > 0 and second.statistics().delivered > 0  # the work was shared
        then_every_event_arrived_once_in_order(receiver, call_ids)
    finally:
        await receiver.stop()


async def test_deliverer_cancelled_mid_batch_loses_nothing(
    pool: asyncpg.Pool, http: aiohttp.ClientSession, tenant: tuple[int, str]
) -> None:
    tenant_id, slug = tenant
    receiver = EventReceiver(SECRET, hold_after=3)  # answers 3 requests, then holds the rest
    await receiver.start()
    try:
        sub = await given_subscription(pool, tenant_id, receiver.url)
        call_ids = await given_call_events(pool, tenant_id, slug, calls=8)
        killed = Deliverer(pool, lambda: http, settings=FAST)
        killed.start()
        await eventually(lambda: len(receiver.arrivals) >= 5, what="a batch in flight, partly answered")
        await eventually(lambda: killed.statistics().delivered == 3, what="3 deliveries recorded")
        in_flight = {d.key for d in receiver.arrivals[3:]}
        await killed.close()  # cancelled mid-batch
        state = await rows(pool, sub)
        assert sum(r["delivered_at"] is not None for r in state) == 3
        assert all(r["claimed_by"] is None for r in state)  # the unfinished rows were given back at once
        receiver.release.set()
        async with running(Deliverer(pool, lambda: http, settings=FAST)) as successor:
            await eventually(lambda: len(receiver.deduped()) == 24, what="every event delivered")
            await eventually(lambda: successor.statistics().delivered == 21, what="the rest recorded")
        then_every_event_arrived_once_in_order(receiver, call_ids)
        # only the requests cut off by the cancellation arrived twice (their 2xx never reached the deliverer)
        arrived = [d.key for d in receiver.arrivals]
        assert {k for k in arrived if arrived.count(k) > 1} <= in_flight
    finally:
        await receiver.stop()


async def test_rows_claimed_by_a_dead_engine_are_delivered_after_its_lease(
    pool: asyncpg.Pool, http: aiohttp.ClientSession, tenant: tuple[int, str]
) -> None:
    tenant_id, slug = tenant
    receiver = EventReceiver(SECRET)
    await receiver.start()
    try:
        await given_subscription(pool, tenant_id, receiver.url)
        call_ids = await given_call_events(pool, tenant_id, slug, calls=2)
        async with pool.acquire() as conn:  # an engine claims the first events, then dies without a word
            claimed = await outbox.claim(conn, owner="dead-engine", now=time.time(), lease_s=30.0, limit=100)
        assert {c.event_type for c in claimed} == {CALL_RINGING} and len(claimed) == 2

        class Later:
            """The clock of a deliverer running after the dead engine's lease."""

            offset_s = 0.0

            def now(self) -> float:
                return time.time() + self.offset_s

            def monotonic(self) -> float:
                return time.monotonic()

        clock = Later()
        async with running(Deliverer(pool, lambda: http, settings=FAST, clock=clock)):
            await asyncio.sleep(0.3)
            assert receiver.arrivals == []  # leased: nobody else sends them
            clock.offset_s = 31.0
            await eventually(lambda: len(receiver.deduped()) == 6, what="every event delivered after the lease")
        then_every_event_arrived_once_in_order(receiver, call_ids)
    finally:
        await receiver.stop()


def _finished_call(slug: str, tenant_id: int) -> Call:
    call_id = str(uuid.uuid4())
    return Call(
        call_id=call_id,
        tenant_slug=slug,
        state=CallState.ENDED,
        caller=Leg(f"{call_id}-caller", "caller", None, 1000.0, end_at=1012.4, hangup_cause=16),
        callee=Leg(f"{call_id}-callee", "callee", f"{slug}-1001", 1000.2, 1002.0, 1012.4, 16),
        did="+15550100",
        caller_id_num="+15557770000",
        tenant_id=tenant_id,
        route=Route("endpoint", f"{slug}-1001", f"PJSIP/{slug}-1001", 20),
        disposition="ANSWERED",
        hangup_cause=16,
        started_at=1000.0,
        answered_at=1002.0,
        ended_at=1012.4,
    )


async def test_call_ended_is_written_with_the_cdr_once_per_matching_subscription(
    pool: asyncpg.Pool, tenant: tuple[int, str]
) -> None:
    tenant_id, slug = tenant
    ended_sub = await given_subscription(pool, tenant_id, "http://127.0.0.1:9/a", (CALL_ENDED,))
    ringing_sub = await given_subscription(pool, tenant_id, "http://127.0.0.1:9/b", (CALL_RINGING,))
    store = CallStore(pool, owner="events-test")
    call = _finished_call(slug, tenant_id)
    await store.finish(call)
    await store.finish(call)  # a re-adopted call finishing again writes neither the CDR nor the event twice
    [row] = await rows(pool, ended_sub)
    assert await rows(pool, ringing_sub) == []
    async with pool.acquire() as conn:
        cdr = await conn.fetchrow("SELECT * FROM cdr WHERE call_id = $1", uuid.UUID(call.call_id))
    assert row["created_at"] == cdr["created_at"]  # the same transaction (now() is the transaction's start)
    assert row["idempotency_key"] == event_key(call.call_id, CALL_ENDED) and row["ordering_key"] == call.call_id
    payload = json.loads(row["payload"])
    assert payload == notifier.call_ended(
        call, end=1012.4, destination=f"{slug}-1001", duration_s=12, billsec_s=10,
        hangup_cause_text=cdr["hangup_cause_text"],
    )
    assert (payload["data"]["disposition"], payload["data"]["duration_s"], payload["data"]["billsec_s"]) == (
        cdr["disposition"], cdr["duration_s"], cdr["billsec_s"]
    )


async def test_call_ended_is_not_written_when_the_cdr_transaction_fails(
    pool: asyncpg.Pool, tenant: tuple[int, str]
) -> None:
    tenant_id, slug = tenant
    sub = await given_subscription(pool, tenant_id, "http://127.0.0.1:9/a", (CALL_ENDED,))
    call = _finished_call(slug, tenant_id)
    assert call.callee is not None
    broken = dataclasses.replace(call, callee=dataclasses.replace(call.callee, role="bogus"))  # type: ignore[arg-type]
    with pytest.raises(asyncpg.CheckViolationError):  # call_legs' CHECK on role, after the cdr row was written
        await CallStore(pool, owner="events-test").finish(broken)
    assert await rows(pool, sub) == []
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM cdr WHERE call_id = $1", uuid.UUID(call.call_id)) == 0
