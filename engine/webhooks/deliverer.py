"""The event deliverer: a task that drains the outbox (:mod:`engine.webhooks.outbox`) to the subscribed CRMs.

Each round claims up to ``batch_size`` due rows (leased to this deliverer), POSTs them concurrently, and records
each outcome as soon as it is known: 2xx -> delivered; anything else (connection refused, timeout, non-2xx,
redirect) -> ``attempts + 1``, ``last_error`` and ``next_attempt_at = now + backoff`` (capped exponential with
jitter, :class:`~engine.webhooks.backoff.Backoff`). A row is never dropped: it is retried until a 2xx, so
delivery is at-least-once (a duplicate happens only when the CRM's 2xx is lost, the same ``Idempotency-Key``
lets the CRM drop it).

Between rounds the deliverer waits for a ``NOTIFY`` on :data:`~engine.webhooks.outbox.CHANNEL` (sent when rows
are written) or ``poll_interval_s``, whichever comes first; the poll also picks up retries that became due and
rows of other engines' dead deliverers whose lease ran out, and keeps delivering if the ``LISTEN`` connection
(one pool connection, held while running) is lost. Cancelled, it gives back (under ``asyncio.shield``)
the rows it had claimed but not finished, so another deliverer can take them at once.

The request is signed exactly like the CRM routing webhook (:func:`engine.routing.crm_webhook.signed_headers`)
and carries ``X-Ringline-Event`` and ``Idempotency-Key`` (:mod:`engine.webhooks.events`).
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
import asyncpg

from engine import metrics
from engine.clock import Clock, SystemClock
from engine.routing.crm_webhook import encode_payload, signed_headers
from engine.webhooks import outbox
from engine.webhooks.backoff import Backoff
from engine.webhooks.events import EVENT_HEADER, IDEMPOTENCY_HEADER

log = logging.getLogger(__name__)

USER_AGENT = "Ringline-Events/1"
_ERROR_BODY_BYTES = 200


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    """Timers and sizes of a deliverer.

    ``request_timeout_s``: budget of one POST (connect + send + response status), seconds.
    ``batch_size``: rows claimed (and sent concurrently) per round.
    ``poll_interval_s``: longest wait between rounds without a ``NOTIFY``, seconds.
    ``claim_lease_s``: how long claimed rows stay reserved for this deliverer, seconds; must exceed
    ``request_timeout_s`` (rows of a crashed engine wait this long before another deliverer takes them).
    ``backoff``: delays between attempts of one row.
    """

    request_timeout_s: float = 10.0
    batch_size: int = 20
    poll_interval_s: float = 1.0
    claim_lease_s: float = 60.0
    backoff: Backoff = field(default_factory=Backoff)

    def __post_init__(self) -> None:
        if self.claim_lease_s <= self.request_timeout_s:
            raise ValueError(f"claim_lease_s ({self.claim_lease_s}) must exceed request_timeout_s")
        if self.batch_size < 1 or self.poll_interval_s <= 0:
            raise ValueError(f"invalid delivery settings {self}")


@dataclass(frozen=True, slots=True)
class DelivererStatistics:
    """Counts since the deliverer was created."""

    rounds: int
    delivered: int
    failed: int
    running: bool


class Deliverer:
    """Delivers outbox rows; owns its task (:meth:`start` / :meth:`close`) or runs inline (:meth:`run`).

    ``owner`` names it in ``event_outbox.claimed_by`` (unique per deliverer). ``clock`` gives POSIX seconds for
    signing and scheduling; ``sleep`` is the wait between rounds and ``rand`` the jitter source (both injectable).
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        session: Callable[[], aiohttp.ClientSession],
        *,
        owner: str | None = None,
        settings: DeliverySettings | None = None,
        clock: Clock | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
        listen: bool = True,
    ) -> None:
        self._pool = pool
        self._session = session
        self.owner = owner or f"deliverer-{uuid.uuid4()}"
        self.settings = settings or DeliverySettings()
        self._clock = clock or SystemClock()
        self._sleep = sleep
        self._rand = rand
        self._listen = listen
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._rounds = 0
        self._delivered = 0
        self._failed = 0

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> None:
        """Start the owned task (no-op while it runs)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(), name=f"event-deliverer-{self.owner}")

    async def close(self) -> None:
        """Cancel the owned task and wait for it (its claimed rows are given back first)."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # we are being cancelled ourselves, not only the task we cancelled
        except Exception:
            log.exception("event deliverer %s failed", self.owner)

    def wake_nowait(self) -> None:
        """Start the next round now (as a ``NOTIFY`` does)."""
        self._wakeup.set()

    def statistics(self) -> DelivererStatistics:
        running = self._task is not None and not self._task.done()
        return DelivererStatistics(self._rounds, self._delivered, self._failed, running)

    async def run(self) -> None:
        """Deliver until cancelled. Database errors are logged and the round retried after ``poll_interval_s``."""
        listener = await self._start_listening() if self._listen else None
        try:
            while True:
                self._wakeup.clear()
                try:
                    claimed = await self.deliver_due()
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    log.warning("event deliverer %s: database unavailable: %s", self.owner, exc)
                    claimed = 0
                if claimed:
                    continue  # more may be due right away (the next of each call, a backlog)
                await self._wait_wakeup(self.settings.poll_interval_s)
        finally:
            if listener is not None:
                await asyncio.shield(self._stop_listening(listener))

    # ----------------------------------------------------------------- one round
    async def deliver_due(self) -> int:
        """Claim due rows, send them concurrently, record each outcome; returns how many rows were claimed."""
        async with self._pool.acquire() as conn:
            claimed = await outbox.claim(
                conn,
                owner=self.owner,
                now=self._clock.now(),
                lease_s=self.settings.claim_lease_s,
                limit=self.settings.batch_size,
            )
        if not claimed:
            return 0
        self._rounds += 1
        unfinished = {event.id for event in claimed}
        try:
            async with asyncio.TaskGroup() as group:
                for event in claimed:
                    group.create_task(self._deliver(event, unfinished))
        except BaseException:
            if unfinished:
                await asyncio.shield(self._release(sorted(unfinished)))
            raise
        return len(claimed)

    async def _deliver(self, event: outbox.ClaimedEvent, unfinished: set[int]) -> None:
        error = await self._post(event)
        now = self._clock.now()
        if error is None:
            await asyncio.shield(self._record(outbox.mark_delivered, event.id, now=now))
            self._delivered += 1
        else:
            attempts = event.attempts + 1
            delay_s = self.settings.backoff.delay_s(attempts, self._rand)
            await asyncio.shield(
                self._record(outbox.mark_failed, event.id, next_attempt_at=now + delay_s, error=error)
            )
            self._failed += 1
            log.info(
                "event %s (%s) to %s: attempt %d failed (%s); next in %.1f s",
                event.idempotency_key, event.event_type, event.url, attempts, error, delay_s,
            )
        unfinished.discard(event.id)

    async def _post(self, event: outbox.ClaimedEvent) -> str | None:
        """POST the signed event; None on 2xx, else why not (one line). Never raises for the CRM's faults."""
        body = encode_payload(event.payload)
        headers = signed_headers(event.secret, body, now=self._clock.now())
        headers["User-Agent"] = USER_AGENT
        headers[EVENT_HEADER] = event.event_type
        headers[IDEMPOTENCY_HEADER] = str(event.idempotency_key)
        budget_s = self.settings.request_timeout_s
        try:
            async with asyncio.timeout(budget_s):
                async with self._session().post(
                    event.url,
                    data=body,
                    headers=headers,
                    allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=budget_s),
                ) as response:
                    if 200 <= response.status < 300:
                        metrics.EVENT_DELIVERIES.labels("delivered").inc()
                        return None
                    text = (await response.content.read(_ERROR_BODY_BYTES)).decode("utf-8", "replace")
                    metrics.EVENT_DELIVERIES.labels("http_status").inc()
                    return f"HTTP {response.status}: {' '.join(text.split())}".rstrip(": ")
        except TimeoutError:
            metrics.EVENT_DELIVERIES.labels("timeout").inc()
            return f"no answer within {budget_s:g} s"
        except (aiohttp.ClientError, OSError) as exc:
            metrics.EVENT_DELIVERIES.labels("connection_error").inc()
            return f"{type(exc).__name__}: {exc}"

    async def _record(self, op: Callable[..., Awaitable[None]], event_id: int, **kwargs: object) -> None:
        """Write one outcome; a database fault leaves the row leased (retried when the lease runs out)."""
        try:
            async with self._pool.acquire() as conn:
                await op(conn, event_id, **kwargs)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("event deliverer %s: outcome of row %d not recorded: %s", self.owner, event_id, exc)

    async def _release(self, event_ids: list[int]) -> None:
        try:
            async with self._pool.acquire() as conn:
                await outbox.release(conn, event_ids, owner=self.owner)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("event deliverer %s: rows %s stay leased: %s", self.owner, event_ids, exc)

    # ----------------------------------------------------------------- waking
    async def _wait_wakeup(self, timeout_s: float) -> None:
        """Wait for :meth:`wake_nowait` (a ``NOTIFY``) or ``timeout_s`` seconds of the injected ``sleep``."""
        if self._wakeup.is_set():
            return
        woken = asyncio.ensure_future(self._wakeup.wait())
        slept = asyncio.ensure_future(self._sleep(timeout_s))
        try:
            await asyncio.wait({woken, slept}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            woken.cancel()
            slept.cancel()
            await asyncio.wait({woken, slept})

    async def _start_listening(self) -> asyncpg.Connection | None:
        try:
            conn: asyncpg.Connection = await self._pool.acquire()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("event deliverer %s: no LISTEN (polling only): %s", self.owner, exc)
            return None
        try:
            await conn.add_listener(outbox.CHANNEL, self._notified)
        except BaseException:
            await self._pool.release(conn)
            raise
        return conn

    def _notified(self, conn: object, pid: int, channel: str, payload: str) -> None:
        self._wakeup.set()

    async def _stop_listening(self, conn: asyncpg.Connection) -> None:
        try:
            await conn.remove_listener(outbox.CHANNEL, self._notified)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            pass  # the connection is gone; releasing it below discards it
        finally:
            await self._pool.release(conn)
