"""Short local sounds: a wake chime, an error buzz and an alarm made in code, or any WAV file.

Generated rather than shipped so that the appliance always has them, at any
device rate, with no asset files to lose.
"""

from __future__ import annotations

import numpy as np

from hardware.audio.convert import resample
from hardware.audio.wav import read_wav

BUILT_IN = ("chime", "buzz", "alarm")


def _envelope(length: int, rate: int, attack_s: float, release_s: float) -> np.ndarray:
    env = np.ones(length, dtype=np.float32)
    attack, release = int(attack_s * rate), int(release_s * rate)
    if attack:
        env[:attack] = np.linspace(0.0, 1.0, attack, dtype=np.float32)
    if release:
        env[-release:] *= np.linspace(1.0, 0.0, release, dtype=np.float32)
    return env


def chime(rate: int) -> np.ndarray:
    """Two rising bell-like notes (E6 then A6), about 0.35 s: "I'm listening"."""
    parts = []
    for freq, seconds in ((1318.5, 0.14), (1760.0, 0.21)):
        t = np.arange(int(seconds * rate), dtype=np.float32) / rate
        tone = np.sin(2 * np.pi * freq * t) + 0.3 * np.sin(2 * np.pi * 2 * freq * t)
        decay = np.exp(-t / (seconds * 0.6)).astype(np.float32)
        parts.append(0.35 * tone * decay * _envelope(len(t), rate, 0.005, 0.02))
    return np.concatenate(parts).astype(np.float32)


def buzz(rate: int) -> np.ndarray:
    """A low, rough double buzz, about 0.4 s: "something went wrong"."""
    t = np.arange(int(0.15 * rate), dtype=np.float32) / rate
    wave = np.sign(np.sin(2 * np.pi * 180.0 * t)) * 0.6 + np.sin(2 * np.pi * 90.0 * t) * 0.4
    note = (0.3 * wave * _envelope(len(t), rate, 0.005, 0.02)).astype(np.float32)
    gap = np.zeros(int(0.08 * rate), dtype=np.float32)
    return np.concatenate([note, gap, note])


def alarm(rate: int) -> np.ndarray:
    """Four quick bright beeps (A5/A6 mix), about 0.9 s: "a timer is done". Repeated
    with pauses while ringing; a pattern no voice or chime is mistaken for."""
    t = np.arange(int(0.12 * rate), dtype=np.float32) / rate
    tone = np.sin(2 * np.pi * 880.0 * t) + 0.5 * np.sin(2 * np.pi * 1760.0 * t)
    beep = (0.3 * tone * _envelope(len(t), rate, 0.004, 0.02)).astype(np.float32)
    gap = np.zeros(int(0.1 * rate), dtype=np.float32)
    return np.concatenate([beep, gap, beep, gap, beep, gap, beep])


def load_sound(name_or_path: str, rate: int) -> np.ndarray:
    """A built-in sound by name, or a WAV file by path, as mono float32 at `rate`.

    Raises WavError for an unreadable file (the message names the path).
    """
    if name_or_path == "chime":
        return chime(rate)
    if name_or_path == "buzz":
        return buzz(rate)
    if name_or_path == "alarm":
        return alarm(rate)
    samples, file_rate = read_wav(name_or_path)
    return resample(samples, file_rate, rate)
