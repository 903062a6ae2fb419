"""The CRM routing webhook with real calls: the carrier (peer Asterisk) calls webhook DIDs of tenant ``itest`` at
the Asterisk under test; the engine in this process asks a real aiohttp CRM server, also in this process, and
routes the call by its answer or by the DID's fallback. The CRM verifies the signature of every request with the
tenant's secret (and refuses, 401, any request that does not verify).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from prometheus_client import REGISTRY

from ara_schema import provisioning
from engine.ari.client import AriClient
from engine.calls.state import CallState
from engine.routing.crm_webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tests.engine.conftest import ARI_PASSWORD, ARI_USER, CALLER_TONE_HZ, MAIN_HTTP, TENANT, Lab, RunningEngine
from tests.engine.test_calls_live import cdr_for
from tests.peers.sip_peer import PeerCall
from tests.scenarios import eventually

CRM_PATH = "/itest-crm"
CRM_SECRET = secrets.token_hex(24)
CRM_BUDGET_S = 3.0  # crm_webhooks.timeout_s left at its default

DID_ROUTE = "+15550201"  # CRM: route to 1001 (+ caller ID, variables); fallback hangup
DID_SLOW = "+15550202"  # CRM answers after 8 s; fallback endpoint 1001
DID_HTTP_500 = "+15550203"  # CRM: HTTP 500; fallback voicemail 1002
DID_BAD_JSON = "+15550204"  # CRM: 200 with HTML; fallback hangup
DID_BAD_BODY = "+15550205"  # CRM: {"action": "route"} (no target); fallback hangup
DID_UNKNOWN = "+15550206"  # CRM: route to 1099, no such endpoint; fallback endpoint 1001
DID_HANGUP = "+15550207"  # CRM: hang up, cause 21; fallback endpoint 1001 (not taken)
DID_VOICEMAIL = "+15550208"  # CRM: voicemail 1002; fallback hangup
DID_SLOW_ABANDONED = "+15550209"  # CRM answers after 8 s; the caller gives up first; fallback endpoint 1001

FALLBACKS: dict[str, tuple[str, str | None]] = {
    DID_ROUTE: ("hangup", None),
    DID_SLOW: ("endpoint", "1001"),
    DID_HTTP_500: ("voicemail", "1002"),
    DID_BAD_JSON: ("hangup", None),
    DID_BAD_BODY: ("hangup", None),
    DID_UNKNOWN: ("endpoint", "1001"),
    DID_HANGUP: ("endpoint", "1001"),
    DID_VOICEMAIL: ("hangup", None),
    DID_SLOW_ABANDONED: ("endpoint", "1001"),
}


@dataclass
class CrmRequest:
    """One request the CRM received: raw body, its JSON, its signature headers, whether they verified."""

    body: bytes
    payload: dict[str, Any]
    timestamp: str
    signature: str
    verified: bool


@dataclass
class Crm:
    """A CRM in this process: answers per DID (``payload["did"]``), verifying every request's signature."""

    url: str = ""
    requests: list[CrmRequest] = field(default_factory=list)

    def requests_for(self, did: str) -> list[CrmRequest]:
        return [r for r in self.requests if r.payload.get("did") == did]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        timestamp = request.headers.get(TIMESTAMP_HEADER, "")
        signature = request.headers.get(SIGNATURE_HEADER, "")
        verified = verify(CRM_SECRET, timestamp, body, signature, max_age_s=30)
        payload = json.loads(body)
        self.requests.append(CrmRequest(body, payload, timestamp, signature, verified))
        if not verified:
            return web.json_response({"error": "bad signature"}, status=401)
        return await ANSWERS[payload["did"]](request)


async def _route(request: web.Request) -> web.StreamResponse:
    return web.json_response(
        {
            "action": "route",
            "target": "1001",
            "caller_id": {"number": "+15550999", "name": "CRM VIP"},
            "variables": {"CRM_TICKET": "4711"},
        }
    )


async def _slow(request: web.Request) -> web.StreamResponse:
    await asyncio.sleep(8)  # cancelled when the engine gives up (handler_cancellation)
    return web.json_response({"action": "route", "target": "1001"})


