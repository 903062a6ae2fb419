"""Import boundary: each ara_schema module imports alone and pulls in no other Ringline package (nor pgserver,
whose import has side effects)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

MODULES = [
    "ara_schema",
    "ara_schema.errors",
    "ara_schema.tables",
    "ara_schema.migrate",
    "ara_schema.pool",
    "ara_schema.embedded",
    "ara_schema.provisioning",
]
FORBIDDEN = ("engine", "web", "dialplan", "ivr", "dialer", "webrtc_gateway", "ringline", "pgserver")
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_alone_without_other_ringline_packages(module: str) -> None:
    probe = (
        f"import sys, {module}\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", probe], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
