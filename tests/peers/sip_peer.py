"""A second Asterisk acting as SIP phones and as a carrier towards the Asterisk under test ("main").

Same debootstrap root as main, its own instance ``peer-<sip_port>`` (config in ``/etc/ringline/peer-<port>``),
SIP on 127.0.0.1:<sip_port> (UDP), no HTTP, no PostgreSQL; every config is rendered statically from
``tests/peers/templates`` plus the neutral files of ``dialplan/asterisk/templates``.

Phones (:class:`PeerPhone`) REGISTER to main as ``<username>`` (digest, contact user = username), so main
writes their contact into ``ps_contacts``. Main's INVITEs reach the peer from 127.0.0.1, are identified as
endpoint ``main`` and dispatched by request-URI user (``${EXTEN}``) to the phone's behaviour:

============  ===================================================================================
behaviour     what the phone does
============  ===================================================================================
answer        (rings ``ring_s``) answers, records what it receives, plays ``tone_hz`` continuously,
              hangs up after ``answer_hold_s`` or when main hangs up
busy          ``486 Busy Here`` (Q.850 17)
noanswer      ``180 Ringing`` for ever
reject        ``403 Forbidden`` (Q.850 21, call rejected)
congestion    ``503 Service Unavailable`` (Q.850 34)
============  ===================================================================================

The carrier (:class:`PeerCarrier`) places calls into main with :meth:`SipPeer.place_call`: From user =
trunk username, digest credentials on challenge. A call is ``Local/<id>@ringline-peer-dial`` dialling
``PJSIP/<number>@carrier``; its parameters go through AstDB, its outcome comes back as small files in the
peer's spool (``<id>.dial``: ``DIALSTATUS:HANGUPCAUSE``; ``<id>.cause``: the carrier leg's Q.850 cause,
written by a hangup handler; ``<id>.wav``: what the carrier received, renamed into place by MixMonitor's end
command once the file is closed).

Recordings are 8 kHz 16-bit mono WAV (MixMonitor ``r()``: the *received* direction only).
"""

from __future__ import annotations

import asyncio
import itertools
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from dialplan.asterisk.config import AsteriskInstance
from dialplan.asterisk.modules import check_modules_present
from dialplan.asterisk.process import AsteriskProcess
from dialplan.asterisk.render import (
    TEMPLATE_DIR,
    asterisk_ids,
    prepare_layout,
    template_environment,
    write_config_files,
)

__all__ = ["PEER_MODULES", "PeerCall", "PeerCarrier", "PeerPhone", "SipPeer"]

Behaviour = Literal["answer", "busy", "noanswer", "reject", "congestion"]

PEER_MODULES: tuple[str, ...] = (
    "res_timing_timerfd.so",
    "codec_ulaw.so",
    "codec_alaw.so",
    "codec_a_mu.so",
    "format_wav.so",
    "format_pcm.so",
    "res_sorcery_config.so",
    "res_sorcery_memory.so",
    "res_sorcery_astdb.so",
    "res_pjproject.so",
    "res_pjsip.so",
    "res_pjsip_session.so",
    "res_pjsip_pubsub.so",
    "chan_pjsip.so",
    "res_pjsip_authenticator_digest.so",
    "res_pjsip_outbound_authenticator_digest.so",
    "res_pjsip_endpoint_identifier_ip.so",
    "res_pjsip_endpoint_identifier_user.so",
    "res_pjsip_outbound_registration.so",
    "res_pjsip_sdp_rtp.so",
    "res_pjsip_caller_id.so",
    "res_pjsip_rfc3326.so",
    "res_rtp_asterisk.so",
    "bridge_simple.so",
    "pbx_config.so",
    "app_dial.so",
    "app_stack.so",
    "app_playtones.so",
    "app_mixmonitor.so",
    "res_clioriginate.so",
    "func_channel.so",
    "func_db.so",
    "func_cut.so",
    "func_env.so",
    "func_logic.so",
    "func_strings.so",
    "func_callerid.so",
)

_NEUTRAL_FILES = (
    "asterisk.conf",
    "logger.conf",
    "rtp.conf",
    "indications.conf",
    "cdr.conf",
    "cel.conf",
    "acl.conf",
    "ccss.conf",
    "features.conf",
    "manager.conf",
    "pjproject.conf",
    "stasis.conf",
    "udptl.conf",
)
_USER_RE = re.compile(r"^[A-Za-z0-9_.+-]{1,64}$")
_NUMBER_RE = re.compile(r"^[+0-9*#A-Za-z]{1,64}$")
_POLL_S = 0.05


