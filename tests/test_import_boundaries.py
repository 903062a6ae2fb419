"""Dependencies point down (ARCHITECTURE.md): each package imports alone, and never a package above it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
OURS = ("engine", "ara_schema", "dialplan", "ivr", "dialer", "webrtc_gateway", "web", "ringline")

# package -> ours it must never import (directly or through anything it imports)
FORBIDDEN = {
    "ara_schema": set(OURS) - {"ara_schema"},
    "dialplan": {"dialer", "webrtc_gateway", "web", "ringline"},
    "engine": {"web", "ringline", "dialer", "webrtc_gateway"},
    "web": {"ringline"},
    "ivr": {"web", "ringline"},
    "dialer": {"web", "ringline"},
    "webrtc_gateway": {"web", "ringline"},
}


def _imported_after(module: str) -> set[str]:
    code = (
        "import importlib, pkgutil, sys\n"
        f"pkg = importlib.import_module({module!r})\n"
        "for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "    if '.migrations' in info.name or info.name.endswith('__main__'):\n"
        "        continue\n"
        "    importlib.import_module(info.name)\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_alone_and_only_downward(package: str) -> None:
    loaded = _imported_after(package)
    assert package in loaded
    assert not (loaded & FORBIDDEN[package]), f"{package} pulls in {sorted(loaded & FORBIDDEN[package])}"
