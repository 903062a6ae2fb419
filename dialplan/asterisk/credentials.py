"""The ARI credentials of a local instance: generated once, then read back on every start.

Stored as JSON ``{"ari_user": "ringline", "ari_password": "<token>"}`` in
``<state_dir>/ari-credentials.json`` with mode 0600 (the state dir is created 0700 if missing). The
password is ``secrets.token_urlsafe(24)`` (32 URL-safe characters, 192 bits), safe to put in ari.conf.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

__all__ = ["ARI_USER", "CREDENTIALS_FILE", "load_or_create_credentials"]

ARI_USER = "ringline"
CREDENTIALS_FILE = "ari-credentials.json"


def load_or_create_credentials(state_dir: Path) -> tuple[str, str]:
    """Return ``(ari_user, ari_password)``, creating and storing them on first use.

    Creation is atomic (temp file with ``O_EXCL``, mode 0600, then ``os.link`` to the final name, which
    fails if it exists): a concurrent reader never sees a partial file and two concurrent creators agree
    on one password. An existing file readable by others is tightened to 0600.

    Raises:
        ValueError: the file exists but does not hold the two strings.
        OSError: the state dir cannot be created or written.
    """
    state_dir = Path(state_dir)
    path = state_dir / CREDENTIALS_FILE
    if path.exists():
        return _load(path)
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    password = secrets.token_urlsafe(24)
    tmp = path.with_name(f".{CREDENTIALS_FILE}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"ari_user": ARI_USER, "ari_password": password}, fh)
        fh.write("\n")
    try:
        os.link(tmp, path)
    except FileExistsError:
        return _load(path)
    finally:
        tmp.unlink()
    return ARI_USER, password


def _load(path: Path) -> tuple[str, str]:
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    data = json.loads(path.read_text())
    user, password = data.get("ari_user"), data.get("ari_password")
    if not (isinstance(user, str) and isinstance(password, str) and user and password):
        raise ValueError(f"{path} does not hold ari_user and ari_password strings")
    return user, password