@dataclass(frozen=True)
class PeerPhone:
    """A SIP phone simulated by the peer.

    Attributes:
        username, password: its credentials at main (``ps_auths``); also the contact user.
        behaviour: see the module docstring.
        tone_hz: frequency it plays once answered (Hz).
        ring_s: seconds of 180 Ringing before an ``answer`` phone answers.
        answer_hold_s: an ``answer`` phone hangs up after this many seconds if main has not.
    """

    username: str
    password: str
    behaviour: Behaviour = "answer"
    tone_hz: int = 1000
    ring_s: float = 0.0
    answer_hold_s: float = 60.0

    def __post_init__(self) -> None:
        if not _USER_RE.match(self.username) or not _USER_RE.match(self.password):
            raise ValueError(f"phone username/password must match {_USER_RE.pattern}")


@dataclass(frozen=True)
class PeerCarrier:
    """A trunk into main: main identifies it by From user ``trunk_username`` and challenges it (digest)."""

    trunk_username: str
    trunk_password: str

    def __post_init__(self) -> None:
        if not _USER_RE.match(self.trunk_username) or not _USER_RE.match(self.trunk_password):
            raise ValueError(f"trunk username/password must match {_USER_RE.pattern}")


@dataclass(frozen=True)
class PeerSpec:
    """Everything the peer templates need (the template context's ``peer``)."""

    sip_port: int
    main_sip_port: int
    phones: tuple[PeerPhone, ...]
    carrier: PeerCarrier | None
    registration_expiry_s: int
    registration_retry_s: int


