"""Credential primitives, pure and synchronous: argon2id passwords, HS256 JWT access tokens, opaque tokens.

- Passwords: argon2id (argon2-cffi's RFC 9106 low-memory profile), PHC string in ``users.password_hash``.
- Access token: JWT (RFC 7519) signed HS256 (RFC 7518 section 3.2), claims ``iss``, ``sub`` (user id),
  ``tid`` (tenant id), ``sid`` (refresh-token family = session), ``iat``, ``exp`` (seconds since the epoch),
  ``jti``. Expiry is checked against the injected clock, not PyJWT's.
- Refresh tokens and API keys: 32 random bytes, URL-safe base64 with a prefix (``rlr_``/``rlk_``); only their
  SHA-256 digest is stored. A fast digest is sound here because the value has 256 bits of entropy (nothing to
  guess, unlike a password), and it lets a request find its row through a unique index in one query instead
  of running a deliberately slow hash per request, which would also hand attackers a CPU-exhaustion lever.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

import argon2
import jwt

from web.auth.config import AuthConfig

REFRESH_TOKEN_PREFIX = "rlr_"
API_KEY_PREFIX = "rlk_"
TOKEN_BYTES = 32
"""Random bytes in a refresh token or API key (256 bits)."""
API_KEY_SHOWN_PREFIX_CHARS = 12
"""Characters of an API key kept in clear (``key_prefix``) to tell keys apart."""

_hasher = argon2.PasswordHasher.from_parameters(argon2.profiles.RFC_9106_LOW_MEMORY)
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
_ALGORITHM = "HS256"


class InvalidToken(Exception):
    """The access token is malformed, badly signed or of another issuer. ``expired`` when only ``exp`` failed."""

    def __init__(self, reason: str, *, expired: bool = False) -> None:
        super().__init__(reason)
        self.expired = expired


def hash_password(password: str) -> str:
    """argon2id PHC string (``$argon2id$v=19$m=...``); about 50 ms of CPU, call through ``asyncio.to_thread``."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches. With no hash (unknown user, no password set) a dummy hash is verified
    anyway, so the time taken does not tell whether the user exists."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


def new_opaque(prefix: str) -> str:
    """``prefix`` + 43 URL-safe characters (:data:`TOKEN_BYTES` random bytes)."""
    return prefix + secrets.token_urlsafe(TOKEN_BYTES)


def digest(token: str) -> bytes:
    """SHA-256 of the token's UTF-8 bytes (32 bytes): what the database keeps."""
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    tenant_id: int
    session_id: uuid.UUID
    expires_at: int
    """Seconds since the epoch."""


def issue_access_token(config: AuthConfig, *, user_id: int, tenant_id: int, session_id: uuid.UUID,
                       now: float) -> tuple[str, int]:
    """Sign an access token valid ``config.access_ttl_s`` from ``now``; returns ``(token, exp)``."""
    iat = int(now)
    exp = iat + config.access_ttl_s
    claims = {
        "iss": config.issuer, "sub": str(user_id), "tid": tenant_id, "sid": str(session_id),
        "iat": iat, "exp": exp, "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, config.jwt_secret, algorithm=_ALGORITHM), exp


def read_access_token(config: AuthConfig, token: str, *, now: float) -> AccessClaims:
    """Verify signature, issuer and expiry (``exp > now``) of ``token``.

    Raises:
        InvalidToken: anything wrong; ``expired`` is True when the token is valid but past ``exp``.
    """
    try:
        claims = jwt.decode(
            token, config.jwt_secret, algorithms=[_ALGORITHM], issuer=config.issuer,
            options={"verify_exp": False, "verify_iat": False, "require": ["iss", "sub", "tid", "sid", "exp"]},
        )
        parsed = AccessClaims(
            user_id=int(claims["sub"]), tenant_id=int(claims["tid"]), session_id=uuid.UUID(str(claims["sid"])),
            expires_at=int(claims["exp"]),
        )
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise InvalidToken(str(exc)) from exc
    if parsed.expires_at <= now:
        raise InvalidToken("token expired", expired=True)
    return parsed
