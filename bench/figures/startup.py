"""Figure 7: `speakerd run` from process start to READY=1 (what systemd waits for).

And 7b: READY=1 means the appliance can hear. A `ctl wake` sent the moment
READY=1 arrives opens a session; how long after its setupComplete the first
microphone audio reaches the service (it used to be 1.4-1.9 s, the microphone
not yet delivering; 27 ms for a wake two seconds later).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.stage import Stage
from daemon.emulator import Turn


def run(stage: Stage, config: Path, runs: int) -> tuple[list[float], list[float]]:
    """Seconds from launching `python -m daemon run` to READY=1, once per run; and the
    milliseconds from setupComplete to the first microphone audio of a wake sent then."""
    times, first_audio = [], []
    for index in range(runs):
        daemon = stage.start_speakerd(f"startup-{index}", config)
        try:
            times.append(daemon.wait_ready())
            first_audio.append(_wake_at_ready(stage, config.stem))
        finally:
            daemon.stop()
    return times, first_audio


def _wake_at_ready(stage: Stage, config_name: str) -> float:
    session = len(stage.sessions)
    stage.emulator.clear_script()
    stage.emulator.script([Turn(reply="Yes?", tool_calls=[])])
    reply = stage.control(config_name, "wake")
    if not reply.get("ok"):
        raise RuntimeError(f"ctl wake at READY=1 refused: {reply}")
    stage.wait_for(lambda: len(stage.sessions) > session
                   and "first_audio" in stage.sessions[session].marks, 15, "first mic audio")
    marks: dict[str, Any] = stage.sessions[session].marks
    stage.control(config_name, "stop")
    stage.emulator.clear_script()
    return float((marks["first_audio"] - marks["setup_complete"]) * 1000)
