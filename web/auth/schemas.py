"""Request and response bodies of the auth routes (pydantic v2), and the one body/query parser.

Inputs forbid unknown fields; a body that is not JSON is 400 ``malformed_json``, one that does not fit the model
is 422 ``validation_failed`` with pydantic's errors (without the input values: they may hold passwords).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Literal, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ara_schema.tables.tenancy import TENANT_SLUG_PATTERN
from web.errors import BadRequest, ValidationFailed

Role = Literal["superadmin", "tenant_admin", "supervisor", "agent", "viewer"]
ApiKeyRole = Literal["tenant_admin", "supervisor", "agent", "viewer"]
Password = Annotated[str, Field(min_length=10, max_length=256)]
"""New passwords: 10..256 characters (the upper bound keeps argon2's input bounded)."""
AnyPassword = Annotated[str, Field(min_length=1, max_length=256)]
Email = Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]

M = TypeVar("M", bound=BaseModel)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LoginIn(_In):
    tenant: Annotated[str, Field(pattern=TENANT_SLUG_PATTERN)]
    email: Annotated[str, Field(min_length=1, max_length=254)]
    password: AnyPassword


class RefreshIn(_In):
    refresh_token: Annotated[str, Field(min_length=1, max_length=200)]


class PasswordChangeIn(_In):
    old_password: AnyPassword
    new_password: Password


class ApiKeyIn(_In):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    role: ApiKeyRole


class UserIn(_In):
    email: Email
    display_name: Annotated[str, Field(min_length=1, max_length=200)]
    password: Password | None = None
    extension: Annotated[str, Field(pattern=r"^[0-9]{2,10}$")] | None = None
    roles: Annotated[list[Role], Field(min_length=1, max_length=5)]

    @field_validator("email")
    @classmethod
    def _lower(cls, v: str) -> str:
        return v.lower()

    @field_validator("roles")
    @classmethod
    def _unique(cls, v: list[Role]) -> list[Role]:
        return sorted(set(v))


class PageQuery(_In):
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    cursor: str | None = None

    @field_validator("cursor")
    @classmethod
    def _decodable(cls, v: str | None) -> str | None:
        if v is not None:
            decode_cursor(v)
        return v

    @property
    def after_id(self) -> int:
        """Rows with ``id`` greater than this come next (0 on the first page)."""
        return decode_cursor(self.cursor) if self.cursor else 0


def encode_cursor(last_id: int) -> str:
    """Opaque pagination cursor for "after ``last_id``"."""
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """Inverse of :func:`encode_cursor`. Raises ValueError on anything else."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("cursor is not one this API returned") from exc
    kind, _, value = text.partition(":")
    if kind != "id" or not value.isdigit():
        raise ValueError("cursor is not one this API returned")
    return int(value)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class TokensOut(_Out):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    """Seconds until the access token expires."""
    refresh_token: str


class MeOut(_Out):
    kind: Literal["user", "api_key"]
    tenant_id: int
    user_id: int | None
    api_key_id: int | None
    roles: list[str]
    permissions: list[str]


class UserOut(_Out):
    id: int
    tenant_id: int
    email: str
    display_name: str
    extension: str | None
    roles: list[str]
    created_at: datetime


class UserPage(_Out):
    items: list[UserOut]
    next_cursor: str | None


class ApiKeyOut(_Out):
    id: int
    tenant_id: int
    name: str
    role: str
    key_prefix: str
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyList(_Out):
    items: list[ApiKeyOut]


class ApiKeyCreatedOut(ApiKeyOut):
    key: str
    """The key itself; shown in this response only."""


def _validation_failed(exc: ValidationError, where: str) -> ValidationFailed:
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    return ValidationFailed(f"invalid {where}", details={"errors": json.loads(json.dumps(errors, default=str))})


async def parse_body(request: web.Request, model: type[M]) -> M:
    """The request's JSON body as ``model``.

    Raises:
        BadRequest: ``malformed_json`` when the body is not a JSON object.
        ValidationFailed: the object does not fit ``model``.
    """
    raw = await request.read()
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("request body is not valid JSON", details={"reason": str(exc)}) from None
    if not isinstance(data, dict):
        raise BadRequest("request body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _validation_failed(exc, "request body") from None


def parse_query(query: Mapping[str, str], model: type[M]) -> M:
    """Query parameters as ``model`` (each parameter once).

    Raises:
        ValidationFailed: unknown or malformed parameters.
    """
    try:
        return model.model_validate(dict(query))
    except ValidationError as exc:
        raise _validation_failed(exc, "query parameters") from None


def parse_id(text: str) -> int:
    """A path ``{id}``: a positive integer that fits ``bigint``.

    Raises:
        ValidationFailed: anything else.
    """
    if not text.isdigit() or not 0 < int(text) < 2**63:
        raise ValidationFailed("invalid id in path", details={"id": text})
    return int(text)
