"""Where the sandbox lives on the host: the cache dir and the debootstrap root inside it.

Resolution order (first hit wins):

* ``cache_dir()``: ``$RINGLINE_CACHE_DIR``, else ``$XDG_CACHE_HOME/ringline``, else ``~/.cache/ringline``.
* ``asterisk_root()``: ``$RINGLINE_ASTERISK_ROOT``, else ``cache_dir() / "asterisk-root"``.

Empty environment variables count as unset (the XDG Base Directory spec says the same for
``XDG_CACHE_HOME``). Nothing here touches the file system.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["MARKER_NAME", "asterisk_root", "cache_dir", "marker_path"]

MARKER_NAME = ".ringline-ready"
"""File created last inside a finished root; its content is the space-separated package list."""


def cache_dir() -> Path:
    """Host directory for Ringline's caches (not created here)."""
    explicit = os.environ.get("RINGLINE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "ringline"
    return Path.home() / ".cache" / "ringline"


def asterisk_root() -> Path:
    """Host path of the debootstrap root holding Asterisk 22 (may not exist yet)."""
    explicit = os.environ.get("RINGLINE_ASTERISK_ROOT")
    if explicit:
        return Path(explicit)
    return cache_dir() / "asterisk-root"


def marker_path(root: Path) -> Path:
    """Path of the "root is complete" marker inside ``root``."""
    return root / MARKER_NAME
