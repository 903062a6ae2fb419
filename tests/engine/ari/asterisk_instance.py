"""A throwaway Asterisk 22 for the ARI tests, run from the project's debootstrap root.

The lead builds the root at ``/root/.cache/ringline/asterisk-root`` (ready when ``.ringline-ready`` exists).
This module writes a minimal config set into ``<root>/etc/ringline/ari-test/`` with every directory Asterisk
writes to under ``<root>/var/lib/ringline/ari-test/`` (owned by the root's ``asterisk`` user), so it never
touches ``/etc/asterisk`` nor another instance's control socket, and starts
``chroot <root> asterisk -f -C /etc/ringline/ari-test/asterisk.conf -U asterisk -G asterisk -n``.

Ports: ARI/HTTP on 127.0.0.1:28088, PJSIP (UDP) on 127.0.0.1:25060.
"""

from __future__ import annotations

import base64
import contextlib
import math
import os
import shutil
import struct
import subprocess
import time
import urllib.error
import urllib.request
import wave
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(os.environ.get("RINGLINE_ASTERISK_ROOT", "/root/.cache/ringline/asterisk-root"))
READY_MARKER = ROOT / ".ringline-ready"
CONF_DIR_IN_ROOT = "/etc/ringline/ari-test"
VAR_DIR_IN_ROOT = "/var/lib/ringline/ari-test"
HTTP_PORT = 28088
SIP_PORT = 25060
APP = "ari-test"
USER = "ringline"
PASSWORD = "ari-test-secret"
CONTEXT = "ari-test"

# Explicit module list (autoload=no): what ARI, Local channels, bridges, tones, MOH and PJSIP need.
MODULES = (
    # HTTP + ARI
    "res_http_websocket.so",
    "res_websocket_client.so",
    "res_ari.so",
    "res_ari_model.so",
    "res_ari_applications.so",
    "res_ari_asterisk.so",
    "res_ari_bridges.so",
    "res_ari_channels.so",
    "res_ari_device_states.so",
    "res_ari_endpoints.so",
    "res_ari_events.so",
    "res_ari_playbacks.so",
    "res_ari_recordings.so",
    "res_ari_sounds.so",
    "res_stasis.so",
    "res_stasis_answer.so",
    "res_stasis_device_state.so",
    "res_stasis_playback.so",
    "res_stasis_recording.so",
    "res_stasis_snoop.so",
    "app_stasis.so",
    # dialplan, bridging, media
    "pbx_config.so",
    "app_dial.so",
    "app_playback.so",
    "app_userevent.so",
    "func_channel.so",
    "func_callerid.so",
    "bridge_simple.so",
    "bridge_softmix.so",
    "bridge_holding.so",
    "bridge_native_rtp.so",
    "bridge_builtin_features.so",
    "res_timing_timerfd.so",
    "res_musiconhold.so",
    "codec_ulaw.so",
    "codec_resample.so",
    "codec_alaw.so",
    "format_wav.so",
    "format_pcm.so",
    "format_sln.so",
    # PJSIP (one endpoint, so the endpoints resource has something to list)
    "res_pjproject.so",
    "res_sorcery_config.so",
    "res_sorcery_memory.so",
    "res_sorcery_astdb.so",
    "res_rtp_asterisk.so",
    "res_pjsip.so",
    "res_pjsip_session.so",
    "res_pjsip_pubsub.so",
    "res_pjsip_sdp_rtp.so",
    "res_pjsip_endpoint_identifier_user.so",
    "res_pjsip_authenticator_digest.so",
    "res_pjsip_registrar.so",
    "chan_pjsip.so",
    # ExternalMedia (UnicastRTP)
    "res_rtp_multicast.so",
    "chan_rtp.so",
)


EMPTY_CONFS = (
    "cdr.conf",
    "cel.conf",
    "features.conf",
    "acl.conf",
    "udptl.conf",
    "pjproject.conf",
    "ccss.conf",
    "websocket_client.conf",
)


def _conf_files() -> dict[str, str]:
    v = VAR_DIR_IN_ROOT
    return {
        "asterisk.conf": f"""[directories]
astetcdir => {CONF_DIR_IN_ROOT}
astmoddir => /usr/lib/x86_64-linux-gnu/asterisk/modules
astvarlibdir => {v}/lib
astdbdir => {v}/db
astkeydir => {v}/keys
astdatadir => /usr/share/asterisk
astagidir => /usr/share/asterisk/agi-bin
astspooldir => {v}/spool
astrundir => {v}/run
astlogdir => {v}/log
astcachedir => {v}/cache
astsbindir => /usr/sbin

[options]
systemname = ringline-ari-test
""",
        "modules.conf": "[modules]\nautoload = no\n" + "".join(f"load = {m}\n" for m in MODULES),
        "logger.conf": (
            "[general]\n[logfiles]\nmessages.log => notice,warning,error\nconsole => notice,warning,error\n"
        ),
        "http.conf": f"[general]\nenabled = yes\nbindaddr = 127.0.0.1\nbindport = {HTTP_PORT}\n",
        "ari.conf": (
            "[general]\nenabled = yes\npretty = no\nallowed_origins = *\n\n"
            f"[{USER}]\ntype = user\nread_only = no\npassword = {PASSWORD}\n"
        ),
        "extensions.conf": f"""[general]
static = yes
writeprotect = yes

[{CONTEXT}]
exten => 100,1,Answer()
 same => n,Stasis({APP})
 same => n,Hangup()

exten => 200,1,Answer()
 same => n,Wait(60)
 same => n,Hangup()

exten => 300,1,Stasis({APP},from-dialplan,300)
 same => n,Hangup()
""",
        "pjsip.conf": f"""[transport-udp]
type = transport
protocol = udp
bind = 127.0.0.1:{SIP_PORT}

[alice]
type = endpoint
context = {CONTEXT}
disallow = all
allow = ulaw
aors = alice

[alice]
type = aor
max_contacts = 1
remove_existing = yes
""",
        "musiconhold.conf": f"[general]\n[default]\nmode = files\ndirectory = {v}/lib/moh\n",
        # Present but empty: the modules above read them and log an ERROR when they are missing.
        **{name: "" for name in EMPTY_CONFS},
        "stasis.conf": "[threadpool]\n",
        "rtp.conf": "[general]\nrtpstart = 25100\nrtpend = 25199\n",
        "indications.conf": "[general]\ncountry = us\n\n[us]\ndescription = United States\n"
        "ring = 440+480/2000,0/4000\nbusy = 480+620/500,0/500\n",
    }


