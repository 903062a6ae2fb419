"""Test helpers in domain words: polling with a deadline instead of sleeps."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any


async def eventually(
    probe: Callable[[], Any],
    *,
    timeout_s: float = 10.0,
    interval_s: float = 0.05,
    what: str = "condition",
) -> Any:
    """Poll ``probe`` (a plain or async callable) until it returns a truthy value; return it.

    Fails the test (AssertionError naming ``what`` and the last value) after ``timeout_s`` seconds.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        last = probe()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what} (last value: {last!r})")
        await asyncio.sleep(interval_s)
