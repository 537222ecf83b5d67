"""The newcomer's first command works: `speakerd demo` switches the lamp and speaks."""

from __future__ import annotations

import subprocess
import sys
import wave
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]


def test_demo_runs_the_whole_appliance_and_exits_0(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "daemon", "demo", "--out", str(tmp_path)],
        capture_output=True, text=True, cwd=REPO, timeout=240,
    )  # fmt: skip
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    for step in (
        "ready (READY=1)",
        "wake word hey_jarvis",
        "user said: turn on the lamp",
        "tool call set_relay(name='lamp', state='on')",
        "model said: Okay, the lamp is on.",
        "state listening -> idle",
        "lamp relay (mock GPIO 17): on",
        "model: gemini-3.8-live (emulated)",
    ):
        assert step in out, f"{step!r} missing from:\n{out}"
    assert out.index("wake word") < out.index("user said") < out.index("model said")
    with wave.open(str(tmp_path / "speaker.wav")) as wav:
        rate = wav.getframerate() * wav.getnchannels()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    # The answer was played, not silence: at least half a second of it is clearly audible.
    assert np.count_nonzero(np.abs(samples) > 1000) / rate > 0.5
    assert "speaker.wav" in out


def test_demo_answers_a_question_from_google_search_with_its_sources(tmp_path: Path) -> None:
    question = "will it rain in Bangkok tomorrow"
    result = subprocess.run(
        [sys.executable, "-m", "daemon", "demo", "--out", str(tmp_path), "--say", question],
        capture_output=True, text=True, cwd=REPO, timeout=240,
    )  # fmt: skip
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    for step in (
        f"user said: {question}",
        f"searched Google for: {question}",  # the timeline
        "source: Bangkok weather forecast https://weather.example/forecast/bangkok",
        "model said: The forecast for Bangkok says showers are likely",
        # ctl status, as the demo prints it
        f"google search: searched: {question} | Bangkok weather forecast "
        "<https://weather.example/forecast/bangkok>",
    ):
        assert step in out, f"{step!r} missing from:\n{out}"
