"""The CRM call-routing webhook: the engine asks a tenant's CRM where an inbound call should go.

Request (engine -> CRM)::

    POST <crm_webhooks.url>
    Content-Type: application/json
    X-Ringline-Timestamp: 1700000000
    X-Ringline-Signature: sha256=5d41402abc4b2a76b9719d911017c592...

    {"tenant":"acme","call_id":"3f0c...","from":"+15557770000","to":"+15550100","did":"+15550100",
     "caller_name":"Alice","ivr_inputs":{}}

- ``from``: the caller's number (CALLERID(num)), ``caller_name`` its name, either may be null; ``to``: the
  number as the carrier dialled it; ``did``: the DID it matched (E.164); ``ivr_inputs``: digits collected
  before the lookup (always ``{}`` until the IVR exists).
- ``X-Ringline-Timestamp``: when the request was signed, whole POSIX seconds (decimal ASCII).
- ``X-Ringline-Signature``: ``sha256=`` + lower-case hex of HMAC-SHA256, key = the webhook's secret (UTF-8),
  message = ``f"{timestamp}.{body}"`` where ``body`` is exactly the bytes sent (compact UTF-8 JSON).

Verifying (the CRM's side, :func:`verify`): recompute the HMAC over the *raw* body before parsing it, compare in
constant time, and reject a timestamp more than ``max_age_s`` (default 300 s) from the CRM's clock, which bounds
replays. This is jambonz's scheme (``Jambonz-Signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``,
tolerance 300 s) with the timestamp in its own header and the algorithm named in the value, as GitHub's
``X-Hub-Signature-256: sha256=<hex>``.

Response (CRM -> engine): a 2xx whose body is a JSON object (size limit: ``max_response_bytes``)::

    {"action": "route", "target": "1001"}                 dial extension 1001 of the tenant
    {"action": "voicemail", "target": "1001"}             straight to mailbox 1001
    {"action": "hangup", "cause": 21}                     hang up with Q.850 cause 21 (default 21)

optionally with ``"caller_id": {"number": "+15557770000", "name": "VIP Alice"}`` (presented to the callee) and
``"variables": {"CRM_TICKET": "4711"}`` (set on the callee channel; plain variable names only, no dialplan
functions). ``queue`` and ``ivr`` actions are understood but not built yet: the router treats them as an unknown
target. Unknown keys are ignored (forward compatibility); a wrong type or value is an invalid body.

Failures, each a :class:`CrmFailure` with a stable ``result``: ``timeout`` (no complete answer within the
budget: connect + send + whole response), ``connection_error``, ``http_status`` (non-2xx; redirects are not
followed, so a 3xx is one), ``invalid_json``, ``invalid_body`` (schema). The caller then takes the DID's
fallback route — the role of Twilio's Voice Fallback URL, which Twilio requests when the primary URL times
out, answers with an HTTP error or a connection failure, or returns invalid TwiML; here the fallback is a
route configured on the DID rather than a second URL.

Source: RFC 2104 (HMAC); FIPS 180-4 (SHA-256); RFC 8259 (JSON); jambonz "Securing HTTP endpoints" and
``@jambonz/node-client`` ``WebhookResponse.verifyJambonzSignature``; Twilio "Availability and Reliability:
Fallback URLs".
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Literal

import aiohttp
import pydantic
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

__all__ = [
    "DEFAULT_MAX_AGE_S",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "CrmAction",
    "CrmDecision",
    "CrmFailure",
    "CrmWebhook",
    "FailureResult",
    "ask",
    "build_payload",
    "encode_payload",
    "parse_response",
    "sign",
    "signed_headers",
    "verify",
]

TIMESTAMP_HEADER = "X-Ringline-Timestamp"
SIGNATURE_HEADER = "X-Ringline-Signature"
SIGNATURE_SCHEME = "sha256"
DEFAULT_MAX_AGE_S = 300.0
"""Default tolerance of :func:`verify` (seconds), as jambonz's ``DEFAULT_TOLERANCE``."""
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "Ringline-CRM-Webhook/1"

FailureResult = Literal[
    "timeout", "connection_error", "http_status", "invalid_json", "invalid_body", "unknown_target",
    "not_configured",
]
"""Why the CRM's answer could not be used (the ``result`` label of the metric).

``unknown_target`` and ``not_configured`` are decided by :mod:`engine.routing.webhook_route` (a target that is
no endpoint of the tenant, a ``queue``/``ivr`` action; a DID naming no webhook of its tenant)."""