def _reply(status: int, body: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def reply(request: web.Request) -> web.StreamResponse:
        return web.Response(status=status, text=body, content_type="application/json")

    return reply


ANSWERS: dict[str, Callable[[web.Request], Awaitable[web.StreamResponse]]] = {
    DID_ROUTE: _route,
    DID_SLOW: _slow,
    DID_HTTP_500: _reply(500, '{"error": "database down"}'),
    DID_BAD_JSON: _reply(200, "<html>502 Bad Gateway</html>"),
    DID_BAD_BODY: _reply(200, '{"action": "route"}'),
    DID_UNKNOWN: _reply(200, '{"action": "route", "target": "1099"}'),
    DID_HANGUP: _reply(200, '{"action": "hangup", "cause": 21}'),
    DID_VOICEMAIL: _reply(200, '{"action": "voicemail", "target": "1002"}'),
    DID_SLOW_ABANDONED: _slow,
}


async def given_webhook_dids(conn: asyncpg.Connection, url: str) -> None:
    """Idempotently point tenant itest's CRM webhook at ``url`` and route the webhook DIDs through it."""
    tenant_id = await conn.fetchval("SELECT id FROM tenants WHERE slug = $1", TENANT)
    webhook_id = await conn.fetchval(
        "SELECT id FROM crm_webhooks WHERE tenant_id = $1 AND url LIKE $2", tenant_id, f"%{CRM_PATH}"
    )
    if webhook_id is None:
        webhook_id = await conn.fetchval(
            "INSERT INTO crm_webhooks (tenant_id, url, secret) VALUES ($1, $2, $3) RETURNING id",
            tenant_id, url, CRM_SECRET,
        )
    else:
        await conn.execute("UPDATE crm_webhooks SET url = $2, secret = $3 WHERE id = $1", webhook_id, url, CRM_SECRET)
    for number, (fallback_type, fallback_target) in FALLBACKS.items():
        exists = await conn.fetchval("SELECT 1 FROM dids WHERE number = $1", number)
        if exists:
            await conn.execute(
                "UPDATE dids SET route_type = 'webhook', route_target = $2, fallback_type = $3, fallback_target = $4"
                " WHERE number = $1",
                number, str(webhook_id), fallback_type, fallback_target,
            )
        else:
            await provisioning.create_did(
                conn, TENANT, number, "webhook", str(webhook_id),
                fallback_type=fallback_type, fallback_target=fallback_target,
            )


@pytest.fixture(scope="module")
async def crm(lab: Lab) -> AsyncIterator[Crm]:
    server = Crm()
    app = web.Application()
    app.router.add_post(CRM_PATH, server.handle)
    runner = web.AppRunner(app, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server.url = f"http://127.0.0.1:{port}{CRM_PATH}"
    conn = await asyncpg.connect(lab.database_url)
    try:
        await given_webhook_dids(conn, server.url)
    finally:
        await conn.close()
    try:
        yield server
    finally:
        await runner.cleanup()


def results(result: str) -> float:
    return REGISTRY.get_sample_value("ringline_engine_crm_webhook_results_total", {"result": result}) or 0.0


async def then_crm_was_asked_once(crm: Crm, did: str) -> CrmRequest:
    """The CRM got one request for ``did``, signed with the tenant's secret, with the documented payload."""
    requests: list[CrmRequest] = await eventually(lambda: crm.requests_for(did), what=f"a CRM request for {did}")
    [request] = requests
    assert request.verified, request
    assert request.payload["tenant"] == TENANT
    assert request.payload["to"] == did and request.payload["ivr_inputs"] == {}
    assert set(request.payload) == {"tenant", "call_id", "from", "to", "did", "caller_name", "ivr_inputs"}
    return request


async def carrier_leg_state(lab: Lab, call: PeerCall) -> str | None:
    """State of the carrier's outgoing channel at the peer (``Ringing`` once main sent 180)."""
    output = await lab.peer.cli(f"database get ringline-chan {call.call_id}")
    name = re.search(r"Value:\s*(\S+)", output)
    if name is None:
        return None
    shown = await lab.peer.cli(f"core show channel {name.group(1)}")
    state = re.search(r"State:\s*(\w+)", shown)
    return state.group(1) if state else None


async def test_crm_routes_the_call_to_the_extension_it_names(
    lab: Lab, running_engine: RunningEngine, crm: Crm
) -> None:
    since, before = time.time(), results("route")
    call = await lab.peer.place_call(DID_ROUTE, tone_hz=CALLER_TONE_HZ, talk_s=4.0)
    request = await then_crm_was_asked_once(crm, DID_ROUTE)
    call_id = request.payload["call_id"]
    # while bridged, the callee channel carries the CRM's caller ID and variables
    engine = running_engine.engine
    await eventually(
        lambda: any(c.call_id == call_id and c.state is CallState.BRIDGED for c in engine.dispatcher.calls()),
        what="the call bridged",
    )
    async with AriClient(f"http://127.0.0.1:{MAIN_HTTP}/ari", ARI_USER, ARI_PASSWORD, app="itest-probe") as ari:
        assert await ari.channel_get_var(f"{call_id}-callee", "CRM_TICKET") == "4711"
        assert await ari.channel_get_var(f"{call_id}-callee", "CALLERID(num)") == "+15550999"
        assert await ari.channel_get_var(f"{call_id}-callee", "CALLERID(name)") == "CRM VIP"
    cause = await call.wait_ended(timeout_s=30)
    assert call.answered and cause == 16
    cdr = await cdr_for(lab.database_url, DID_ROUTE, since)
    assert (cdr["disposition"], cdr["destination"]) == ("ANSWERED", f"{TENANT}-1001")
    assert str(cdr["call_id"]) == call_id
    assert cdr["caller_id_num"] == request.payload["from"]  # the CDR keeps the caller's own number
    assert results("route") == before + 1


async def test_slow_crm_past_the_budget_falls_back_within_budget_while_the_caller_hears_ringback(
    lab: Lab, running_engine: RunningEngine, crm: Crm
) -> None:
    since, before = time.time(), results("timeout")
    call = await lab.peer.place_call(DID_SLOW, tone_hz=CALLER_TONE_HZ, talk_s=2.0)
    await then_crm_was_asked_once(crm, DID_SLOW)
    # the CRM is still thinking: the carrier already has 180 Ringing
    async def ringing() -> bool | None:
        return await carrier_leg_state(lab, call) == "Ringing"

    heard: bool = await eventually(ringing, timeout_s=2.0, what="the carrier leg Ringing")
    assert heard
    cause = await call.wait_ended(timeout_s=30)
    assert call.answered and cause == 16  # the fallback endpoint 1001 answered
    cdr = await cdr_for(lab.database_url, DID_SLOW, since)
    assert (cdr["disposition"], cdr["destination"]) == ("ANSWERED", f"{TENANT}-1001")
    callee = next(leg for leg in cdr["legs"] if leg["role"] == "callee")
    waited_s = (callee["start_at"] - cdr["start_at"]).total_seconds()
    assert CRM_BUDGET_S <= waited_s <= CRM_BUDGET_S + 1.0, waited_s
    assert results("timeout") == before + 1


async def test_crm_http_500_falls_back_to_voicemail_with_a_warning(
    lab: Lab, running_engine: RunningEngine, crm: Crm, caplog: pytest.LogCaptureFixture
) -> None:
    since, before = time.time(), results("http_status")
    with caplog.at_level(logging.WARNING, logger="engine.routing.webhook_route"):
        call = await lab.peer.place_call(DID_HTTP_500, tone_hz=CALLER_TONE_HZ, talk_s=2.0)
        request = await then_crm_was_asked_once(crm, DID_HTTP_500)
        await call.wait_ended(timeout_s=30)
    assert call.answered  # voicemail answered the caller
    cdr = await cdr_for(lab.database_url, DID_HTTP_500, since)
    assert (cdr["disposition"], cdr["destination"]) == ("NO ANSWER", "voicemail:1002")
    assert results("http_status") == before + 1
    [warning] = [r for r in caplog.records if request.payload["call_id"] in r.getMessage()]
    assert warning.levelno == logging.WARNING
    assert "(http_status: HTTP 500)" in warning.getMessage() and "fallback voicemail 1002" in warning.getMessage()


@pytest.mark.parametrize(("did", "result"), [(DID_BAD_JSON, "invalid_json"), (DID_BAD_BODY, "invalid_body")])
async def test_unusable_crm_answer_falls_back_to_hangup_with_temporary_failure(
    lab: Lab, running_engine: RunningEngine, crm: Crm, did: str, result: str
) -> None:
    since, before = time.time(), results(result)
    call = await lab.peer.place_call(did, tone_hz=CALLER_TONE_HZ, talk_s=2.0)
    await then_crm_was_asked_once(crm, did)
    await call.wait_ended(timeout_s=30)
    assert not call.answered
    cdr = await cdr_for(lab.database_url, did, since)
    assert (cdr["disposition"], cdr["hangup_cause"], cdr["destination"]) == ("FAILED", 41, None)
    assert results(result) == before + 1


async def test_crm_naming_no_endpoint_of_the_tenant_falls_back_to_the_fallback_endpoint(
    lab: Lab, running_engine: RunningEngine, crm: Crm
) -> None:
    since, before = time.time(), results("unknown_target")
    call = await lab.peer.place_call(DID_UNKNOWN, tone_hz=CALLER_TONE_HZ, talk_s=2.0)
    await then_crm_was_asked_once(crm, DID_UNKNOWN)
    cause = await call.wait_ended(timeout_s=30)
    assert call.answered and cause == 16
    cdr = await cdr_for(lab.database_url, DID_UNKNOWN, since)
    assert (cdr["disposition"], cdr["destination"]) == ("ANSWERED", f"{TENANT}-1001")
    assert results("unknown_target") == before + 1


async def test_crm_hangup_rejects_the_call_with_its_cause(lab: Lab, running_engine: RunningEngine, crm: Crm) -> None:
    since, before = time.time(), results("hangup")
    call = await lab.peer.place_call(DID_HANGUP, tone_hz=CALLER_TONE_HZ, talk_s=2.0)
    await then_crm_was_asked_once(crm, DID_HANGUP)
    cause = await call.wait_ended(timeout_s=30)
    assert not call.answered and cause == 21
    cdr = await cdr_for(lab.database_url, DID_HANGUP, since)
    assert (cdr["disposition"], cdr["hangup_cause"]) == ("FAILED", 21)
    assert results("hangup") == before + 1


async def test_crm_voicemail_sends_the_caller_to_the_mailbox(
    lab: Lab, running_engine: RunningEngine, crm: Crm
) -> None:
    since, before = time.time(), results("voicemail")
    call = await lab.peer.place_call(DID_VOICEMAIL, tone_hz=CALLER_TONE_HZ, talk_s=2.0)
    await then_crm_was_asked_once(crm, DID_VOICEMAIL)
    await call.wait_ended(timeout_s=30)
    assert call.answered
    cdr = await cdr_for(lab.database_url, DID_VOICEMAIL, since)
    assert cdr["destination"] == "voicemail:1002"
    assert results("voicemail") == before + 1


async def test_caller_hanging_up_while_the_crm_thinks_ends_the_call_without_dialling(
    lab: Lab, running_engine: RunningEngine, crm: Crm
) -> None:
    since = time.time()
    call = await lab.peer.place_call(DID_SLOW_ABANDONED, tone_hz=CALLER_TONE_HZ, talk_s=2.0)
    request = await then_crm_was_asked_once(crm, DID_SLOW_ABANDONED)
    await call.hangup()
    await call.wait_ended(timeout_s=30)
    assert not call.answered
    cdr = await cdr_for(lab.database_url, DID_SLOW_ABANDONED, since)
    assert cdr["disposition"] == "NO ANSWER"
    assert [leg["role"] for leg in cdr["legs"]] == ["caller"]  # the fallback endpoint was never created
    engine = running_engine.engine
    await eventually(lambda: request.payload["call_id"] not in engine.dispatcher, what="the call forgotten")


async def test_every_request_the_crm_received_verified_with_the_tenants_secret_only(crm: Crm) -> None:
    assert len(crm.requests) == len(FALLBACKS)
    assert all(r.verified for r in crm.requests)
    other = secrets.token_hex(24)
    assert not any(verify(other, r.timestamp, r.body, r.signature, max_age_s=1e9) for r in crm.requests)
