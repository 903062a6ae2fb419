"""One ordered inbox per call.

ARI delivers the events of all calls on one WebSocket. The dispatcher maps each event to its call and puts it
in that call's inbox; a :class:`CallActor` task per call takes events one at a time, applies the pure
transition and performs the effects before taking the next one. So the events of one call are handled strictly
in order, while calls proceed independently. Effects may produce follow-up events (the result of a route
lookup, a dial that could not start); they join the end of the same inbox.

The dispatcher owns every actor task and cancels them in :meth:`Dispatcher.close`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from engine.calls import effects as fx
from engine.calls.events import CallEvent
from engine.calls.state import Call, CallState, InvalidTransition, transition
from engine.clock import Clock

log = logging.getLogger(__name__)

Perform = Callable[[Call, fx.Effect], Awaitable[list[CallEvent]]]


class CallActor:
    """Holds one call and its inbox; runs until the call has ENDED and the inbox is empty."""

    __slots__ = ("_clock", "_inbox", "_on_change", "_perform", "_wakeup", "call")

    def __init__(
        self, call: Call, perform: Perform, clock: Clock, on_change: Callable[[Call, Call], None]
    ) -> None:
        self.call = call
        self._perform = perform
        self._clock = clock
        self._on_change = on_change
        self._inbox: deque[CallEvent] = deque()
        self._wakeup = asyncio.Event()

    def put_nowait(self, event: CallEvent) -> None:
        self._inbox.append(event)
        self._wakeup.set()

    async def run(self, initial: list[fx.Effect]) -> None:
        await self._apply(initial)
        while self.call.state is not CallState.ENDED or self._inbox:
            if not self._inbox:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            event = self._inbox.popleft()
            before = self.call
            try:
                self.call, effects = transition(before, event, self._clock.now())
            except InvalidTransition as exc:
                log.error("call %s: %s (event %s)", before.call_id, exc, type(event).__name__)
                continue
            if self.call is not before:
                self._on_change(before, self.call)
            await self._apply(effects)
            if self.call.state is CallState.ENDED and not self._inbox:
                return

    async def _apply(self, effects: list[fx.Effect]) -> None:
        for effect in effects:
            for follow_up in await self._perform(self.call, effect):
                self._inbox.append(follow_up)


class Dispatcher:
    """Routes call events to per-call actors and owns their tasks.

    ``channel -> call`` mappings are registered when a call starts or gains a leg and removed when it ends.
    """

    def __init__(self, perform: Perform, clock: Clock, on_change: Callable[[Call, Call], None]) -> None:
        self._perform = perform
        self._clock = clock
        self._on_change = on_change
        self._actors: dict[str, CallActor] = {}
        self._by_channel: dict[str, str] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._per_tenant: dict[str, int] = {}
        self._idle = asyncio.Event()
        self._idle.set()

    def start(self, call: Call, initial: list[fx.Effect]) -> CallActor:
        """Adopt ``call`` (new or re-adopted) and start its actor with ``initial`` effects."""
        actor = CallActor(call, self._perform, self._clock, self._on_change)
        self._actors[call.call_id] = actor
        self._per_tenant[call.tenant_slug] = self._per_tenant.get(call.tenant_slug, 0) + 1
        self.map_channel(call.caller.channel_id, call.call_id)
        # the callee id is known in advance (see Call.callee_channel_id): map it before it exists
        self.map_channel(call.callee_channel_id, call.call_id)
        self._idle.clear()
        task = asyncio.create_task(self._run(actor, initial), name=f"call-{call.call_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return actor

    async def _run(self, actor: CallActor, initial: list[fx.Effect]) -> None:
        try:
            await actor.run(initial)
        except Exception:
            log.exception("call %s: actor crashed", actor.call.call_id)
        finally:
            self._forget(actor)

    def _forget(self, actor: CallActor) -> None:
        call_id = actor.call.call_id
        if self._actors.pop(call_id, None) is not None:
            slug = actor.call.tenant_slug
            self._per_tenant[slug] -= 1
            if not self._per_tenant[slug]:
                del self._per_tenant[slug]
        for ch in (actor.call.caller.channel_id, actor.call.callee_channel_id):
            if self._by_channel.get(ch) == call_id:
                del self._by_channel[ch]
        if not self._actors:
            self._idle.set()

    def map_channel(self, channel_id: str, call_id: str) -> None:
        self._by_channel[channel_id] = call_id

    def call_for_channel(self, channel_id: str) -> str | None:
        return self._by_channel.get(channel_id)

    def put_nowait(self, call_id: str, event: CallEvent) -> bool:
        """Queue ``event`` for its call; False when the call is not (or no longer) here."""
        actor = self._actors.get(call_id)
        if actor is None:
            return False
        actor.put_nowait(event)
        return True

    def calls(self) -> list[Call]:
        """Current value of every live call."""
        return [a.call for a in self._actors.values()]

    def count_for_tenant(self, tenant_slug: str) -> int:
        """Live calls of one tenant (kept as a count: route lookups must not scan every call)."""
        return self._per_tenant.get(tenant_slug, 0)

    def __len__(self) -> int:
        return len(self._actors)

    def __contains__(self, call_id: object) -> bool:
        return call_id in self._actors

    async def wait_idle(self) -> None:
        """Wait until no call is live."""
        await self._idle.wait()

    async def close(self) -> None:
        """Cancel every actor and wait for them to finish cancelling."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
