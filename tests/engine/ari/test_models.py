"""The generated models against events and REST bodies captured from a real Asterisk 22.

Every captured message must parse into the class named by its ``type`` (never ``UnknownEvent``), every value
must have the type the model declares, and turning the dataclasses back into ARI JSON must give the captured
object back exactly (no field lost, renamed or converted).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Any

import pytest

from engine.ari import models
from engine.ari.models import (
    Application,
    Bridge,
    Channel,
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelEnteredBridge,
    ChannelHangupRequest,
    ChannelStateChange,
    ChannelUserevent,
    ChannelVarset,
    ContactStatusChange,
    DeviceStateChanged,
    Dial,
    Endpoint,
    Event,
    LiveRecording,
    PlaybackFinished,
    PlaybackStarted,
    StasisEnd,
    StasisStart,
    UnknownEvent,
    Variable,
    from_json,
    parse_event,
)

FIXTURES = Path(__file__).parent / "fixtures"
EVENT_FILES = sorted((FIXTURES / "events").glob("*.json"))


def to_ari(value: Any) -> Any:
    """A parsed model back to ARI JSON: field names without the keyword ``_``, None (absent) dropped."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name.rstrip("_"): to_ari(getattr(value, field.name))
            for field in dataclasses.fields(value)
            if getattr(value, field.name) is not None
        }
    if isinstance(value, list):
        return [to_ari(item) for item in value]
    return value


def assert_types(value: Any, path: str = "") -> None:
    """Every field's runtime value matches its annotation (recursively)."""
    hints = typing.get_type_hints(type(value))
    for field in dataclasses.fields(value):
        _check(getattr(value, field.name), hints[field.name], f"{path}.{field.name}")


def _check(value: Any, hint: Any, path: str) -> None:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [h for h in typing.get_args(hint) if h is not type(None)]
        if value is None:
            return
        assert len(options) == 1, path
        _check(value, options[0], path)
    elif origin is list:
        assert isinstance(value, list), path
        for i, item in enumerate(value):
            _check(item, typing.get_args(hint)[0], f"{path}[{i}]")
    elif origin is dict:
        assert isinstance(value, dict), path
    elif isinstance(hint, type) and dataclasses.is_dataclass(hint):
        assert isinstance(value, hint), f"{path}: {type(value).__name__} is not {hint.__name__}"
        assert_types(value, path)
    elif hint is float:
        assert isinstance(value, int | float) and not isinstance(value, bool), path
    else:
        assert type(value) is hint, f"{path}: {value!r} is not {hint.__name__}"