@dataclass(frozen=True, slots=True)
class CrmWebhook:
    """A tenant's webhook (a ``crm_webhooks`` row). ``timeout_s``: budget of one request, seconds."""

    webhook_id: int
    url: str
    secret: str = field(repr=False)
    timeout_s: float = 3.0


# ---------------------------------------------------------------------------------------------- request


def build_payload(
    *,
    tenant: str,
    call_id: str,
    caller: str | None,
    dialled: str | None,
    did: str | None,
    caller_name: str | None,
    ivr_inputs: Mapping[str, str] | None = None,
) -> dict[str, object]:
    """The request body as a dict, keys in the documented order (``from`` is a keyword in Python)."""
    return {
        "tenant": tenant,
        "call_id": call_id,
        "from": caller,
        "to": dialled,
        "did": did,
        "caller_name": caller_name,
        "ivr_inputs": dict(ivr_inputs or {}),
    }


def encode_payload(payload: Mapping[str, object]) -> bytes:
    """Compact UTF-8 JSON (no spaces; non-ASCII kept as UTF-8): the exact bytes that are signed and sent."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>``; ``timestamp`` in whole POSIX seconds.

    Source: RFC 2104 section 2 (HMAC), with SHA-256 (FIPS 180-4); 64 hex characters after the prefix.
    """
    mac = hmac.new(secret.encode(), b"%d." % timestamp + body, hashlib.sha256)
    return f"{SIGNATURE_SCHEME}={mac.hexdigest()}"


def signed_headers(secret: str, body: bytes, *, now: float) -> dict[str, str]:
    """Request headers for ``body`` signed at ``now`` (POSIX seconds, truncated to whole seconds)."""
    timestamp = int(now)
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }


def verify(
    secret: str,
    timestamp: str | int,
    body: bytes | str,
    signature: str,
    *,
    max_age_s: float = DEFAULT_MAX_AGE_S,
    now: float | None = None,
) -> bool:
    """For CRMs: True when ``signature`` (the ``X-Ringline-Signature`` value) signs ``body`` at ``timestamp``
    (the ``X-Ringline-Timestamp`` value) with ``secret``, and the timestamp is within ``max_age_s`` seconds of
    ``now`` (POSIX seconds, default the system clock) in either direction.

    ``body`` must be the raw request body (a ``str`` is encoded as UTF-8). Never raises on malformed input: a
    missing scheme, non-hex signature or non-integer timestamp is simply False. The comparison is constant time
    (``hmac.compare_digest``).
    """
    if isinstance(timestamp, str):
        if not timestamp.isascii() or not timestamp.isdigit():
            return False
        ts = int(timestamp)
    else:
        ts = timestamp
    current = time.time() if now is None else now
    if abs(current - ts) > max_age_s:
        return False
    raw = body.encode() if isinstance(body, str) else body
    expected = sign(secret, ts, raw)
    return hmac.compare_digest(expected.encode(), signature.strip().encode("utf-8", "replace"))


# --------------------------------------------------------------------------------------------- response

_Extension = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,8}$")]
"""An extension of the tenant, as ``ara_schema.provisioning`` creates them (1-8 digits). No ``/``, ``@`` or
``,``: a CRM can never name a dial string or another tenant's endpoint."""
_Mailbox = Annotated[str, StringConstraints(pattern=r"^[0-9]{2,20}$")]
"""A voicemail mailbox; the ``ringline-voicemail`` context matches ``_X.`` (a digit, then at least one more)."""
_VariableName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
"""A plain channel variable: no parentheses, so no dialplan function (``FILE()``, ``CALLERID()`` ...)."""
_VariableValue = Annotated[str, StringConstraints(max_length=1024, pattern=r"^[^\x00-\x1f\x7f]*$")]


