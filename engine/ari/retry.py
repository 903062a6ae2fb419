"""Retrying ARI requests while Asterisk is unreachable (restart, cut connection).

Only :class:`~engine.ari.errors.AriUnavailable` is retried: a refusal (4xx/5xx answer) is an outcome for the
caller to handle. Backoff doubles from ``initial_s`` up to ``max_s``; the whole retry loop stays within
``budget_s`` seconds, after which the last ``AriUnavailable`` propagates.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from engine.ari.errors import AriUnavailable

T = TypeVar("T")


async def retry_while_unavailable(
    op: Callable[[], Awaitable[T]], *, budget_s: float, initial_s: float = 0.05, max_s: float = 1.0
) -> T:
    """Await ``op()``; on ``AriUnavailable`` sleep and call it again until ``budget_s`` (seconds) is spent.

    Raises:
        AriUnavailable: still unreachable when the budget runs out.
        AriHttpError: ARI answered with an error (never retried).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget_s
    delay = initial_s
    while True:
        try:
            return await op()
        except AriUnavailable:
            if loop.time() + delay > deadline:
                raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_s)
