"""A room, offline: what the microphone hears of the speaker, for echo measurements.

The echo path of a small smart speaker is a delay (playout plus sound travel),
a loud direct path (the speaker sits a few centimetres from the microphone)
and a reverberant tail. A synthetic impulse response with exponentially
decaying noise after the direct path stands in for a measured one; the same
seed gives the same room.

    rir = impulse_response(rt60=0.3, delay_ms=40)
    mic = hear(far_end, rir) + near_end_speech
"""

from __future__ import annotations

import numpy as np

RATE = 16000


def impulse_response(
    rt60: float = 0.3, delay_ms: float = 40.0, direct: float = 0.5, seed: int = 0
) -> np.ndarray:
    """Impulse response at 16 kHz: `delay_ms` of nothing, a direct path of gain `direct`,
    then a tail that decays 60 dB in `rt60` seconds (energy about half the direct path's)."""
    rng = np.random.default_rng(seed)
    delay = round(delay_ms * RATE / 1000)
    length = round(rt60 * RATE)
    t = np.arange(length) / RATE
    tail = rng.normal(0.0, 1.0, length) * 10 ** (-3 * t / rt60)
    tail *= direct * np.sqrt(0.5 / float(np.sum(tail**2)))
    tail[0] = direct
    return np.concatenate([np.zeros(delay), tail])


def hear(far_end: np.ndarray, rir: np.ndarray, noise_rms: float = 0.0, seed: int = 0) -> np.ndarray:
    """What the microphone records of `far_end` (int16) in the room, as float64 samples."""
    echo = np.convolve(np.asarray(far_end, np.float64), rir)[: len(far_end)]
    if noise_rms:
        echo += np.random.default_rng(seed).normal(0.0, noise_rms, len(echo))
    return echo


def clip_int16(signal: np.ndarray) -> np.ndarray:
    """Samples already on the int16 scale, clipped (not scaled) to int16."""
    return np.clip(np.round(signal), -32768, 32767).astype(np.int16)
