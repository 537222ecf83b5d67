"""The speech gate on synthetic rooms: shut on silence and steady noise, open on speech."""

from __future__ import annotations

import numpy as np

from daemon.wakeword.detector import FRAME_SAMPLES, SAMPLE_RATE
from daemon.wakeword.gate import HOLD_SECONDS, SpeechGate
from tests.support.speech import concat, mix_noise, silence, speech_bounds, synthesize, to_int16

FRAME_SECONDS = FRAME_SAMPLES / SAMPLE_RATE


def decisions(audio: np.ndarray, gate: SpeechGate | None = None) -> np.ndarray:
    gate = gate or SpeechGate()
    frames = len(audio) // FRAME_SAMPLES
    return np.array([gate.is_open(audio[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES])
                     for i in range(frames)])


def fan(seconds: float, rms: float = 300.0, seed: int = 3) -> np.ndarray:
    return to_int16(np.random.default_rng(seed).normal(0.0, rms / 32768, round(seconds * SAMPLE_RATE)))


def frame_of(sample: int) -> int:
    return sample // FRAME_SAMPLES


def test_silence_keeps_it_shut():
    assert not decisions(silence(5.0)).any()


def test_a_fan_that_starts_opens_it_briefly_then_becomes_the_floor():
    open_ = decisions(concat(silence(2.0), fan(6.0)))
    during_fan = open_[frame_of(2 * SAMPLE_RATE) :]
    assert during_fan.sum() * FRAME_SECONDS <= 0.4 + HOLD_SECONDS
    assert not during_fan[round(2.0 / FRAME_SECONDS) :].any(), "shut for the last 4 s of the fan"


def test_speech_opens_it_at_its_first_frame_and_holds_past_its_end():
    speech = synthesize("hey jarvis", voice="en-us", speed=150)
    audio = concat(silence(2.0), speech, silence(3.0))
    start, end = (2 * SAMPLE_RATE + b for b in speech_bounds(speech))
    open_ = decisions(audio)
    assert not open_[: frame_of(start)].any()
    assert open_[frame_of(start)], "the frame where speech starts"
    # openWakeWord scores the phrase up to ~0.5 s after its end: those frames are scored
    assert open_[frame_of(start) : frame_of(end + round(0.6 * SAMPLE_RATE))].all()
    assert not open_[frame_of(end + round((HOLD_SECONDS + 0.2) * SAMPLE_RATE)) :].any()


def test_speech_through_noise_as_loud_as_itself_opens_it():
    speech = synthesize("hey jarvis", voice="en", speed=170)
    audio = mix_noise(concat(silence(3.0), speech, silence(1.0)), snr_db=0, seed=4)
    open_ = decisions(audio)
    start = frame_of(3 * SAMPLE_RATE + speech_bounds(speech)[0])
    assert not open_[round(1.0 / FRAME_SECONDS) : start - 1].any(), "the noise alone: shut"
    assert open_[start : start + 5].any()


def test_a_whisper_in_a_silent_room_opens_it():
    """openWakeWord still hears "hey jarvis" 60 dB down in digital silence, so must the gate."""
    speech = np.round(synthesize("hey jarvis") * 10 ** (-60 / 20)).astype(np.int16)
    assert decisions(concat(silence(2.0), speech, silence(1.0))).any()


def test_reset_forgets_the_speech_it_was_holding_open_for():
    speech = synthesize("hey jarvis")
    kept, forgetful = SpeechGate(), SpeechGate()
    for gate in (kept, forgetful):
        decisions(concat(silence(1.0), speech[: speech_bounds(speech)[1]]), gate)
    forgetful.reset()
    assert decisions(silence(0.5), kept).all(), "the premise: it holds open after speech"
    assert not decisions(silence(0.5), forgetful).any()
