"""The speech gate in front of openWakeWord: less work, the same detections.

Each clip is scanned twice, by the daemon's detector and by the same models
with the gate off (every frame scored, as the bare library does); the gate may
skip frames but must not change what is detected, when, or how sure.
"""

from __future__ import annotations

import numpy as np
import pytest

from bench.clips import ROOM_SENTENCES, noise, quiet_room_sound, room_sound
from daemon.wakeword.detector import FRAME_SAMPLES, SAMPLE_RATE
from tests.support.speech import concat, mix_noise, silence, speech_bounds, synthesize


def _with_fan(audio: np.ndarray, start_seconds: float) -> np.ndarray:
    """A fan (steady noise) switched on at `start_seconds` and left running."""
    fan = np.zeros(len(audio), dtype=np.int32)
    start = round(start_seconds * SAMPLE_RATE)
    fan[start:] = noise(len(audio) / SAMPLE_RATE, seed=9)[: len(audio) - start]
    return np.clip(audio.astype(np.int32) + fan, -32768, 32767).astype(np.int16)


def _clip(voice: str, speed: int, before: np.ndarray | None = None) -> np.ndarray:
    return concat(before if before is not None else silence(2.0),
                  synthesize("hey jarvis", voice=voice, speed=speed), silence(1.5))


HARD_CASES = {
    "noise as loud as the voice": lambda v, s: mix_noise(_clip(v, s), snr_db=0, seed=2),
    "noise 5 dB below the voice": lambda v, s: mix_noise(_clip(v, s), snr_db=5, seed=3),
    "right after another sentence": lambda v, s: _clip(
        v, s, concat(silence(1.0), synthesize(ROOM_SENTENCES[2]), silence(0.3))),
    "as a fan starts": lambda v, s: _with_fan(_clip(v, s), 1.7),
    "60 dB down in a silent room": lambda v, s: np.round(_clip(v, s) * 1e-3).astype(np.int16),
}


@pytest.mark.parametrize("case", HARD_CASES)
@pytest.mark.parametrize(("voice", "speed"), [("en", 170), ("en-gb-scotland", 150)])
def test_the_gate_changes_no_detection(scan, scan_ungated, case, voice, speed):
    audio = HARD_CASES[case](voice, speed)
    gated, bare = scan(audio), scan_ungated(audio)
    assert [(d.model, round(d.time, 3)) for d in gated] == [(d.model, round(d.time, 3)) for d in bare]
    assert [d.score for d in gated] == pytest.approx([d.score for d in bare], abs=1e-4)


def test_the_first_200_ms_of_speech_reach_the_model_though_the_gate_was_shut(
        shared_detector, scan, scan_ungated):
    """A soft start, under a fan's hum, does not open the gate yet is in the model's buffers."""
    speech = synthesize("hey jarvis", voice="en-us", speed=150)
    start = speech_bounds(speech)[0]
    soft = speech.copy()
    soft[: start + round(0.2 * SAMPLE_RATE)] //= 30  # the first 200 ms, 30 dB down
    audio = _with_fan(concat(silence(2.0), soft, silence(1.5)), 0.0)
    gated, bare = scan(audio), scan_ungated(audio)
    assert [d.model for d in bare] == ["hey_jarvis"]
    assert [(round(d.time, 3), round(d.score, 4)) for d in gated] == [
        (round(d.time, 3), round(d.score, 4)) for d in bare]
    # the premise: the gate stayed shut through the soft start (its frames were replayed)
    shared_detector.reset()
    scored_before = shared_detector.frames_scored
    shared_detector.feed(audio[: round(2.0 * SAMPLE_RATE) + start + round(0.2 * SAMPLE_RATE)])
    assert shared_detector.frames_scored - scored_before <= 1


@pytest.mark.parametrize(("mix", "at_most"), [(room_sound, 0.5), (quiet_room_sound, 0.5)])
def test_room_sound_is_mostly_not_scored_and_wakes_nothing(make_detector, mix, at_most):
    detector = make_detector(models=["hey_jarvis"])
    audio = mix(45.0)
    assert detector.feed(audio) == []
    frames = len(audio) // FRAME_SAMPLES
    assert detector.frames_scored < at_most * frames
    assert detector.frames_scored > 0.25 * frames, "the speech in it is scored"


def test_a_fan_switching_on_or_a_knock_costs_no_scoring(make_detector):
    """Openings that do not last CONFIRM_FRAMES loud frames are never scored."""
    knock = (noise(0.03, rms=8000.0, seed=4) * np.hanning(480)).astype(np.int16)
    audio = concat(silence(2.0), knock, silence(2.0), _with_fan(silence(4.0), 1.0))
    detector = make_detector(models=["hey_jarvis"])
    assert detector.feed(audio) == []
    assert detector.frames_scored == 0
