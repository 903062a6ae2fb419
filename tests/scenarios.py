"""Test helpers in domain words: polling with a deadline instead of sleeps, and CI-aware peer checks."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

T = TypeVar("T")

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def peer_missing(reason: str) -> None:
    """A real peer is unavailable: a failure in CI (``CI=true``), a skip on a developer's machine."""
    if IN_CI:
        pytest.fail(f"peer missing in CI: {reason}")
    pytest.skip(reason)


async def eventually(
    probe: Callable[[], Awaitable[T | None]] | Callable[[], T | None],
    *,
    timeout_s: float = 10.0,
    interval_s: float = 0.05,
    what: str = "condition",
) -> T:
    """Poll ``probe`` until it returns a truthy value; return it. Fails the test after ``timeout_s`` seconds."""
    deadline = time.monotonic() + timeout_s
    last: T | None = None
    while True:
        result = probe()
        if asyncio.iscoroutine(result):
            result = await result
        last = result  # type: ignore[assignment]
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what} (last value: {last!r})")
        await asyncio.sleep(interval_s)
