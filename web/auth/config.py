"""Authentication settings: the JWT signing secret and token lifetimes.

The secret comes from ``RINGLINE_JWT_SECRET`` when set, otherwise it is generated once and kept in
``<data dir>/jwt-secret`` (mode 0600), so tokens survive a restart of the same installation.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

JWT_SECRET_ENV = "RINGLINE_JWT_SECRET"
JWT_SECRET_FILE = "jwt-secret"
JWT_SECRET_MIN_BYTES = 32
"""Shortest accepted secret (bytes of UTF-8). Source: RFC 7518 section 3.2 (HS256 key >= hash output size)."""


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """``access_ttl_s``/``refresh_ttl_s`` in seconds; ``issuer`` is the JWT ``iss`` claim."""

    jwt_secret: str
    access_ttl_s: int = 15 * 60
    refresh_ttl_s: int = 30 * 24 * 3600
    issuer: str = "ringline"

    def __post_init__(self) -> None:
        if len(self.jwt_secret.encode()) < JWT_SECRET_MIN_BYTES:
            raise ValueError(f"JWT secret must be at least {JWT_SECRET_MIN_BYTES} bytes")
        if self.access_ttl_s <= 0 or self.refresh_ttl_s <= 0:
            raise ValueError("token lifetimes must be positive")


def load_or_create_jwt_secret(data_dir: Path, environ: Mapping[str, str] | None = None) -> str:
    """``RINGLINE_JWT_SECRET`` if set, else the secret kept in ``data_dir/jwt-secret`` (created on first call).

    Blocking file I/O: call before the event loop serves requests or through ``asyncio.to_thread``.

    Raises:
        ValueError: the configured secret is shorter than :data:`JWT_SECRET_MIN_BYTES`.
    """
    env = os.environ if environ is None else environ
    configured = env.get(JWT_SECRET_ENV)
    if configured:
        if len(configured.encode()) < JWT_SECRET_MIN_BYTES:
            raise ValueError(f"{JWT_SECRET_ENV} must be at least {JWT_SECRET_MIN_BYTES} bytes")
        return configured
    path = data_dir / JWT_SECRET_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its secret
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(secret)
    return secret