class AsteriskUnavailable(Exception):
    """The debootstrap root is missing or Asterisk did not come up."""


@dataclass
class AsteriskInstance:
    """A running throwaway Asterisk; ``base_url`` is the ARI root (``http://127.0.0.1:28088/ari``)."""

    process: subprocess.Popen[bytes]
    log_path: Path

    base_url: str = f"http://127.0.0.1:{HTTP_PORT}/ari"
    username: str = USER
    password: str = PASSWORD
    app: str = APP
    context: str = CONTEXT

    def cli(self, command: str, *, timeout_s: float = 10.0) -> str:
        """Run one CLI command through the instance's control socket and return its output."""
        result = subprocess.run(
            ["chroot", str(ROOT), "asterisk", "-C", f"{CONF_DIR_IN_ROOT}/asterisk.conf", "-rx", command],
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )
        return result.stdout.decode(errors="replace") + result.stderr.decode(errors="replace")

    def stop(self) -> None:
        """``core stop now``; SIGKILL when Asterisk is still up 3 s later (throwaway instance).

        Seen on 22.10.1: after an originate refused with 409 (duplicate channel id) Asterisk leaks a channel
        and ``core stop now`` waits ~15 s for it to be destroyed before exiting.
        """
        if self.process.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.cli("core stop now", timeout_s=3.0)
        try:
            self.process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def _write_tone(path: Path, *, hz: float = 440.0, seconds: float = 2.0) -> None:
    """A 16-bit 8 kHz mono sine WAV, the only MOH file (the root ships no sounds)."""
    rate = 8000
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * hz * n / rate)))
        for n in range(int(rate * seconds))
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)


def root_ready() -> bool:
    return READY_MARKER.is_file()


def write_config() -> None:
    """(Re)write the config set and create the writable directories, owned by ``asterisk`` in the root."""
    conf_dir = ROOT / CONF_DIR_IN_ROOT.lstrip("/")
    conf_dir.mkdir(parents=True, exist_ok=True)
    for name, text in _conf_files().items():
        (conf_dir / name).write_text(text)
    var_dir = ROOT / VAR_DIR_IN_ROOT.lstrip("/")
    # Throwaway: no state from an earlier run (AstDB keeps PJSIP contacts, spool keeps recordings).
    for sub in ("db", "spool"):
        shutil.rmtree(var_dir / sub, ignore_errors=True)
    for sub in ("lib", "db", "keys", "spool", "spool/recording", "run", "log", "cache", "lib/moh"):
        (var_dir / sub).mkdir(parents=True, exist_ok=True)
    _write_tone(var_dir / "lib" / "moh" / "tone-440.wav")
    subprocess.run(["chroot", str(ROOT), "chown", "-R", "asterisk:asterisk", VAR_DIR_IN_ROOT], check=True)


def _ping(timeout_s: float) -> bool:
    request = urllib.request.Request(f"http://127.0.0.1:{HTTP_PORT}/ari/asterisk/ping")
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start(*, boot_timeout_s: float = 30.0) -> AsteriskInstance:
    """Write the config, start Asterisk, wait until it is fully booted and ARI answers.

    Raises:
        AsteriskUnavailable: no root, the port is taken, or Asterisk did not boot in ``boot_timeout_s``.
    """
    if not root_ready():
        raise AsteriskUnavailable(f"{READY_MARKER} missing")
    if shutil.which("chroot") is None:
        raise AsteriskUnavailable("chroot not found")
    if _ping(0.5):
        raise AsteriskUnavailable(f"something already answers ARI on port {HTTP_PORT}")
    write_config()
    log_path = ROOT / VAR_DIR_IN_ROOT.lstrip("/") / "log" / "console.out"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [
            "chroot",
            str(ROOT),
            "asterisk",
            "-f",
            "-C",
            f"{CONF_DIR_IN_ROOT}/asterisk.conf",
            "-U",
            "asterisk",
            "-G",
            "asterisk",
            "-n",
        ],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    instance = AsteriskInstance(process=process, log_path=log_path)
    deadline = time.monotonic() + boot_timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AsteriskUnavailable(
                f"asterisk exited with {process.returncode}: {log_path.read_text()[-2000:]}"
            )
        if _ping(0.5) and "fully booted" in instance.cli("core waitfullybooted", timeout_s=5.0).lower():
            return instance
        time.sleep(0.1)
    instance.stop()
    raise AsteriskUnavailable(f"asterisk not ready after {boot_timeout_s} s: {log_path.read_text()[-2000:]}")
