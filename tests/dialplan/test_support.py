"""Paths, credentials, port checks and the audio helpers (no Asterisk needed)."""

from __future__ import annotations

import math
import socket
import stat
import wave
from pathlib import Path

import numpy as np
import pytest

from dialplan.asterisk.credentials import load_or_create_credentials
from dialplan.asterisk.errors import PortInUse
from dialplan.asterisk.paths import asterisk_root, cache_dir
from dialplan.asterisk.ports import check_ports_free, port_is_free
from tests.peers.audio import tone_power_ratio, voiced_seconds


def test_cache_dir_and_root_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("RINGLINE_CACHE_DIR", "XDG_CACHE_HOME", "RINGLINE_ASTERISK_ROOT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_dir() == tmp_path / ".cache" / "ringline"
    monkeypatch.setenv("XDG_CACHE_HOME", "/xdg")
    assert cache_dir() == Path("/xdg/ringline")
    monkeypatch.setenv("RINGLINE_CACHE_DIR", "/explicit")
    assert cache_dir() == Path("/explicit")
    assert asterisk_root() == Path("/explicit/asterisk-root")
    monkeypatch.setenv("RINGLINE_ASTERISK_ROOT", "/roots/a")
    assert asterisk_root() == Path("/roots/a")


def test_credentials_are_created_once_with_mode_0600(tmp_path: Path) -> None:
    state = tmp_path / "state"
    user, password = load_or_create_credentials(state)
    assert user == "ringline" and len(password) >= 32
    path = state / "ari-credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_credentials(state) == (user, password)
    path.chmod(0o644)
    assert load_or_create_credentials(state) == (user, password)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("proto", ["tcp", "udp"])
def test_port_in_use_names_the_port(proto: str) -> None:
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        if proto == "tcp":
            sock.listen()
        port = sock.getsockname()[1]
        assert not port_is_free(port, proto)
        with pytest.raises(PortInUse) as info:
            check_ports_free([(port, proto, "sip")])
    assert (info.value.port, info.value.proto, info.value.purpose) == (port, proto, "sip")
    assert f"port {port}/{proto}" in str(info.value)


def write_wav(path: Path, segments: list[tuple[float, float]], rate: int = 8000) -> Path:
    """A 16-bit mono WAV of ``(hz, seconds)`` segments at -6 dBFS; hz 0 is silence."""
    parts = []
    for hz, seconds in segments:
        t = np.arange(int(rate * seconds)) / rate
        parts.append(0.5 * np.sin(2 * math.pi * hz * t) if hz else np.zeros_like(t))
    samples = (np.concatenate(parts) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.tobytes())
    return path


def test_tone_power_ratio_tells_frequencies_apart(tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "t.wav", [(700, 1.0)])
    assert tone_power_ratio(wav, 700) > 0.95
    assert tone_power_ratio(wav, 1000) < 0.01
    silent = write_wav(tmp_path / "s.wav", [(0, 1.0)])
    assert tone_power_ratio(silent, 700) == 0.0


def test_voiced_seconds_counts_only_the_tone(tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "t.wav", [(1000, 1.5), (0, 1.0), (440, 0.5)])
    assert voiced_seconds(wav, 1000, 0.5) == pytest.approx(1.5, abs=0.1)
    assert voiced_seconds(wav, 440, 0.5) == pytest.approx(0.5, abs=0.1)
