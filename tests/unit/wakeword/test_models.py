"""Model files are found where the owner put them, and a missing one is named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from daemon.config.schema import WakeWordConfig
from daemon.wakeword import models
from daemon.wakeword.detector import WakeWordDetector
from daemon.wakeword.models import WakeWordModelError, find_models_dir, resolve_models
from tests.support.speech import synthesize
from tests.unit.wakeword.conftest import Clip

REPO_MODELS = models.REPO_MODELS_DIR


@pytest.fixture
def models_copy(tmp_path: Path) -> Path:
    """A models directory with the feature models and hey_jarvis only."""
    target = tmp_path / "models"
    target.mkdir()
    for name in ("melspectrogram.onnx", "embedding_model.onnx", "hey_jarvis_v0.1.onnx"):
        shutil.copy(REPO_MODELS / name, target / name)
    return target


def test_repo_models_are_used_when_nothing_is_configured(monkeypatch):
    monkeypatch.delenv(models.MODELS_DIR_ENV, raising=False)
    assert find_models_dir(None) == REPO_MODELS


def test_environment_variable_beats_the_repo(monkeypatch, models_copy):
    monkeypatch.setenv(models.MODELS_DIR_ENV, str(models_copy))
    assert find_models_dir(None) == models_copy


def test_config_beats_the_environment(monkeypatch, models_copy, tmp_path):
    monkeypatch.setenv(models.MODELS_DIR_ENV, str(tmp_path / "elsewhere"))
    files = resolve_models(WakeWordConfig(models_dir=models_copy))
    assert files.wake_words == {"hey_jarvis": models_copy / "hey_jarvis_v0.1.onnx"}
    assert files.melspectrogram == models_copy / "melspectrogram.onnx"


def test_missing_feature_model_names_the_file_and_the_fix(tmp_path):
    (tmp_path / "melspectrogram.onnx").write_bytes(b"")
    with pytest.raises(WakeWordModelError) as caught:
        resolve_models(WakeWordConfig(models_dir=tmp_path))
    message = str(caught.value)
    assert "embedding_model.onnx" in message
    assert str(tmp_path) in message
    assert "scripts/fetch-models" in message


def test_missing_bundled_wake_word_names_its_file(models_copy):
    with pytest.raises(WakeWordModelError, match=r"alexa_v0\.1\.onnx.*scripts/fetch-models"):
        resolve_models(WakeWordConfig(models=["alexa"], models_dir=models_copy))


def test_missing_custom_model_names_the_path(models_copy):
    with pytest.raises(WakeWordModelError, match=r"custom wake-word model /nowhere/mine\.onnx"):
        resolve_models(WakeWordConfig(models=["/nowhere/mine.onnx"], models_dir=models_copy))


def test_corrupt_model_file_is_a_clear_error(models_copy):
    (models_copy / "hey_jarvis_v0.1.onnx").write_bytes(b"not a model")
    with pytest.raises(WakeWordModelError, match="cannot load wake-word models"):
        WakeWordDetector(WakeWordConfig(models_dir=models_copy))


def test_a_model_that_takes_no_embedding_windows_is_refused_at_load(models_copy, tmp_path):
    not_a_wake_word = tmp_path / "mine.onnx"
    shutil.copy(REPO_MODELS / "melspectrogram.onnx", not_a_wake_word)  # loads, but scores nothing
    with pytest.raises(WakeWordModelError, match="not an openWakeWord wake-word model"):
        WakeWordDetector(WakeWordConfig(models=[str(not_a_wake_word)], models_dir=models_copy))


def test_custom_model_path_detects_under_its_file_name(models_copy, tmp_path):
    custom = tmp_path / "computer_v2.1.onnx"
    shutil.copy(REPO_MODELS / "hey_jarvis_v0.1.onnx", custom)
    config = WakeWordConfig(
        models=[str(custom)], models_dir=models_copy, thresholds={"computer": 0.5}
    )
    detector = WakeWordDetector(config)
    found = detector.feed(Clip(synthesize("hey jarvis")).audio)
    assert [d.model for d in found] == ["computer"]


def test_custom_model_by_bare_name_inside_the_models_dir(models_copy):
    shutil.copy(REPO_MODELS / "hey_jarvis_v0.1.onnx", models_copy / "friday.onnx")
    files = resolve_models(WakeWordConfig(models=["friday.onnx"], models_dir=models_copy))
    assert files.wake_words == {"friday": models_copy / "friday.onnx"}


def test_two_models_with_the_same_name_are_refused(models_copy, tmp_path):
    shutil.copy(REPO_MODELS / "hey_jarvis_v0.1.onnx", tmp_path / "hey_jarvis_v0.2.onnx")
    config = WakeWordConfig(
        models=["hey_jarvis", str(tmp_path / "hey_jarvis_v0.2.onnx")], models_dir=models_copy
    )
    with pytest.raises(WakeWordModelError, match="both report as 'hey_jarvis'"):
        resolve_models(config)