def load(name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((FIXTURES / "events" / f"{name}.json").read_text())
    return data


def parsed(name: str) -> list[Event]:
    return [parse_event(message) for message in load(name)]


def test_fixtures_cover_the_events_the_engine_uses() -> None:
    captured = {path.stem for path in EVENT_FILES}
    assert {
        "StasisStart",
        "StasisEnd",
        "ChannelStateChange",
        "ChannelDestroyed",
        "ChannelHangupRequest",
        "ChannelDtmfReceived",
        "ChannelEnteredBridge",
        "ChannelLeftBridge",
        "Dial",
        "BridgeDestroyed",
        "ChannelVarset",
        "PlaybackStarted",
        "PlaybackFinished",
    } <= captured


@pytest.mark.parametrize("path", EVENT_FILES, ids=[p.stem for p in EVENT_FILES])
def test_every_captured_event_parses_into_its_type_and_round_trips(path: Path) -> None:
    messages = json.loads(path.read_text())
    assert messages
    for message in messages:
        event = parse_event(message)
        assert not isinstance(event, UnknownEvent), getattr(event, "error", None)
        assert type(event).__name__ == message["type"] == path.stem
        assert_types(event)
        assert to_ari(event) == message


REST_MODELS: dict[str, tuple[type[Any], bool]] = {
    "channel": (Channel, False),
    "channels_list": (Channel, True),
    "bridge": (Bridge, False),
    "bridge_created": (Bridge, False),
    "bridges_list": (Bridge, True),
    "endpoint": (Endpoint, False),
    "endpoint_registered": (Endpoint, False),
    "endpoints_list": (Endpoint, True),
    "application": (Application, False),
    "playback": (models.Playback, False),
    "live_recording": (LiveRecording, False),
    "variable": (Variable, False),
    "asterisk_info": (models.AsteriskInfo, False),
}


@pytest.mark.parametrize("name", sorted(REST_MODELS))
def test_captured_rest_bodies_parse_and_round_trip(name: str) -> None:
    cls, is_list = REST_MODELS[name]
    body = json.loads((FIXTURES / "rest" / f"{name}.json").read_text())
    items = body if is_list else [body]
    assert items
    for item in items:
        model = from_json(cls, item)
        assert isinstance(model, cls)
        assert_types(model)
        assert to_ari(model) == item


# ---------------------------------------------------------------------------------------------- values


def test_stasis_start_carries_args_and_the_channel_location() -> None:
    by_id = {e.channel.id: e for e in parsed("StasisStart") if isinstance(e, StasisStart)}
    originated = by_id["fx-a"]
    assert originated.args == ["fx", "args"]
    assert originated.application == "ari-test"
    assert originated.channel.name.startswith("Local/100@ari-test-")
    assert originated.channel.name.endswith(";1")
    assert originated.channel.dialplan.app_name == "Stasis"
    assert originated.channel.caller.number == "5551000"
    assert originated.replace_channel is None
    from_dialplan = by_id["fx-h"]
    assert from_dialplan.args == ["from-dialplan", "300"]
    assert from_dialplan.channel.dialplan.exten == "300"
    assert from_dialplan.channel.dialplan.priority == 1


def test_channel_destroyed_carries_the_q850_cause() -> None:
    destroyed = {e.channel.id: e for e in parsed("ChannelDestroyed") if isinstance(e, ChannelDestroyed)}
    assert destroyed["fx-a"].cause == 17
    assert destroyed["fx-a"].cause_txt == "User busy"
    assert destroyed["fx-c"].cause == 16
    assert destroyed["fx-c"].cause_txt == "Normal Clearing"


def test_hangup_request_and_state_change() -> None:
    requests = [e for e in parsed("ChannelHangupRequest") if isinstance(e, ChannelHangupRequest)]
    assert any(e.channel.id == "fx-a" and e.soft for e in requests)
    assert all(isinstance(e.cause, int) for e in requests if e.cause is not None)
    states = [e for e in parsed("ChannelStateChange") if isinstance(e, ChannelStateChange)]
    assert {e.channel.state for e in states} <= {"Ring", "Ringing", "Up"}


def test_dtmf_digits_and_duration() -> None:
    digits = [
        (e.channel.id, e.digit, e.duration_ms)
        for e in parsed("ChannelDtmfReceived")
        if isinstance(e, ChannelDtmfReceived)
    ]
    assert digits == [("fx-b", "1", 120), ("fx-b", "#", 120)]


def test_dial_has_peer_and_status() -> None:
    dials = [e for e in parsed("Dial") if isinstance(e, Dial)]
    assert {e.dialstatus for e in dials} >= {"", "ANSWER"}
    assert all(e.peer.id for e in dials)
    dialed = [e for e in dials if e.peer.id == "fx-c"]
    assert [e.dialstatus for e in dialed] == ["", "ANSWER"]
    assert dialed[0].dialstring == "200@ari-test"
    # Seen on 22.10.1: POST /channels/{id}/dial?caller=... does not fill Dial.caller (Dial() in the dialplan
    # does); the engine must not rely on it.
    assert all(e.caller is None for e in dials)


def test_bridge_enter_and_variables() -> None:
    entered = [e for e in parsed("ChannelEnteredBridge") if isinstance(e, ChannelEnteredBridge)]
    assert [e.channel.id for e in entered if e.channel is not None] == ["fx-a", "fx-e"]
    assert entered[-1].bridge.channels == ["fx-a", "fx-e"]
    assert entered[-1].bridge.bridge_type == "mixing"
    assert entered[-1].bridge.name == "fixture"
    varsets = [e for e in parsed("ChannelVarset") if isinstance(e, ChannelVarset)]
    fx_var = [e for e in varsets if e.variable == "FX_VAR"]
    assert fx_var[0].value == "fx-value"
    assert fx_var[0].channel is not None and fx_var[0].channel.id == "fx-a"


def test_playback_user_event_device_and_contact() -> None:
    started = parsed("PlaybackStarted")[0]
    finished = parsed("PlaybackFinished")[0]
    assert isinstance(started, PlaybackStarted) and isinstance(finished, PlaybackFinished)
    assert (started.playback.id, started.playback.state) == ("fx-play", "playing")
    assert (finished.playback.id, finished.playback.state) == ("fx-play", "done")
    assert started.playback.target_uri == "channel:fx-b"
    user_event = parsed("ChannelUserevent")[0]
    assert isinstance(user_event, ChannelUserevent)
    assert user_event.eventname == "fx-user-event"
    device = parsed("DeviceStateChanged")[0]
    assert isinstance(device, DeviceStateChanged)
    assert (device.device_state.name, device.device_state.state) == ("Stasis:fx-device", "BUSY")
    contact = parsed("ContactStatusChange")[0]
    assert isinstance(contact, ContactStatusChange)
    assert contact.endpoint.resource == "alice"
    assert contact.contact_info.aor == "alice"
    assert contact.contact_info.contact_status == "NonQualified"


def test_stasis_end_for_every_channel_that_left() -> None:
    ended = {e.channel.id for e in parsed("StasisEnd") if isinstance(e, StasisEnd)}
    assert {"fx-a", "fx-b", "fx-snoop", "fx-h"} <= ended


# ---------------------------------------------------------------------------------------------- robustness


def _state_change() -> dict[str, Any]:
    message = dict(load("ChannelStateChange")[0])
    message["channel"] = dict(message["channel"])
    return message


def test_unknown_type_is_an_unknown_event_not_an_exception() -> None:
    event = parse_event({"type": "SomethingNew", "application": "a", "timestamp": "t", "x": 1})
    assert isinstance(event, UnknownEvent)
    assert event.type == "SomethingNew"
    assert event.error is None
    assert event.raw["x"] == 1


def test_message_without_type_is_an_unknown_event() -> None:
    event = parse_event({})
    assert isinstance(event, UnknownEvent)
    assert (event.type, event.application, event.timestamp) == ("", "", "")


def test_missing_required_field_gives_unknown_event_with_error() -> None:
    message = _state_change()
    del message["channel"]["id"]
    event = parse_event(message)
    assert isinstance(event, UnknownEvent)
    assert event.type == "ChannelStateChange"
    assert event.error is not None and event.error.startswith("KeyError")


def test_wrongly_shaped_value_gives_unknown_event_with_error() -> None:
    message = _state_change()
    message["channel"] = "not an object"
    event = parse_event(message)
    assert isinstance(event, UnknownEvent) and event.error is not None


def test_extra_fields_are_ignored_and_missing_optional_fields_are_none() -> None:
    message = _state_change()
    message["brand_new_field"] = {"x": 1}
    message["channel"]["another_new_field"] = 2
    message.pop("asterisk_id", None)
    message["channel"].pop("caller_rdnis", None)
    event = parse_event(message)
    assert isinstance(event, ChannelStateChange)
    assert event.asterisk_id is None
    assert event.channel.caller_rdnis is None
    assert not hasattr(event, "brand_new_field")


def test_models_are_frozen_and_slotted() -> None:
    event = parse_event(load("StasisStart")[0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.type = "x"  # type: ignore[misc]
    assert not hasattr(event, "__dict__")
    assert event == parse_event(load("StasisStart")[0])
