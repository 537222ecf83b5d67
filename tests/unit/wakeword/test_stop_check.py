"""The stop word's sound check, on the real "Stop" model and real espeak-ng and flite speech.

Measured when these were written (bench/figures/stop_check.py): the model fires
on "stop", "shop", "top" and "step" said alone in all these voices; the check
lets "stop" through and turns the other three away, and "spot" in these
espeak-ng voices. "stomp" is not tested: the check lets it through.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from bench.corpus import Voice, say
from daemon.config.schema import StopWordConfig
from daemon.wakeword import models
from daemon.wakeword.stop_check import WINDOW_SECONDS, sounds_like_stop, syllables
from daemon.wakeword.stop_word import StopWordDetector
from tests.support.speech import concat, silence, synthesize

CHUNK = 1280  # the microphone's 80 ms
ESPEAK_VOICES = ["en-us", "en+f3", "en-029"]


@pytest.fixture(scope="module")
def detector() -> StopWordDetector:
    return StopWordDetector(StopWordConfig(), models_dir=models.REPO_MODELS_DIR)


@pytest.fixture(scope="module")
def unchecked() -> StopWordDetector:
    return StopWordDetector(StopWordConfig(check_sound=False), models_dir=models.REPO_MODELS_DIR)


def espeak(text: str, voice: str) -> np.ndarray:
    return concat(silence(1.0), synthesize(text, voice=voice, speed=150), silence(1.0))


@pytest.fixture
def flite(tmp_path, monkeypatch):
    if shutil.which("flite") is None:
        pytest.skip("flite is not installed")
    monkeypatch.setenv("SPEAKERD_BENCH_CACHE", str(tmp_path))

    def speak(text: str) -> np.ndarray:
        return concat(silence(1.0), say(text, Voice("flite", "rms", 1.0)), silence(1.0))

    return speak


def heard(detector: StopWordDetector, audio: np.ndarray) -> tuple[int, int]:
    """(stops detected, model firings the check turned away)."""
    detector.reset()
    rejected = detector.rejected
    found = 0
    for start in range(0, len(audio), CHUNK):
        found += detector.feed(audio[start : start + CHUNK].tobytes()) is not None
    return found, detector.rejected - rejected


@pytest.mark.parametrize("voice", ESPEAK_VOICES)
@pytest.mark.parametrize("text", ["stop", "stop, stop", "stop it"])
def test_stop_passes_the_check(detector, voice, text):
    assert heard(detector, espeak(text, voice)) == (1, 0)


@pytest.mark.parametrize("voice", ESPEAK_VOICES)
@pytest.mark.parametrize("word", ["shop", "top", "step", "spot"])
def test_near_misses_said_alone_fire_the_model_but_not_the_check(detector, unchecked, voice, word):
    audio = espeak(word, voice)
    assert heard(unchecked, audio) == (1, 0)
    assert heard(detector, audio) == (0, 1)


def test_flite_stop_passes_and_its_near_misses_do_not(detector, flite):
    assert heard(detector, flite("stop")) == (1, 0)
    for word in ("shop", "top", "step"):
        assert heard(detector, flite(word)) == (0, 1), word


def test_the_detector_keeps_the_last_window_of_audio(detector):
    detector.reset()
    keep = round(WINDOW_SECONDS * 16000)
    assert not detector.recent_audio().any()
    ramp = (np.arange(keep + 5000) % 30000).astype(np.int16)
    for start in range(0, len(ramp), 333):
        detector.feed(ramp[start : start + 333])
    assert np.array_equal(detector.recent_audio(), ramp[-keep:])
    detector.reset()
    assert not detector.recent_audio().any()


def test_without_a_vowel_the_check_does_not_object():
    assert syllables(np.zeros(19200, dtype=np.int16)) == []
    assert sounds_like_stop(np.zeros(19200, dtype=np.int16))
    assert sounds_like_stop(np.zeros(100, dtype=np.int16))


def test_the_check_reads_the_sounds_it_claims():
    stop, shop, top, step = (syllables(synthesize(w, voice="en-us", speed=150))[-1]
                             for w in ("stop", "shop", "top", "step"))
    assert stop.stop_like
    assert stop.high_share_db > shop.high_share_db  # /s/ is brighter than /ʃ/
    assert stop.hiss_frames > top.hiss_frames  # "top" has no /s/
    assert step.f2_share_db > stop.f2_share_db  # /ɛ/'s second formant is higher than /ɑ/'s


@pytest.mark.parametrize("voice", ESPEAK_VOICES)
def test_stop_right_after_a_near_miss_is_heard(detector, voice):
    """A near miss turned away starts no refractory time: "shop ... stop" said within a
    second still stops."""
    audio = concat(
        silence(1.0), synthesize("shop", voice=voice, speed=150), silence(0.1),
        synthesize("stop", voice=voice, speed=150), silence(1.0),
    )  # fmt: skip
    found, rejected = heard(detector, audio)
    assert rejected >= 1, "the near miss did not fire the model (nothing to test)"
    assert found == 1, '"stop" right after "shop" was not heard'
