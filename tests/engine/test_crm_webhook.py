"""The CRM routing webhook without telephony: signing and verification, payload, response schema, the mapping of
answers to routes, the state machine's share, and ``ask()`` against a misbehaving HTTP server in this process."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web
from prometheus_client import REGISTRY

from engine.calls import effects as fx
from engine.calls.events import CallerArrived, RouteResolved
from engine.calls.state import Call, CallState, Route, new_call, transition
from engine.calls.store import from_snapshot, snapshot
from engine.routing.crm_webhook import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    CrmDecision,
    CrmFailure,
    CrmWebhook,
    HangupAction,
    QueueAction,
    RouteAction,
    VoicemailAction,
    ask,
    build_payload,
    encode_payload,
    parse_response,
    sign,
    signed_headers,
    verify,
)
from engine.routing.webhook_route import Rejection, WebhookRouter, decision_route, fallback_route

SECRET = "tenant-secret-0123456789abcdef"
NOW = 1_700_000_000.0
BODY = b'{"tenant":"acme","call_id":"c1"}'
DID_ROUTE = Route("webhook", "7", "", 25, "voicemail", "1002")


# ------------------------------------------------------------------------------------------------ signing


def test_signature_is_hex_hmac_sha256_of_timestamp_dot_body_with_the_secret() -> None:
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, 1_700_000_000, BODY) == f"sha256={expected}"


def test_signed_request_verifies_with_the_tenants_secret() -> None:
    headers = signed_headers(SECRET, BODY, now=NOW + 0.9)
    assert headers[TIMESTAMP_HEADER] == "1700000000"
    assert verify(SECRET, headers[TIMESTAMP_HEADER], BODY, headers[SIGNATURE_HEADER], max_age_s=300, now=NOW + 5)
    assert verify(SECRET, 1_700_000_000, BODY.decode(), headers[SIGNATURE_HEADER], max_age_s=300, now=NOW)


def test_tampered_body_does_not_verify() -> None:
    signature = sign(SECRET, 1_700_000_000, BODY)
    tampered = BODY.replace(b"acme", b"acmf")
    assert not verify(SECRET, "1700000000", tampered, signature, max_age_s=300, now=NOW)


def test_other_secret_or_other_timestamp_does_not_verify() -> None:
    signature = sign(SECRET, 1_700_000_000, BODY)
    assert not verify("another-secret-0123456789", "1700000000", BODY, signature, max_age_s=300, now=NOW)
    assert not verify(SECRET, "1700000001", BODY, signature, max_age_s=300, now=NOW)


def test_old_or_future_timestamp_does_not_verify() -> None:
    signature = sign(SECRET, 1_700_000_000, BODY)
    assert verify(SECRET, "1700000000", BODY, signature, max_age_s=300, now=NOW + 300)
    assert not verify(SECRET, "1700000000", BODY, signature, max_age_s=300, now=NOW + 301)  # replayed later
    assert not verify(SECRET, "1700000000", BODY, signature, max_age_s=300, now=NOW - 301)  # signer's clock ahead


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [
        ("1700000000.5", None),
        ("-1700000000", None),
        ("", None),
        ("１７００００００００", None),  # full-width digits: str.isdigit() but not ASCII
        ("1700000000", "sha1=00"),
        ("1700000000", "not a signature"),
        ("1700000000", ""),
    ],
)
def test_malformed_headers_do_not_verify_and_do_not_raise(timestamp: str, signature: str | None) -> None:
    good = sign(SECRET, 1_700_000_000, BODY)
    assert not verify(SECRET, timestamp, BODY, signature if signature is not None else good, max_age_s=300, now=NOW)


def test_payload_is_compact_utf8_json_in_documented_order() -> None:
    payload = build_payload(
        tenant="acme", call_id="c1", caller="+15557770000", dialled="15550100", did="+15550100", caller_name="Zoë"
    )
    body = encode_payload(payload)
    assert body == (
        '{"tenant":"acme","call_id":"c1","from":"+15557770000","to":"15550100","did":"+15550100",'
        '"caller_name":"Zoë","ivr_inputs":{}}'
    ).encode()


# ------------------------------------------------------------------------------------------------ parsing


def test_route_answer_with_caller_id_and_variables_parses() -> None:
    decision = parse_response(
        b'{"action":"route","target":"1001","caller_id":{"number":"+15550000","name":"VIP"},'
        b'"variables":{"CRM_TICKET":"4711"},"crm_debug":"ignored"}'
    )
    assert isinstance(decision, CrmDecision)
    action = decision.action
    assert isinstance(action, RouteAction)
    assert (action.target, action.variables) == ("1001", {"CRM_TICKET": "4711"})
    assert action.caller_id is not None and (action.caller_id.number, action.caller_id.name) == ("+15550000", "VIP")


def test_voicemail_hangup_and_not_yet_built_actions_parse() -> None:
    vm = parse_response(b'{"action":"voicemail","target":"1002"}')
    assert isinstance(vm, CrmDecision) and isinstance(vm.action, VoicemailAction)
    hang = parse_response(b'{"action":"hangup","cause":17}')
    assert isinstance(hang, CrmDecision) and isinstance(hang.action, HangupAction) and hang.action.cause == 17
    default = parse_response(b'{"action":"hangup"}')
    assert isinstance(default, CrmDecision) and isinstance(default.action, HangupAction)
    assert default.action.cause == 21
    queue = parse_response(b'{"action":"queue","target":"sales"}')
    assert isinstance(queue, CrmDecision) and isinstance(queue.action, QueueAction)


@pytest.mark.parametrize("body", [b"", b"{", b"<html>oops</html>", b"\xff\xfe", b'{"action": "route",}'])
def test_not_json_is_invalid_json(body: bytes) -> None:
    failure = parse_response(body)
    assert isinstance(failure, CrmFailure) and failure.result == "invalid_json"


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (b"[]", "body"),
        (b'"route"', "body"),
        (b"{}", "body"),
        (b'{"action":"transfer","target":"1001"}', "body"),
        (b'{"action":"route"}', "route.target"),
        (b'{"action":"route","target":1001}', "route.target"),  # strict JSON types
        (b'{"action":"route","target":"PJSIP/other-1001"}', "route.target"),  # never a dial string
        (b'{"action":"route","target":"1001@ringline-voicemail"}', "route.target"),
        (b'{"action":"voicemail","target":"1"}', "voicemail.target"),
        (b'{"action":"hangup","cause":"21"}', "hangup.cause"),
        (b'{"action":"hangup","cause":0}', "hangup.cause"),
        (b'{"action":"hangup","cause":128}', "hangup.cause"),
        (b'{"action":"route","target":"1001","variables":{"FILE(/etc/x)":"y"}}', "route.variables"),
        (b'{"action":"route","target":"1001","variables":{"A":1}}', "route.variables.A"),
        (b'{"action":"route","target":"1001","caller_id":{"number":"call me"}}', "route.caller_id.number"),
    ],
)
def test_schema_invalid_body_names_the_field(body: bytes, where: str) -> None:
    failure = parse_response(body)
    assert isinstance(failure, CrmFailure) and failure.result == "invalid_body", failure
    assert failure.reason.startswith(f"invalid body at {where}"), failure.reason


# ------------------------------------------------------------------------------------------ answers -> routes


def test_route_decision_dials_the_tenants_endpoint_with_did_timeout_fallback_and_crm_extras() -> None:
    decision = parse_response(
        b'{"action":"route","target":"1001","caller_id":{"number":"+15550000"},"variables":{"B":"2","A":"1"}}'
    )
    assert isinstance(decision, CrmDecision)
    route = decision_route(decision, DID_ROUTE, "acme")
    assert route == Route(
        "endpoint", "acme-1001", "PJSIP/acme-1001", 25, "voicemail", "1002",
        caller_id_num="+15550000", caller_id_name=None, variables=(("A", "1"), ("B", "2")),
    )


def test_voicemail_hangup_and_queue_decisions() -> None:
    vm, hang, queue = (
        parse_response(b'{"action":"voicemail","target":"1003"}'),
        parse_response(b'{"action":"hangup","cause":21}'),
        parse_response(b'{"action":"ivr","target":"main-menu"}'),
    )
    assert isinstance(vm, CrmDecision) and isinstance(hang, CrmDecision) and isinstance(queue, CrmDecision)
    assert decision_route(vm, DID_ROUTE, "acme") == Route("voicemail", "1003", "", 25, "voicemail", "1003")
    assert decision_route(hang, DID_ROUTE, "acme") == Rejection(21, "CRM asked to hang up (cause 21)")
    failure = decision_route(queue, DID_ROUTE, "acme")
    assert isinstance(failure, CrmFailure) and failure.result == "unknown_target"


@pytest.mark.parametrize(
    ("fallback_type", "fallback_target", "expected"),
    [
        ("endpoint", "1001", Route("endpoint", "acme-1001", "PJSIP/acme-1001", 25)),
        ("voicemail", "1002", Route("voicemail", "1002", "", 25, "voicemail", "1002")),
        ("hangup", None, Rejection(41, "fallback hangup")),
        (None, None, Rejection(41, "no usable fallback (none)")),
        ("external", "+15559990000", Rejection(41, "no usable fallback (external)")),
    ],
)
def test_fallback_route_of_the_did(fallback_type: str | None, fallback_target: str | None, expected: object) -> None:
    did_route = Route("webhook", "7", "", 25, fallback_type, fallback_target)
    assert fallback_route(did_route, "acme") == expected


# ----------------------------------------------------------------------------------- the state machine's share


def given_routing_call() -> Call:
    call, _ = new_call(
        CallerArrived("c1", "ch-caller", "acme", "+15550100", "+15557770000", "Alice", "acme-carrier", 100.0)
    )
    return call


def test_voicemail_route_sends_the_caller_into_the_mailbox_without_a_callee() -> None:
    call, effects = transition(
        given_routing_call(), RouteResolved("c1", Route("voicemail", "1002", "", 25, "voicemail", "1002"), 7), 101.0
    )
    assert call.state is CallState.FALLBACK and call.callee is None
    assert (call.fallback_taken, call.disposition, call.tenant_id) == ("voicemail", "NO ANSWER", 7)
    assert effects == [fx.Continue("ch-caller", "ringline-voicemail", "1002"), fx.Persist(call)]


def test_crm_caller_id_and_variables_reach_the_callee_and_survive_a_snapshot() -> None:
    route = Route(
        "endpoint", "acme-1001", "PJSIP/acme-1001", 25, caller_id_num="+15550000", caller_id_name="VIP",
        variables=(("CRM_TICKET", "4711"),),
    )
    call, effects = transition(given_routing_call(), RouteResolved("c1", route, 7), 101.0)
    create = effects[1]
    assert isinstance(create, fx.CreateCallee)
    assert (create.caller_id_num, create.caller_id_name, create.variables) == (
        "+15550000", "VIP", (("CRM_TICKET", "4711"),)
    )
    assert call.caller_id_num == "+15557770000"  # the CDR keeps the caller's own number
    assert from_snapshot(json.loads(json.dumps(snapshot(call)))) == call


# ---------------------------------------------------------------------------- ask() against a real HTTP server

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Crm:
    """An aiohttp server in this process whose one handler the test sets; keeps what it received."""

    def __init__(self) -> None:
        self.handler: Handler = self._ok
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def _ok(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"action": "route", "target": "1001"})

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.received.append((dict(request.headers), await request.read()))
        return await self.handler(request)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/crm", self._dispatch)
        self.runner = web.AppRunner(app, handler_cancellation=True)  # a client that gives up cancels it
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/crm"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
async def crm() -> AsyncIterator[Crm]:
    server = Crm()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def webhook(url: str, timeout_s: float = 1.0) -> CrmWebhook:
    return CrmWebhook(7, url, SECRET, timeout_s)


PAYLOAD = build_payload(
    tenant="acme", call_id="c1", caller="+15557770000", dialled="+15550100", did="+15550100", caller_name=None
)


async def test_ask_posts_a_signed_body_the_crm_can_verify(crm: Crm, session: aiohttp.ClientSession) -> None:
    answer = await ask(session, webhook(crm.url), PAYLOAD, budget_s=1.0)
    assert isinstance(answer, CrmDecision) and isinstance(answer.action, RouteAction)
    [(headers, body)] = crm.received
    assert json.loads(body) == PAYLOAD and headers["Content-Type"] == "application/json"
    assert verify(SECRET, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER], max_age_s=5)


async def test_slow_crm_is_a_timeout_within_the_budget(crm: Crm, session: aiohttp.ClientSession) -> None:
    async def slow(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(5)
        return web.json_response({"action": "route", "target": "1001"})

    crm.handler = slow
    loop = asyncio.get_running_loop()
    started = loop.time()
    answer = await ask(session, webhook(crm.url), PAYLOAD, budget_s=0.3)
    assert isinstance(answer, CrmFailure) and answer.result == "timeout"
    assert 0.3 <= loop.time() - started < 0.6


async def test_body_trickling_past_the_budget_is_a_timeout(crm: Crm, session: aiohttp.ClientSession) -> None:
    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        for ch in b'{"action":"route","target":"1001"}':
            await response.write(bytes([ch]))
            await asyncio.sleep(0.05)
        return response

    crm.handler = trickle
    answer = await ask(session, webhook(crm.url), PAYLOAD, budget_s=0.3)
    assert isinstance(answer, CrmFailure) and answer.result == "timeout"


@pytest.mark.parametrize(
    ("response", "result"),
    [
        (web.Response(status=500, text="boom"), "http_status"),
        (web.Response(status=302, headers={"Location": "http://127.0.0.1:9/elsewhere"}), "http_status"),
        (web.Response(status=200, text="not json"), "invalid_json"),
        (web.Response(status=200, text='{"action":"route"}'), "invalid_body"),
        (web.Response(status=200, body=b'{"action":"hangup","pad":"' + b"x" * 70_000 + b'"}'), "invalid_body"),
    ],
)
async def test_unusable_answers_are_failures(
    crm: Crm, session: aiohttp.ClientSession, response: web.Response, result: str
) -> None:
    async def answer_with(request: web.Request) -> web.StreamResponse:
        return response

    crm.handler = answer_with
    answer = await ask(session, webhook(crm.url), PAYLOAD, budget_s=1.0)
    assert isinstance(answer, CrmFailure) and answer.result == result, answer


async def test_refused_connection_is_a_connection_error(session: aiohttp.ClientSession) -> None:
    answer = await ask(session, webhook("http://127.0.0.1:9/crm"), PAYLOAD, budget_s=1.0)
    assert isinstance(answer, CrmFailure) and answer.result == "connection_error"


async def test_outside_cancellation_propagates(crm: Crm, session: aiohttp.ClientSession) -> None:
    arrived = asyncio.Event()

    async def hang(request: web.Request) -> web.StreamResponse:
        arrived.set()
        await asyncio.sleep(10)
        return web.Response()

    crm.handler = hang
    task = asyncio.create_task(ask(session, webhook(crm.url), PAYLOAD, budget_s=5.0))
    await asyncio.wait_for(arrived.wait(), 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


# ------------------------------------------------------------------------------------------- the router


class Endpoints:
    def __init__(self, *known: str) -> None:
        self.known = set(known)

    async def endpoint_exists(self, endpoint: str) -> bool:
        return endpoint in self.known


def metric(result: str) -> float:
    return REGISTRY.get_sample_value("ringline_engine_crm_webhook_results_total", {"result": result}) or 0.0


async def test_router_routes_to_a_known_endpoint_and_counts_it(crm: Crm, session: aiohttp.ClientSession) -> None:
    router = WebhookRouter(lambda: session, Endpoints("acme-1001"))
    before = metric("route")
    route = await router.route(given_routing_call(), DID_ROUTE, webhook(crm.url), "+15550100")
    assert isinstance(route, Route) and route.dial_string == "PJSIP/acme-1001"
    assert metric("route") == before + 1


async def test_router_takes_the_fallback_for_an_unknown_target_and_warns(
    crm: Crm, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    router = WebhookRouter(lambda: session, Endpoints("acme-1002"))
    before = metric("unknown_target")
    with caplog.at_level(logging.WARNING, logger="engine.routing.webhook_route"):
        route = await router.route(given_routing_call(), DID_ROUTE, webhook(crm.url), "+15550100")
    assert route == Route("voicemail", "1002", "", 25, "voicemail", "1002")
    assert metric("unknown_target") == before + 1
    [record] = [r for r in caplog.records if r.name == "engine.routing.webhook_route"]
    assert record.levelno == logging.WARNING
    assert "unknown_target: 'acme-1001' is no endpoint of the tenant" in record.getMessage()
    assert "fallback voicemail 1002" in record.getMessage()


async def test_router_without_a_webhook_of_the_tenant_takes_the_fallback(session: aiohttp.ClientSession) -> None:
    router = WebhookRouter(lambda: session, Endpoints())
    before = metric("not_configured")
    route = await router.route(given_routing_call(), Route("webhook", "99", "", 25, "hangup", None), None, None)
    assert route == Rejection(41, "fallback hangup")
    assert metric("not_configured") == before + 1


async def test_router_caps_the_tenants_budget(crm: Crm, session: aiohttp.ClientSession) -> None:
    async def slow(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(5)
        return web.Response()

    crm.handler = slow
    router = WebhookRouter(lambda: session, Endpoints(), max_timeout_s=0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    route = await router.route(given_routing_call(), DID_ROUTE, webhook(crm.url, timeout_s=30), "+15550100")
    assert route == Route("voicemail", "1002", "", 25, "voicemail", "1002")
    assert loop.time() - started < 0.5
