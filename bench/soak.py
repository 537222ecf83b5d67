"""scripts/soak N: N wake, conversation, idle cycles against the running daemon; does it leak?

`speakerd run` (exactly as systemd starts it) runs over the simulated devices
(a private PulseAudio server, mock GPIO pins) against the Live emulator, as
scripts/demo does. Each cycle opens a conversation one of three ways, waits
for the answer and for the daemon to close the session and be idle again:

- `ctl say "turn on the lamp"` (the emulator's model switches the relay, then answers),
- `ctl wake`, then `ctl say "what time is it"`,
- every tenth cycle, "hey jarvis, turn off the lamp" spoken into the microphone.

Commands go over the control socket as `speakerd ctl` sends them (one JSON line),
without a Python start-up per command. The daemon's RSS, open file descriptors
and threads are read from /proc at start, after the first WARM_CYCLES cycles
(lazy imports and first-use caches are done by then), every SAMPLE_EVERY
cycles, and at the end.

    scripts/soak 1000                # writes bench/soak.json and soak.md, prints the summary
    scripts/soak 20 --out /tmp/x     # a short one
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import clips
from bench.procstat import peak_rss_mb, rss_mb
from bench.stage import ROOT, Daemon, Stage
from daemon.emulator import Turn
from tests.support.speech import write_wav

WARM_CYCLES = 10
SAMPLE_EVERY = 50
CYCLE_TIMEOUT = 30.0
WAKE_WORD_REST = 2.0
"""Idle before the wake word is spoken: the detector ignores its first 1.44 s after a
conversation (detector.WARMUP_FRAMES), as it always has."""
FOLLOW_UP_SECONDS = 1.5
"""Short, so the session closes soon after the answer (the natural way to end), yet
longer than the silence the service waits for before it answers a spoken command:
the daemon starts this window as soon as a wake-word session opens, and with 0.5 s
it closed 2 of the first 10 wake-word conversations before their answer came."""


def snapshot(pid: int) -> dict[str, Any]:
    """RSS, peak RSS, open file descriptors and threads of `pid` now."""
    return {
        "rss_mb": round(rss_mb(pid), 1),
        "peak_rss_mb": round(peak_rss_mb(pid), 1),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        "threads": len(os.listdir(f"/proc/{pid}/task")),
    }


def _idle(stage: Stage) -> bool:
    return stage.control("soak", "status").get("state") == "idle"


def _cycle(stage: Stage, index: int, wake_wav: Path) -> dict[str, Any]:
    """One wake, conversation and return to idle; what happened."""
    first = len(stage.sessions)
    stage.emulator.clear_script()
    kind = "wake word" if index % 10 == 9 else ("say" if index % 2 == 0 else "ctl wake + say")
    began = time.monotonic()
    if kind == "wake word":
        time.sleep(WAKE_WORD_REST)
        stage.emulator.script([Turn(said="turn off the lamp")])
        stage.pulse.speak_into_mic(wake_wav)
    elif kind == "say":
        stage.emulator.script([Turn()])
        stage.control("soak", "say", text="turn on the lamp")
    else:
        stage.emulator.script([Turn(reply="It is nearly noon.", tool_calls=[])])
        stage.control("soak", "wake")
        stage.wait_for(lambda: len(stage.sessions) > first, CYCLE_TIMEOUT, "the session")
        stage.control("soak", "say", text="what time is it")
    result: dict[str, Any] = {"kind": kind, "answered": False, "error": None}
    try:
        stage.wait_for(lambda: len(stage.sessions) > first and stage.sessions[first].model_turns,
                       CYCLE_TIMEOUT, "the answer")
        stage.wait_for(lambda: stage.sessions[first].closed, CYCLE_TIMEOUT, "the session to close")
        stage.wait_for(lambda: _idle(stage), CYCLE_TIMEOUT, "idle")
        result["answered"] = True
    except TimeoutError as exc:
        result["error"] = str(exc)
        stage.control("soak", "stop")
    result["seconds"] = round(time.monotonic() - began, 2)
    return result


def run(cycles: int, workdir: Path, follow_up: float = FOLLOW_UP_SECONDS) -> dict[str, Any]:
    began = time.monotonic()
    with Stage(workdir, speech_pace=8.0) as stage:
        wake_wav = write_wav(workdir / "wake.wav", clips.wake_clip(tail_seconds=0.5).samples)
        config = stage.write_config("soak", camera=False, follow_up=follow_up,
                                    wake_sound="chime")
        daemon: Daemon = stage.start_speakerd("soak", config)
        samples: list[dict[str, Any]] = []
        results: list[dict[str, Any]] = []
        try:
            daemon.wait_ready()
            time.sleep(2.0)
            samples.append({"cycle": 0, **snapshot(daemon.pid)})
            for index in range(cycles):
                results.append(_cycle(stage, index, wake_wav))
                done = index + 1
                if done in (WARM_CYCLES, cycles) or done % SAMPLE_EVERY == 0:
                    samples.append({"cycle": done, **snapshot(daemon.pid)})
                    answered = sum(r["answered"] for r in results)
                    print(f"soak: {done}/{cycles} cycles, {answered} answered, {samples[-1]}",
                          file=sys.stderr, flush=True)
                time.sleep(0.3)  # idle between conversations
        finally:
            exit_code = daemon.stop()
    summary = summarize(cycles, samples, results, exit_code, time.monotonic() - began)
    summary["meta"]["follow_up_seconds"] = follow_up
    return summary


def summarize(cycles: int, samples: list[dict[str, Any]], results: list[dict[str, Any]],
              exit_code: int, seconds: float) -> dict[str, Any]:
    start, end = samples[0], samples[-1]
    warm = next((s for s in samples if s["cycle"] >= min(WARM_CYCLES, cycles)), start)
    return {
        "meta": {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
                 "cycles": cycles, "seconds": round(seconds), "daemon_exit_code": exit_code,
                 "machine": f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"},
        "answered": sum(r["answered"] for r in results),
        "failed": [dict(r, cycle=i) for i, r in enumerate(results) if not r["answered"]],
        "kinds": {kind: sum(1 for r in results if r["kind"] == kind)
                  for kind in ("say", "ctl wake + say", "wake word")},
        "start": start, "warm": warm, "end": end,
        "growth_after_warm_up": {key: round(end[key] - warm[key], 1)
                                 for key in ("rss_mb", "fds", "threads")},
        "samples": samples,
        "cycle_seconds": sorted(r["seconds"] for r in results),
    }


def render(summary: dict[str, Any]) -> str:
    start, warm, end = summary["start"], summary["warm"], summary["end"]
    meta = summary["meta"]
    growth = summary["growth_after_warm_up"]
    lines = [
        f"Soak {meta['date']}: {meta['cycles']} cycles in {meta['seconds']} s"
        f" ({meta['machine']}); answered {summary['answered']}/{meta['cycles']}"
        f" ({summary['kinds']}); follow-up window {meta.get('follow_up_seconds', '?')} s;"
        f" daemon exit code {meta['daemon_exit_code']}.",
        "",
        "| | start | after warm-up | end | growth after warm-up | target |",
        "|---|---:|---:|---:|---:|---|",
        f"| RSS (MB) | {start['rss_mb']} | {warm['rss_mb']} | {end['rss_mb']} |"
        f" {growth['rss_mb']:+} | < 5 MB |",
        f"| peak RSS (MB) | {start['peak_rss_mb']} | {warm['peak_rss_mb']} |"
        f" {end['peak_rss_mb']} | | |",
        f"| open fds | {start['fds']} | {warm['fds']} | {end['fds']} | {growth['fds']:+} | 0 |",
        f"| threads | {start['threads']} | {warm['threads']} | {end['threads']} |"
        f" {growth['threads']:+} | 0 |",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/soak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cycles", type=int)
    parser.add_argument("--out", type=Path, default=ROOT / "bench",
                        help="where soak.json goes (default: bench/)")
    parser.add_argument("--follow-up", type=float, default=FOLLOW_UP_SECONDS,
                        help=f"conversation.follow_up_seconds (default {FOLLOW_UP_SECONDS})")
    args = parser.parse_args(argv)
    if args.cycles < 1:
        parser.error("cycles must be at least 1")
    with tempfile.TemporaryDirectory(prefix="speakerd-soak-") as workdir:
        summary = run(args.cycles, Path(workdir), args.follow_up)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "soak.json").write_text(json.dumps(summary, indent=2) + "\n")
    (args.out / "soak.md").write_text(render(summary))
    print(render(summary))
    growth = summary["growth_after_warm_up"]
    healthy = (summary["answered"] == args.cycles and growth["fds"] <= 0
               and growth["threads"] <= 0 and growth["rss_mb"] < 5)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
