"""Real SIP calls through the real Asterisk 22, routed by the engine (in this process), with real PostgreSQL.

The carrier and the phones are a second Asterisk (tests/peers/sip_peer.py); audio is checked by frequency in
what each side recorded.
"""

from __future__ import annotations

import time
from typing import Any

import asyncpg

from tests.engine.conftest import ANSWER_TONE_HZ, CALLER_TONE_HZ, TENANT, Lab, RunningEngine
from tests.peers.audio import voiced_seconds
from tests.scenarios import eventually


async def cdr_for(database_url: str, did: str, since: float, *, timeout_s: float = 15.0) -> dict[str, Any]:
    """Wait for the CDR row of the call to ``did`` that started after ``since`` (POSIX s)."""

    async def probe() -> dict[str, Any] | None:
        conn = await asyncpg.connect(database_url)
        try:
            row = await conn.fetchrow(
                "SELECT * FROM cdr WHERE did = $1 AND start_at >= to_timestamp($2) ORDER BY id DESC LIMIT 1",
                did,
                since - 1,
            )
            if row is None:
                return None
            legs = await conn.fetch("SELECT * FROM call_legs WHERE call_id = $1 ORDER BY role", row["call_id"])
            return {**dict(row), "legs": [dict(leg) for leg in legs]}
        finally:
            await conn.close()

    found: dict[str, Any] = await eventually(probe, timeout_s=timeout_s, what=f"CDR for {did}")
    return found


async def test_extension_in_database_is_visible_to_asterisk_and_registers(lab: Lab) -> None:
    # Given extensions written through ara_schema; then Asterisk's ARI lists them as PJSIP endpoints
    async with RunningEngineLessAri(lab) as ari:
        endpoints = {e.resource for e in await ari.endpoints_list() if e.technology == "PJSIP"}
    assert {f"{TENANT}-1001", f"{TENANT}-1002", f"{TENANT}-1003", f"{TENANT}-carrier"} <= endpoints
    # a phone registering with the right password lands in ps_contacts; a wrong password is rejected
    conn = await asyncpg.connect(lab.database_url)
    try:
        contacts = await eventually(
            lambda: conn.fetch("SELECT endpoint, uri FROM ps_contacts WHERE endpoint = $1", f"{TENANT}-1001"),
            what="ps_contacts row of itest-1001",
        )
        assert "16070" in contacts[0]["uri"]
        assert await lab.peer.wait_registration(f"{TENANT}-1004", "Rejected", timeout_s=20) == "Rejected"
        assert await conn.fetchval("SELECT count(*) FROM ps_contacts WHERE endpoint = $1", f"{TENANT}-1004") == 0
    finally:
        await conn.close()


async def test_call_to_did_is_routed_answered_with_two_way_audio_and_cdr(
    lab: Lab, running_engine: RunningEngine
) -> None:
    since = time.time()
    call = await lab.peer.place_call(lab.did_answer, tone_hz=CALLER_TONE_HZ, talk_s=4.0)
    cause = await call.wait_ended(timeout_s=40)
    assert call.answered and call.dial_status == "ANSWER"
    assert cause == 16
    # the carrier heard the phone's tone; the phone heard the carrier's tone
    assert voiced_seconds(call.recording_path, ANSWER_TONE_HZ) >= 2.5
    phone_wav = await lab.peer.wait_phone_recording(f"{TENANT}-1001")
    assert voiced_seconds(phone_wav, CALLER_TONE_HZ) >= 2.5
    cdr = await cdr_for(lab.database_url, lab.did_answer, since)
    assert cdr["disposition"] == "ANSWERED"
    assert cdr["destination"] == f"{TENANT}-1001"
    assert abs(cdr["billsec_s"] - 4) <= 1, cdr
    assert cdr["duration_s"] >= cdr["billsec_s"]
    assert cdr["hangup_cause"] == 16
    assert [leg["role"] for leg in cdr["legs"]] == ["callee", "caller"]
    assert all(leg["end_at"] is not None for leg in cdr["legs"])
    callee = next(leg for leg in cdr["legs"] if leg["role"] == "callee")
    assert callee["endpoint"] == f"{TENANT}-1001" and callee["answer_at"] is not None


