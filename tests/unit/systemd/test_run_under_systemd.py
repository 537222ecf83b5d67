"""`speakerd run` as systemd sees it: what it pings, and which exit codes end a restart loop.

The unit restarts on failure except for exit 78 and gives up after 10 restarts
in 5 minutes: so anything a restart cannot fix must exit 78, and the watchdog
must not kill a daemon that is only waiting for a microphone to be plugged in.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from daemon.sim.alsa_files import FileBackedAlsa

REPO = Path(__file__).resolve().parents[3]


def start_daemon(config: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "daemon", "run", "--config", str(config)],
        env=env, cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def pings_after_ready(notify: socket.socket, daemon: subprocess.Popen[str], pings: int) -> list[str]:
    """Every sd_notify field until READY=1 and `pings` watchdog pings after it (or exit)."""
    fields: list[str] = []
    deadline = time.monotonic() + 90  # model loading on a busy machine; not a measurement
    while time.monotonic() < deadline and daemon.poll() is None:
        try:
            fields += notify.recv(4096).decode().split("\n")
        except TimeoutError:
            continue
        if "READY=1" in fields and fields[fields.index("READY=1") :].count("WATCHDOG=1") >= pings:
            break
    return fields


def test_no_microphone_is_an_error_state_the_watchdog_keeps_alive(tmp_path: Path) -> None:
    sim = FileBackedAlsa(tmp_path / "alsa")
    sim.add_speaker("sim_speaker")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(0.5)
    key = tmp_path / "key"
    key.write_text("not-a-real-key\n")
    key.chmod(0o644)  # readable by every user: worth a warning, not a refusal
    config = tmp_path / "config.yaml"
    config.write_text(
        "audio: {input_device: usb_mic_unplugged, output_device: sim_speaker}\n"
        f"gemini: {{api_key_file: {key}}}\n"
        f"control: {{socket: {tmp_path / 'ctl.sock'}}}\n"
    )
    env = sim.env({**os.environ, "GPIOZERO_PIN_FACTORY": "mock",
                   "NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "1000000"})  # fmt: skip
    env.pop("WATCHDOG_PID", None)
    daemon = start_daemon(config, env)
    try:
        fields = pings_after_ready(notify, daemon, 4)
        assert daemon.poll() is None, "the daemon exited without a microphone"
        after_ready = fields[fields.index("READY=1") :]
        assert after_ready.count("WATCHDOG=1") >= 4, fields  # systemd would have killed it
        assert any(f.startswith("STATUS=error") and "usb_mic_unplugged" in f for f in fields)
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, err = daemon.communicate(timeout=30)
        notify.close()
    assert daemon.returncode == 0, err
    assert "no longer pinging systemd" not in err
    assert "can be read by every user" in err and "group speakerd, mode 0640" in err
    assert "not-a-real-key" not in err


def test_a_daemon_starting_with_its_microphone_raises_no_watchdog_alarm(tmp_path: Path) -> None:
    """The watchdog's first look comes before the first chunk: that is not a stuck thread
    (it logged an error and stopped pinging on almost every start)."""
    sim = FileBackedAlsa(tmp_path / "alsa")
    sim.add_microphone("sim_mic", bytes(16000 * 2), tail_silence_s=60)
    sim.add_speaker("sim_speaker")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(0.5)
    config = tmp_path / "config.yaml"
    config.write_text(
        "audio: {input_device: sim_mic, output_device: sim_speaker}\n"
        f"control: {{socket: {tmp_path / 'ctl.sock'}}}\n"
    )
    env = sim.env({**os.environ, "GPIOZERO_PIN_FACTORY": "mock", "GEMINI_API_KEY": "k",
                   "NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "1000000"})  # fmt: skip
    env.pop("WATCHDOG_PID", None)
    daemon = start_daemon(config, env)
    try:
        fields = pings_after_ready(notify, daemon, 3)
        assert fields[fields.index("READY=1") :].count("WATCHDOG=1") >= 3, fields
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, err = daemon.communicate(timeout=30)
        notify.close()
    assert daemon.returncode == 0, err
    assert "stuck" not in err and "no longer pinging" not in err, err


def test_a_second_daemon_refuses_with_78_and_leaves_the_first_ones_socket(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ctl.sock"
    first = socket.socket(socket.AF_UNIX)  # the first daemon's listening socket
    first.bind(str(path))
    first.listen(8)
    config = tmp_path / "config.yaml"
    config.write_text(f"control: {{socket: {path}}}\n")
    result = subprocess.run(
        [sys.executable, "-m", "daemon", "run", "--config", str(config)],
        capture_output=True, text=True, cwd=REPO, timeout=60,
        env={**os.environ, "GEMINI_API_KEY": "k", "GPIOZERO_PIN_FACTORY": "mock"},
    )  # fmt: skip
    try:
        assert result.returncode == 78, result.stderr
        assert "another speakerd is already running" in result.stderr
        assert "Traceback" not in result.stderr
        assert path.is_socket()
        probe = socket.socket(socket.AF_UNIX)
        probe.connect(str(path))  # still the first one's
        probe.close()
    finally:
        first.close()


@pytest.mark.parametrize("case", ["regular file at the socket path", "socket path too long",
                                  "key file not UTF-8", "key file is /dev/zero"])  # fmt: skip
def test_what_a_restart_cannot_fix_exits_78_not_1(tmp_path: Path, case: str) -> None:
    sock, key = tmp_path / "ctl.sock", None
    if case == "regular file at the socket path":
        sock.write_text("")
    elif case == "socket path too long":
        sock = tmp_path / ("d" * 110) / "ctl.sock"
    elif case == "key file not UTF-8":
        key = tmp_path / "key"
        key.write_bytes(b"\xff\xfe")
    else:
        key = Path("/dev/zero")
    config = tmp_path / "config.yaml"
    config.write_text(
        f'control: {{socket: "{sock}"}}\n' + (f"gemini: {{api_key_file: {key}}}\n" if key else "")
    )
    result = subprocess.run(
        [sys.executable, "-m", "daemon", "run", "--config", str(config)],
        capture_output=True, text=True, cwd=REPO, timeout=60,
        env={**os.environ, "GEMINI_API_KEY": "k", "GPIOZERO_PIN_FACTORY": "mock"},
    )  # fmt: skip
    assert result.returncode == 78, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.strip()


def drain(notify: socket.socket, seconds: float) -> list[str]:
    fields: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            fields += notify.recv(4096).decode().split("\n")
        except TimeoutError:
            continue
    return fields


def test_the_last_status_says_error_and_names_the_microphone_while_ctl_does(
    tmp_path: Path,
) -> None:
    """STATUS= is the state as it is: after READY=1 a missing microphone is what systemctl
    status shows, the same error `ctl status` shows, not a stale "idle" or "starting"."""
    sim = FileBackedAlsa(tmp_path / "alsa")
    sim.add_speaker("sim_speaker")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(0.5)
    sock = tmp_path / "ctl.sock"
    config = tmp_path / "config.yaml"
    config.write_text(
        "audio: {input_device: usb_mic_unplugged, output_device: sim_speaker}\n"
        f"control: {{socket: {sock}}}\n"
    )
    env = sim.env({**os.environ, "GPIOZERO_PIN_FACTORY": "mock", "GEMINI_API_KEY": "k",
                   "NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "2000000"})  # fmt: skip
    env.pop("WATCHDOG_PID", None)
    daemon = start_daemon(config, env)
    try:
        fields = pings_after_ready(notify, daemon, 2)
        assert daemon.poll() is None and "READY=1" in fields, fields
        ctl = subprocess.run(
            [sys.executable, "-m", "daemon", "ctl", "--socket", str(sock), "status"],
            capture_output=True, text=True, cwd=REPO, timeout=60,
        )  # fmt: skip
        fields += drain(notify, 3.0)  # anything sent meanwhile
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, err = daemon.communicate(timeout=30)
        notify.close()
    assert ctl.returncode == 0, ctl.stderr
    status = json.loads(ctl.stdout)
    assert status["state"] == "error" and "usb_mic_unplugged" in status["last_error"], status
    statuses = [f for f in fields if f.startswith("STATUS=")]
    last = statuses[-1]
    assert last.startswith("STATUS=error") and "usb_mic_unplugged" in last, statuses
    assert daemon.returncode == 0, err
