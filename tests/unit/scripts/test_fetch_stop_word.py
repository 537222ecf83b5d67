"""scripts/fetch-models and the optional stop-word model: its own source, pinned, never required."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from tests.unit.scripts.test_fetch_models import MODELS, PINNED, run_fetch, sha256

STOP = {
    "stop.tflite": "020ef80d522cb09169a866f3aeeb58f2ad4045461937e78e8c806df29ff61eea",
    "stop.json": "bd13aeb1b83852649dc4fb6135cb160ff68716d14612b06f6a405342c57447aa",
}


def _folder(tmp_path: Path, names: dict[str, str], name: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for file in names:
        shutil.copy2(MODELS / file, folder / file)
    return folder


def test_stop_model_comes_from_its_own_source_beside_the_wake_word_source(tmp_path: Path) -> None:
    wake_source = _folder(tmp_path, PINNED, "wake")  # holds no stop model
    stop_source = _folder(tmp_path, STOP, "stop")
    target = tmp_path / "models"

    result = run_fetch(target, source=wake_source, SPEAKERD_MICROWAKEWORD_SOURCE=str(stop_source))

    assert result.returncode == 0, result.stderr
    assert {p.name: sha256(p) for p in target.iterdir()} == PINNED | STOP


def test_missing_stop_model_warns_and_succeeds_unless_strict(tmp_path: Path) -> None:
    wake_source = _folder(tmp_path, PINNED, "wake")
    target = tmp_path / "models"

    result = run_fetch(target, source=wake_source)
    strict = run_fetch("--strict", target, source=wake_source)

    assert result.returncode == 0, result.stderr
    assert "stop word will be off" in result.stderr and "stop.tflite" in result.stderr
    assert {p.name for p in target.iterdir()} == set(PINNED)
    assert strict.returncode == 1
    assert "FAILED" in strict.stderr and "stop.json" in strict.stderr


def test_tampered_stop_model_is_refused(tmp_path: Path) -> None:
    stop_source = _folder(tmp_path, STOP, "stop")
    (stop_source / "stop.tflite").write_bytes(b"TFL3 but not the model")
    target = _folder(tmp_path, PINNED, "models")

    result = run_fetch(target, source=None, SPEAKERD_MICROWAKEWORD_SOURCE=str(stop_source))

    assert result.returncode == 0
    refused = hashlib.sha256(b"TFL3 but not the model").hexdigest()
    assert "REFUSED stop.tflite" in result.stderr and refused in result.stderr
    assert not (target / "stop.tflite").exists()
