"""wake_word.engine: both: openWakeWord and microWakeWord on one stream, either waking."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from bench.clips import noise
from bench.corpus import all_voices, in_condition, padded, say
from daemon.config.schema import WakeWordConfig
from daemon.wakeword.both_engines import BothEnginesDetector
from daemon.wakeword.detector import Detection
from daemon.wakeword.engines import make_detector
from daemon.wakeword.listener import WakeWordListener
from tests.support.speech import concat, silence, synthesize

BOTH = WakeWordConfig(engine="both", models=["hey_jarvis"])
ALONE = WakeWordConfig(engine="openwakeword", models=["hey_jarvis"])


def _wake_word() -> tuple[np.ndarray, float]:
    """The wake word in a voice of the bench corpus, 2 s into the stream; and its end."""
    voice = next(v for v in all_voices() if v.label == "espeak-ng:en-gb-scotland@130")
    audio, _start, end = padded(say("hey jarvis", voice), lead=2.0)
    return audio, end


def _noisy_wake_word() -> tuple[np.ndarray, float]:
    """The same in pink noise 5 dB under it: openWakeWord alone misses it."""
    audio, end = _wake_word()
    return in_condition(audio, "pink 5 dB", 6), end


async def _listen(
    config: WakeWordConfig, audio: np.ndarray
) -> tuple[list[Detection], WakeWordListener]:
    """Detections from the daemon's listener fed 40 ms chunks, as the microphone does."""
    return await _listen_more(WakeWordListener(config), audio)


async def test_a_wake_word_in_noise_that_openwakeword_alone_misses_wakes_it():
    audio, end = _noisy_wake_word()
    alone, listener = await _listen(ALONE, audio)
    listener.close()
    found, listener = await _listen(BOTH, audio)
    try:
        assert alone == []
        assert [d.model for d in found] == ["hey_jarvis"]
        assert end - 0.8 < found[0].time < end + 1.0
        # the session's first audio starts before the wake word ends
        assert listener.wake_audio_start(found[0]) < end
    finally:
        listener.close()


def test_a_clear_wake_word_both_engines_catch_wakes_once():
    speech, _end = _wake_word()
    detector = make_detector(BOTH)
    assert isinstance(detector, BothEnginesDetector)
    micro_alone = make_detector(
        BOTH.model_copy(update={"engine": "microwakeword", "threshold": 0.2})
    )
    assert micro_alone.feed(speech), "microWakeWord hears it too"
    assert make_detector(ALONE).feed(speech), "and so does openWakeWord"
    found = []
    for start in range(0, len(speech), 1280):
        found += detector.feed(speech[start : start + 1280])
    assert [d.model for d in found] == ["hey_jarvis"]


async def test_microwakeword_does_no_work_until_something_sounds_like_the_wake_word():
    room = concat(
        silence(5.0),
        noise(6.0),  # a fan
        silence(1.0),
        synthesize("the kettle is on and the post has come"),
        silence(2.0),
    )
    found, listener = await _listen(BOTH, room)
    try:
        detector = await listener.ready()
        assert isinstance(detector, BothEnginesDetector)
        assert found == []
        assert detector.openwakeword.frames_scored > 0  # the talk was scored
        assert detector.microwakeword.frames_scored == 0
        wake_word, _end = _wake_word()
        woken, _ = await _listen_more(listener, wake_word)
        assert [d.model for d in woken] == ["hey_jarvis"]
        assert detector.microwakeword.frames_scored > 0
    finally:
        listener.close()


async def _listen_more(
    listener: WakeWordListener, audio: np.ndarray
) -> tuple[list[Detection], WakeWordListener]:
    found = []
    for start in range(0, len(audio), 640):
        detection = await listener.process(audio[start : start + 640].tobytes())
        if detection is not None:
            found.append(detection)
    return found, listener


async def test_record_pass_over_and_process_keep_one_stream_clock():
    listener = WakeWordListener(BOTH)
    try:
        await listener.process(silence(1.0).tobytes())
        listener.record(silence(2.0).tobytes())
        listener.pass_over(silence(0.4).tobytes())
        words, _end = _wake_word()
        await listener.process(words[: len(words) // 1280 * 1280].tobytes())  # whole frames
        detector = await listener.ready()
        assert isinstance(detector, BothEnginesDetector)
        assert detector.microwakeword.frames_scored > 0
        assert detector.stream_time == pytest.approx(listener.stream_time)
        assert detector.openwakeword.stream_time == pytest.approx(listener.stream_time)
        # microWakeWord heard up to 1 s after openWakeWord's last stir, on the same clock
        assert 0 < detector.microwakeword.stream_time <= listener.stream_time
    finally:
        listener.close()


def test_ordinary_talk_wakes_neither_engine():
    audio = concat(
        silence(2.0),
        synthesize("the weather today is mild with a light breeze"),
        synthesize("jarvis cocker played at the festival"),
        silence(1.0),
    )
    assert make_detector(BOTH).feed(audio) == []


def test_a_wake_word_only_one_engine_has_is_refused_with_the_allowed_names():
    with pytest.raises(
        ValidationError, match="allowed with engine both: hey_jarvis, alexa, hey_mycroft"
    ):
        WakeWordConfig(engine="both", models=["okay_nabu"])
    with pytest.raises(ValidationError, match="allowed with engine both"):
        WakeWordConfig(engine="both", models=["/srv/mine.onnx"])


def test_microwakeword_listens_at_its_own_threshold():
    detector = make_detector(BOTH.model_copy(update={"micro_threshold": 0.4}))
    assert isinstance(detector, BothEnginesDetector)
    assert detector.thresholds == {"hey_jarvis": 0.5}
    assert detector.microwakeword.thresholds == {"hey_jarvis": 0.4}


def test_quiet_audio_fed_straight_to_the_detector_costs_microwakeword_nothing():
    detector = make_detector(BOTH)
    assert isinstance(detector, BothEnginesDetector)
    room = concat(silence(3.0), noise(6.0))  # a fan comes on at 3 s
    scored_at = {}
    for start in range(0, len(room), 1280):
        assert detector.feed(room[start : start + 1280]) == []
        scored_at[round(detector.stream_time, 2)] = detector.microwakeword.frames_scored
    assert scored_at[2.96] == 0  # silence
    assert scored_at[8.96] == scored_at[5.04]  # the fan, once it is known to be steady


@pytest.mark.parametrize("chunk", [1280, 5120, 16000])
def test_how_the_audio_is_chunked_changes_no_detection(chunk):
    """microWakeWord starts at a frame's time, not at a hand-over's end."""
    clean, _end = _wake_word()
    # noise from 10 s before it: longer than the audio kept
    audio = in_condition(concat(silence(10.0), clean), "pink 5 dB", 6)

    def detections(size: int) -> list[tuple[float, float, str]]:
        detector = make_detector(BOTH)
        return [
            (d.time, d.score, d.engine)
            for start in range(0, len(audio), size)
            for d in detector.feed(audio[start : start + size])
        ]

    every_frame = detections(1280)
    assert every_frame and every_frame[0][2] == "microwakeword"
    assert detections(chunk) == every_frame
