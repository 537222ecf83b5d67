"""A microphone that is not there is reported, not fatal: the daemon stays up."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from daemon.control.client import request
from daemon.sim.alsa_files import FileBackedAlsa

REPO = Path(__file__).resolve().parents[2]


def test_missing_microphone_shows_error_and_keeps_running(tmp_path: Path) -> None:
    sim = FileBackedAlsa(tmp_path / "alsa")
    sim.add_speaker("sim_speaker")
    socket_path = tmp_path / "ctl.sock"
    config = tmp_path / "config.yaml"
    config.write_text(
        "audio: {input_device: usb_mic_unplugged, output_device: sim_speaker}\n"
        f"control: {{socket: {socket_path}}}\n"
    )
    env = sim.env({**os.environ, "GEMINI_API_KEY": "k", "GPIOZERO_PIN_FACTORY": "mock"})
    daemon = subprocess.Popen(
        [sys.executable, "-m", "daemon", "run", "--config", str(config)],
        env=env, cwd=REPO, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        status = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and daemon.poll() is None:
            if socket_path.exists():
                status = asyncio.run(request(socket_path, {"cmd": "status"}))
                if status["state"] == "error":
                    break
            time.sleep(0.2)
        assert daemon.poll() is None, "the daemon died of a missing microphone"
        assert status is not None and status["state"] == "error"
        assert "usb_mic_unplugged" in status["last_error"]
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, err = daemon.communicate(timeout=20)
    assert daemon.returncode == 0
    mentions = [line for line in err.splitlines() if "usb_mic_unplugged" in line]
    assert 1 <= len(mentions) <= 2, err  # one clear line, not a retry storm
