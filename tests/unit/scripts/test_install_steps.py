"""scripts/install's own logic, run for real where it is safe: the failing step
named by the ERR trap, an owner's broken config kept and its problems named,
"nothing to change", and where gpiozero's lgpio comes from.

The installer is sourced (it then only defines its functions) with its paths
pointed into a temporary directory, or run with --dry-run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "scripts" / "install"


def bash(script: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`script` run after sourcing the installer (so its functions, trap and set -e apply)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SPEAKERD_")}
    full_env.update(env or {})
    return subprocess.run(
        ["bash", "-c", f'source "{SCRIPT}"\n{script}'], env=full_env, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip


def test_a_failing_command_names_its_step_and_stops(tmp_path: Path) -> None:
    """A full disk, say, during the virtualenv step: named, and no later step runs."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "sha256sum"
    shim.write_text("#!/bin/sh\necho 'sha256sum: write error: No space left on device' >&2\nexit 1\n")
    shim.chmod(0o755)
    result = subprocess.run(
        [str(SCRIPT), "--dry-run"], capture_output=True, text=True, timeout=60,
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "SPEAKERD_ARCH": "arm64"},
    )  # fmt: skip
    assert result.returncode != 0
    assert 'step "virtualenv" failed' in result.stderr
    assert "No space left on device" in result.stderr
    assert "running service, its virtualenv and /etc/speakerd were left as they were" in result.stderr
    assert "step: models" not in result.stdout
    assert "changed:" not in result.stdout and "nothing to change" not in result.stdout


def test_err_trap_names_the_current_step() -> None:
    result = bash('step "models"\nfalse\necho "not reached"')
    assert result.returncode == 1
    assert 'install: error: step "models" failed (exit 1 at line 3: false)' in result.stderr
    assert "not reached" not in result.stdout


def test_broken_config_is_kept_and_its_problem_named(tmp_path: Path) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    config = etc / "config.yaml"
    broken = "wake_word:\n  threshold: 7   # the owner's typo\n"
    config.write_text(broken)
    venv_bin = tmp_path / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    speakerd = venv_bin / "speakerd"  # the real check-config, from this checkout
    speakerd.write_text(f'#!/bin/sh\nPYTHONPATH="{REPO}" exec "{sys.executable}" -m daemon "$@"\n')
    speakerd.chmod(0o755)

    result = bash(
        f'ETC_DIR="{etc}"; VENV="{tmp_path / "venv"}"\ninstall_config\nsummarize',
        env={"GEMINI_API_KEY": "x"},
    )

    assert result.returncode == 0, result.stderr
    assert config.read_text() == broken
    assert f"keeping {config}" in result.stdout
    assert "wake_word.threshold" in result.stderr  # check-config's own words
    assert "has the problems named above; it was kept as it is" in result.stdout
    assert "nothing to change" in result.stdout


def test_nothing_to_change_or_the_list_of_changes() -> None:
    nothing = bash("summarize")
    assert nothing.stdout.strip() == "install: nothing to change: speakerd is installed and up to date"
    some = bash('changed "user speakerd"\nchanged "models in /opt/speakerd/models"\nsummarize')
    assert "install: changed:\ninstall:   user speakerd\ninstall:   models in" in some.stdout


def test_dry_run_builds_a_new_virtualenv_and_switches_to_it_last() -> None:
    result = subprocess.run(
        [str(SCRIPT), "--dry-run"], capture_output=True, text=True, timeout=60,
        env={**os.environ, "SPEAKERD_ARCH": "arm64"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    if "virtualenv /opt/speakerd/venv is up to date" in out:
        return  # this machine has speakerd installed from this very checkout
    build = out.index("-m venv --system-site-packages /opt/speakerd/venvs/")
    imports = out.index("-c import\\ daemon")
    switch = out.index("+ mv -T /opt/speakerd/venv.switch /opt/speakerd/venv")
    assert build < imports < switch
    assert out.index("step: service") > switch  # the service is touched after the switch


def lgpio_plan(tmp_path: Path, python_version: str, apt_has_lgpio: bool) -> str:
    """The virtualenv step's commands for a system Python of that version."""
    fake = tmp_path / "python3"
    fake.write_text(
        f'#!/bin/sh\ncase "$*" in *version_info*) exec "{sys.executable}" -c '
        f'"import sys; sys.version_info = {tuple(map(int, python_version.split(".")))}; $2";; '
        f'-V) echo "Python {python_version}";; *) exit 0;; esac\n'
    )
    fake.chmod(0o755)
    result = bash(
        f'SYSTEM_PYTHON="{fake}"; DRY_RUN=1; LGPIO_FROM_APT={int(apt_has_lgpio)}\n'
        "install_virtualenv"
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_lgpio_from_pypi_wheel_source_or_apt(tmp_path: Path) -> None:
    wheel = lgpio_plan(tmp_path, "3.11", apt_has_lgpio=False)
    project_line = next(line for line in wheel.splitlines() if f" {REPO} " in line)
    assert project_line.endswith(" lgpio==0.2.2.0")  # with the project, as a wheel
    assert "--no-binary" not in wheel
    source = lgpio_plan(tmp_path, "3.13", apt_has_lgpio=False)
    assert "+ env PYPI=1 " in source and "--no-binary lgpio lgpio==0.2.2.0" in source
    apt = lgpio_plan(tmp_path, "3.13", apt_has_lgpio=True)
    assert "lgpio==" not in apt
