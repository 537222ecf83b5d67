"""bench/results.json -> bench/results.md (a table, each figure beside its target) and a chart.

Pure functions of the results dict, so the report can be re-rendered (and
tested) without running the bench: `python -m bench.report bench/results.json`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

# key: (label, unit, target operator, target value); None: reported, no target.
FIGURES: dict[str, tuple[str, str, str | None, float | None]] = {
    "idle_cpu_ratio": ("1. Idle CPU, daemon / bare openWakeWord (room mix)", "x", "<=", 1.0),
    "idle_daemon_cpu_pct": ("1. Idle CPU, daemon (room mix)", "% core", None, None),
    "idle_bare_cpu_pct": ("1. Idle CPU, bare Model.predict loop (room mix)", "% core", None, None),
    "idle_quiet_cpu_ratio": ("1. Idle CPU, daemon / bare openWakeWord (home mix, 70 % quiet)",
                             "x", "<=", 0.6),
    "idle_quiet_daemon_cpu_pct": ("1. Idle CPU, daemon (home mix)", "% core", None, None),
    "idle_peak_rss_mb": ("1. Idle daemon peak RSS", "MB", "<=", 150),
    "wake_latency_ms": ("2. Wake latency (end of phrase to detection, audio time)", "ms", None, None),
    "wake_recall_bare_pct": ("2b. Wake-word recall, espeak-ng clips, speech gate off", "%", None,
                             None),
    "wake_recall_gated_pct": ("2b. Wake-word recall, same clips, speech gate on", "%", None, None),
    "wake_gate_changed_clips": ("2b. Clips whose detections the gate changed", "clips", "<=", 0),
    "wake_to_stream_ms": ("3. Wake to first mic chunk at the emulator", "ms", None, None),
    "tls_connect_ms": ("3. TCP + TLS connect to the emulator (bare)", "ms", None, None),
    "wake_to_stream_overhead_ms": ("3. Wake to stream, local overhead (minus TLS connect)", "ms", "<=", 30),
    "post_wake_lost_ms": ("3. Post-wake speech lost", "ms", "<=", 0),
    "ctl_wake_first_audio_ms": ("3. Woken by ctl wake: setupComplete to first mic audio", "ms",
                                "<=", 100),
    "playout_ms": ("4. Answer playout (first model chunk sent to device write)", "ms", "<=", 10),
    "barge_in_flush_ms": ("5. Barge-in: interrupted sent to playback flushed", "ms", "<=", 50),
    "output_latency_ms": ("5. Output latency PortAudio reports", "ms", None, None),
    "device_backlog_at_flush_ms": ("5. Audio already in the device at the flush", "ms", None, None),
    "conversation_cpu_ratio": ("6. Conversation CPU, daemon / cookbook client", "x", "<=", 0.8),
    "conversation_daemon_cpu_pct": ("6. Conversation CPU, daemon", "% core", None, None),
    "conversation_reference_cpu_pct": ("6. Conversation CPU, reference client", "% core", None, None),
    "conversation_peak_rss_mb": ("6. Daemon peak RSS after conversations", "MB", "<=", 170),
    "reference_peak_rss_mb": ("6. Reference client peak RSS", "MB", None, None),
    "startup_s": ("7. Start-up, process start to READY=1", "s", "<=", 2.0),
    "ready_wake_first_audio_ms": (
        "7b. ctl wake at READY=1: setupComplete to first mic audio", "ms", "<=", 100.0),
    "pinned_idle_cpu_pct": ("8. One core (taskset): idle CPU, room mix", "% core", None, None),
    "pinned_conversation_cpu_pct": ("8. One core (taskset): conversation CPU", "% core", None,
                                    None),
    "echo_erle_db": ("9. Echo: ERLE after convergence, no near end (offline room)", "dB", ">=", 25),
    "echo_convergence_s": ("9. Echo: first answer, time until ERLE stays >= 25 dB", "s", None, None),
    "echo_first_second_erle_db": ("9. Echo: ERLE in the first second ever played", "dB", None, None),
    "echo_learned_after_s": ("9. Echo: first answer, microphone held until the canceller removes the echo", "s", None, None),
    "room_learned_after_s": ("9. Echo: the same in the real-time room, echo as loud as the speaker", "s", None, None),
    "self_interruptions": ("9. Echo: self-interruptions over 20 long answers, offline room", "", "<=", 0),
    "self_interruptions_without_aec": ("9. Echo: the same without echo cancellation", "", None, None),
    "room_self_interruptions": ("9. Echo: self-interruptions, real-time simulated room, echo -18 dB (runs: answers)", "", "<=", 0),
    "room_self_interruptions_loud": ("9. Echo: the same, echo as loud as the speaker (runs: answers)", "", "<=", 0),
    "wake_fires_on_model_voice": ("9. Echo: wake word fired on the model's voice (20 answers)", "", "<=", 0),
    "stop_fires_on_model_voice": ("9. Echo: \"stop\" fired on the model's voice (20 answers)", "", "<=", 0),
    "wake_score_on_model_voice_max": ("9. Echo: highest wake-word score on the model's voice (20 answers)", "", None, None),
    "detectors_hear_linear_after_s": ("9. Echo: seconds of sound until the detectors hear the linear filter", "s", None, None),
    "wake_during_playback_ser6": ("9. Echo: wake word over an answer, voice +6 dB over echo, of 10", "", ">=", 9),
    "wake_during_playback_ser6_default_threshold": ("9. Echo: the same at the idle threshold (0.5)", "", None, None),
    "wake_during_playback_ser6_min_score": ("9. Echo: the lowest of its 10 peak scores", "", None, None),
    "wake_during_playback_ser6_suppressed": ("9. Echo: the same on AEC3's suppressed output (before)", "", None, None),
    "wake_during_playback_ser6_without_aec": ("9. Echo: the same without echo cancellation", "", None, None),
    "stop_during_playback_ser6": ("9. Echo: \"stop\" over an answer, voice +6 dB over echo, of 10", "", ">=", 9),
    "stop_during_playback_ser6_suppressed": ("9. Echo: the same on AEC3's suppressed output (before)", "", None, None),
    "wake_during_playback_ser0": ("9. Echo: wake word over an answer, voice as loud as echo, of 10", "", ">=", 8),
    "wake_during_playback_ser0_default_threshold": ("9. Echo: the same at the idle threshold (0.5)", "", None, None),
    "wake_during_playback_ser0_min_score": ("9. Echo: the lowest of its 10 peak scores", "", None, None),
    "wake_during_playback_ser0_suppressed": ("9. Echo: the same on AEC3's suppressed output (before)", "", None, None),
    "wake_during_playback_ser0_without_aec": ("9. Echo: the same without echo cancellation", "", None, None),
    "stop_during_playback_ser0": ("9. Echo: \"stop\" over an answer, voice as loud as echo, of 10", "", ">=", 8),
    "stop_during_playback_ser0_suppressed": ("9. Echo: the same on AEC3's suppressed output (before)", "", None, None),
    "wake_during_playback_serminus6": ("9. Echo: wake word over an answer, voice 6 dB under echo, of 10", "", ">=", 8),
    "wake_during_playback_serminus6_default_threshold": ("9. Echo: the same at the idle threshold (0.5)", "", None, None),
    "wake_during_playback_serminus6_min_score": ("9. Echo: the lowest of its 10 peak scores", "", None, None),
    "wake_during_playback_serminus6_suppressed": ("9. Echo: the same on AEC3's suppressed output (before)", "", None, None),
    "wake_during_playback_serminus6_without_aec": ("9. Echo: the same without echo cancellation", "", None, None),
    "stop_during_playback_serminus6": ("9. Echo: \"stop\" over an answer, voice 6 dB under echo, of 10", "", ">=", 8),
    "stop_during_playback_serminus6_suppressed": ("9. Echo: the same on AEC3's suppressed output (before)", "", None, None),
    "aec_chunk_ms": ("9. Echo canceller time per 80 ms microphone chunk", "ms", None, None),
    "barge_in_local_ms": ("9. Barge-in by voice, local part: canceller + flush after interrupted", "ms", "<=", 50),
    "aec_cpu_ms_per_s": ("9. Echo canceller CPU per second of audio", "ms", None, None),
    "aec_conversation_cpu_ratio": ("9. Conversation CPU with echo cancellation / without (room, 3 answers)", "x", "<=", 1.3),
    "aec_idle_peak_rss_mb": ("9b. Echo cancellation on: idle peak RSS", "MB", "<=", 150),
    "aec_conversation_peak_rss_mb": ("9b. Echo cancellation on: peak RSS after a conversation",
                                     "MB", "<=", 170),
    "aec_talk_cpu_pct": ("9b. Echo cancellation on: conversation CPU, no room echo", "% core",
                         None, None),
    "aec_only_cpu_ratio_est": ("9. The canceller alone over a conversation's CPU (estimate)", "x", None, None),
    "stop_ring_silent_ms": ("10. Stop word over a ring: end of \"stop\" to the speaker silent", "ms", "<=", 300),
    "stop_ring_heard_ms": ("10. The same: end of \"stop\" to the daemon acting on it", "ms", None, None),
    "stop_answer_silent_ms": ("10. Stop word over an answer (room, echo cancelled): end of \"stop\" to the speaker silent", "ms", "<=", 300),
    "stop_answer_heard_ms": ("10. The same: end of \"stop\" to the daemon acting on it", "ms", None, None),
    "stop_listening_cpu_pct": ("10. Daemon CPU, a ring, the stop word listening", "% core", None, None),
    "stop_off_cpu_pct": ("10. Daemon CPU, the same ring, stop_word.enabled: false", "% core", None, None),
    "stop_cpu_ratio": ("10. Ring CPU, stop word listening / off", "x", None, None),
}

# Figures of the echo canceller: minutes to measure, so --smoke (CI) leaves them out.
ECHO_FIGURES: frozenset[str] = frozenset(
    key for key in FIGURES if key.startswith(("echo_", "aec_", "self_interr", "room_self", "room_learned", "wake_during", "wake_fires", "wake_score", "stop_during", "stop_fires", "detectors_hear", "barge_in_local"))
)
TIMINGS_MS = ("wake_latency_ms", "wake_to_stream_ms", "wake_to_stream_overhead_ms",
              "tls_connect_ms", "ctl_wake_first_audio_ms", "playout_ms", "barge_in_flush_ms", "output_latency_ms",
              "stop_ring_silent_ms", "stop_answer_silent_ms")


def verdict(figure: dict[str, Any], op: str | None, target: float | None) -> str:
    """"met", "MISSED", or "" when there is no target or no measurement."""
    if op is None or target is None or figure.get("median") is None:
        return ""
    value = figure["median"]
    ok = value <= target if op == "<=" else value >= target
    return "met" if ok else "MISSED"


def _number(value: Any) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _plan_name(meta: dict[str, Any]) -> str:
    name = meta.get("plan_name") or ("quick" if meta.get("quick") else "full")
    return "full run" if name == "full" else f"--{name}"


def render_markdown(results: dict[str, Any]) -> str:
    meta = results.get("meta", {})
    lines = [
        f"Measured {meta.get('date', '?')} on {meta.get('machine', '?')}"
        f" ({_plan_name(meta)}, commit {meta.get('commit', '?')}).",
        "",
        "| Figure | Median | Min | Max | Runs | Target | |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    figures = results.get("figures", {})
    for key, (label, unit, op, target) in FIGURES.items():
        figure = figures.get(key)
        if figure is None:
            continue
        goal = f"{op} {_number(target)} {unit}" if op else ""
        lines.append(
            f"| {label} ({unit}) | {_number(figure.get('median'))} | {_number(figure.get('min'))}"
            f" | {_number(figure.get('max'))} | {figure.get('runs', 0)} | {goal}"
            f" | {verdict(figure, op, target)} |"
        )
    notes = results.get("notes", [])
    if notes:
        lines += ["", *[f"- {note}" for note in notes]]
    return "\n".join(lines) + "\n"


def render_chart(results: dict[str, Any], path: Path) -> None:
    """Horizontal bars of the timing medians, whiskers min-max, targets as red ticks."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures = results.get("figures", {})
    keys = [k for k in TIMINGS_MS if figures.get(k, {}).get("median") is not None]
    fig, ax = plt.subplots(figsize=(9, 0.55 * max(len(keys), 1) + 1.4))
    for row, key in enumerate(keys):
        figure = figures[key]
        median, low, high = figure["median"], figure["min"], figure["max"]
        _, _, op, target = FIGURES[key]
        ax.barh(row, median, color="#4c78a8" if verdict(figure, op, target) != "MISSED"
                else "#e45756")
        ax.errorbar(median, row, xerr=[[median - low], [high - median]], color="black",
                    capsize=3, linewidth=1)
        if target is not None:
            ax.plot([target, target], [row - 0.4, row + 0.4], color="red", linewidth=2)
        ax.text(high, row, f"  {median:.1f} ms", va="center", fontsize=8)
    ax.set_yticks(range(len(keys)), [FIGURES[k][0] for k in keys], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("milliseconds (median; whiskers min-max; red tick: target)")
    meta = results.get("meta", {})
    ax.set_title(f"speakerd timings ({_plan_name(meta)},"
                 f" {meta.get('date', '')})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(results: dict[str, Any], directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (directory / "results.md").write_text(render_markdown(results) + _soak_section(directory))
    render_chart(results, directory / "timings.png")


def _soak_section(directory: Path) -> str:
    """The latest summaries of scripts/soak, bench.wakeword_runtimes, bench.figures.stop_word,
    bench.figures.engines and bench.music (each is run on its own), and the hand-written
    stories behind the figures (bench/stories.md), kept beside the bench figures."""
    soak, runtimes = directory / "soak.md", directory / "wakeword_runtimes.md"
    stories = directory / "stories.md"
    text = f"\n## Soak (scripts/soak)\n\n{soak.read_text()}" if soak.is_file() else ""
    if runtimes.is_file():
        text += f"\n## Wake-word runtimes (bench.wakeword_runtimes)\n\n{runtimes.read_text()}"
    for name, title in (("stop_word.md", "Stop word (bench.figures.stop_word)"),
                        ("wake_engines.md", "Wake engines side by side (bench.figures.engines)"),
                        ("music.md", "Music (bench.music)")):
        if (directory / name).is_file():
            text += f"\n## {title}\n\n{(directory / name).read_text()}"
    if stories.is_file():
        text += f"\n{stories.read_text()}"
    return text


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0] if args else "bench/results.json")
    results = json.loads(path.read_text())
    (path.parent / "results.md").write_text(render_markdown(results) + _soak_section(path.parent))
    render_chart(results, path.parent / "timings.png")
    print(render_markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
