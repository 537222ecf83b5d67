"""Figure 8: the daemon held to one CPU core (taskset), idle and in a conversation.

A Raspberry Pi Zero 2 W has four slow cores, and the daemon's hot path (the
capture thread, the wake-word worker, the event loop) must fit in one of them.
A second daemon is started under `taskset -c CORE` after the main one has
stopped, fed the same room sound and conversation clip, and its CPU read from
/proc; "% core" is then a share of that one core.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from bench.figures import conversation
from bench.procstat import cpu_seconds
from bench.stage import Stage


def pinned_core() -> int:
    """The highest-numbered core this process may use (the bench itself is not pinned)."""
    return max(os.sched_getaffinity(0))


def run(stage: Stage, room_wav: Path, talk_wav: Path) -> dict[str, Any]:
    core = pinned_core()
    config = stage.write_config("pinned")
    daemon = stage.start_runner("pinned", config, cpu=core)
    try:
        daemon.wait_ready()
        time.sleep(2.0)  # past the detector's warm-up frames
        began = time.monotonic()
        before = cpu_seconds(daemon.pid)
        stage.pulse.speak_into_mic(room_wav)
        idle_cpu = (cpu_seconds(daemon.pid) - before) / (time.monotonic() - began)
        talk = conversation.run(stage, daemon, "pinned", talk_wav, 1)[0]
    finally:
        exit_code = daemon.stop()
    return {"core": core, "idle_cpu_per_s": idle_cpu,
            "conversation_cpu_per_s": talk["daemon_cpu_per_s"],
            "conversation_sessions": talk["daemon_sessions"], "exit_code": exit_code}
