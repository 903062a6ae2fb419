"""The Asterisk modules Ringline loads (``modules.conf`` with ``autoload=no``), and a presence check.

Debian's stock ``modules.conf`` autoloads ~300 modules and logs dozens of errors; an explicit list starts
faster and cleanly. Every name below exists in Debian's ``asterisk`` + ``asterisk-modules`` 22.x under
``/usr/lib/x86_64-linux-gnu/asterisk/modules``. ``core_local`` (Local channels), the indications engine
(``indications.conf``), CDR/CEL cores and the HTTP server are built into the ``asterisk`` binary.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from dialplan.asterisk.errors import InstanceConfigError

__all__ = ["MAIN_MODULES", "MAIN_PRELOAD", "MODULE_DIR", "check_modules_present"]

MODULE_DIR = "usr/lib/x86_64-linux-gnu/asterisk/modules"
"""astmoddir of the Debian package, relative to the root."""

MAIN_PRELOAD: tuple[str, ...] = ("res_config_pgsql.so",)
"""PJSIP realtime needs the pgsql driver before res_pjsip loads, else "engine is not available"."""

MAIN_MODULES: tuple[str, ...] = (
    # timing, codecs, file formats
    "res_timing_timerfd.so",
    "codec_ulaw.so",
    "codec_alaw.so",
    "codec_a_mu.so",
    "codec_gsm.so",
    "codec_resample.so",
    "format_wav.so",
    "format_pcm.so",
    "format_gsm.so",
    "format_sln.so",
    # sorcery and realtime (ARA)
    "res_sorcery_config.so",
    "res_sorcery_memory.so",
    "res_sorcery_astdb.so",
    "res_sorcery_realtime.so",
    "res_realtime.so",
    # PJSIP
    "res_pjproject.so",
    "res_pjsip.so",
    "res_pjsip_session.so",
    "res_pjsip_pubsub.so",
    "chan_pjsip.so",
    "res_pjsip_authenticator_digest.so",
    "res_pjsip_outbound_authenticator_digest.so",
    "res_pjsip_endpoint_identifier_user.so",
    "res_pjsip_endpoint_identifier_ip.so",
    "res_pjsip_registrar.so",
    "res_pjsip_outbound_registration.so",
    "res_pjsip_sdp_rtp.so",
    "res_pjsip_dtmf_info.so",
    "res_pjsip_caller_id.so",
    "res_pjsip_rfc3326.so",
    "res_pjsip_nat.so",
    "res_rtp_asterisk.so",
    # HTTP, ARI, Stasis
    "res_http_websocket.so",
    "res_websocket_client.so",
    "res_stasis.so",
    "res_stasis_answer.so",
    "res_stasis_playback.so",
    "res_stasis_recording.so",
    "res_stasis_snoop.so",
    "res_stasis_device_state.so",
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
    "app_stasis.so",
    # bridging
    "bridge_simple.so",
    "bridge_softmix.so",
    "bridge_native_rtp.so",
    "bridge_holding.so",
    # dialplan, applications, functions
    "pbx_config.so",
    "app_dial.so",
    "app_playback.so",
    "app_playtones.so",
    "app_echo.so",
    "app_voicemail.so",
    "res_musiconhold.so",
    "res_clioriginate.so",
    "func_channel.so",
    "func_callerid.so",
    "func_strings.so",
    "func_logic.so",
    "func_hangupcause.so",
    # FastAGI (dialplan/agi): AGI() and its commands; res_agi declares res_speech as a requirement
    "res_speech.so",
    "res_agi.so",
)
"""Loaded (in this order, after :data:`MAIN_PRELOAD`) by every main instance."""


def check_modules_present(root: Path, modules: Iterable[str]) -> None:
    """Check that every module file exists in the root's astmoddir.

    Raises:
        InstanceConfigError: naming the missing modules (Asterisk would otherwise log an ERROR per module).
    """
    module_dir = root / MODULE_DIR
    missing = sorted(m for m in modules if not (module_dir / m).exists())
    if missing:
        raise InstanceConfigError(f"modules missing from {module_dir}: {', '.join(missing)}")
