"""End-of-utterance detection from energy, on audio time."""

from __future__ import annotations

from daemon.emulator.activity import EnergyDetector

from .helpers import silence_pcm, speech_pcm


def kinds(events) -> list[tuple[str, float]]:
    return [(e.kind, round(e.speech_seconds, 2)) for e in events]


def test_speech_then_enough_silence_ends_the_utterance() -> None:
    detector = EnergyDetector(silence_ms=300)
    events = detector.feed(speech_pcm(1.0)) + detector.feed(silence_pcm(0.4))
    assert kinds(events) == [("start", 0.0), ("end", 1.0)]


def test_silence_shorter_than_silence_duration_keeps_the_utterance_open() -> None:
    detector = EnergyDetector(silence_ms=500)
    events = detector.feed(speech_pcm(0.5) + silence_pcm(0.3) + speech_pcm(0.5))
    assert kinds(events) == [("start", 0.0)]
    events = detector.feed(silence_pcm(0.5))
    assert kinds(events) == [("end", 1.3)]


def test_a_click_is_not_speech_and_quiet_noise_is_silence() -> None:
    detector = EnergyDetector()
    assert detector.feed(speech_pcm(0.02) + silence_pcm(0.5) + speech_pcm(1.0, 100)) == []


def test_finish_ends_an_open_utterance_once() -> None:
    detector = EnergyDetector()
    detector.feed(speech_pcm(0.3))
    assert kinds([detector.finish()]) == [("end", 0.3)]
    assert detector.finish() is None


def test_odd_chunk_boundaries_do_not_matter() -> None:
    detector = EnergyDetector(silence_ms=200)
    pcm = speech_pcm(0.5) + silence_pcm(0.3)
    events = []
    for start in range(0, len(pcm), 998):
        events += detector.feed(pcm[start : start + 998])
    assert kinds(events) == [("start", 0.0), ("end", 0.5)]
