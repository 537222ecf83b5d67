"""Figure 2b: does the speech gate lose a wake word the bare model catches? (offline)

"hey jarvis" in espeak-ng voices and speeds (the ones the wake-word tests use),
each in several rooms: silence, white noise from 20 dB below the voice to as
loud as it, a fan, a whisper 30 dB down, right after another sentence, as a fan
switches on, and with its first 200 ms 30 dB down under a fan. Every clip is
scanned by the daemon's detector twice, gate on and gate off (every frame
scored, as the bare library does), in this process and as fast as it goes: the
figure is about detections, not time.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from bench.clips import ROOM_SENTENCES, noise
from daemon.config.schema import WakeWordConfig
from daemon.wakeword.detector import SAMPLE_RATE, WakeWordDetector
from tests.support.speech import concat, mix_noise, silence, speech_bounds, synthesize

VOICES = ("en-us", "en", "en-gb-scotland", "en+f3", "en-us+f2")
SPEEDS = (150, 130, 170)


def _add(audio: np.ndarray, other: np.ndarray) -> np.ndarray:
    return np.clip(audio.astype(np.int32) + other[: len(audio)], -32768, 32767).astype(np.int16)


def _fan_from(audio: np.ndarray, seconds: float, seed: int) -> np.ndarray:
    fan = np.zeros(len(audio), dtype=np.int32)
    start = round(seconds * SAMPLE_RATE)
    fan[start:] = noise(len(audio) / SAMPLE_RATE + 1, seed=seed)[: len(audio) - start]
    return _add(audio, fan)


def rooms(phrase: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    clip = concat(silence(2.0), phrase, silence(1.5))
    soft = phrase.copy()
    soft[: speech_bounds(phrase)[0] + round(0.2 * SAMPLE_RATE)] //= 30
    return {
        "silence": clip,
        "white noise, 20 dB SNR": mix_noise(clip, 20, seed=seed),
        "white noise, 10 dB SNR": mix_noise(clip, 10, seed=seed),
        "white noise, 5 dB SNR": mix_noise(clip, 5, seed=seed),
        "white noise, 0 dB SNR": mix_noise(clip, 0, seed=seed),
        "fan": _fan_from(clip, 0.0, seed),
        "whisper, 30 dB down": np.round(clip * 10 ** (-30 / 20)).astype(np.int16),
        "after a sentence": concat(silence(1.0), synthesize(ROOM_SENTENCES[seed % 4]),
                                   silence(0.3), phrase, silence(1.5)),
        "as a fan starts": _fan_from(clip, 1.7, seed),
        "soft first 200 ms under a fan": _fan_from(concat(silence(2.0), soft, silence(1.5)),
                                                   0.0, seed),
    }


def _detections(detector: WakeWordDetector, audio: np.ndarray) -> list[tuple[float, float]]:
    detector.reset()
    origin = detector.stream_time
    return [(round(d.time - origin, 2), round(d.score, 4)) for d in detector.feed(audio)]


def run(voices: int, speeds: int = len(SPEEDS),
        progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """The first `voices` voices at the first `speeds` speeds, in every room."""
    config = WakeWordConfig(models=["hey_jarvis"])
    gated = WakeWordDetector(config)
    bare = WakeWordDetector(config, speech_gate=False)
    clips: list[dict[str, Any]] = []
    for seed, (voice, speed) in enumerate(itertools.product(VOICES[:voices], SPEEDS[:speeds])):
        progress(f"recall: {voice} at {speed} wpm")
        phrase = synthesize("hey jarvis", voice=voice, speed=speed)
        for room, audio in rooms(phrase, seed).items():
            with_gate, without = _detections(gated, audio), _detections(bare, audio)
            clips.append({"voice": voice, "speed": speed, "room": room,
                          "bare": without, "gated": with_gate, "same": with_gate == without})
    caught_bare = sum(1 for c in clips if c["bare"])
    caught_gated = sum(1 for c in clips if c["gated"])
    return {
        "clips": clips,
        "bare_pct": 100 * caught_bare / len(clips),
        "gated_pct": 100 * caught_gated / len(clips),
        "missed_by_gate": sum(1 for c in clips if c["bare"] and not c["gated"]),
        "changed": sum(1 for c in clips if not c["same"]),
    }
