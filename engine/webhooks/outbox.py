"""The durable event outbox (``event_outbox``): writing events, claiming due rows, recording outcomes.

Writers call :func:`enqueue` inside the transaction that changes the state the event reports, so the event is
committed exactly when that state is (``call.ended`` with the CDR). :func:`enqueue` writes one row per active
subscription of the tenant that lists the type, and ``NOTIFY``s :data:`CHANNEL` (delivered at commit) to wake
deliverers at once.

Claiming (:func:`claim`) takes due rows with ``FOR UPDATE SKIP LOCKED`` and leases them to one deliverer
(``claimed_by``, ``claimed_until``) in a short transaction, so several engines share one outbox without sending
a row twice at the same time and without holding a transaction open during HTTP requests. A row is due when it
is undelivered, its subscription active, ``next_attempt_at`` has come, no live lease holds it and no older
undelivered row of the same subscription and ``ordering_key`` exists (events of one call leave in order). A
deliverer that dies keeps its rows leased until ``claimed_until``; one cancelled cleanly releases them.

Times are POSIX seconds from the deliverer's injected clock, stored as ``timestamptz``.

Source: PostgreSQL 16 documentation, SELECT "The Locking Clause" (``SKIP LOCKED``) and NOTIFY.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import asyncpg

from engine.webhooks.events import EventType

__all__ = ["CHANNEL", "ClaimedEvent", "claim", "enqueue", "mark_delivered", "mark_failed", "pending", "release"]

CHANNEL = "ringline_event_outbox"
"""The ``LISTEN``/``NOTIFY`` channel that announces new rows (empty payload)."""


def _ts(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


@dataclass(frozen=True, slots=True)
class ClaimedEvent:
    """An ``event_outbox`` row leased to this deliverer, with its subscription's ``url`` and ``secret``.

    ``payload`` is the JSON document to POST; ``attempts`` the failed attempts so far.
    """

    id: int
    event_type: str
    idempotency_key: uuid.UUID
    payload: dict[str, object]
    attempts: int
    url: str
    secret: str = field(repr=False)


async def enqueue(
    conn: asyncpg.Connection,
    *,
    tenant_id: int,
    event_type: EventType,
    key: uuid.UUID,
    payload: Mapping[str, object],
    ordering_key: str | None = None,
) -> int:
    """Write ``payload`` for every active subscription of ``tenant_id`` listing ``event_type``; returns how many
    rows were written. Idempotent on ``key`` per subscription (a second call writes nothing). Run it inside the
    caller's transaction; the ``NOTIFY`` is delivered when that commits."""
    status = await conn.execute(
        """
        INSERT INTO event_outbox (tenant_id, subscription_id, event_type, idempotency_key, ordering_key, payload)
        SELECT $1, s.id, $2, $3, $4, $5::jsonb
          FROM event_subscriptions s
         WHERE s.tenant_id = $1 AND s.active AND $2 = ANY (s.event_types)
         ORDER BY s.id
        ON CONFLICT (subscription_id, idempotency_key) DO NOTHING
        """,
        tenant_id,
        event_type,
        key,
        ordering_key,
        json.dumps(payload, separators=(",", ":"), ensure_ascii=False),
    )
    written = int(status.rsplit(" ", 1)[-1])
    if written:
        await conn.execute("SELECT pg_notify($1, '')", CHANNEL)
    return written


async def claim(
    conn: asyncpg.Connection, *, owner: str, now: float, lease_s: float, limit: int
) -> list[ClaimedEvent]:
    """Lease up to ``limit`` due rows to ``owner`` until ``now + lease_s`` (seconds), oldest first."""
    rows = await conn.fetch(
        """
        WITH due AS (
            SELECT o.id
              FROM event_outbox o
              JOIN event_subscriptions s ON s.id = o.subscription_id
             WHERE o.delivered_at IS NULL
               AND s.active
               AND o.next_attempt_at <= $1
               AND (o.claimed_until IS NULL OR o.claimed_until <= $1)
               AND NOT EXISTS (
                       SELECT 1 FROM event_outbox p
                        WHERE p.subscription_id = o.subscription_id
                          AND p.ordering_key = o.ordering_key
                          AND p.delivered_at IS NULL
                          AND p.id < o.id)
             ORDER BY o.id
             LIMIT $4
               FOR UPDATE OF o SKIP LOCKED
        )
        UPDATE event_outbox o
           SET claimed_until = $2, claimed_by = $3
          FROM due, event_subscriptions s
         WHERE o.id = due.id AND s.id = o.subscription_id
        RETURNING o.id, o.event_type, o.idempotency_key, o.payload, o.attempts, s.url, s.secret
        """,
        _ts(now),
        _ts(now + lease_s),
        owner,
        limit,
    )
    claimed = [
        ClaimedEvent(
            id=r["id"],
            event_type=r["event_type"],
            idempotency_key=r["idempotency_key"],
            payload=json.loads(r["payload"]),
            attempts=r["attempts"],
            url=r["url"],
            secret=r["secret"],
        )
        for r in rows
    ]
    claimed.sort(key=lambda c: c.id)
    return claimed


async def mark_delivered(conn: asyncpg.Connection, event_id: int, *, now: float) -> None:
    """The CRM answered 2xx: the row is done (kept, with ``delivered_at``, for inspection)."""
    await conn.execute(
        """
        UPDATE event_outbox SET delivered_at = $2, claimed_until = NULL, claimed_by = NULL
         WHERE id = $1 AND delivered_at IS NULL
        """,
        event_id,
        _ts(now),
    )


async def mark_failed(conn: asyncpg.Connection, event_id: int, *, next_attempt_at: float, error: str) -> None:
    """The attempt failed: count it, keep ``error`` (one line) and release the lease until ``next_attempt_at``."""
    await conn.execute(
        """
        UPDATE event_outbox
           SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3, claimed_until = NULL,
               claimed_by = NULL
         WHERE id = $1 AND delivered_at IS NULL
        """,
        event_id,
        _ts(next_attempt_at),
        error,
    )


async def release(conn: asyncpg.Connection, event_ids: Sequence[int], *, owner: str) -> None:
    """Give rows still leased to ``owner`` back at once (a deliverer stopping before it tried them)."""
    await conn.execute(
        """
        UPDATE event_outbox SET claimed_until = NULL, claimed_by = NULL
         WHERE id = ANY ($1::bigint[]) AND claimed_by = $2 AND delivered_at IS NULL
        """,
        list(event_ids),
        owner,
    )


async def pending(conn: asyncpg.Connection) -> int:
    """Rows not delivered yet (all tenants)."""
    count: int = await conn.fetchval("SELECT count(*) FROM event_outbox WHERE delivered_at IS NULL")
    return count