class CallerId(BaseModel):
    """Caller ID presented to the callee instead of the caller's own."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    number: Annotated[str, StringConstraints(pattern=r"^\+?[0-9*#]{1,32}$")] | None = None
    name: Annotated[str, StringConstraints(max_length=80, pattern=r"^[^\x00-\x1f\x7f\"]*$")] | None = None


class _Action(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    caller_id: CallerId | None = None
    variables: dict[_VariableName, _VariableValue] = Field(default_factory=dict, max_length=32)


class RouteAction(_Action):
    """Dial an extension of the tenant."""

    action: Literal["route"]
    target: _Extension


class VoicemailAction(_Action):
    """Send the caller to a mailbox."""

    action: Literal["voicemail"]
    target: _Mailbox


class HangupAction(_Action):
    """Hang the caller up with Q.850 ``cause`` (1-127; default 21 call rejected)."""

    action: Literal["hangup"]
    cause: int = Field(default=21, ge=1, le=127)


class QueueAction(_Action):
    """Understood but not built yet (ACD queues): the router treats it as an unknown target."""

    action: Literal["queue"]
    target: str


class IvrAction(_Action):
    """Understood but not built yet (IVR flows): the router treats it as an unknown target."""

    action: Literal["ivr"]
    target: str


CrmAction = Annotated[
    RouteAction | VoicemailAction | HangupAction | QueueAction | IvrAction, Field(discriminator="action")
]
_ACTION: TypeAdapter[RouteAction | VoicemailAction | HangupAction | QueueAction | IvrAction] = TypeAdapter(
    CrmAction
)


@dataclass(frozen=True, slots=True)
class CrmDecision:
    """A usable answer: ``action`` validated, ``status`` the HTTP status, ``elapsed_s`` the request's duration."""

    action: RouteAction | VoicemailAction | HangupAction | QueueAction | IvrAction
    status: int = 200
    elapsed_s: float = 0.0


@dataclass(frozen=True, slots=True)
class CrmFailure:
    """Why the CRM's answer is not used; ``reason`` is one line for the log."""

    result: FailureResult
    reason: str
    elapsed_s: float = 0.0


def parse_response(body: bytes, *, status: int = 200) -> CrmDecision | CrmFailure:
    """Validate a response body (pure). JSON types are strict: ``"cause": "21"`` is an invalid body.

    Returns a :class:`CrmFailure` with ``invalid_json`` (not UTF-8 JSON) or ``invalid_body`` (no object, unknown
    ``action``, a missing or malformed field), naming the first offending field.
    """
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        return CrmFailure("invalid_json", f"invalid JSON: {exc}")
    try:
        action = _ACTION.validate_python(document, strict=True)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])[:100] or "body"  # keys come from the CRM
        return CrmFailure("invalid_body", f"invalid body at {where}: {first['msg']}")
    return CrmDecision(action, status)


# ------------------------------------------------------------------------------------------------- ask


async def ask(
    session: aiohttp.ClientSession,
    webhook: CrmWebhook,
    payload: Mapping[str, object],
    *,
    budget_s: float,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    now: Callable[[], float] = time.time,
) -> CrmDecision | CrmFailure:
    """POST the signed ``payload`` to ``webhook.url`` and validate the answer, all within ``budget_s`` seconds
    (connect, send, the whole response body and parsing: one budget).

    ``now`` gives the signing time (POSIX seconds). Never raises for the CRM's or the network's faults: they come
    back as :class:`CrmFailure`; an outside cancellation propagates (``asyncio.timeout`` turns only its own
    expiry into the ``timeout`` result).

    Source: aiohttp ``ClientSession.post`` (``allow_redirects=False``: a redirect is a non-2xx answer, the signed
    call data is never re-sent elsewhere).
    """
    body = encode_payload(payload)
    headers = signed_headers(webhook.secret, body, now=now())
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        async with asyncio.timeout(budget_s):
            async with session.post(
                webhook.url,
                data=body,
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=budget_s),
            ) as response:
                status = response.status
                raw = await _read_at_most(response.content, max_response_bytes + 1)
    except TimeoutError:
        return CrmFailure("timeout", f"no complete answer within {budget_s:g} s", loop.time() - started)
    except (aiohttp.ClientError, OSError) as exc:
        return CrmFailure("connection_error", f"{type(exc).__name__}: {exc}", loop.time() - started)
    elapsed = loop.time() - started
    if not 200 <= status < 300:
        return CrmFailure("http_status", f"HTTP {status}", elapsed)
    if len(raw) > max_response_bytes:
        return CrmFailure("invalid_body", f"response larger than {max_response_bytes} bytes", elapsed)
    parsed = parse_response(raw, status=status)
    if isinstance(parsed, CrmFailure):
        return CrmFailure(parsed.result, parsed.reason, elapsed)
    return CrmDecision(parsed.action, status, elapsed)


async def _read_at_most(stream: aiohttp.StreamReader, limit: int) -> bytes:
    """The body up to ``limit`` bytes (fewer at EOF); a longer body is cut at ``limit`` for the caller to see."""
    data = bytearray()
    while len(data) < limit:
        chunk = await stream.read(limit - len(data))
        if not chunk:
            break
        data += chunk
    return bytes(data)
