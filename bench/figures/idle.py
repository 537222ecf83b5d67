"""Figure 1: CPU per second of room sound while the daemon waits for the wake word.

The room sound (speech without the wake word, noise, silence) is played into
the daemon's microphone in real time; at the same moment a bare openWakeWord
predict() loop (bench.bare_wakeword, its own process) scores the same audio
at the same pace. Both run side by side, so both see the same machine load.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

from bench.procstat import cpu_seconds
from bench.stage import PYTHON, ROOT, Daemon, Stage


def run(stage: Stage, daemon: Daemon, room_wav: Path, runs: int) -> list[dict[str, Any]]:
    results = []
    for index in range(runs):
        log = open(stage.workdir / f"bare-{index}.log", "wb")  # noqa: SIM115
        bare = subprocess.Popen(
            [PYTHON, "-m", "bench.bare_wakeword", str(room_wav), "--models-dir",
             str(ROOT / "models")],
            cwd=ROOT, env=stage.env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            stderr=log,
        )
        assert bare.stdin is not None and bare.stdout is not None
        json.loads(bare.stdout.readline())  # {"ready": true}: models loaded
        began = time.monotonic()
        daemon_before = cpu_seconds(daemon.pid)
        bare.stdin.write(f"{began}\n")
        bare.stdin.flush()
        stage.pulse.speak_into_mic(room_wav)
        ended = time.monotonic()
        daemon_cpu = cpu_seconds(daemon.pid) - daemon_before
        baseline = json.loads(bare.stdout.readline())
        bare.wait(10)
        log.close()
        results.append({
            "began": began,
            "ended": ended,
            "daemon_cpu_per_s": daemon_cpu / (ended - began),
            "bare_cpu_per_s": baseline["cpu_seconds"] / baseline["audio_seconds"],
            "bare_max_score": baseline["max_score"],
            "bare_peak_rss_mb": baseline["peak_rss_mb"],
        })
        results[-1]["ratio"] = results[-1]["daemon_cpu_per_s"] / results[-1]["bare_cpu_per_s"]
    return results


def false_wakes(events: dict[str, Any], runs: list[dict[str, Any]]) -> int:
    """Detections while only room sound played (each one would open a conversation)."""
    return sum(
        1 for t, name, message in events["logs"]
        if name == "speakerd.timeline" and message.startswith("wake word")
        and any(r["began"] <= t <= r["ended"] for r in runs)
    )
