"""Capture real ARI events and REST bodies from the throwaway Asterisk 22 into ``fixtures/``.

    python -m tests.engine.ari.capture_fixtures          # starts its own instance (port 28088)

Runs fixed scenarios with fixed ids (``fx-...``) through a raw aiohttp WebSocket (not our stream, so the
capture does not depend on the code under test) and writes:

* ``fixtures/events/<Type>.json``: every message of that type, in the order received;
* ``fixtures/rest/<name>.json``: response bodies of GET /channels/{id}, /bridges/{id}, /endpoints, ...

Timestamps, unique ids of Local channels and ``asterisk_id`` change from run to run; the tests read the
values they assert from the files, except the ones the scenarios fix (ids, extensions, args, digits).
"""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import aiohttp

from tests.engine.ari import asterisk_instance

FIXTURES = Path(__file__).parent / "fixtures"


async def _capture(
    instance: asterisk_instance.AsteriskInstance,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    token = base64.b64encode(f"{instance.username}:{instance.password}".encode()).decode()
    headers = {"Authorization": f"Basic {token}"}
    base = instance.base_url
    app = instance.app
    ctx = instance.context
    received: list[dict[str, Any]] = []
    rest: dict[str, Any] = {}

    async with aiohttp.ClientSession(headers=headers) as http:

        async def call(method: str, path: str, *, allow_404: bool = False, **params: str) -> Any:
            async with http.request(method, base + path, params=params) as response:
                body = await response.read()
                if response.status == 404 and allow_404:
                    print(f"{method} {path}: 404 {body!r}")
                    return None
                if response.status >= 300:
                    raise RuntimeError(f"{method} {path} {params} -> {response.status} {body!r}")
                return json.loads(body) if body else None

        ws_url = base.replace("http://", "ws://") + f"/events?app={app}&subscribeAll=false"
        async with http.ws_connect(ws_url) as ws:

            async def reader() -> None:
                async for msg in ws:
                    if msg.type is aiohttp.WSMsgType.TEXT:
                        received.append(json.loads(msg.data))

            reading = asyncio.create_task(reader())

            async def settle(seconds: float = 0.4) -> None:
                await asyncio.sleep(seconds)

            # Two Local halves, both in Stasis: ;1 by originate, ;2 by Stasis() in the dialplan. /n keeps the
            # pair from optimizing itself away once bridged.
            await call(
                "POST",
                "/channels",
                endpoint=f"Local/100@{ctx}/n",
                app=app,
                appArgs="fx,args",
                channelId="fx-a",
                otherChannelId="fx-b",
                callerId='"Fixture" <5551000>',
            )
            await call(
                "POST",
                "/channels",
                endpoint=f"Local/100@{ctx}/n",
                app=app,
                channelId="fx-e",
                otherChannelId="fx-f",
            )
            await settle()
            rest["channel"] = await call("GET", "/channels/fx-a")
            rest["channels_list"] = await call("GET", "/channels")
            await call("POST", "/channels/fx-a/variable", variable="FX_VAR", value="fx-value")
            await call("POST", "/channels/fx-a/variable", variable="CALLERID(name)", value="Renamed")
            rest["variable"] = await call("GET", "/channels/fx-a/variable", variable="FX_VAR")
            await call("POST", "/channels/fx-a/dtmf", dtmf="1#", duration="120")
            await settle(0.8)
            await call("POST", "/channels/fx-a/hold")
            await settle(0.2)
            await call("DELETE", "/channels/fx-a/hold")
            await call("POST", "/events/user/fx-user-event", application=app, source="channel:fx-a")
            # Playback of a tone (the root ships no sound files), stopped by us.
            rest["playback"] = await call(
                "POST", "/channels/fx-b/play", media="tone:440", playbackId="fx-play"
            )
            await settle(0.3)
            await call("DELETE", "/playbacks/fx-play", allow_404=True)
            await settle()
            # Recording (format_wav), stopped after a second.
            rest["live_recording"] = await call(
                "POST",
                "/channels/fx-b/record",
                name="fx-rec",
                format="wav",
                maxDurationSeconds="5",
                ifExists="overwrite",
            )
            await settle(1.0)
            await call("POST", "/recordings/live/fx-rec/stop", allow_404=True)
            await settle()
            # Bridge: create, add two channels of different calls, remove one, destroy.
            rest["bridge_created"] = await call(
                "POST", "/bridges", type="mixing", bridgeId="fx-bridge", name="fixture"
            )
            await call("POST", f"/applications/{app}/subscription", eventSource="bridge:fx-bridge")
            await call("POST", "/bridges/fx-bridge/addChannel", channel="fx-a,fx-e")
            await settle()
            rest["bridge"] = await call("GET", "/bridges/fx-bridge")
            rest["bridges_list"] = await call("GET", "/bridges")
            await call("POST", "/bridges/fx-bridge/removeChannel", channel="fx-e")
            await settle()
            await call("DELETE", "/bridges/fx-bridge")
            # Snoop on fx-a, then hang up.
            await call("POST", "/channels/fx-a/snoop", app=app, spy="both", snoopId="fx-snoop")
            await settle()
            await call("DELETE", "/channels/fx-snoop")
            await call("POST", "/channels/fx-b/continue", context=ctx, extension="200", priority="1")
            await settle()
            await call("DELETE", "/channels/fx-a", reason_code="17")
            await settle()
            # channel_create + dial with a caller: Dial events with caller and peer.
            await call(
                "POST",
                "/channels/create",
                endpoint=f"Local/200@{ctx}",
                app=app,
                channelId="fx-c",
                otherChannelId="fx-d",
            )
            await call("POST", "/channels/fx-c/dial", caller="fx-e", timeout="5")
            await settle()
            for channel_id in ("fx-b", "fx-c", "fx-d", "fx-e", "fx-f"):
                await call("DELETE", f"/channels/{channel_id}", allow_404=True, reason="normal")
            await settle()
            # Dialplan-originated Stasis entry with args.
            await call(
                "POST",
                "/channels",
                endpoint=f"Local/300@{ctx}",
                extension="200",
                context=ctx,
                priority="1",
                channelId="fx-g",
                otherChannelId="fx-h",
            )
            await settle()
            await call("DELETE", "/channels/fx-h", allow_404=True)
            await settle()
            # Device state.
            await call(
                "POST", f"/applications/{app}/subscription", eventSource="deviceState:Stasis:fx-device"
            )
            await call("PUT", "/deviceStates/Stasis:fx-device", deviceState="BUSY")
            await settle()
            await call("DELETE", "/deviceStates/Stasis:fx-device")
            await settle()
            # A SIP REGISTER for endpoint alice (no auth configured): contact/endpoint state events.
            await call("POST", f"/applications/{app}/subscription", eventSource="endpoint:PJSIP/alice")
            await _sip_register(expires=60)
            await settle()
            rest["endpoint_registered"] = await call("GET", "/endpoints/PJSIP/alice")
            await _sip_register(expires=0)
            await settle()
            rest["endpoints_list"] = await call("GET", "/endpoints")
            rest["endpoint"] = await call("GET", "/endpoints/PJSIP/alice")
            rest["application"] = await call("GET", f"/applications/{app}")
            rest["asterisk_info"] = await call("GET", "/asterisk/info")
            # A second socket for the same app: the first one receives ApplicationReplaced.
            async with http.ws_connect(ws_url):
                await settle()
            await settle()
            await ws.close()
            await reading
    return received, rest


async def _sip_register(*, expires: int) -> None:
    """One REGISTER for alice from an ephemeral UDP port to Asterisk's PJSIP transport; waits for the 200."""
    loop = asyncio.get_running_loop()
    answered: asyncio.Future[bytes] = loop.create_future()

    class Protocol(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            if data.startswith(b"SIP/2.0 200") and not answered.done():
                answered.set_result(data)

    transport, _ = await loop.create_datagram_endpoint(Protocol, local_addr=("127.0.0.1", 0))
    try:
        port = transport.get_extra_info("sockname")[1]
        request = (
            f"REGISTER sip:127.0.0.1:{asterisk_instance.SIP_PORT} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-fx-{expires};rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:alice@127.0.0.1>;tag=fx-tag\r\n"
            "To: <sip:alice@127.0.0.1>\r\n"
            "Call-ID: fx-register@127.0.0.1\r\n"
            f"CSeq: {2 if expires == 0 else 1} REGISTER\r\n"
            f"Contact: <sip:alice@127.0.0.1:{port}>\r\n"
            f"Expires: {expires}\r\n"
            "Content-Length: 0\r\n\r\n"
        )
        transport.sendto(request.encode(), ("127.0.0.1", asterisk_instance.SIP_PORT))
        await asyncio.wait_for(answered, 5)
    finally:
        transport.close()


def write(received: list[dict[str, Any]], rest: dict[str, Any]) -> None:
    events_dir = FIXTURES / "events"
    rest_dir = FIXTURES / "rest"
    for directory in (events_dir, rest_dir):
        directory.mkdir(parents=True, exist_ok=True)
        for old in directory.glob("*.json"):
            old.unlink()
    by_type: dict[str, list[dict[str, Any]]] = {}
    for message in received:
        by_type.setdefault(message["type"], []).append(message)
    for type_name, samples in sorted(by_type.items()):
        (events_dir / f"{type_name}.json").write_text(json.dumps(samples, indent=2) + "\n")
    for name, body in sorted(rest.items()):
        (rest_dir / f"{name}.json").write_text(json.dumps(body, indent=2) + "\n")
    print(f"{len(received)} events, types: {', '.join(sorted(by_type))}")


def main() -> None:
    instance = asterisk_instance.start()
    try:
        received, rest = asyncio.run(_capture(instance))
    finally:
        instance.stop()
    write(received, rest)


if __name__ == "__main__":
    main()
