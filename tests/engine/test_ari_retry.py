"""retry_while_unavailable: retries only unreachability, within its budget."""

from __future__ import annotations

import pytest

from engine.ari.errors import AriNotFound, AriUnavailable
from engine.ari.retry import retry_while_unavailable


async def test_unreachable_then_answering_is_retried() -> None:
    calls = 0

    async def op() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise AriUnavailable("GET", "/channels", "connection refused")
        return "ok"

    assert await retry_while_unavailable(op, budget_s=1.0, initial_s=0.001) == "ok"
    assert calls == 3


async def test_budget_spent_raises_the_last_error() -> None:
    calls = 0

    async def op() -> None:
        nonlocal calls
        calls += 1
        raise AriUnavailable("GET", "/channels", "connection refused")

    with pytest.raises(AriUnavailable):
        await retry_while_unavailable(op, budget_s=0.05, initial_s=0.01, max_s=0.01)
    assert 2 <= calls <= 7


async def test_an_answer_from_ari_is_not_retried() -> None:
    calls = 0

    async def op() -> None:
        nonlocal calls
        calls += 1
        raise AriNotFound(404, "DELETE", "/channels/x", "Channel not found")

    with pytest.raises(AriNotFound):
        await retry_while_unavailable(op, budget_s=1.0)
    assert calls == 1