@dataclass
class PeerCall:
    """A call placed by the carrier (see :meth:`SipPeer.place_call`).

    Attributes:
        call_id: the peer's id (also the file stem in the calls dir).
        number: the dialled number (request-URI user at main).
        recording_path: host path of the WAV of what the carrier received; exists once the call ended
            if it was answered and ``record`` was set.
        dial_status: ``DIALSTATUS`` of the carrier's Dial (``ANSWER``, ``BUSY``, ``NOANSWER``,
            ``CONGESTION``, ``CHANUNAVAIL``, ``CANCEL``) once ended, else ``None``.
        answered: whether main answered, once ended.
    """

    peer: SipPeer
    call_id: str
    number: str
    record: bool
    recording_path: Path
    dial_status: str | None = None
    answered: bool = False
    cause: int | None = field(default=None)

    async def wait_ended(self, timeout_s: float = 60.0) -> int:
        """Wait until the call is over; return the Q.850 hangup cause seen by the carrier leg.

        If the call was answered with ``record``, also waits for the recording to be finalised.

        Raises:
            TimeoutError: not over within ``timeout_s``.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        calls = self.peer.calls_dir
        dial_file, cause_file = calls / f"{self.call_id}.dial", calls / f"{self.call_id}.cause"
        dial_text = await _wait_text(dial_file, deadline, f"call {self.call_id} to {self.number} ended")
        status, _, dial_cause = dial_text.partition(":")
        self.dial_status = status
        self.answered = _exists(calls / f"{self.call_id}.answered")
        # The carrier leg's hangup handler runs before Dial returns; a short grace covers scheduling.
        grace = min(deadline, loop.time() + 2.0)
        try:
            cause_text = await _wait_text(cause_file, grace, "carrier leg cause")
        except TimeoutError:
            cause_text = dial_cause
        if self.answered and self.record:
            await _wait_exists(self.recording_path, deadline, f"recording of call {self.call_id}")
        self.cause = int(cause_text) if cause_text.strip().isdigit() else 0
        return self.cause

    async def hangup(self) -> None:
        """Hang up from the carrier side (the carrier leg if it exists, else the Local dialler)."""
        for family in ("ringline-chan", "ringline-local"):
            output = await self.peer.cli(f"database get {family} {self.call_id}")
            match = re.search(r"Value:\s*(\S+)", output)
            if match:
                await self.peer.cli(f"channel request hangup {match.group(1)}")
                return


class SipPeer:
    """The peer Asterisk (see the module docstring). Use ``async with SipPeer(...) as peer``.

    Args:
        root: host path of the debootstrap root.
        main_sip_port: SIP port of the Asterisk under test on 127.0.0.1.
        sip_port: the peer's own SIP port (UDP) on 127.0.0.1.
        phones: the phones to register.
        carrier: the trunk used by :meth:`place_call`, if any.
        rtp_start, rtp_end: the peer's RTP port range (keep it apart from main's).
        registration_expiry_s: ``expiration`` of each REGISTER (main's default minimum is 60).
        registration_retry_s: retry interval after a failed or rejected REGISTER.
    """

    def __init__(
        self,
        root: Path,
        *,
        main_sip_port: int,
        sip_port: int = 5070,
        phones: Sequence[PeerPhone] = (),
        carrier: PeerCarrier | None = None,
        rtp_start: int = 12000,
        rtp_end: int = 12999,
        registration_expiry_s: int = 60,
        registration_retry_s: int = 2,
    ) -> None:
        if len({p.username for p in phones}) != len(phones):
            raise ValueError("phone usernames must be unique")
        self.spec = PeerSpec(
            sip_port=sip_port,
            main_sip_port=main_sip_port,
            phones=tuple(phones),
            carrier=carrier,
            registration_expiry_s=registration_expiry_s,
            registration_retry_s=registration_retry_s,
        )
        self.inst = AsteriskInstance(
            name=f"peer-{sip_port}",
            root=Path(root),
            sip_port=sip_port,
            http_port=sip_port + 1,  # not rendered: the peer has no http.conf, hence no HTTP server
            rtp_start=rtp_start,
            rtp_end=rtp_end,
            ari_user="unused",
            ari_password="unused",
        )
        self.process = AsteriskProcess(self.inst, ari=False)
        self._ids = itertools.count(1001)

    # -- paths ------------------------------------------------------------------------------------

    @property
    def _spool(self) -> PurePosixPath:
        return self.inst.layout.spool_dir / "ringline-peer"

    @property
    def calls_dir(self) -> Path:
        """Host dir of the carrier calls' outcome files and recordings."""
        return self.inst.layout.host(self._spool / "calls")

    @property
    def phones_dir(self) -> Path:
        """Host dir of the phones' recordings."""
        return self.inst.layout.host(self._spool / "phones")

    def phone_recording(self, username: str) -> Path:
        """Host path of the WAV of what phone ``username`` received in its last answered call.

        The file appears (atomically, by rename) once that call's recording is closed.
        """
        return self.phones_dir / f"{username}.wav"

    async def wait_phone_recording(self, username: str, timeout_s: float = 10.0) -> Path:
        """Wait until :meth:`phone_recording` exists; return it. Raises TimeoutError."""
        path = self.phone_recording(username)
        await _wait_exists(path, asyncio.get_running_loop().time() + timeout_s, f"recording of {username}")
        return path

    # -- lifecycle --------------------------------------------------------------------------------

    def render(self) -> Path:
        """Render the configs, create the dirs (removing old call files); return the config dir (host)."""
        layout = self.inst.layout
        check_modules_present(layout.root, PEER_MODULES)
        env = template_environment(Path(__file__).with_name("templates"), TEMPLATE_DIR)
        context = {
            "inst": self.inst,
            "layout": layout,
            "peer": self.spec,
            "preload": (),
            "modules": PEER_MODULES,
            "calls_dir": self._spool / "calls",
            "phones_dir": self._spool / "phones",
        }
        files = {name: env.get_template(f"{name}.j2").render(context) for name in _NEUTRAL_FILES}
        files["modules.conf"] = env.get_template("modules.conf.j2").render(context)
        files["pjsip.conf"] = env.get_template("peer_pjsip.conf.j2").render(context)
        files["extensions.conf"] = env.get_template("peer_extensions.conf.j2").render(context)
        prepare_layout(layout)
        uid, gid = asterisk_ids(layout.root)
        spool = layout.host(self._spool)
        spool.mkdir(exist_ok=True)
        shutil.chown(spool, uid, gid)
        for directory in (self.calls_dir, self.phones_dir):
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir()
            shutil.chown(directory, uid, gid)
        write_config_files(layout, files, secret=frozenset({"pjsip.conf"}))
        return layout.host_config_dir

    async def start(self, timeout_s: float = 30.0) -> None:
        """Render and start the peer; registrations begin at once (see :meth:`registration_status`).

        Raises:
            PortInUse: the peer's SIP port is taken.
            AsteriskStartError: the peer did not boot.
        """
        self.render()
        await self.process.start(timeout_s)

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the peer Asterisk (idempotent)."""
        await self.process.stop(timeout_s)

    async def __aenter__(self) -> SipPeer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def cli(self, command: str) -> str:
        """One CLI command on the peer Asterisk."""
        return await self.process.cli(command)

    # -- registrations ----------------------------------------------------------------------------

    async def registration_status(self) -> dict[str, str]:
        """``{username: status}`` from ``pjsip show registrations``.

        Status is Asterisk's word: ``Registered``, ``Unregistered``, ``Rejected``, ``Stopped`` (or
        ``Unknown`` for a phone missing from the listing).
        """
        statuses = parse_registrations(await self.cli("pjsip show registrations"))
        return {p.username: statuses.get(f"phone-{p.username}", "Unknown") for p in self.spec.phones}

    async def wait_registration(self, username: str, wanted: str, timeout_s: float = 15.0) -> str:
        """Poll until phone ``username``'s status is ``wanted``; return it. Raises TimeoutError."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            current = (await self.registration_status()).get(username, "Unknown")
            if current == wanted:
                return current
            if loop.time() >= deadline:
                raise TimeoutError(f"phone {username}: registration is {current}, wanted {wanted}")
            await asyncio.sleep(0.2)

    # -- carrier calls ----------------------------------------------------------------------------

    async def place_call(
        self,
        number: str,
        *,
        tone_hz: int,
        talk_s: float,
        record: bool = True,
        ring_timeout_s: int = 60,
    ) -> PeerCall:
        """Call ``number`` at main through the carrier trunk.

        Once main answers, the carrier records what it receives (if ``record``), plays ``tone_hz`` and hangs
        up after ``talk_s`` seconds, or earlier if main hangs up. It gives up ringing after
        ``ring_timeout_s``. Returns at once; use :meth:`PeerCall.wait_ended`.

        Raises:
            RuntimeError: the peer has no carrier.
            ValueError: ``number`` has characters other than ``+0-9*#A-Za-z``.
        """
        if self.spec.carrier is None:
            raise RuntimeError("this SipPeer has no carrier")
        if not _NUMBER_RE.match(number):
            raise ValueError(f"invalid number {number!r}")
        call_id = str(next(self._ids))
        params = f"{tone_hz}:{talk_s:.3f}:{1 if record else 0}:{ring_timeout_s}:{number}"
        await self.cli(f"database put ringline-call {call_id} {params}")
        await self.cli(f"channel originate Local/{call_id}@ringline-peer-dial/n application Wait 86400")
        return PeerCall(
            peer=self,
            call_id=call_id,
            number=number,
            record=record,
            recording_path=self.calls_dir / f"{call_id}.wav",
        )


