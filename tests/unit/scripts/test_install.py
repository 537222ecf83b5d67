"""scripts/install: every step visible in --dry-run, nothing changed, 32-bit refused."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "scripts" / "install"
# Commands that change the system; in a dry run none of them may be executed.
MUTATING = ("apt-get", "groupadd", "useradd", "usermod", "install", "systemctl",
            "chown", "chmod")
INSTALLED_PATHS = (Path("/opt/speakerd"), Path("/etc/speakerd"),
                   Path("/etc/systemd/system/speakerd.service"))


def run_install(*args: str, env: dict[str, str] | None = None,
                prefix: list[str] | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SPEAKERD_")}
    full_env.update(env or {})
    return subprocess.run(
        [*(prefix or []), str(SCRIPT), *args], env=full_env, capture_output=True,
        text=True, timeout=60,
    )


@pytest.fixture
def tripwire_path(tmp_path: Path) -> tuple[str, Path]:
    """PATH whose mutating commands only record that they were called, and fail."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    for name in MUTATING:
        shim = bin_dir / name
        shim.write_text(f'#!/bin/sh\necho "{name} $*" >> "{calls}"\nexit 1\n')
        shim.chmod(0o755)
    return f"{bin_dir}:{os.environ['PATH']}", calls


def test_shellcheck_clean() -> None:
    """The installer and every other shell script a newcomer or CI runs."""
    repo = SCRIPT.parents[1]
    scripts = [SCRIPT, *(repo / "scripts" / n for n in ("setup", "test", "demo", "bench", "verify-install"))]
    result = subprocess.run(
        ["shellcheck", *map(str, scripts), str(repo / ".ci" / "run")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout


def test_dry_run_prints_every_step_and_changes_nothing(
    tripwire_path: tuple[str, Path],
) -> None:
    path, calls = tripwire_path
    existed_before = {p: p.exists() for p in INSTALLED_PATHS}

    result = run_install("--dry-run", env={"PATH": path})

    assert result.returncode == 0, result.stderr
    out = result.stdout
    steps = {
        "apt": r"apt-get install .*portaudio19-dev|apt: all packages present \(.*portaudio19-dev",
        "user": r"\+ useradd .*--groups audio,gpio,video .*speakerd$"
                r"|\+ usermod .*speakerd$|user speakerd exists",
        "venv": r"-m venv --system-site-packages /opt/speakerd/venvs/[0-9a-f]{16}$"
                r"|virtualenv /opt/speakerd/venv is up to date",
        "openwakeword": r"pip install .*--no-deps openwakeword==",
        "project": rf"pip install .* {re.escape(str(REPO))}( |$)",
        "models": r"scripts/fetch-models /opt/speakerd/models$",
        "config": r"speakerd\.yaml /etc/speakerd/config\.yaml$|keeping /etc/speakerd/config\.yaml",
        "env": r"install -m 0600 -o root -g root /dev/stdin /etc/speakerd/env"
               r"|keeping /etc/speakerd/env",
        "unit": r"speakerd\.service /etc/systemd/system/speakerd\.service$",
        "reload": r"\+ systemctl daemon-reload$",
        "enable": r"\+ systemctl enable speakerd\.service$",
    }
    positions = {}
    for step, pattern in steps.items():
        match = re.search(pattern, out, re.MULTILINE)
        assert match, f"dry run does not show the {step} step:\n{out}"
        positions[step] = match.start()
    # openwakeword --no-deps must come first, or pip drags in tflite-runtime.
    assert positions["openwakeword"] < positions["project"]
    assert not re.search(r"^\+ systemctl (re)?start", out, re.MULTILINE)

    assert not calls.exists(), f"dry run executed: {calls.read_text()}"
    assert {p: p.exists() for p in INSTALLED_PATHS} == existed_before


def test_dry_run_with_start_and_espeak(tripwire_path: tuple[str, Path]) -> None:
    path, calls = tripwire_path
    result = run_install("--dry-run", "--start", "--with-espeak", env={"PATH": path})
    assert result.returncode == 0, result.stderr
    assert re.search(r"^\+ systemctl restart speakerd\.service$", result.stdout, re.MULTILINE)
    assert re.search(r"apt-get install .*espeak-ng|apt: all packages present \(.*espeak-ng",
                     result.stdout)
    assert not calls.exists()


def test_dry_run_needs_no_root() -> None:
    prefix = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        assert setpriv, "setpriv (util-linux) is needed to drop root for this test"
        prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    result = run_install("--dry-run", prefix=prefix)
    assert result.returncode == 0, result.stderr
    assert "systemctl enable speakerd.service" in result.stdout


@pytest.mark.parametrize("arch", ["armhf", "armel", "i386"])
def test_32_bit_system_is_refused_with_the_reason(arch: str) -> None:
    result = run_install("--dry-run", env={"SPEAKERD_ARCH": arch})
    assert result.returncode != 0
    assert "32-bit" in result.stderr and arch in result.stderr
    assert "onnxruntime" in result.stderr
    assert "+ " not in result.stdout  # refused before any step


def test_arm64_is_accepted() -> None:
    result = run_install("--dry-run", env={"SPEAKERD_ARCH": "arm64"})
    assert result.returncode == 0, result.stderr
    assert "architecture: arm64" in result.stdout


def test_help_and_unknown_option() -> None:
    assert "--dry-run" in run_install("--help").stdout
    bad = run_install("--frobnicate")
    assert bad.returncode != 0 and "--frobnicate" in bad.stderr
