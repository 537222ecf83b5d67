"""systemd/speakerd.service: valid for systemd, hardened, and says what the daemon relies on.

`systemd-analyze verify` checks that ExecStart's binary exists, and it does not
on a build machine. Rather than editing ExecStart, the test stages the unit the
way scripts/install lays it out: an image root with the unit in
/etc/systemd/system, the project's real `speakerd` console script at
/opt/speakerd/venv/bin/speakerd and the host's systemd units, then runs
`verify --root=` on it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
UNIT = REPO / "systemd" / "speakerd.service"
INSTALLED_BINARY = "opt/speakerd/venv/bin/speakerd"
MAX_EXPOSURE = 3.0


def parse_unit(text: str) -> dict[str, list[str]]:
    """`Section.Key` -> every value, in order (unit files repeat keys such as DeviceAllow)."""
    settings: dict[str, list[str]] = {}
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        settings.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return settings


def system_unit_dir() -> Path:
    for candidate in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")):
        if (candidate / "multi-user.target").exists():
            return candidate
    raise AssertionError("no systemd unit directory with multi-user.target on this machine")


@pytest.fixture
def staged_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc/systemd/system").mkdir(parents=True)
    shutil.copy(UNIT, root / "etc/systemd/system/speakerd.service")
    shutil.copytree(system_unit_dir(), root / "usr/lib/systemd/system", symlinks=True)
    console_script = Path(sys.executable).parent / "speakerd"
    assert console_script.is_file(), f"{console_script} missing: install the project first"
    binary = root / INSTALLED_BINARY
    binary.parent.mkdir(parents=True)
    shutil.copy2(console_script, binary)
    return root


def verify(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["systemd-analyze", "verify", f"--root={root}", "speakerd.service"],
        capture_output=True, text=True, timeout=60,
    )


def test_systemd_analyze_verify_is_clean(staged_root: Path) -> None:
    result = verify(staged_root)
    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == ""  # no warnings (unknown keys, bad values)


def test_verify_notices_a_missing_executable(staged_root: Path) -> None:
    """Guards the staging above: --root really looks for ExecStart inside the root."""
    (staged_root / INSTALLED_BINARY).unlink()
    result = verify(staged_root)
    assert result.returncode != 0
    assert "/opt/speakerd/venv/bin/speakerd" in result.stderr


def test_security_exposure_is_at_most_three() -> None:
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", str(UNIT)],
        capture_output=True, text=True, timeout=60,
    )
    match = re.search(r"Overall exposure level for speakerd\.service: (\d+\.\d+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= MAX_EXPOSURE, result.stdout


def test_unit_runs_the_installed_daemon_as_a_watched_notify_service() -> None:
    unit = parse_unit(UNIT.read_text())
    assert unit["Service.Type"] == ["notify"]
    assert unit["Service.NotifyAccess"] == ["main"]
    assert unit["Service.ExecStart"] == [
        "/opt/speakerd/venv/bin/speakerd run --config /etc/speakerd/config.yaml"
    ]
    watchdog = unit["Service.WatchdogSec"][0]
    assert re.fullmatch(r"[1-9]\d*s?", watchdog), watchdog
    assert unit["Service.Restart"] == ["on-failure"]
    # A bad config exits 78 (EX_CONFIG) and must not restart-loop.
    assert "78" in unit["Service.RestartPreventExitStatus"][0].split()


def test_unit_drops_root_but_keeps_device_groups_and_secrets() -> None:
    unit = parse_unit(UNIT.read_text())
    assert unit["Service.User"] == ["speakerd"]
    assert {"audio", "gpio", "video"} <= set(unit["Service.SupplementaryGroups"][0].split())
    assert unit["Service.EnvironmentFile"] == ["-/etc/speakerd/env"]
    assert unit["Service.RuntimeDirectory"] == ["speakerd"]  # /run/speakerd/control.sock


def test_hardening_leaves_audio_gpio_and_camera_reachable() -> None:
    unit = parse_unit(UNIT.read_text())
    allowed = {value.split()[0] for value in unit["Service.DeviceAllow"]}
    assert {"char-alsa", "char-gpiochip", "char-video4linux", "char-media",
            "char-dma_heap"} <= allowed
    assert unit["Service.DevicePolicy"] == ["closed"]
    # These would hide /dev/snd, /dev/gpiochip*, /proc/asound or /proc/device-tree.
    assert unit.get("Service.PrivateDevices", ["no"])[-1] in ("no", "false")
    assert unit.get("Service.ProcSubset", ["all"])[-1] == "all"
    families = unit["Service.RestrictAddressFamilies"][0].split()
    assert {"AF_UNIX", "AF_INET", "AF_INET6"} <= set(families)
