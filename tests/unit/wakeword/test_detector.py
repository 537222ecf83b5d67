"""The real openWakeWord models on espeak-ng speech: wakes when called, not otherwise."""

from __future__ import annotations

import numpy as np
import pytest

from daemon.config.schema import WakeWordConfig
from daemon.wakeword.detector import FRAME_SAMPLES, SAMPLE_RATE, WakeWordDetector
from tests.support.speech import concat, mix_noise, silence, synthesize, to_int16
from tests.unit.wakeword.conftest import LEAD_SECONDS, Clip

# Voices and speeds that espeak-ng renders recognisably enough for hey_jarvis_v0.1
# (measured: en-029 and some +m variants do not, with or without noise).
CLEAN = [("en-us", 130), ("en-us", 170), ("en", 150), ("en-gb-scotland", 150),
         ("en+f3", 170), ("en-us+f2", 150)]  # fmt: skip
NOISY = [("en-us", 150), ("en", 170), ("en-gb-scotland", 170), ("en+f3", 170),
         ("en-us+f2", 170)]  # fmt: skip

SENTENCES = [
    "the weather is nice today and the sun is shining",
    "please turn on the kitchen light",
    "hey there, how are you doing this morning",
    "the jars of jam are on the shelf",
    "what time does the train to paris leave",
]


def _close_to_end(clip: Clip, time: float) -> bool:
    """A detection belongs to the phrase if it lands within 0.6 s after its end."""
    return clip.speech_end - 0.1 <= time <= clip.speech_end + 0.6


@pytest.mark.parametrize(("voice", "speed"), CLEAN)
def test_wake_word_is_detected_in_several_voices(scan, voice, speed):
    clip = Clip(synthesize("hey jarvis", voice=voice, speed=speed))
    found = scan(clip.audio)
    assert [d.model for d in found] == ["hey_jarvis"]
    assert found[0].score >= 0.5
    assert _close_to_end(clip, found[0].time), (found, clip.speech_end)


@pytest.mark.parametrize(("voice", "speed"), NOISY)
def test_wake_word_is_detected_through_noise_at_10_db_snr(scan, voice, speed):
    clip = Clip(synthesize("hey jarvis", voice=voice, speed=speed))
    found = scan(mix_noise(clip.audio, snr_db=10, seed=1))
    assert [d.model for d in found] == ["hey_jarvis"]
    assert _close_to_end(clip, found[0].time), (found, clip.speech_end)


def test_other_bundled_model_reports_under_its_own_name(scan):
    clip = Clip(synthesize("alexa", voice="en-us", speed=150))
    found = scan(clip.audio)
    assert [d.model for d in found] == ["alexa"]


@pytest.mark.parametrize("voice", ["en-us", "en+f3"])
def test_ordinary_sentences_trigger_nothing(scan, voice):
    speech = [concat(synthesize(s, voice=voice, speed=150), silence(0.7)) for s in SENTENCES]
    assert scan(concat(silence(LEAD_SECONDS), *speech)) == []


def test_silence_and_steady_noise_trigger_nothing(scan):
    assert scan(silence(6)) == []
    fan = to_int16(np.random.default_rng(3).normal(0.0, 0.05, 6 * SAMPLE_RATE))  # -26 dBFS hiss
    assert scan(concat(silence(LEAD_SECONDS), fan)) == []


def test_two_wake_words_give_two_detections_at_their_times(scan):
    first = synthesize("hey jarvis", voice="en-us", speed=150)
    second = synthesize("hey jarvis", voice="en", speed=150)
    gap = silence(3.0)
    audio = concat(silence(LEAD_SECONDS), first, gap, second, silence(1.5))
    found = scan(audio)
    assert [d.model for d in found] == ["hey_jarvis", "hey_jarvis"]
    second_start = (LEAD_SECONDS * SAMPLE_RATE + len(first) + len(gap)) / SAMPLE_RATE
    assert found[0].time < second_start < found[1].time


def test_one_utterance_gives_one_detection_though_the_score_stays_high(make_detector, hey_jarvis):
    detector = make_detector(models=["hey_jarvis"], refractory_seconds=0.0)
    above = 0
    found = []
    for offset in range(0, len(hey_jarvis.audio), FRAME_SAMPLES):
        found += detector.feed(hey_jarvis.audio[offset : offset + FRAME_SAMPLES])
        above += detector.last_scores["hey_jarvis"] >= 0.5
    assert above >= 3, "the premise: several frames in a row score above the threshold"
    assert len(found) == 1


