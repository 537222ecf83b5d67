"""The `media:` section: stations, the library folder, ducking; check-config's refusals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from daemon.config.loader import ConfigError, parse_config

REPO = Path(__file__).resolve().parents[3]


def problems(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "c.yaml")
    return str(caught.value)


def test_defaults_and_a_full_section(tmp_path: Path):
    config = parse_config("{}\n")
    assert (config.media.duck_db, config.media.duck_or_pause, config.media.volume) == (20.0, "duck", 60)
    config = parse_config(
        "media:\n  stations:\n    - {name: Jazz Radio, url: 'https://jazz.example/live.mp3'}\n"
        f"  library: {tmp_path}\n  duck_db: 12\n  duck_or_pause: pause\n  volume: 40\n"
    )
    assert config.media.stations[0].name == "Jazz Radio" and config.media.library == tmp_path


def test_bad_stations_and_a_missing_library_are_refused_with_their_line(tmp_path: Path):
    text = problems("media:\n  stations:\n    - {name: A, url: 'ftp://a.example/x'}\n")
    assert "c.yaml:3: media.stations[0].url" in text and "not an http:// or https:// URL" in text
    text = problems("media:\n  stations:\n    - {name: A, url: 'http://a/'}\n    - {name: a, url: 'http://b/'}\n")
    assert "two stations are named 'a'" in text
    text = problems(f"media:\n  library: {tmp_path / 'nowhere'}\n")
    assert f"c.yaml:2: media.library: the folder {tmp_path / 'nowhere'} does not exist" in text
    (tmp_path / "file").write_text("x")
    assert "is not a folder" in problems(f"media:\n  library: {tmp_path / 'file'}\n")
    assert "media.duck_or_pause" in problems("media:\n  duck_or_pause: mute\n")


def test_check_config_refuses_a_bad_station(tmp_path: Path):
    path = tmp_path / "config.yaml"
    path.write_text("media:\n  stations:\n    - {name: A, url: 'file:///etc/passwd'}\n")
    result = subprocess.run(
        [sys.executable, "-m", "daemon", "check-config", str(path)],
        capture_output=True, text=True, cwd=REPO, env={**os.environ, "GEMINI_API_KEY": "k"},
    )  # fmt: skip
    assert result.returncode == 78
    assert f"{path}:3: media.stations[0].url" in result.stderr
