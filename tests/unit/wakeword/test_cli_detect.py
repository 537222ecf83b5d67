"""`speakerd detect FILE.wav` as an owner runs it: a real process over a real file."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soxr

from tests.support.speech import concat, silence, speech_bounds, synthesize, to_int16, write_wav

LINE = re.compile(r"^(\d+\.\d\d)s (\w+) (\d\.\d\d) \(peak (\d\.\d\d)\)( by \w+)?$")


def speakerd(*args: str | Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SPEAKERD_CONFIG": str(tmp_path / "no-such-config.yaml")}
    return subprocess.run(
        [sys.executable, "-m", "daemon", "detect", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def recording(tmp_path_factory) -> tuple[Path, list[float]]:
    """Two wake words in a 44.1 kHz stereo WAV, as a phone might record; and where each ends."""
    first = synthesize("hey jarvis", voice="en-us", speed=150)
    second = synthesize("hey jarvis", voice="en", speed=150)
    parts = [silence(2.0), first, silence(3.0), second, silence(1.0)]
    mono = concat(*parts)
    ends = [
        (len(parts[0]) + speech_bounds(first)[1]) / 16000,
        (sum(map(len, parts[:3])) + speech_bounds(second)[1]) / 16000,
    ]
    stereo = np.stack([mono, mono // 2], axis=1).astype(np.float32) / 32768
    resampled = to_int16(soxr.resample(stereo, 16000, 44100))
    path = tmp_path_factory.mktemp("detect") / "kitchen.wav"
    write_wav(path, resampled.reshape(-1), rate=44100, channels=2)
    return path, ends


def test_prints_each_detection_at_the_phrase_end_and_a_summary(recording, tmp_path):
    path, ends = recording
    done = speakerd(path, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    detections = [LINE.match(line) for line in lines[:-1]]
    assert all(detections), lines
    assert [m.group(2) for m in detections] == ["hey_jarvis", "hey_jarvis"]
    for match, end in zip(detections, ends, strict=True):
        assert abs(float(match.group(1)) - end) <= 0.5, (lines, ends)
        assert 0.5 <= float(match.group(3)) <= float(match.group(4)) <= 1.0
    assert re.fullmatch(r"2 detections in 8\.\d s of audio \(hey_jarvis\)", lines[-1]), lines


def test_config_file_and_flags_choose_the_models(recording, tmp_path):
    path, _ = recording
    config = tmp_path / "config.yaml"
    config.write_text("wake_word:\n  models: [alexa]\n")
    from_config = speakerd(path, "--config", config, tmp_path=tmp_path)
    assert from_config.returncode == 0, from_config.stderr
    assert from_config.stdout.strip().splitlines() == ["0 detections in 8.5 s of audio (alexa)"]

    strict = speakerd(path, "--config", config, "--model", "hey_jarvis", "--threshold", "0.95",
                      tmp_path=tmp_path)  # fmt: skip
    assert strict.returncode == 0, strict.stderr
    scores = [float(m.group(3)) for line in strict.stdout.splitlines() if (m := LINE.match(line))]
    assert len(scores) == 2
    assert min(scores) >= 0.95


def test_missing_or_unreadable_file_exits_2_naming_it(tmp_path):
    missing = speakerd(tmp_path / "nope.wav", tmp_path=tmp_path)
    assert missing.returncode == 2
    assert "nope.wav: no such file" in missing.stderr

    text = tmp_path / "notes.wav"
    text.write_text("this is not audio")
    bad = speakerd(text, tmp_path=tmp_path)
    assert bad.returncode == 2
    assert "notes.wav: not a readable WAV file" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_unknown_model_and_broken_config_are_explained(recording, tmp_path):
    path, _ = recording
    unknown = speakerd(path, "--model", "hey_siri", tmp_path=tmp_path)
    assert unknown.returncode == 2
    assert "unknown wake word 'hey_siri'" in unknown.stderr

    config = tmp_path / "config.yaml"
    config.write_text("wake_word:\n  treshold: 0.7\n")
    broken = speakerd(path, "--config", config, tmp_path=tmp_path)
    assert broken.returncode == 78
    assert "config.yaml:2" in broken.stderr
