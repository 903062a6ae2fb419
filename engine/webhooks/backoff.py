"""Retry timing of event deliveries: capped exponential backoff with jitter (pure).

After failed attempt ``n`` (1-based) the next waits ``min(max_s, initial_s * multiplier ** (n - 1))`` seconds,
shortened by up to ``jitter`` of itself at random so that deliverers retrying after the same CRM outage spread
out instead of arriving together: with the defaults 1-2, 2-4, 4-8 ... up to 150-300 s.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    """``initial_s``: delay after the first failure (seconds); ``max_s``: the cap (seconds); ``multiplier``: growth
    per attempt; ``jitter``: the fraction (0..1) of each delay that is random."""

    initial_s: float = 2.0
    max_s: float = 300.0
    multiplier: float = 2.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if not (0 < self.initial_s <= self.max_s and self.multiplier >= 1 and 0 <= self.jitter <= 1):
            raise ValueError(f"invalid backoff {self}")

    def ceiling_s(self, attempts: int) -> float:
        """The delay after ``attempts`` failed attempts before jitter (seconds); ``attempts >= 1``."""
        if attempts < 1:
            raise ValueError(f"attempts must be >= 1, not {attempts}")
        # the exponent is bounded so that a row failing for months cannot overflow a float
        return float(min(self.max_s, self.initial_s * self.multiplier ** min(attempts - 1, 64)))

    def delay_s(self, attempts: int, rand: Callable[[], float] = random.random) -> float:
        """The delay after ``attempts`` failed attempts (seconds): in ``[ceiling * (1 - jitter), ceiling]``.

        ``rand`` returns a float in ``[0, 1)`` (injectable for tests).
        """
        ceiling = self.ceiling_s(attempts)
        return ceiling * (1.0 - self.jitter * rand())
