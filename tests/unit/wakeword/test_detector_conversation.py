"""The detector during a conversation with echo cancellation: warm when the model
starts talking, and a voice over the answer (damped by the canceller) still heard."""

from __future__ import annotations

from daemon.wakeword.detector import SAMPLE_RATE
from tests.support.speech import concat, mix_noise, silence, speech_bounds, synthesize
from tests.unit.wakeword.conftest import Clip


def damped_wake_word() -> Clip:
    """ "hey jarvis" in noise: it scores about 0.3, as the phrase said over an answer
    does behind the echo canceller (0.3-0.5 where the clean phrase scores 0.99)."""
    clip = Clip(synthesize("hey jarvis", voice="en", speed=150))
    clip.audio = mix_noise(clip.audio, snr_db=5, seed=1)
    return clip


def test_over_an_answer_the_lower_threshold_catches_a_damped_wake_word(make_detector):
    clip = damped_wake_word()
    assert make_detector().feed(clip.audio) == [], "the premise: 0.5 misses it"
    found = make_detector().feed(clip.audio, over_answer=True)
    assert len(found) == 1
    assert 0.2 <= found[0].score < 0.5
    assert clip.speech_end - 0.1 <= found[0].time <= clip.speech_end + 0.6
    stricter = make_detector(threshold_over_answer=0.45)
    assert stricter.feed(clip.audio, over_answer=True) == []


def test_a_model_threshold_below_the_one_over_an_answer_still_applies(make_detector):
    clip = damped_wake_word()
    low = make_detector(threshold=0.5, thresholds={"hey_jarvis": 0.2}, threshold_over_answer=0.45)
    assert len(low.feed(clip.audio, over_answer=True)) == 1


def test_audio_passed_over_keeps_the_detector_warm_where_a_reset_leaves_it_deaf(make_detector):
    phrase = synthesize("hey jarvis", voice="en-us", speed=150)
    said = concat(phrase, silence(1.0))  # the wake word as soon as the model talks
    end = speech_bounds(phrase)[1] / SAMPLE_RATE

    reset = make_detector()
    reset.feed(silence(2.0))
    reset.reset()
    assert reset.feed(said) == [], "the premise: 1.4 s deaf after a reset"

    warm = make_detector()
    warm.feed(silence(2.0))
    warm.pass_over(concat(synthesize("what will the weather be like"), silence(1.0)))
    skipped_to = warm.stream_time
    found = warm.feed(said)
    assert len(found) == 1
    assert end - 0.1 <= found[0].time - skipped_to <= end + 0.6, "the clock moved over it"
    assert warm.frames_replayed > 0


def test_the_wake_word_that_opened_the_conversation_does_not_fire_again(make_detector, hey_jarvis):
    """The model answering at once: the phrase is still in the replayed frames and scores
    high again, the refractory time (2 s) keeps it to one wake."""
    detector = make_detector()
    frame = 1280
    found, fed = [], 0
    while not found:
        found = detector.feed(hey_jarvis.audio[fed : fed + frame])
        fed += frame
    detector.pass_over(silence(0.16))  # the session opens
    answer = synthesize("it is sunny", voice="en-us", speed=170)  # the model answers at once
    after, peak = [], 0.0
    for start in range(0, 12 * frame, frame):
        after += detector.feed(answer[start : start + frame], over_answer=True)
        peak = max(peak, detector.last_scores["hey_jarvis"])
    assert after == []
    assert peak >= 0.5, "the premise: it still scores high when scoring resumes"