def parse_registrations(output: str) -> dict[str, str]:
    """``{registration id: status}`` from ``pjsip show registrations``.

    Rows look like ``" phone-alice/sip:127.0.0.1:15060   phone-alice-auth   Rejected   (exp. 25s)"``.
    """
    statuses: dict[str, str] = {}
    for line in output.splitlines():
        fields = line.split()
        if len(fields) >= 2 and "/sip:" in fields[0] and not fields[0].startswith("<"):
            registration = fields[0].split("/", 1)[0]
            words = [f for f in fields[1:] if f in _REGISTRATION_STATES]
            statuses[registration] = words[0] if words else fields[-1]
    return statuses


_REGISTRATION_STATES = frozenset({"Registered", "Unregistered", "Rejected", "Stopped", "Unknown"})


def _read_stripped(path: Path) -> str:
    """Content of a small local file, stripped; ``""`` if it does not exist (a stat + read: microseconds)."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""


def _exists(path: Path) -> bool:
    """``path.exists()`` for the pollers below (a local stat: microseconds, fine on the loop)."""
    return path.exists()


async def _wait_exists(path: Path, deadline: float, what: str) -> None:
    """Poll until ``path`` exists; ``deadline`` is loop time. Raises TimeoutError."""
    loop = asyncio.get_running_loop()
    while not _exists(path):
        if loop.time() >= deadline:
            raise TimeoutError(f"timed out waiting for {what} ({path})")
        await asyncio.sleep(_POLL_S)


async def _wait_text(path: Path, deadline: float, what: str) -> str:
    """Wait for ``path`` to exist with non-empty content (FILE() writes are not atomic); return it."""
    loop = asyncio.get_running_loop()
    while not (text := _read_stripped(path)):
        if loop.time() >= deadline:
            raise TimeoutError(f"timed out waiting for {what} ({path})")
        await asyncio.sleep(_POLL_S)
    return text
