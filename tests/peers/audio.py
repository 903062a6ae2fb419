"""Frequency checks on recorded calls: is the far end's test tone in this WAV, and for how long?

Input: PCM WAV, 16-bit signed, mono (what Asterisk's MixMonitor writes: 8 kHz). Stereo files are mixed
down. "Power at hz" is the energy of the FFT bins within ``±band_hz`` of ``hz`` (a Hann window keeps the
tone's leakage inside that band); the ratio is taken over all bins except DC, so it is 1.0 for a pure tone
and ~0 for silence or another frequency. G.711 quantisation noise of a clean tone leaves the ratio > 0.9.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = ["read_wav", "tone_power_ratio", "voiced_seconds"]

DEFAULT_BAND_HZ = 25.0
FRAME_S = 0.1
"""Window of :func:`voiced_seconds`: 100 ms = 800 samples at 8 kHz (10 Hz per FFT bin)."""


def read_wav(wav_path: Path | str) -> tuple[npt.NDArray[np.float64], int]:
    """``(samples in [-1, 1), sample_rate_hz)`` of a 16-bit PCM WAV (mixed down to mono).

    Raises:
        ValueError: not 16-bit PCM.
    """
    with wave.open(str(wav_path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"{wav_path}: {8 * wav.getsampwidth()}-bit samples, want 16-bit PCM")
        channels, rate = wav.getnchannels(), wav.getframerate()
        raw = wav.readframes(wav.getnframes())
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples, rate


def _band_ratio(samples: npt.NDArray[np.float64], rate: int, hz: float, band_hz: float) -> float:
    """Share of the (non-DC) spectral power of ``samples`` that lies within ``hz ± band_hz``."""
    if samples.size < 2:
        return 0.0
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size))) ** 2
    freqs = np.fft.rfftfreq(samples.size, d=1.0 / rate)
    spectrum[0] = 0.0
    total = float(spectrum.sum())
    if total <= 1e-12:
        return 0.0
    return float(spectrum[np.abs(freqs - hz) <= band_hz].sum()) / total


def tone_power_ratio(wav_path: Path | str, hz: float, *, band_hz: float = DEFAULT_BAND_HZ) -> float:
    """Fraction (0..1) of the whole file's power that is at ``hz`` (± ``band_hz``)."""
    samples, rate = read_wav(wav_path)
    return _band_ratio(samples, rate, hz, band_hz)


def voiced_seconds(
    wav_path: Path | str,
    hz: float,
    threshold: float = 0.5,
    *,
    band_hz: float = DEFAULT_BAND_HZ,
    min_rms: float = 1e-3,
) -> float:
    """Seconds of the file during which the tone ``hz`` dominates.

    The file is cut into 100 ms frames; a frame counts when its RMS is above ``min_rms`` (full scale 1.0;
    1e-3 is -60 dBFS) and at least ``threshold`` of its power is within ``hz ± band_hz``.
    """
    samples, rate = read_wav(wav_path)
    frame = max(int(rate * FRAME_S), 1)
    voiced = 0
    for start in range(0, samples.size - frame + 1, frame):
        chunk = samples[start : start + frame]
        if float(np.sqrt(np.mean(chunk**2))) < min_rms:
            continue
        if _band_ratio(chunk, rate, hz, band_hz) >= threshold:
            voiced += 1
    return voiced * frame / rate
