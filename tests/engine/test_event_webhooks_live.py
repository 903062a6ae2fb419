"""Event webhooks with a real call: the carrier (peer Asterisk) calls a DID of tenant ``itest`` that extension 1001
answers; the engine in this process writes ``call.ringing``, ``call.answered`` and ``call.ended`` to the outbox
and its deliverer POSTs them to a real aiohttp CRM in this process, which verifies each signature with the
subscription's secret."""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest

from engine.routing.crm_webhook import verify
from tests.engine.conftest import CALLER_TONE_HZ, TENANT, Lab, RunningEngine
from tests.engine.event_receiver import EventReceiver
from tests.engine.test_calls_live import cdr_for
from tests.scenarios import eventually

SECRET = secrets.token_hex(24)


@pytest.fixture(scope="module")
async def crm(lab: Lab) -> AsyncIterator[EventReceiver]:
    """A CRM subscribed to tenant itest's call events (the subscription is deactivated afterwards)."""
    receiver = EventReceiver(SECRET)
    await receiver.start()
    conn = await asyncpg.connect(lab.database_url)
    try:
        sub_id = await conn.fetchval(
            "INSERT INTO event_subscriptions (tenant_id, url, secret, event_types)"
            " SELECT id, $2, $3, ARRAY['call.ringing', 'call.answered', 'call.ended'] FROM tenants WHERE slug = $1"
            " RETURNING id",
            TENANT, receiver.url, SECRET,
        )
        yield receiver
    finally:
        await conn.execute("UPDATE event_subscriptions SET active = false WHERE id = $1", sub_id)
        await conn.close()
        await receiver.stop()


async def test_answered_call_reaches_the_crm_as_ringing_answered_ended_signed_with_the_secret(
    lab: Lab, running_engine: RunningEngine, crm: EventReceiver
) -> None:
    since = time.time()
    call = await lab.peer.place_call(lab.did_answer, tone_hz=CALLER_TONE_HZ, talk_s=2.0)
    cause = await call.wait_ended(timeout_s=30)
    assert call.answered and cause == 16
    cdr = await cdr_for(lab.database_url, lab.did_answer, since)
    call_id = str(cdr["call_id"])

    order = await eventually(
        lambda: (o := crm.order_of(call_id)) and len(o) == 3 and o, timeout_s=15, what="3 events at the CRM"
    )
    assert order == ["call.ringing", "call.answered", "call.ended"]
    events = {d.event_type: d for d in crm.deduped().values() if d.call_id == call_id}
    assert all(d.verified for d in crm.arrivals)
    assert [crm.completed_counts()[d.key] for d in events.values()] == [1, 1, 1]
    other = secrets.token_hex(24)
    assert not any(verify(other, d.timestamp, d.body, d.signature) for d in events.values())  # this secret only

    ended = events["call.ended"].payload
    assert ended["tenant"] == TENANT and ended["id"] == events["call.ended"].key
    data = ended["data"]
    assert data["disposition"] == "ANSWERED" == cdr["disposition"]
    assert (data["duration_s"], data["billsec_s"], data["hangup_cause"]) == (
        cdr["duration_s"], cdr["billsec_s"], cdr["hangup_cause"]
    )
    assert (data["did"], data["from"], data["destination"]) == (cdr["did"], cdr["caller_id_num"], cdr["destination"])
    assert data["answer_at"] == cdr["answer_at"].isoformat() and data["end_at"] == cdr["end_at"].isoformat()
    answered = events["call.answered"].payload["data"]
    assert answered["answer_at"] == data["answer_at"] and answered["destination"] == f"{TENANT}-1001"
    assert events["call.ringing"].payload["occurred_at"] <= events["call.answered"].payload["occurred_at"]
