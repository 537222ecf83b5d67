"""Settings the chosen model refuses are config errors with file, line and key
(exit 78) at check-config time, and `speakerd run` stops there: it never connects.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from daemon.config.loader import ConfigError, parse_config
from daemon.core.models import DEFAULT_MODEL, PREVIEW_MODEL
from daemon.emulator import EmulatorThread

REPO = Path(__file__).resolve().parents[3]

REFUSED = [
    (DEFAULT_MODEL, "affective_dialog: true", "gemini.affective_dialog", "affective dialog"),
    (DEFAULT_MODEL, "proactive_audio: false", "gemini.proactive_audio", "proactive audio"),
    (DEFAULT_MODEL, "thinking_budget: 1024", "gemini.thinking_budget", "thinking"),
    (PREVIEW_MODEL, "vocabulary: [Khao Soi]", "gemini.vocabulary", "vocabulary"),
]


def config_text(model: str, setting: str, extra: str = "") -> str:
    return textwrap.dedent(f"""\
        # kitchen speaker
        gemini:
          model: {model}
          voice: Puck
          {setting}
        {extra}""")


def speakerd(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "daemon", *args], capture_output=True, text=True, cwd=REPO,
        env={**os.environ, "GEMINI_API_KEY": "x", **(env or {})}, timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize(("model", "setting", "key", "words"), REFUSED)
def test_check_config_names_the_line_and_key_the_model_refuses(
    tmp_path, model, setting, key, words
):
    path = tmp_path / "config.yaml"
    path.write_text(config_text(model, setting))

    result = speakerd("check-config", str(path))

    assert result.returncode == 78
    assert f"{path}:5: {key}: {model}" in result.stderr, result.stderr
    assert words in result.stderr


@pytest.mark.parametrize(("model", "setting", "key", "words"), REFUSED)
def test_run_exits_78_and_never_connects(tmp_path, model, setting, key, words):
    with EmulatorThread(speech="tone") as emu:
        extra = f"  base_url: {emu.url}\n  ca_file: {emu.ca_file}\n"  # under gemini:
        path = tmp_path / "config.yaml"
        path.write_text(config_text(model, setting).rstrip("\n") + "\n" + extra)

        result = speakerd("run", "--config", str(path))

        assert result.returncode == 78, result.stderr
        assert key in result.stderr
        assert emu.call(lambda e: len(e.sessions)) == 0


@pytest.mark.parametrize(
    ("model", "setting"),
    [
        (DEFAULT_MODEL, "proactive_audio: true"),
        (DEFAULT_MODEL, "affective_dialog: false"),
        (DEFAULT_MODEL, "vocabulary: [Khao Soi, Somchai]"),
        (PREVIEW_MODEL, "affective_dialog: true"),
        (PREVIEW_MODEL, "proactive_audio: false"),
        (PREVIEW_MODEL, "thinking_budget: 1024"),
    ],
)
def test_what_the_model_takes_is_accepted(model, setting):
    config = parse_config(config_text(model, setting))
    assert config.gemini.model == model


def test_the_default_model_is_the_stable_one():
    assert parse_config("{}\n").gemini.model == DEFAULT_MODEL == "gemini-3.8-live"


def test_an_unknown_model_is_allowed_with_a_warning(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(config_text("gemini-4.0-live", "language: th-TH"))

    result = speakerd("check-config", str(path))

    assert result.returncode == 0, result.stderr
    assert "warning: gemini.model: 'gemini-4.0-live' is not a model speakerd knows" in result.stderr
    assert "treating it as Live 3.8" in result.stderr


def test_run_logs_the_unknown_model_warning_too(tmp_path):
    """The owner who skipped check-config finds it in the journal."""
    path = tmp_path / "config.yaml"
    path.write_text(f"gemini:\n  model: gemini-4.0-live\ncontrol:\n  socket: {tmp_path}/s.sock\n")

    result = speakerd("run", "--config", str(path), env={"GEMINI_API_KEY": ""})

    assert result.returncode == 78  # no key: refused before anything starts
    assert "'gemini-4.0-live' is not a model speakerd knows" in result.stderr


def test_an_unknown_model_is_checked_as_the_newest_generation():
    with pytest.raises(ConfigError) as caught:
        parse_config(config_text("gemini-4.0-live", "affective_dialog: true"))
    assert caught.value.problems[0].key == "gemini.affective_dialog"


@pytest.mark.parametrize(
    ("setting", "key"),
    [
        ("language: thai", "gemini.language"),
        ("vocabulary: ['']", "gemini.vocabulary[0]"),
    ],
)
def test_bad_language_or_vocabulary_is_named(setting, key):
    with pytest.raises(ConfigError) as caught:
        parse_config(config_text(DEFAULT_MODEL, setting))
    assert caught.value.problems[0].key == key
    assert caught.value.problems[0].line == 5


def test_camera_media_resolution_is_low_by_default_and_checked():
    assert parse_config("{}\n").camera.media_resolution == "low"
    with pytest.raises(ConfigError) as caught:
        parse_config("camera:\n  media_resolution: ultra\n")
    assert caught.value.problems[0].key == "camera.media_resolution"
