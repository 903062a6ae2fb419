"""AriClient and AriEventStream against a real Asterisk 22 (throwaway instance on 127.0.0.1:28088).

Channels are Local channels into the test dialplan: ``Local/100@ari-test`` answers and enters
``Stasis(ari-test)`` on its ;2 half while the ;1 half enters the app through originate, so every call gives
two Stasis channels; ``200`` answers and waits 60 s.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from engine.ari import codegen
from engine.ari.client import AriClient
from engine.ari.errors import AriBadRequest, AriConflict, AriNotFound, AriUnprocessable
from engine.ari.models import (
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelEnteredBridge,
    ChannelHangupRequest,
    ChannelLeftBridge,
    ChannelStateChange,
    ChannelVarset,
    PlaybackFinished,
    PlaybackStarted,
    StasisEnd,
    StasisStart,
)
from tests.engine.ari.asterisk_instance import AsteriskInstance
from tests.engine.ari.conftest import EventRecorder, make_recorder, new_id
from tests.faults import FaultProxy
from tests.scenarios import eventually

pytestmark = [pytest.mark.peers, pytest.mark.timeout(60)]

MODELS_PY = Path(codegen.__file__).with_name("models.py")


async def given_call_in_stasis(
    ari: AriClient, events: EventRecorder, *, args: list[str] | None = None
) -> tuple[str, str]:
    """Originate Local/100 into the app; returns (;1 id, ;2 id) once both sent StasisStart."""
    first, second = new_id("a"), new_id("b")
    await ari.channel_originate(
        endpoint=f"Local/100@{ari.app}", app_args=args, channel_id=first, other_channel_id=second
    )
    await events.wait_for(StasisStart, lambda e: e.channel.id == first)
    await events.wait_for(StasisStart, lambda e: e.channel.id == second)
    return first, second


# ---------------------------------------------------------------------------------------------- calls


async def test_originate_into_app_gives_typed_stasis_start(ari: AriClient, events: EventRecorder) -> None:
    first, second = new_id("a"), new_id("b")
    channel = await ari.channel_originate(
        endpoint=f"Local/100@{ari.app}",
        app_args=["campaign-7", "contact-42"],
        channel_id=first,
        other_channel_id=second,
        caller_id='"Ringline" <5550100>',
        variables={"RINGLINE_CALL": "call-1"},
    )
    assert (channel.id, channel.state) == (first, "Down")
    start = await events.wait_for(StasisStart, lambda e: e.channel.id == first)
    assert start.args == ["campaign-7", "contact-42"]
    assert start.application == ari.app
    assert start.channel.caller.number == "5550100"
    assert start.channel.state == "Up"
    dialplan_side = await events.wait_for(StasisStart, lambda e: e.channel.id == second)
    assert dialplan_side.args == []
    assert (dialplan_side.channel.dialplan.exten, dialplan_side.channel.dialplan.app_name) == (
        "100",
        "Stasis",
    )
    assert await ari.channel_get_var(first, "RINGLINE_CALL") == "call-1"


async def test_call_lifecycle_bridge_and_hangup_cause(ari: AriClient, events: EventRecorder) -> None:
    a1, a2 = await given_call_in_stasis(ari, events)
    b1, b2 = await given_call_in_stasis(ari, events)
    # ;1 halves are answered by the Local pair already; answering again is accepted.
    await ari.channel_answer(a1)
    bridge_id = new_id("bridge")
    bridge = await ari.bridge_create(bridge_id=bridge_id, name="call")
    assert (bridge.id, bridge.bridge_type, bridge.channels) == (bridge_id, "mixing", [])
    await ari.bridge_add_channel(bridge_id, [a1, b1])
    await events.wait_for(ChannelEnteredBridge, lambda e: e.channel is not None and e.channel.id == b1)
    assert sorted((await ari.bridge_get(bridge_id)).channels) == sorted([a1, b1])
    assert bridge_id in {b.id for b in await ari.bridges_list()}
    assert {a1, a2, b1, b2} <= {c.id for c in await ari.channels_list()}

    await ari.bridge_remove_channel(bridge_id, b1)
    await events.wait_for(ChannelLeftBridge, lambda e: e.channel.id == b1)
    assert await ari.channel_hangup(a1, reason="busy") is True
    destroyed = await events.wait_for(ChannelDestroyed, lambda e: e.channel.id == a1)
    assert (destroyed.cause, destroyed.cause_txt) == (17, "User busy")
    await events.wait_for(StasisEnd, lambda e: e.channel.id == a1)
    assert await ari.channel_hangup(b1, reason_code=21) is True
    destroyed = await events.wait_for(ChannelDestroyed, lambda e: e.channel.id == b1)
    assert (destroyed.cause, destroyed.cause_txt) == (21, "Call Rejected")

    assert await ari.channel_hangup(a1) is False  # already gone: an outcome, not an error
    assert await ari.bridge_destroy(bridge_id) is True
    assert await ari.bridge_destroy(bridge_id) is False


async def test_error_statuses_map_to_the_error_tree(ari: AriClient, events: EventRecorder) -> None:
    with pytest.raises(AriNotFound) as not_found:
        await ari.channel_get("no-such-channel")
    assert (not_found.value.status, not_found.value.path) == (404, "/channels/no-such-channel")
    assert not_found.value.message == "Channel not found"
    bridge_id = new_id("bridge")
    await ari.bridge_create(bridge_id=bridge_id)
    with pytest.raises(AriBadRequest, match="Channel not found"):
        await ari.bridge_add_channel(bridge_id, "no-such-channel")
    in_dialplan = new_id("dp")
    await ari.channel_originate(
        endpoint=f"Local/200@{ari.app}", context=ari.app, extension="200", priority=1, channel_id=in_dialplan
    )
    with pytest.raises(AriUnprocessable) as unprocessable:
        await ari.bridge_add_channel(bridge_id, in_dialplan)
    assert unprocessable.value.status == 422
    first, _ = await given_call_in_stasis(ari, events)
    with pytest.raises(AriConflict):
        await ari.channel_originate(endpoint=f"Local/100@{ari.app}", channel_id=first)
    with pytest.raises(AriBadRequest):
        await ari.channel_hangup(first, reason="not-a-reason")
    with pytest.raises(AriNotFound):
        await ari.channel_get_var(first, "NEVER_SET")


async def test_media_and_control_operations(ari: AriClient, events: EventRecorder) -> None:
    first, second = await given_call_in_stasis(ari, events)
    await ari.channel_send_dtmf(first, "5", duration_ms=120)
    dtmf = await events.wait_for(ChannelDtmfReceived, lambda e: e.channel.id == second)
    assert (dtmf.digit, dtmf.duration_ms) == ("5", 120)

    playback = await ari.channel_play(second, "tone:440", playback_id=new_id("play"))
    await events.wait_for(PlaybackStarted, lambda e: e.playback.id == playback.id)
    assert await ari.playback_stop(playback.id) is True
    finished = await events.wait_for(PlaybackFinished, lambda e: e.playback.id == playback.id)
    assert finished.playback.state == "done"

    async def playback_gone() -> bool:
        # "already gone" answers False; under load Asterisk may drop the playback object just after the event
        return await ari.playback_stop(playback.id) is False

    await eventually(playback_gone, timeout_s=5, what="stopped playback gone (404)")

    await ari.channel_set_var(first, "X_RINGLINE", "1")
    await events.wait_for(ChannelVarset, lambda e: e.variable == "X_RINGLINE" and e.value == "1")
    assert await ari.channel_get_var(first, "X_RINGLINE") == "1"
    for on, off in (
        (ari.channel_hold, ari.channel_unhold),
        (ari.channel_mute, ari.channel_unmute),
        (ari.channel_start_moh, ari.channel_stop_moh),
        (ari.channel_ring, ari.channel_ring_stop),
    ):
        await on(first)
        await off(first)

    snoop = await ari.channel_snoop(first, spy="both", snoop_id=new_id("snoop"))
    await events.wait_for(StasisStart, lambda e: e.channel.id == snoop.id)
    assert await ari.channel_hangup(snoop.id)

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rtp:
        rtp.bind(("127.0.0.1", 0))
        host, port = rtp.getsockname()
        media = await ari.channel_external_media(external_host=f"{host}:{port}", format="ulaw")
        await events.wait_for(StasisStart, lambda e: e.channel.id == media.id)
        assert await ari.channel_hangup(media.id)

    await ari.channel_continue(second, context=ari.app, extension="200", priority=1)
    end = await events.wait_for(StasisEnd, lambda e: e.channel.id == second)
    assert end.channel.id == second


async def test_create_then_dial(ari: AriClient, events: EventRecorder) -> None:
    created = await ari.channel_create(endpoint=f"Local/200@{ari.app}", channel_id=new_id("c"))
    # The channel enters Stasis on a thread of its own: dialing before its StasisStart may get 409.
    await events.wait_for(StasisStart, lambda e: e.channel.id == created.id)
    await ari.channel_dial(created.id, timeout_s=5)
    up = await events.wait_for(
        ChannelStateChange, lambda e: e.channel.id == created.id and e.channel.state == "Up"
    )
    assert up.channel.name.startswith("Local/200@")


async def test_info_application_and_endpoints(ari: AriClient, events: EventRecorder) -> None:
    info = await ari.asterisk_info()
    assert info["system"]["version"].startswith("22.")
    application = await ari.applications_get()
    assert application.name == ari.app
    endpoints = await ari.endpoints_list()
    assert ("PJSIP", "alice") in {(e.technology, e.resource) for e in endpoints}
    alice = await ari.endpoint_get("PJSIP", "alice")
    assert alice.state in {"offline", "online", "unknown"}
    with pytest.raises(AriNotFound):
        await ari.endpoint_get("PJSIP", "nobody")


# ---------------------------------------------------------------------------------------------- drops


async def test_websocket_cut_mid_stream_reconnects_and_the_call_survives(
    asterisk: AsteriskInstance, ari: AriClient
) -> None:
    proxy = FaultProxy("127.0.0.1", 28088)
    port = await proxy.start()
    recorder = make_recorder(asterisk, base_url=f"http://127.0.0.1:{port}/ari")
    recorder.start()
    try:
        await recorder.wait_until(lambda: recorder.connected == [1])
        first, second = await given_call_in_stasis(ari, recorder)

        await proxy.cut_all()
        await recorder.wait_until(lambda: recorder.connected == [1, 2])
        assert recorder.disconnected and recorder.log.index("connected 2") > recorder.log.index(
            f"disconnected {recorder.disconnected[0]}"
        )
        assert (await ari.channel_get(first)).state == "Up"

        await ari.channel_set_var(first, "AFTER_CUT", "yes")
        await recorder.wait_for(ChannelVarset, lambda e: e.variable == "AFTER_CUT")
        assert await ari.channel_hangup(first)
        await recorder.wait_for(ChannelDestroyed, lambda e: e.channel.id == first)
        await recorder.wait_for(ChannelHangupRequest, lambda e: e.channel.id == second)
        stats = recorder.stream.statistics()
        assert (stats.connects, stats.reconnects, stats.connected) == (2, 1, True)
    finally:
        await recorder.stop()
        await proxy.stop()


async def test_asterisk_closing_the_socket_cleanly_reconnects(
    asterisk: AsteriskInstance, ari: AriClient, events: EventRecorder
) -> None:
    first, _ = await given_call_in_stasis(ari, events)
    output = await asyncio.to_thread(asterisk.cli, "ari shutdown websocket sessions")
    assert "Shutting down all websocket sessions" in output
    await events.wait_until(lambda: events.connected == [1, 2])
    assert events.disconnected == ["closed by server (code 1000)"]
    await ari.channel_set_var(first, "AFTER_SHUTDOWN", "yes")
    await events.wait_for(ChannelVarset, lambda e: e.variable == "AFTER_SHUTDOWN")


async def test_silent_dead_path_is_detected_by_heartbeat(asterisk: AsteriskInstance, ari: AriClient) -> None:
    proxy = FaultProxy("127.0.0.1", 28088)
    port = await proxy.start()
    recorder = make_recorder(
        asterisk, base_url=f"http://127.0.0.1:{port}/ari", heartbeat_s=0.5, connect_timeout_s=0.5
    )
    recorder.start()
    try:
        await recorder.wait_until(lambda: recorder.connected == [1])
        proxy.pause()
        await recorder.wait_until(lambda: len(recorder.disconnected) == 1, timeout_s=3)
        assert "PONG" in recorder.disconnected[0]
        proxy.resume()
        await recorder.wait_until(lambda: 2 in recorder.connected, timeout_s=10)
        first, _ = await given_call_in_stasis(ari, recorder)
        assert first
    finally:
        await recorder.stop()
        await proxy.stop()


# ---------------------------------------------------------------------------------------------- api-docs


async def test_served_api_docs_generate_the_committed_models(asterisk: AsteriskInstance) -> None:
    url = f"{asterisk.base_url}/api-docs/resources.json"
    docs = await asyncio.to_thread(
        codegen.load_api_docs, url, user=asterisk.username, password=asterisk.password
    )
    committed = MODELS_PY.read_text().splitlines()
    generated = codegen.render(docs, label="live").splitlines()
    assert generated[3:] == committed[3:]  # all but the "# Source:" line
