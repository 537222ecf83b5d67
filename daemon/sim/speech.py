"""Speech synthesized by espeak-ng, for the demo, the benchmark and the tests.

The demo and the tests drive the real wake-word model and the real audio path with real
(synthetic) speech instead of recorded fixtures: the text of every clip is in
the test, and any machine with the espeak-ng apt package can regenerate it.
Everything is 16 kHz mono int16, the rate the microphone path delivers.

    >>> clip = concat(silence(1.0), synthesize("hey jarvis"), silence(1.0))
    >>> noisy = mix_noise(clip, snr_db=10, seed=1)
"""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import numpy as np
import soxr

from hardware.audio.wav import pcm_from_wav_bytes
from hardware.audio.wav import write_wav as write_pcm_wav

RATE = 16000
"""Sample rate of every array this module returns."""


class SpeechError(RuntimeError):
    """espeak-ng is missing or failed."""


def synthesize(text: str, voice: str = "en-us", speed: int = 150, pitch: int = 50) -> np.ndarray:
    """Speak `text` with espeak-ng; 16 kHz mono int16 (espeak's own 22.05 kHz resampled).

    `speed` is in words per minute (espeak's -s), `pitch` 0-99 (espeak's -p).
    Results are cached: the same call returns the same (read-only) array.
    """
    return _synthesize_cached(text, voice, int(speed), int(pitch))


@lru_cache(maxsize=256)
def _synthesize_cached(text: str, voice: str, speed: int, pitch: int) -> np.ndarray:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise SpeechError("espeak-ng is not installed (apt install espeak-ng)")
    done = subprocess.run(
        [espeak, "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0 or not done.stdout:
        raise SpeechError(f"espeak-ng failed for voice {voice!r}: {done.stderr.decode().strip()}")
    pcm, rate = pcm_from_wav_bytes(done.stdout)
    samples = np.frombuffer(pcm, dtype="<i2")
    audio = to_int16(soxr.resample(samples.astype(np.float32) / 32768.0, rate, RATE, quality="HQ"))
    audio.flags.writeable = False
    return audio


def to_int16(signal: np.ndarray) -> np.ndarray:
    """Float in [-1, 1] to int16, clipped instead of wrapped."""
    return np.clip(np.round(signal * 32767.0), -32768, 32767).astype(np.int16)


def silence(seconds: float) -> np.ndarray:
    """Digital silence of the given length."""
    return np.zeros(round(seconds * RATE), dtype=np.int16)


def concat(*parts: np.ndarray) -> np.ndarray:
    """Join clips end to end."""
    return np.concatenate([np.asarray(p, dtype=np.int16) for p in parts])


def mix_noise(signal: np.ndarray, snr_db: float, seed: int = 0) -> np.ndarray:
    """Add white Gaussian noise at `snr_db` relative to the signal's active (non-silent) power.

    Power is measured over samples above -50 dBFS so that padding silence does
    not make the speech look quieter than it is.
    """
    x = np.asarray(signal, dtype=np.float64)
    active = x[np.abs(x) > 32768 * 10 ** (-50 / 20)]
    power = float(np.mean(active**2)) if active.size else 1.0
    noise_power = power / 10 ** (snr_db / 10)
    noise = np.random.default_rng(seed).normal(0.0, np.sqrt(noise_power), x.shape)
    return np.clip(np.round(x + noise), -32768, 32767).astype(np.int16)


def write_wav(path: Path, signal: np.ndarray, rate: int = RATE, channels: int = 1) -> Path:
    """Save int16 samples (interleaved when channels > 1) as a PCM WAV file."""
    write_pcm_wav(path, np.asarray(signal, dtype="<i2").tobytes(), rate, channels)
    return path


def speech_bounds(signal: np.ndarray, floor_dbfs: float = -40.0) -> tuple[int, int]:
    """First and one-past-last sample louder than `floor_dbfs`: where a clip's speech is."""
    loud = np.flatnonzero(
        np.abs(np.asarray(signal, dtype=np.int32)) > 32768 * 10 ** (floor_dbfs / 20)
    )
    if loud.size == 0:
        return 0, 0
    return int(loud[0]), int(loud[-1]) + 1
