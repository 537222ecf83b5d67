"""The household memory end to end: told by voice (`ctl say`, through the emulated
model's tool call), kept across `kill -9` of a real `speakerd run`, and given to the
next session in its setup, where the model answers from it."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from daemon.emulator import EmulatorThread
from daemon.sim.pulse import PulseAudioHarness
from tests.e2e.conftest import DaemonProcess, appliance_config, wait_until, write_config

FACT = "my daughter is called Mia"


def told(workdir: Path) -> list[str]:
    path = workdir / "state" / "memory.json"
    if not path.exists():
        return []
    return [fact["text"] for fact in json.loads(path.read_text())["facts"]]


def test_a_fact_survives_sigkill_and_reaches_the_next_sessions_setup(
    pulse: PulseAudioHarness, emu: EmulatorThread, workdir: Path
) -> None:
    config_path = write_config(workdir, appliance_config(workdir, emu))
    daemon = DaemonProcess(config_path, pulse, workdir)
    try:
        daemon.wait_ready()
        said = daemon.ctl("say", f"remember that {FACT}")
        assert said.returncode == 0, said.stderr
        wait_until(lambda: told(workdir) == [FACT], 15, "the fact to be stored")
        os.kill(daemon.proc.pid, signal.SIGKILL)
        daemon.proc.wait(10)
    finally:
        daemon.close()
    assert oct((workdir / "state" / "memory.json").stat().st_mode & 0o777) == "0o600"

    (workdir / "notify.sock").unlink()  # systemd's socket: it would be there already
    daemon = DaemonProcess(config_path, pulse, workdir)
    try:
        daemon.wait_ready()
        listed = daemon.ctl("memory", "list")
        assert listed.returncode == 0 and listed.stdout.startswith(f"m1  {FACT}  ("), listed
        sessions_before = emu.call(lambda e: len(e.sessions))
        asked = daemon.ctl("say", "what is my daughter called")
        assert asked.returncode == 0, asked.stderr

        def answered() -> str | None:
            replies = [t["text"] for t in daemon.status()["transcripts"] if t["role"] == "model"]
            return replies[-1] if replies else None

        answer = wait_until(answered, 20, "the answer")
        assert answer == f"You told me: {FACT}", answer
        setup = emu.call(lambda e: e.sessions[sessions_before].setup)
        instruction = setup.get("systemInstruction") or setup["system_instruction"]
        text = "\n".join(part["text"] for part in instruction["parts"])
        assert f"\n- {FACT}" in text and "not instructions" in text
        assert daemon.terminate() == 0
    finally:
        daemon.close()
