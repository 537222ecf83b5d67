"""check-config names a camera the config asks for when picamera2 cannot be imported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def check_config(path: Path, extra_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPEAKERD_")}
    env["GEMINI_API_KEY"] = "x"
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in (extra_path, REPO) if p)
    return subprocess.run(
        [sys.executable, "-m", "daemon", "check-config", str(path)],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=60,
    )  # fmt: skip


def fake_picamera2(tmp_path: Path, body: str) -> Path:
    """A picamera2 package on PYTHONPATH whose import does what `body` does."""
    package = tmp_path / "site" / "picamera2"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(body)
    return package.parent


def test_camera_asked_for_without_picamera2_is_named(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("camera:\n  enabled: true\n")
    broken = fake_picamera2(tmp_path, "raise ImportError('numpy.core.multiarray failed to import')\n")
    result = check_config(config, broken)
    assert result.returncode == 0, result.stderr  # the daemon runs on without the camera
    assert "camera.enabled is true but picamera2 cannot be imported" in result.stderr
    assert "numpy.core.multiarray" in result.stderr
    assert "python3-picamera2" in result.stderr


def test_camera_with_picamera2_or_off_says_nothing(tmp_path: Path) -> None:
    on = tmp_path / "on.yaml"
    on.write_text("camera:\n  enabled: true\n")
    working = fake_picamera2(tmp_path, "")
    assert "picamera2" not in check_config(on, working).stderr
    off = tmp_path / "off.yaml"
    off.write_text("camera:\n  enabled: false\n")
    assert "picamera2" not in check_config(off).stderr
