"""scripts/bench: run every figure against the running daemon and write bench/results.*.

    scripts/bench            # full: 60 s idle and conversation runs, 3 of each (~20 min)
    scripts/bench --quick    # shorter clips, fewer runs (~7 min on 2 cores)
    scripts/bench --smoke    # every figure once (~2.5 min): CI runs it; exits 1 if one is missing

Order: one daemon (bench.runner) is started and measured idle first (so its
peak RSS is the idle one), then woken by the wake word and by `ctl wake`, then
held in conversations beside the reference client; then `speakerd run` itself
is started a few times for the start-up figure; then a daemon pinned to one
core is measured idle and in a conversation. Then, in a harness of its own,
"stop" said over a ring and over an answer (bench.figures.stop_latency, ~5
minutes; 2 of each in --smoke). Last (not in --smoke: minutes long), the echo
canceller's figures: offline in a room impulse response
(bench.figures.echo, ~2 min) and answers in the real-time simulated room
(bench.figures.room_echo: 20 with the echo 18 dB down and 20 with it as loud as
the speaker, ~4 min each; 3 with --quick).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import check, clips, report
from bench.figures import (
    conversation,
    ctl_wake,
    echo,
    echo_memory,
    idle,
    pinned,
    recall,
    room_echo,
    startup,
    stop_latency,
    wake,
)
from bench.plans import PLANS, Plan
from bench.procstat import peak_rss_mb
from bench.stage import ROOT, Stage, load_events
from bench.stats import summarize
from tests.support.speech import write_wav

SPEECH_PACE = 2.0
"""Seconds of model audio the emulator sends per second: the service sends faster than real time."""


def _say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    return done.stdout.strip() or "unknown"


def _meta(plan: Plan) -> dict[str, Any]:
    return {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "quick": plan.name == "quick",
        "plan_name": plan.name,
        "commit": _commit(),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
        "load_average_before": os.getloadavg()[0],
        "plan": plan.__dict__,
        "speech_pace": SPEECH_PACE,
    }


def measure(plan: Plan, workdir: Path) -> dict[str, Any]:
    meta = _meta(plan)
    began = time.monotonic()
    wake_clip = clips.wake_clip()
    talk, _ = clips.conversation_clip(plan.conversation_seconds, every=6.0)
    _say(f"recall: {plan.recall_voices} voice(s) x {plan.recall_speeds} speed(s), gate on and"
         " off (offline)")
    gate_recall = recall.run(plan.recall_voices, plan.recall_speeds)
    with Stage(workdir, speech_pace=SPEECH_PACE) as stage:
        wake_wav = write_wav(workdir / "wake.wav", wake_clip.samples)
        room_wav = write_wav(workdir / "room.wav", clips.room_sound(plan.idle_seconds))
        quiet_wav = write_wav(workdir / "quiet.wav", clips.quiet_room_sound(plan.idle_seconds))
        talk_wav = write_wav(workdir / "conversation.wav", talk)
        tls = wake.tls_connect_ms("127.0.0.1", stage.emulator.port, stage.emulator.ca_file)
        # As Google's cookbook client is run beside it: audio only, the microphone sent
        # while the model talks (barge-in), no echo cancellation.
        config = stage.write_config("bench", camera=False, barge_in=True)
        daemon = stage.start_runner("daemon", config)
        try:
            runner_startup = daemon.wait_ready()
            time.sleep(2.0)  # past the detector's warm-up frames
            _say(f"idle: {plan.idle_runs} x {plan.idle_seconds:.0f} s of room sound, then as"
                 " many of the quiet home mix")
            idle_runs = idle.run(stage, daemon, room_wav, plan.idle_runs)
            quiet_runs = idle.run(stage, daemon, quiet_wav, plan.idle_runs)
            idle_rss = peak_rss_mb(daemon.pid)
            _say(f"wake: {plan.wake_trials} trials by wake word, {plan.ctl_wake_trials} by ctl wake")
            windows = wake.run_trials(stage, "bench", wake_wav, plan.wake_trials)
            ctl_trials = ctl_wake.run(stage, "bench", plan.ctl_wake_trials)
            _say(f"conversation: {plan.conversation_runs} x {plan.conversation_seconds:.0f} s")
            talks = conversation.run(stage, daemon, "bench", talk_wav, plan.conversation_runs)
        finally:
            exit_code = daemon.stop()
        events = load_events(daemon)
        trials = wake.analyse(events, stage.sessions, windows, wake_clip)
        _say(f"start-up: {plan.startup_runs} runs of speakerd run")
        startups, ready_wakes = startup.run(stage, config, plan.startup_runs)
        _say("one core: idle and a conversation under taskset")
        one_core = pinned.run(stage, room_wav, talk_wav)
        echo_costs = None
        if plan.name != "smoke":  # the echo figures are left out of the smoke run
            _say("echo cancellation on: memory idle and after a conversation")
            echo_costs = echo_memory.run(stage, room_wav, talk_wav)
    _say(f"stop word: {plan.stop_tries} stops of a ring and of an answer, and its CPU")
    stops = stop_latency.run(plan.stop_tries, plan.stop_cpu_seconds, progress=_say)
    meta["load_average_after"] = os.getloadavg()[0]
    meta["bench_seconds"] = round(time.monotonic() - began, 1)
    meta["daemon_exit_code"] = exit_code
    meta["false_wakes"] = idle.false_wakes(events, idle_runs + quiet_runs)
    results = build_results(meta, tls, runner_startup, {"room": idle_runs, "quiet": quiet_runs},
                            idle_rss, events, trials, ctl_trials, talks, startups, one_core,
                            ready_wakes)
    add_recall(results, gate_recall)
    add_stop_word(results, stops)
    if echo_costs is not None:
        add_echo_costs(results, echo_costs)
    return results


def add_recall(results: dict[str, Any], gate_recall: dict[str, Any]) -> None:
    figures = results["figures"]
    figures["wake_recall_bare_pct"] = summarize([gate_recall["bare_pct"]], "%", 1)
    figures["wake_recall_gated_pct"] = summarize([gate_recall["gated_pct"]], "%", 1)
    figures["wake_gate_changed_clips"] = summarize([gate_recall["changed"]], "clips", 0)
    for key in ("wake_recall_bare_pct", "wake_recall_gated_pct", "wake_gate_changed_clips"):
        label, _, op, target = report.FIGURES[key]
        figures[key].update(label=label, target=f"{op} {target}" if op else None,
                            verdict=report.verdict(figures[key], op, target))
    clips_total = len(gate_recall["clips"])
    results["notes"].insert(2, (
        f"Recall: {clips_total} clips of \"hey jarvis\" (espeak-ng voices at 130/150/170 wpm,"
        " each in silence, white noise at 20/10/5/0 dB SNR, a fan, a whisper 30 dB down, right"
        " after a sentence, as a fan starts, and with its first 200 ms 30 dB down under a fan),"
        " scanned with the speech gate on and off; missed by the gate:"
        f" {gate_recall['missed_by_gate']}."))
    results["details"]["gate_recall"] = gate_recall


def add_stop_word(results: dict[str, Any], stops: dict[str, Any]) -> None:
    """Figure 10: "stop" to a silent speaker, over a ring and over an answer; its CPU."""
    figures = results["figures"]
    for key, values in stop_latency.figures(stops).items():
        label, unit, op, target = report.FIGURES[key]
        figures[key] = summarize(values, unit, 1 if unit == "ms" else 2)
        figures[key].update(label=label, target=f"{op} {target}" if op else None,
                            verdict=report.verdict(figures[key], op, target))
    results["notes"].append(stop_latency.note(stops))
    results["details"]["stop_word"] = stops


def add_echo_costs(results: dict[str, Any], costs: dict[str, Any]) -> None:
    figures = results["figures"]
    for key, value in costs.items():
        label, unit, op, target = report.FIGURES[key]
        figures[key] = summarize([value], unit, 1)
        figures[key].update(label=label, target=f"{op} {target}" if op else None,
                            verdict=report.verdict(figures[key], op, target))
    results["details"]["echo_memory"] = costs


def _values(rows: list[dict[str, Any]], key: str, scale: float = 1.0) -> list[float]:
    return [row[key] * scale for row in rows if row.get(key) is not None]


def build_results(meta: dict[str, Any], tls: list[float], runner_startup: float,
                  idle_mixes: dict[str, list[dict[str, Any]]], idle_rss: float,
                  events: dict[str, Any], trials: list[dict[str, Any]],
                  ctl_trials: list[dict[str, Any]], talks: list[dict[str, Any]],
                  startups: list[float], one_core: dict[str, Any],
                  ready_wakes: list[float]) -> dict[str, Any]:
    idle_runs, quiet_runs = idle_mixes["room"], idle_mixes["quiet"]
    tls_median = summarize(tls, "ms")["median"] or 0.0
    for trial in trials:
        if trial.get("wake_to_stream_ms") is not None:
            trial["wake_to_stream_overhead_ms"] = trial["wake_to_stream_ms"] - tls_median
    output_latency = events["marks"].get("output_latency")
    figures = {
        "idle_cpu_ratio": summarize(_values(idle_runs, "ratio"), "x"),
        "idle_daemon_cpu_pct": summarize(_values(idle_runs, "daemon_cpu_per_s", 100), "% core"),
        "idle_bare_cpu_pct": summarize(_values(idle_runs, "bare_cpu_per_s", 100), "% core"),
        "idle_quiet_cpu_ratio": summarize(_values(quiet_runs, "ratio"), "x"),
        "idle_quiet_daemon_cpu_pct": summarize(
            _values(quiet_runs, "daemon_cpu_per_s", 100), "% core"),
        "idle_peak_rss_mb": summarize([idle_rss], "MB", 1),
        "tls_connect_ms": summarize(tls, "ms", 2),
        "output_latency_ms": summarize(
            [output_latency * 1000] if output_latency is not None else [], "ms", 1),
        "conversation_cpu_ratio": summarize(_values(talks, "ratio"), "x"),
        "conversation_daemon_cpu_pct": summarize(_values(talks, "daemon_cpu_per_s", 100), "% core"),
        "conversation_reference_cpu_pct": summarize(
            _values(talks, "reference_cpu_per_s", 100), "% core"),
        "conversation_peak_rss_mb": summarize(_values(talks, "daemon_peak_rss_mb"), "MB", 1),
        "reference_peak_rss_mb": summarize(_values(talks, "reference_peak_rss_mb"), "MB", 1),
        "startup_s": summarize(startups, "s", 2),
        "ready_wake_first_audio_ms": summarize(ready_wakes, "ms"),
        "ctl_wake_first_audio_ms": summarize(
            _values(ctl_trials, "setup_to_first_audio_ms"), "ms", 1),
        "pinned_idle_cpu_pct": summarize([one_core["idle_cpu_per_s"] * 100], "% core"),
        "pinned_conversation_cpu_pct": summarize(
            [one_core["conversation_cpu_per_s"] * 100], "% core"),
    }
    for key in ("wake_latency_ms", "wake_to_stream_ms", "wake_to_stream_overhead_ms",
                "post_wake_lost_ms", "playout_ms", "barge_in_flush_ms",
                "device_backlog_at_flush_ms"):
        figures[key] = summarize(_values(trials, key), "ms", 1)
    for key, figure in figures.items():
        label, _, op, target = report.FIGURES[key]
        figure.update(label=label, target=f"{op} {target}" if op else None,
                      verdict=report.verdict(figure, op, target))
    return {
        "meta": meta,
        "figures": figures,
        "notes": notes(trials, talks, runner_startup, one_core, meta),
        "details": {"idle_runs": idle_runs, "quiet_idle_runs": quiet_runs, "wake_trials": trials,
                    "ctl_wake_trials": ctl_trials, "conversations": talks, "one_core": one_core,
                    "tls_connect_ms": tls, "runner_startup_s": runner_startup,
                    "speakerd_startups_s": startups, "daemon_marks": events["marks"]},
    }


def notes(trials: list[dict[str, Any]], talks: list[dict[str, Any]], runner_startup: float,
          one_core: dict[str, Any], meta: dict[str, Any]) -> list[str]:
    plan = meta["plan"]
    out = [
        "Devices: PyAudio over a private PulseAudio server with null sinks (real time);"
        " Gemini: the local Live emulator over loopback TLS, replying with a tone at"
        f" {meta['speech_pace']:g}x real time; conversations audio only,"
        " with barge-in, beside Google's cookbook client (--mode none).",
        f"Idle: {plan['idle_runs']} runs of {plan['idle_seconds']:g} s of each mix; the room"
        " mix is speech without the wake word, fan noise and silence in equal thirds, the"
        " home mix 30 % speech and 70 % silence or steady noise. The bare loop runs beside the"
        " daemon on the same audio at the same pace, so each ratio compares two processes"
        f" measured at the same time. False wakes during idle: {meta['false_wakes']}.",
        f"Wake trials: {len(trials)}; failed: "
        f"{sum(1 for t in trials if t.get('error'))}. Overhead = wake-to-stream minus the median"
        " bare TCP+TLS connect from the bench process.",
        f"Conversation: {plan['conversation_runs']} runs of {plan['conversation_seconds']:g} s;"
        " daemon sessions per run "
        f"{[t['daemon_sessions'] for t in talks]}, frames daemon/reference "
        f"{[(t['daemon_frames'], t['reference_frames']) for t in talks]}, user turns "
        f"daemon/reference {[(t['daemon_user_turns'], t['reference_user_turns']) for t in talks]}.",
        f"Start-up of the bench runner (same serve(), plus the stand-in camera): {runner_startup:.2f} s;"
        " the start-up figure is `python -m daemon run` (no camera on this machine).",
        f"One core: a second daemon under `taskset -c {one_core['core']}`, the same room mix"
        f" and conversation clip ({one_core['conversation_sessions']} session).",
        f"Load average before/after: {meta['load_average_before']:.2f}/"
        f"{meta.get('load_average_after', 0):.2f} (the machine is shared); bench took"
        f" {meta.get('bench_seconds', 0):.0f} s.",
    ]
    return out


def add_echo_figures(results: dict[str, Any], answers: int) -> None:
    """The echo canceller's figures: offline room, real-time room, CPU with and without."""
    _say("echo cancellation: offline room figures")
    echo.add_to(results)
    _say(f"echo cancellation: {answers} answers in the real-time simulated room")
    room = room_echo.run(answers)
    results["figures"]["room_self_interruptions"] = {
        "median": room["room_self_interruptions"], "runs": room["room_answers"]}
    results.setdefault("details", {})["room_echo"] = room
    _say(f"echo cancellation: {answers} answers in the room, the echo as loud as the speaker")
    loud = room_echo.run(answers, volume=100)
    results["figures"]["room_self_interruptions_loud"] = {
        "median": loud["room_self_interruptions"], "runs": loud["room_answers"]}
    if loud["room_learned_after_s"] is not None:
        results["figures"]["room_learned_after_s"] = {
            "median": loud["room_learned_after_s"], "runs": 1}
    results["details"]["room_echo_loud"] = loud
    _say("echo cancellation: daemon CPU over the same answers with and without")
    cpu = room_echo.cpu_ratio(3)
    results["figures"]["aec_conversation_cpu_ratio"] = {
        "median": cpu["aec_conversation_cpu_ratio"], "runs": 1}
    results["details"]["room_echo_cpu"] = cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_const", dest="plan", const="quick",
                      help="shorter runs (~7 minutes)")
    size.add_argument("--smoke", action="store_const", dest="plan", const="smoke",
                      help="every figure once (~2.5 minutes); exit 1 if any is missing")
    parser.add_argument("--out", type=Path, default=None,
                        help="where results.json, results.md and timings.png go (default: bench/,"
                        " or nowhere for --smoke)")
    parser.add_argument("--keep", type=Path, default=None,
                        help="keep the work files (logs, events, WAVs) in this directory")
    args = parser.parse_args(argv)
    plan = PLANS[args.plan or "full"]
    out = args.out or (None if plan.name == "smoke" else ROOT / "bench")
    if args.keep is not None:
        results = measure(plan, args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="speakerd-bench-") as workdir:
            results = measure(plan, Path(workdir))
    if plan.name != "smoke":
        add_echo_figures(results, answers=3 if plan.name == "quick" else 20)
    if out is not None:
        report.write(results, out)
    print(report.render_markdown(results))
    found = check.problems(results, skip=report.ECHO_FIGURES if plan.name == "smoke" else ())
    for problem in found:
        _say(f"PROBLEM: {problem}")
    _say(f"{plan.name}: every figure measured" if not found else
         f"{plan.name}: {len(found)} problem(s)")
    return 1 if found else 0
