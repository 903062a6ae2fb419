"""Injected time: the engine reads wall-clock seconds through a :class:`Clock` so tests can control it."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """POSIX seconds (float)."""
        ...

    def monotonic(self) -> float:
        """Monotonic seconds for measuring durations."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()
