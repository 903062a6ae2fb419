"""AriClient against a small fake ARI HTTP server: requests on the wire, error mapping, connection reuse."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from engine.ari._auth import basic_auth
from engine.ari.client import AriClient
from engine.ari.errors import (
    AriBadRequest,
    AriConflict,
    AriError,
    AriHttpError,
    AriNotFound,
    AriPreconditionFailed,
    AriUnavailable,
    AriUnprocessable,
)

FIXTURES = Path(__file__).parent / "fixtures" / "rest"
CHANNEL = json.loads((FIXTURES / "channel.json").read_text())
BRIDGE = json.loads((FIXTURES / "bridge.json").read_text())


@dataclass
class Seen:
    method: str
    path: str  # raw (still percent-encoded)
    query: dict[str, str]
    body: Any
    peer: tuple[str, int]


@dataclass
class FakeAri:
    """Records requests; answers with ``reply(request) -> (status, body)``, default 200 + ``{}``."""

    url: str = ""
    seen: list[Seen] = field(default_factory=list)
    reply: Callable[[Seen], Awaitable[tuple[int, Any]] | tuple[int, Any]] = lambda _: (200, {})

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != basic_auth("u", "p"):
            return web.json_response({"message": "Authentication required"}, status=401)
        raw = await request.read()
        seen = Seen(
            method=request.method,
            path=request.raw_path.split("?", 1)[0],
            query=dict(request.query),
            body=json.loads(raw) if raw else None,
            peer=request.transport.get_extra_info("peername") if request.transport else ("", 0),
        )
        self.seen.append(seen)
        result = self.reply(seen)
        status, body = await result if asyncio.iscoroutine(result) else result  # type: ignore[misc]
        if status == 204:
            return web.Response(status=204)
        if isinstance(body, str | bytes):
            return web.Response(status=status, body=body)
        return web.json_response(body, status=status)


@pytest.fixture
async def fake() -> AsyncIterator[FakeAri]:
    server = FakeAri()
    app = web.Application()
    app.router.add_route("*", "/ari/{tail:.*}", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.url = f"http://127.0.0.1:{runner.addresses[0][1]}/ari"
    try:
        yield server
    finally:
        await runner.cleanup()


@pytest.fixture
async def client(fake: FakeAri) -> AsyncIterator[AriClient]:
    async with AriClient(fake.url, "u", "p", app="ringline", request_timeout_s=1.0) as ari:
        yield ari


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# ---------------------------------------------------------------------------------------------- wire format


async def test_originate_sends_ari_parameter_names_and_variables_body(
    fake: FakeAri, client: AriClient
) -> None:
    fake.reply = lambda _: (200, CHANNEL)
    channel = await client.channel_originate(
        endpoint="PJSIP/alice",
        app_args=["a", "b"],
        channel_id="c-1",
        other_channel_id="c-2",
        caller_id='"Ringline" <100>',
        timeout_s=20,
        variables={"X": "1"},
        formats=["ulaw", "alaw"],
    )
    assert channel.id == CHANNEL["id"]
    (seen,) = fake.seen
    assert (seen.method, seen.path) == ("POST", "/ari/channels")
    assert seen.query == {
        "endpoint": "PJSIP/alice",
        "app": "ringline",
        "appArgs": "a,b",
        "channelId": "c-1",
        "otherChannelId": "c-2",
        "callerId": '"Ringline" <100>',
        "timeout": "20",
        "formats": "ulaw,alaw",
    }
    assert seen.body == {"variables": {"X": "1"}}


async def test_originate_to_dialplan_does_not_send_app(fake: FakeAri, client: AriClient) -> None:
    fake.reply = lambda _: (200, CHANNEL)
    await client.channel_originate(endpoint="Local/1@x", context="x", extension="1", priority=1)
    assert fake.seen[0].query == {"endpoint": "Local/1@x", "context": "x", "extension": "1", "priority": "1"}
    assert fake.seen[0].body is None


async def test_ids_are_percent_encoded_as_one_path_segment(fake: FakeAri, client: AriClient) -> None:
    fake.reply = lambda _: (204, None)
    await client.channel_answer("odd/id with;chars%")
    assert fake.seen[0].path == "/ari/channels/odd%2Fid%20with%3Bchars%25/answer"


async def test_booleans_lists_and_none(fake: FakeAri, client: AriClient) -> None:
    fake.reply = lambda _: (204, None)
    await client.bridge_add_channel("b", ["c1", "c2"], absorb_dtmf=True, mute=False, role=None)
    assert fake.seen[0].query == {"channel": "c1,c2", "absorbDTMF": "true", "mute": "false"}


async def test_hangup_reason_code_and_already_gone(fake: FakeAri, client: AriClient) -> None:
    replies = iter([(204, None), (404, {"message": "Channel not found"})])
    fake.reply = lambda _: next(replies)
    assert await client.channel_hangup("c", reason_code=17) is True
    assert await client.channel_hangup("c", reason="busy") is False
    assert [s.query for s in fake.seen] == [{"reason_code": "17"}, {"reason": "busy"}]
    assert all(s.method == "DELETE" and s.path == "/ari/channels/c" for s in fake.seen)
    with pytest.raises(ValueError):
        await client.channel_hangup("c", reason="busy", reason_code=17)


async def test_bridge_destroy_and_playback_stop_return_false_when_gone(
    fake: FakeAri, client: AriClient
) -> None:
    fake.reply = lambda _: (404, {"message": "not found"})
    assert await client.bridge_destroy("b") is False
    assert await client.playback_stop("p") is False


async def test_typed_helpers_parse_models(fake: FakeAri, client: AriClient) -> None:
    fake.reply = lambda s: (200, [BRIDGE]) if s.path == "/ari/bridges" else (200, {"value": "v"})
    (bridge,) = await client.bridges_list()
    assert bridge.id == BRIDGE["id"]
    assert await client.channel_get_var("c", "X") == "v"
    assert fake.seen[1].query == {"variable": "X"}


# ---------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, AriBadRequest),
        (404, AriNotFound),
        (409, AriConflict),
        (412, AriPreconditionFailed),
        (422, AriUnprocessable),
        (500, AriHttpError),
        (401, AriHttpError),
    ],
)
async def test_status_maps_to_error_class(
    fake: FakeAri, client: AriClient, status: int, cls: type[AriHttpError]
) -> None:
    fake.reply = lambda _: (status, {"message": f"m{status}"})
    with pytest.raises(cls) as caught:
        await client.request("POST", "/channels/x/answer")
    assert type(caught.value) is cls
    error = caught.value
    assert (error.status, error.method, error.path, error.message) == (
        status,
        "POST",
        "/channels/x/answer",
        f"m{status}",
    )
    assert str(error) == f"POST /channels/x/answer -> {status}: m{status}"


async def test_non_json_error_body_becomes_the_message(fake: FakeAri, client: AriClient) -> None:
    fake.reply = lambda _: (503, "Service Unavailable\n")
    with pytest.raises(AriHttpError, match="Service Unavailable"):
        await client.channels_list()


async def test_wrong_credentials_are_an_http_error(fake: FakeAri) -> None:
    async with AriClient(fake.url, "u", "wrong", app="a") as ari:
        with pytest.raises(AriHttpError) as caught:
            await ari.channels_list()
    assert caught.value.status == 401


async def test_connection_refused_is_unavailable() -> None:
    async with AriClient(f"http://127.0.0.1:{free_port()}/ari", "u", "p", app="a") as ari:
        with pytest.raises(AriUnavailable) as caught:
            await ari.channels_list()
    assert isinstance(caught.value, AriError)
    assert caught.value.path == "/channels"


async def test_slow_answer_is_unavailable_after_the_budget(fake: FakeAri) -> None:
    async def slow(_: Seen) -> tuple[int, Any]:
        await asyncio.sleep(1.0)
        return 200, []

    fake.reply = slow
    async with AriClient(fake.url, "u", "p", app="a", request_timeout_s=0.1) as ari:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(AriUnavailable):
            await ari.channels_list()
        assert loop.time() - started < 0.5


async def test_outside_cancellation_is_not_turned_into_an_ari_error(fake: FakeAri, client: AriClient) -> None:
    async def slow(_: Seen) -> tuple[int, Any]:
        await asyncio.sleep(1.0)
        return 200, []

    fake.reply = slow
    task = asyncio.create_task(client.channels_list())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


# ---------------------------------------------------------------------------------------------- session


async def test_requests_reuse_one_keep_alive_connection(fake: FakeAri, client: AriClient) -> None:
    fake.reply = lambda _: (200, [])
    for _ in range(5):
        await client.channels_list()
    assert len({s.peer for s in fake.seen}) == 1


async def test_shared_session_is_not_closed(fake: FakeAri) -> None:
    async with aiohttp.ClientSession() as session:
        ari = AriClient(fake.url, "u", "p", app="a", session=session)
        fake.reply = lambda _: (200, [])
        await ari.channels_list()
        await ari.close()
        assert not session.closed


async def test_closed_client_refuses_requests(fake: FakeAri) -> None:
    ari = AriClient(fake.url, "u", "p", app="a")
    await ari.close()
    with pytest.raises(RuntimeError):
        await ari.channels_list()