async def test_busy_extension_takes_voicemail_fallback(lab: Lab, running_engine: RunningEngine) -> None:
    since = time.time()
    inbox = lab.asterisk.inst.layout.host(lab.asterisk.inst.layout.spool_dir / "voicemail/default/1002/INBOX")
    before = set(inbox.glob("msg*.txt")) if inbox.exists() else set()
    # the unavailable greeting ("the person at extension 1 0 0 2 is unavailable ... after the tone") lasts
    # about 12 s; the caller then speaks (a tone) for about 6 s
    call = await lab.peer.place_call(lab.did_busy, tone_hz=CALLER_TONE_HZ, talk_s=18.0)
    await call.wait_ended(timeout_s=40)
    assert call.answered  # voicemail answered the caller
    cdr = await cdr_for(lab.database_url, lab.did_busy, since)
    assert cdr["disposition"] == "BUSY"
    assert cdr["destination"] == "voicemail:1002"
    new = await eventually(lambda: set(inbox.glob("msg*.txt")) - before, what="a new voicemail message")
    assert len(new) == 1
    message = new.pop().with_suffix(".wav")
    assert voiced_seconds(message, CALLER_TONE_HZ) >= 3.0  # the caller's "message" is in the recording


async def test_voicemail_did_sends_the_caller_straight_to_the_mailbox(
    lab: Lab, running_engine: RunningEngine
) -> None:
    since = time.time()
    inbox = lab.asterisk.inst.layout.host(lab.asterisk.inst.layout.spool_dir / "voicemail/default/1002/INBOX")
    before = set(inbox.glob("msg*.txt")) if inbox.exists() else set()
    call = await lab.peer.place_call(lab.did_voicemail, tone_hz=CALLER_TONE_HZ, talk_s=18.0)
    await call.wait_ended(timeout_s=40)
    assert call.answered
    cdr = await cdr_for(lab.database_url, lab.did_voicemail, since)
    assert cdr["destination"] == "voicemail:1002"
    assert [leg["role"] for leg in cdr["legs"]] == ["caller"]  # nobody was dialled
    new = await eventually(lambda: set(inbox.glob("msg*.txt")) - before, what="a new voicemail message")
    assert len(new) == 1


async def test_busy_extension_with_hangup_fallback_gives_user_busy(
    lab: Lab, running_engine: RunningEngine
) -> None:
    since = time.time()
    call = await lab.peer.place_call(lab.did_busy_hangup, tone_hz=CALLER_TONE_HZ, talk_s=3.0)
    cause = await call.wait_ended(timeout_s=30)
    assert not call.answered
    assert cause == 17
    cdr = await cdr_for(lab.database_url, lab.did_busy_hangup, since)
    assert (cdr["disposition"], cdr["hangup_cause"], cdr["billsec_s"]) == ("BUSY", 17, 0)


async def test_unanswered_extension_times_out_after_ring_timeout(
    lab: Lab, running_engine: RunningEngine
) -> None:
    since = time.time()
    call = await lab.peer.place_call(lab.did_noanswer, tone_hz=CALLER_TONE_HZ, talk_s=3.0)
    cause = await call.wait_ended(timeout_s=30)
    assert not call.answered
    assert cause == 19
    cdr = await cdr_for(lab.database_url, lab.did_noanswer, since)
    assert (cdr["disposition"], cdr["hangup_cause"]) == ("NO ANSWER", 19)
    assert 3 <= cdr["duration_s"] <= 5  # ring timeout of the DID is 3 s


async def test_unknown_did_is_rejected_as_unallocated(lab: Lab, running_engine: RunningEngine) -> None:
    since = time.time()
    call = await lab.peer.place_call("+15559999999", tone_hz=CALLER_TONE_HZ, talk_s=2.0)
    cause = await call.wait_ended(timeout_s=30)
    assert not call.answered
    assert cause == 1
    cdr = await cdr_for(lab.database_url, "+15559999999", since)
    assert (cdr["disposition"], cdr["hangup_cause"]) == ("FAILED", 1)


async def test_unregistered_extension_fails_with_fallback(lab: Lab, running_engine: RunningEngine) -> None:
    since = time.time()
    call = await lab.peer.place_call(lab.did_unregistered, tone_hz=CALLER_TONE_HZ, talk_s=2.0)
    await call.wait_ended(timeout_s=30)
    assert not call.answered
    cdr = await cdr_for(lab.database_url, lab.did_unregistered, since)
    assert cdr["disposition"] == "FAILED"


class RunningEngineLessAri:
    """A bare ARI client to the Asterisk under test (no engine)."""

    def __init__(self, lab: Lab) -> None:
        from engine.ari.client import AriClient
        from tests.engine.conftest import ARI_PASSWORD, ARI_USER, MAIN_HTTP

        self._client = AriClient(f"http://127.0.0.1:{MAIN_HTTP}/ari", ARI_USER, ARI_PASSWORD, app="itest-probe")

    async def __aenter__(self) -> Any:
        return self._client

    async def __aexit__(self, *exc: object) -> None:
        await self._client.close()
