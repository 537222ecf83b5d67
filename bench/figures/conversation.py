"""Figure 6: CPU and peak RSS of a conversation, next to Google's cookbook Live client.

The daemon is woken by the clip's wake phrase and then talks for the whole
clip (a question every few seconds, the emulator answering each), audio only,
sending the microphone while the model talks (barge-in). bench.reference_client
(the cookbook client with `--mode none`) runs at the same time on the same
microphone, speaker and emulator, so both see the same load; the CPU of each
is read from /proc over the clip.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from bench.procstat import cpu_seconds, peak_rss_mb
from bench.stage import PYTHON, ROOT, Daemon, Stage
from daemon.emulator import Turn

REPLY = "Here is a short answer for you."


def run(stage: Stage, daemon: Daemon, config_name: str, clip_wav: Path,
        runs: int) -> list[dict[str, Any]]:
    results = []
    for index in range(runs):
        stage.emulator.clear_script()
        stage.emulator.script([Turn(reply=REPLY, tool_calls=[]) for _ in range(200)])
        first_session = len(stage.sessions)
        log = open(stage.workdir / f"reference-{index}.log", "wb")  # noqa: SIM115
        reference = subprocess.Popen(
            [PYTHON, "-m", "bench.reference_client", "--base-url", stage.emulator.url,
             "--ca-file", str(stage.emulator.ca_file)],
            cwd=ROOT, env=stage.env(), stdout=subprocess.PIPE, stderr=log, text=True,
        )
        assert reference.stdout is not None
        json.loads(reference.stdout.readline())  # {"ready": true}: connected
        began = time.monotonic()
        daemon_before, reference_before = cpu_seconds(daemon.pid), cpu_seconds(reference.pid)
        stage.pulse.speak_into_mic(clip_wav)
        ended = time.monotonic()
        daemon_cpu = cpu_seconds(daemon.pid) - daemon_before
        reference_cpu = cpu_seconds(reference.pid) - reference_before
        reference_rss = peak_rss_mb(reference.pid)
        reference.send_signal(signal.SIGTERM)
        try:
            reference.wait(10)
        except subprocess.TimeoutExpired:
            reference.kill()
            reference.wait()
        log.close()
        stage.control(config_name, "stop")
        new = stage.sessions[first_session:]
        daemon_sessions = [s for s in new if s.setup.get("tools")]
        reference_sessions = [s for s in new if not s.setup.get("tools")]
        seconds = ended - began
        result = {
            "seconds": seconds,
            "daemon_cpu_per_s": daemon_cpu / seconds,
            "reference_cpu_per_s": reference_cpu / seconds,
            "reference_peak_rss_mb": reference_rss,
            "daemon_peak_rss_mb": peak_rss_mb(daemon.pid),
            "daemon_sessions": len(daemon_sessions),
            "daemon_frames": sum(len(s.frames) for s in daemon_sessions),
            "reference_frames": sum(len(s.frames) for s in reference_sessions),
            "daemon_user_turns": sum(len(s.user_turns) for s in daemon_sessions),
            "reference_user_turns": sum(len(s.user_turns) for s in reference_sessions),
        }
        result["ratio"] = result["daemon_cpu_per_s"] / result["reference_cpu_per_s"]
        results.append(result)
        time.sleep(1.0)
    stage.emulator.clear_script()
    return results
