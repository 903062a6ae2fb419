"""Request and response bodies of ``/api/extensions`` and ``/api/dids`` (pydantic v2). Inputs forbid unknown
fields (``web.auth.schemas`` parses them); SIP passwords are accepted, never returned."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ara_schema.tables.tenancy import E164_PATTERN, RING_TIMEOUT_S_RANGE

EXTENSION_PATTERN = r"^[0-9]{1,8}$"
"""Bare extension (``1001``); the PJSIP id is ``<tenant slug>-<extension>`` (``ara_schema.provisioning``)."""

Extension = Annotated[str, Field(pattern=EXTENSION_PATTERN)]
E164 = Annotated[str, Field(pattern=E164_PATTERN)]
SipPassword = Annotated[str, Field(min_length=12, max_length=128)]
"""12..128 characters: a SIP digest password is brute-forced offline from one captured challenge."""
RouteType = Literal["endpoint", "queue", "ivr", "webhook", "external", "voicemail"]
FallbackType = Literal["voicemail", "hangup", "endpoint", "external"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class ExtensionIn(_In):
    extension: Extension
    password: SipPassword
    display_name: Annotated[str, Field(min_length=1, max_length=24)] | None = None
    """Caller id name; ``ps_endpoints.callerid`` is ``"<name>" <<extension>>`` in varchar(40)."""
    max_contacts: Annotated[int, Field(ge=1, le=10)] = 1


class ExtensionPageQuery(_In):
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    cursor: str | None = None

    @field_validator("cursor")
    @classmethod
    def _decodable(cls, v: str | None) -> str | None:
        if v is not None:
            decode_extension_cursor(v)
        return v

    @property
    def after(self) -> str:
        """Extensions sorting after this come next (``""`` on the first page)."""
        return decode_extension_cursor(self.cursor) if self.cursor else ""


def encode_extension_cursor(last: str) -> str:
    """Opaque pagination cursor for "after extension ``last``"."""
    return base64.urlsafe_b64encode(f"ext:{last}".encode()).decode().rstrip("=")


def decode_extension_cursor(cursor: str) -> str:
    """Inverse of :func:`encode_extension_cursor`. Raises ValueError on anything else."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("cursor is not one this API returned") from exc
    kind, _, value = text.partition(":")
    if kind != "ext" or not value.isdigit() or len(value) > 8:
        raise ValueError("cursor is not one this API returned")
    return value


class ContactOut(_Out):
    """One ``ps_contacts`` row of the extension's AOR."""

    uri: str
    expires_at: datetime
    """``ps_contacts.expiration_time`` (seconds since the epoch) as a time."""
    user_agent: str | None


class ExtensionOut(_Out):
    tenant_id: int
    extension: str
    endpoint_id: str
    """``ps_endpoints.id`` = ``ps_auths.id`` = ``ps_aors.id`` = the SIP digest username."""
    context: str | None
    callerid: str | None
    max_contacts: int | None
    registered: bool
    """True while at least one contact has not expired (derived from ``ps_contacts``, not stored)."""
    contacts: list[ContactOut]


class ExtensionPage(_Out):
    items: list[ExtensionOut]
    next_cursor: str | None


class DidIn(_In):
    number: E164
    route_type: RouteType
    route_target: Annotated[str, Field(min_length=1, max_length=200)]
    ring_timeout_s: Annotated[int, Field(ge=RING_TIMEOUT_S_RANGE[0], le=RING_TIMEOUT_S_RANGE[1])] = 20
    fallback_type: FallbackType | None = None
    fallback_target: Annotated[str, Field(min_length=1, max_length=200)] | None = None

    @model_validator(mode="after")
    def _fallback_target_needs_type(self) -> DidIn:
        if self.fallback_target is not None and self.fallback_type is None:
            raise ValueError("fallback_target given without fallback_type")
        return self


class DidOut(_Out):
    id: int
    tenant_id: int
    number: str
    route_type: str
    route_target: str
    ring_timeout_s: int
    """Seconds the route rings before the fallback."""
    fallback_type: str | None
    fallback_target: str | None
    created_at: datetime


class DidPage(_Out):
    items: list[DidOut]
    next_cursor: str | None
