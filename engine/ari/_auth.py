"""HTTP basic auth header for ARI (aiohttp 3.14 deprecates ``BasicAuth``; this works on every version)."""

from __future__ import annotations

import base64


def basic_auth(username: str, password: str) -> str:
    """``Authorization`` header value: ``Basic base64(username:password)`` (RFC 7617, UTF-8)."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"
