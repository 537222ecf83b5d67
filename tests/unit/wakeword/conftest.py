"""Shared speech clips and a detector factory; synthesis is cached for the session."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from daemon.config.schema import WakeWordConfig
from daemon.wakeword.detector import SAMPLE_RATE, Detection, WakeWordDetector
from tests.support.speech import concat, silence, speech_bounds, synthesize

LEAD_SECONDS = 2.0
"""Silence before speech: lets openWakeWord's start-up frames pass, like a mic that was on."""


class Clip:
    """Speech padded with silence, and where the speech ends (in seconds)."""

    def __init__(self, speech: np.ndarray, tail: float = 1.5) -> None:
        lead = silence(LEAD_SECONDS)
        self.audio = concat(lead, speech, silence(tail))
        self.speech_end = (len(lead) + speech_bounds(speech)[1]) / SAMPLE_RATE


@pytest.fixture(scope="session")
def hey_jarvis() -> Clip:
    return Clip(synthesize("hey jarvis", voice="en-us", speed=150))


@pytest.fixture
def make_detector() -> Callable[..., WakeWordDetector]:
    def make(**wake_word: object) -> WakeWordDetector:
        return WakeWordDetector(WakeWordConfig.model_validate(wake_word))

    return make


@pytest.fixture(scope="session")
def shared_detector() -> WakeWordDetector:
    """One hey_jarvis + alexa detector for read-only scans (reset before each use)."""
    return WakeWordDetector(WakeWordConfig(models=["hey_jarvis", "alexa"]))


@pytest.fixture(scope="session")
def ungated_detector() -> WakeWordDetector:
    """The same models with every frame scored, as the bare library does."""
    return WakeWordDetector(WakeWordConfig(models=["hey_jarvis", "alexa"]), speech_gate=False)


def scanner(detector: WakeWordDetector) -> Callable[[np.ndarray], list[Detection]]:
    def run(audio: np.ndarray) -> list[Detection]:
        detector.reset()
        origin = detector.stream_time
        found = detector.feed(audio)
        return [Detection(d.model, d.score, d.time - origin) for d in found]

    return run


@pytest.fixture
def scan(shared_detector: WakeWordDetector) -> Callable[[np.ndarray], list[Detection]]:
    """Detections in a clip, times relative to the clip's start."""
    return scanner(shared_detector)


@pytest.fixture
def scan_ungated(ungated_detector: WakeWordDetector) -> Callable[[np.ndarray], list[Detection]]:
    """Detections in a clip with the speech gate off."""
    return scanner(ungated_detector)
