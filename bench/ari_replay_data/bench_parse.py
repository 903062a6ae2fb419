"""Parse rate of ``engine.ari.models.parse_event`` on captured Asterisk 22 events, with baselines.

    python bench/ari_replay_data/bench_parse.py [--seconds 1.0]

Inputs are the events captured from a real Asterisk 22 in ``tests/engine/ari/fixtures/events/``:

* ``ChannelStateChange`` (the typical event: envelope + nested Channel with CallerID x2 and DialplanCEP);
* the whole captured mix replayed in capture order.

Each is measured for ``parse_event`` on already-decoded dicts, ``json.loads`` + ``parse_event`` (what the
events WebSocket does per message), ``json.loads`` alone, and a reflective baseline that builds the same
dataclasses through their ``__init__`` walking ``dataclasses.fields``/type hints (what a generic
"dict to dataclass" helper does). Ratios are against that baseline, measured in the same run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from engine.ari import models  # noqa: E402

FIXTURES = ROOT / "tests" / "engine" / "ari" / "fixtures" / "events"


def _reflective(cls: type[Any], data: dict[str, Any], hints_cache: dict[type[Any], dict[str, Any]]) -> Any:
    hints = hints_cache.get(cls)
    if hints is None:
        hints = hints_cache[cls] = typing.get_type_hints(cls)
    kwargs = {}
    for field in dataclasses.fields(cls):
        value = data.get(field.name.rstrip("_"))
        if value is not None:
            hint = hints[field.name]
            if typing.get_origin(hint) in (typing.Union, types.UnionType):
                hint = next(h for h in typing.get_args(hint) if h is not type(None))
            if isinstance(hint, type) and dataclasses.is_dataclass(hint):
                value = _reflective(hint, value, hints_cache)
            elif typing.get_origin(hint) is list:
                (item,) = typing.get_args(hint)
                if isinstance(item, type) and dataclasses.is_dataclass(item):
                    value = [_reflective(item, v, hints_cache) for v in value]
        kwargs[field.name] = value
    return cls(**kwargs)


def reflective_parser() -> Callable[[dict[str, Any]], Any]:
    cache: dict[type[Any], dict[str, Any]] = {}
    by_type = {name: getattr(models, name) for name in models._EVENT_PARSERS}

    def parse(data: dict[str, Any]) -> Any:
        return _reflective(by_type[data["type"]], data, cache)

    return parse


def rate(func: Callable[[Any], Any], inputs: list[Any], seconds: float) -> float:
    """Items per second over repeated passes for about ``seconds`` (best of 3)."""
    best = 0.0
    for _ in range(3):
        count = 0
        started = time.perf_counter()
        deadline = started + seconds / 3
        while time.perf_counter() < deadline:
            for item in inputs:
                func(item)
            count += len(inputs)
        best = max(best, count / (time.perf_counter() - started))
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=1.5, help="time per measurement")
    args = parser.parse_args()
    typical = json.loads((FIXTURES / "ChannelStateChange.json").read_text())[:1]
    mix = [m for path in sorted(FIXTURES.glob("*.json")) for m in json.loads(path.read_text())]
    mix.sort(key=lambda m: m["timestamp"])
    baseline = reflective_parser()
    assert all(baseline(m) == models.parse_event(m) for m in mix)
    kinds = len({m["type"] for m in mix})
    print(f"python {sys.version.split()[0]}, {len(mix)} captured events of {kinds} types")
    for name, inputs in (("ChannelStateChange", typical), ("captured mix", mix)):
        texts = [json.dumps(m) for m in inputs]
        base = rate(baseline, inputs, args.seconds)
        fast = rate(models.parse_event, inputs, args.seconds)
        with_json = rate(lambda t: models.parse_event(json.loads(t)), texts, args.seconds)
        json_only = rate(json.loads, texts, args.seconds)
        print(f"{name}:")
        print(f"  parse_event (decoded dict)  {fast:>12,.0f} events/s  x{fast / base:.1f}")
        print(f"  json.loads + parse_event    {with_json:>12,.0f} events/s  x{with_json / base:.1f}")
        print(f"  json.loads alone            {json_only:>12,.0f} events/s")
        print(f"  reflective baseline         {base:>12,.0f} events/s  x1.0")


if __name__ == "__main__":
    main()
