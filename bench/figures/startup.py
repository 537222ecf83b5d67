"""Figure 7: `speakerd run` from process start to READY=1 (what systemd waits for)."""

from __future__ import annotations

from pathlib import Path

from bench.stage import Stage


def run(stage: Stage, config: Path, runs: int) -> list[float]:
    """Seconds from launching `python -m daemon run` to READY=1, once per run."""
    times = []
    for index in range(runs):
        daemon = stage.start_speakerd(f"startup-{index}", config)
        try:
            times.append(daemon.wait_ready())
        finally:
            daemon.stop()
    return times