def test_refractory_period_swallows_a_repeat_within_it(make_detector):
    quick = concat(
        silence(LEAD_SECONDS),
        synthesize("hey jarvis", voice="en-us", speed=170),
        silence(0.4),
        synthesize("hey jarvis", voice="en-us", speed=170),
        silence(1.5),
    )
    without = make_detector(models=["hey_jarvis"], refractory_seconds=0.0).feed(quick)
    assert len(without) == 2, "the premise: the two phrases are separate detections"
    with_refractory = make_detector(models=["hey_jarvis"], refractory_seconds=2.0).feed(quick)
    assert len(with_refractory) == 1


def test_per_model_threshold_overrides_the_global_one(make_detector):
    clip = Clip(synthesize("hey jarvis", voice="en-us", speed=170))
    loose = make_detector(models=["hey_jarvis"], threshold=0.5).feed(clip.audio)
    strict = make_detector(
        models=["hey_jarvis"], threshold=0.5, thresholds={"hey_jarvis": 0.95}
    ).feed(clip.audio)
    assert loose[0].score < 0.95, "the premise: the 0.5 crossing frame scores below 0.95"
    assert strict[0].score >= 0.95
    assert strict[0].time > loose[0].time


def test_chunk_size_does_not_change_detections(make_detector, hey_jarvis):
    whole = make_detector(models=["hey_jarvis"]).feed(hey_jarvis.audio)
    odd = make_detector(models=["hey_jarvis"])
    pieces = []
    for offset in range(0, len(hey_jarvis.audio), 333):
        pieces += odd.feed(hey_jarvis.audio[offset : offset + 333].tobytes())
    assert pieces == whole
    assert len(whole) == 1


def test_detection_time_is_the_end_of_an_80_ms_frame_on_the_stream_clock(make_detector, hey_jarvis):
    detector = make_detector(models=["hey_jarvis"])
    detector.feed(silence(5.0))
    found = detector.feed(hey_jarvis.audio)
    assert len(found) == 1
    frames = found[0].time * SAMPLE_RATE / FRAME_SAMPLES
    assert frames == pytest.approx(round(frames))
    assert _close_to_end(hey_jarvis, found[0].time - 5.0)


def test_reset_forgets_a_half_heard_wake_word(make_detector, hey_jarvis):
    cut = round((hey_jarvis.speech_end - 0.35) * SAMPLE_RATE)
    before, after = hey_jarvis.audio[:cut], hey_jarvis.audio[cut:]
    kept = make_detector(models=["hey_jarvis"])
    assert kept.feed(before) == [], "the premise: the detection comes after the cut"
    assert len(kept.feed(after)) == 1

    forgetful = make_detector(models=["hey_jarvis"])
    forgetful.feed(before)
    forgetful.reset()
    assert forgetful.feed(concat(after, silence(2.0))) == []


def test_start_up_transient_in_steady_noise_triggers_nothing():
    """Right after a reset openWakeWord's placeholder buffers meet the room's noise.

    With the speech gate off, so the noise is scored as the bare library would.
    """
    detector = WakeWordDetector(WakeWordConfig(models=["hey_jarvis"], threshold=0.2),
                                speech_gate=False)
    hiss = to_int16(np.random.default_rng(5).normal(0.0, 0.05, 3 * SAMPLE_RATE))
    peak = 0.0
    for _ in range(2):
        detector.reset()
        for offset in range(0, len(hiss), FRAME_SAMPLES):
            assert detector.feed(hiss[offset : offset + FRAME_SAMPLES]) == []
            peak = max(peak, detector.last_scores["hey_jarvis"])
    assert peak >= 0.2, "the premise: the transient scores above this test's threshold"


def test_bytes_must_be_whole_samples(make_detector):
    with pytest.raises(ValueError, match="not whole 16-bit samples"):
        make_detector().feed(b"\x00\x01\x02")


def test_float_audio_is_refused_with_a_clear_error(make_detector):
    with pytest.raises(ValueError, match="int16"):
        make_detector().feed(np.zeros(1280, dtype=np.float32))
