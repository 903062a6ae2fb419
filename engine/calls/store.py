"""The engine's database access for calls: route lookup, live-call snapshots, CDR and legs.

Tables (``ara_schema``): ``tenants``, ``dids``, ``crm_webhooks``, ``ps_endpoints``, ``active_calls``, ``cdr``,
``call_legs``, ``event_outbox`` (the ``call.*`` events, :mod:`engine.webhooks.outbox`).
All queries run on an asyncpg pool; times are converted from POSIX seconds to ``timestamptz``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from dataclasses import dataclass
from typing import Any

import asyncpg

from engine.calls import notifier
from engine.calls.state import Call, CallState, Leg, Route
from engine.q850 import cause_text
from engine.routing.crm_webhook import CrmWebhook
from engine.webhooks import outbox
from engine.webhooks.events import CALL_ENDED, EventType, event_key


@dataclass(frozen=True, slots=True)
class TenantRoute:
    """What the database says about a dialled number for a tenant.

    ``tenant_id`` is None when the tenant does not exist; ``route`` is None when no DID or extension matches.
    ``did_number`` is the matched DID (E.164). For a ``webhook`` route, ``webhook`` is the tenant's webhook that
    ``dids.route_target`` names (None when it names none of the tenant's).
    """

    tenant_id: int | None
    tenant_status: str | None
    max_concurrent_calls: int
    route: Route | None
    did_number: str | None = None
    webhook: CrmWebhook | None = None


def _ts(seconds: float | None) -> dt.datetime | None:
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def did_candidates(number: str) -> list[str]:
    """E.164 forms a carrier may have sent for a DID: ``+15551230000``, ``15551230000`` -> ``+15551230000``."""
    n = number.strip()
    if n.startswith("+"):
        return [n]
    if n.startswith("00") and n[2:].isdigit():
        return ["+" + n[2:]]
    if n.isdigit():
        return ["+" + n]
    return [n]


def endpoint_id(tenant_slug: str, target: str) -> str:
    """PJSIP endpoint ids are tenant-prefixed: ``acme`` + ``1001`` -> ``acme-1001`` (idempotent)."""
    return target if target.startswith(f"{tenant_slug}-") else f"{tenant_slug}-{target}"


class CallStore:
    """asyncpg-backed persistence for the call engine."""

    def __init__(self, pool: asyncpg.Pool, *, owner: str, default_ring_timeout_s: int = 20) -> None:
        self._pool = pool
        self._owner = owner
        self._default_ring_timeout_s = default_ring_timeout_s

    async def resolve(self, tenant_slug: str, dialled: str | None) -> TenantRoute:
        """Find the route for ``dialled`` in the tenant: a DID (E.164) first, else an extension of the tenant."""
        candidates = did_candidates(dialled or "")
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                """
                SELECT t.id, t.status, t.max_concurrent_calls, d.number,
                       d.route_type, d.route_target, d.ring_timeout_s, d.fallback_type, d.fallback_target
                  FROM tenants t
                  LEFT JOIN dids d ON d.tenant_id = t.id AND d.number = ANY($2::text[])
                 WHERE t.slug = $1
                """,
                tenant_slug,
                candidates,
            )
            if row is None:
                return TenantRoute(None, None, 0, None)
            tenant_id, status, max_calls = row["id"], row["status"], row["max_concurrent_calls"]
            if row["route_type"] is not None:
                route_type, target = row["route_type"], row["route_target"]
                dial_string = _dial_string(tenant_slug, route_type, target)
                webhook = await _webhook(conn, tenant_id, target) if route_type == "webhook" else None
                return TenantRoute(
                    tenant_id,
                    status,
                    max_calls,
                    Route(
                        route_type=route_type,
                        target=_route_target(tenant_slug, route_type, target),
                        dial_string=dial_string,
                        ring_timeout_s=row["ring_timeout_s"],
                        fallback_type=row["fallback_type"],
                        fallback_target=row["fallback_target"],
                    ),
                    did_number=row["number"],
                    webhook=webhook,
                )
            if dialled:
                ep = endpoint_id(tenant_slug, dialled)
                exists = await conn.fetchval("SELECT 1 FROM ps_endpoints WHERE id = $1", ep)
                if exists:
                    return TenantRoute(
                        tenant_id,
                        status,
                        max_calls,
                        Route("endpoint", ep, f"PJSIP/{ep}", self._default_ring_timeout_s),
                    )
            return TenantRoute(tenant_id, status, max_calls, None)

    async def endpoint_exists(self, endpoint: str) -> bool:
        """Whether ``ps_endpoints`` has ``endpoint`` (a tenant-prefixed id, ``acme-1001``)."""
        async with self._pool.acquire() as conn:
            return bool(await conn.fetchval("SELECT 1 FROM ps_endpoints WHERE id = $1", endpoint))

    async def tenant_id(self, tenant_slug: str) -> int | None:
        async with self._pool.acquire() as conn:
            value: int | None = await conn.fetchval("SELECT id FROM tenants WHERE slug = $1", tenant_slug)
            return value

    async def persist(self, call: Call) -> None:
        """Upsert the call's snapshot into ``active_calls`` (only calls whose tenant is known)."""
        if call.tenant_id is None:
            return
        async with self._pool.acquire() as conn:
            await conn.execute(
                """
                INSERT INTO active_calls (call_id, tenant_id, owner, state, snapshot, updated_at)
                VALUES ($1, $2, $3, $4, $5::jsonb, now())
                ON CONFLICT (call_id) DO UPDATE
                   SET state = EXCLUDED.state, snapshot = EXCLUDED.snapshot, owner = EXCLUDED.owner,
                       updated_at = now()
                """,
                call.call_id,
                call.tenant_id,
                self._owner,
                call.state.value,
                json.dumps(snapshot(call)),
            )

    async def load_active(self) -> list[Call]:
        """Snapshots of the calls this engine owned when it last stopped."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT snapshot FROM active_calls WHERE owner = $1 ORDER BY updated_at", self._owner
            )
        return [from_snapshot(json.loads(r["snapshot"])) for r in rows]

    async def publish(self, event_type: EventType, call: Call, *, at: float) -> int:
        """Write ``call.ringing`` / ``call.answered`` for ``call`` (at ``at``, POSIX seconds) to the event outbox;
        returns the rows written (one per subscription; none for a call whose tenant is unknown). Idempotent: the
        key is derived from ``call_id`` and the type."""
        if call.tenant_id is None:
            return 0
        payload = notifier.call_progress(call, event_type, at=at, destination=_destination(call))
        # no explicit transaction: the INSERT commits on its own and the NOTIFY (sent only when rows were
        # written) follows the commit, which saves BEGIN/COMMIT round trips on every call
        async with self._pool.acquire() as conn:
            return await outbox.enqueue(
                conn,
                tenant_id=call.tenant_id,
                event_type=event_type,
                key=event_key(call.call_id, event_type),
                payload=payload,
                ordering_key=call.call_id,
            )

    async def finish(self, call: Call) -> None:
        """Write the CDR and its legs, the ``call.ended`` event and drop the snapshot, in one transaction.

        Idempotent on ``call_id`` (a re-adopted call that was already written is not written twice, nor is its
        ``call.ended``: the event is written only with the CDR row, so it is never lost nor duplicated).
        Durations are whole seconds, rounded half up: ``duration_s`` from start to end, ``billsec_s`` from
        answer to end (0 when never answered). A caller who left while the route was being resolved (a CRM
        webhook can take seconds) has no ``tenant_id`` yet: it is looked up by slug; an unknown tenant gets no CDR.
        """
        end = call.ended_at if call.ended_at is not None else call.started_at
        duration = _whole_seconds(end - call.started_at)
        billsec = _whole_seconds(end - call.answered_at) if call.answered_at is not None else 0
        destination = _destination(call)
        async with self._pool.acquire() as conn, conn.transaction():
            tenant_id = call.tenant_id
            if tenant_id is None:
                tenant_id = await conn.fetchval("SELECT id FROM tenants WHERE slug = $1", call.tenant_slug)
                if tenant_id is None:
                    return
            # one statement (one round trip): the CDR row, its legs only if the row is new, the snapshot gone
            legs = call.legs()
            inserted = await conn.fetchval(
                """
                WITH c AS (
                    INSERT INTO cdr (tenant_id, call_id, direction, did, caller_id_num, caller_id_name,
                                     destination, disposition, start_at, answer_at, end_at, duration_s,
                                     billsec_s, hangup_cause, hangup_cause_text)
                    VALUES ($1, $2, 'inbound', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                    ON CONFLICT (call_id) DO NOTHING
                    RETURNING id
                ), l AS (
                    INSERT INTO call_legs (tenant_id, call_id, channel_id, role, endpoint, start_at,
                                           answer_at, end_at, hangup_cause)
                    SELECT $1, $2, x.channel_id, x.role, x.endpoint, x.start_at, x.answer_at, x.end_at,
                           x.hangup_cause
                      FROM unnest($15::text[], $16::text[], $17::text[], $18::timestamptz[],
                                  $19::timestamptz[], $20::timestamptz[], $21::int[])
                           AS x(channel_id, role, endpoint, start_at, answer_at, end_at, hangup_cause)
                     WHERE EXISTS (SELECT 1 FROM c)
                    ON CONFLICT (channel_id) DO NOTHING
                ), d AS (
                    DELETE FROM active_calls WHERE call_id = $2
                )
                SELECT id FROM c
                """,
                tenant_id,
                call.call_id,
                call.did,
                call.caller_id_num,
                call.caller_id_name,
                destination,
                call.disposition or "FAILED",
                _ts(call.started_at),
                _ts(call.answered_at),
                _ts(end),
                duration,
                billsec,
                call.hangup_cause,
                cause_text(call.hangup_cause),
                [leg.channel_id for leg in legs],
                [leg.role for leg in legs],
                [leg.endpoint for leg in legs],
                [_ts(leg.start_at) for leg in legs],
                [_ts(leg.answer_at) for leg in legs],
                [_ts(leg.end_at) for leg in legs],
                [leg.hangup_cause for leg in legs],
            )
            if inserted is not None:
                await outbox.enqueue(
                    conn,
                    tenant_id=tenant_id,
                    event_type=CALL_ENDED,
                    key=event_key(call.call_id, CALL_ENDED),
                    payload=notifier.call_ended(
                        call,
                        end=end,
                        destination=destination,
                        duration_s=duration,
                        billsec_s=billsec,
                        hangup_cause_text=cause_text(call.hangup_cause),
                    ),
                    ordering_key=call.call_id,
                )


async def _webhook(conn: asyncpg.Connection, tenant_id: int, target: str) -> CrmWebhook | None:
    """The tenant's ``crm_webhooks`` row whose id ``dids.route_target`` names (decimal text), else None."""
    if not target.isascii() or not target.isdigit() or len(target) > 18:
        return None
    row = await conn.fetchrow(
        "SELECT id, url, secret, timeout_s FROM crm_webhooks WHERE id = $1 AND tenant_id = $2",
        int(target),
        tenant_id,
    )
    if row is None:
        return None
    return CrmWebhook(row["id"], row["url"], row["secret"], float(row["timeout_s"]))


def _dial_string(tenant_slug: str, route_type: str, target: str) -> str:
    """ARI dial string of an ``endpoint`` route: ``PJSIP/<tenant>-<ext>``; a target that already names a
    technology (``Local/answer@ringline-sink``) is dialled as written (set by the operator, not the tenant)."""
    if route_type != "endpoint":
        return ""
    if "/" in target:
        return target
    return f"PJSIP/{endpoint_id(tenant_slug, target)}"


def _route_target(tenant_slug: str, route_type: str, target: str) -> str:
    if route_type == "endpoint" and "/" not in target:
        return endpoint_id(tenant_slug, target)
    return target


def _whole_seconds(seconds: float) -> int:
    return max(0, math.floor(seconds + 0.5))


def _destination(call: Call) -> str | None:
    if call.route is not None and call.route.route_type == "voicemail":
        return f"voicemail:{call.route.target}"
    if call.fallback_taken == "voicemail" and call.route is not None:
        return f"voicemail:{call.route.fallback_target}"
    return call.route.target if call.route is not None else None


def snapshot(call: Call) -> dict[str, Any]:
    """A JSON-ready dict of the call (inverse: :func:`from_snapshot`)."""
    data = dataclasses.asdict(call)
    data["state"] = call.state.value
    return data


def from_snapshot(data: dict[str, Any]) -> Call:
    """Rebuild a :class:`Call` from :func:`snapshot` output."""
    data = dict(data)
    data["state"] = CallState(data["state"])
    data["caller"] = Leg(**data["caller"])
    if data.get("callee") is not None:
        data["callee"] = Leg(**data["callee"])
    if data.get("route") is not None:
        route = dict(data["route"])
        route["variables"] = tuple((str(k), str(v)) for k, v in route.get("variables", ()))
        data["route"] = Route(**route)
    return Call(**data)
