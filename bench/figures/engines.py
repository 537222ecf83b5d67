"""openWakeWord against microWakeWord on "hey jarvis": recall, false accepts, CPU, memory.

    python -m bench.figures.engines [--talk-seconds 3600] [--json out.json]

The same clips go to both engines: "hey jarvis" in every bench voice
(bench/corpus.py: espeak-ng and flite at several speeds), clean, in pink noise
at 10 and 5 dB and in speech babble at 10 and 5 dB, 2 s of the same noise
before it. openWakeWord runs as the daemon runs it (WakeWordDetector, 80 ms
frames; every frame scored, which figure 2b shows the gate does not change);
microWakeWord through daemon.wakeword.micro (one
score per 30 ms, the mean of 5). A clip counts at a threshold when a score
reaches it from the phrase's start to 1.5 s after it. False accepts: both over
`--talk-seconds` of ordinary talk under changing noise, 15 % of the sentences
near misses ("hey jarvik", "jarvis cocker", ...), a detection being a rising
edge with the daemon's 2 s refractory time. Every score is kept, so thresholds
and the two engines voting (either, both within 1 s) are compared offline.
CPU and the RSS each engine adds are measured in a fresh process per engine.

`--detectors`: the daemon's own detectors as `wake_word.engine` builds them
(speech gate on, microWakeWord run only while it is open for `both`), each
judging for itself: recall per condition, false accepts on the talk, cost.

`--speex`: every clip and the talk go through speex noise suppression first
(pyspeex-noise, 10 ms at a time, -30 dB, no gain control; `pip install
pyspeex-noise`, a bench tool only), to see whether it raises recall in noise.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.corpus import (
    CONDITIONS,
    all_voices,
    in_condition,
    noisy_talk,
    padded,
    prepare,
    say,
    speex,
)
from daemon.config.schema import WakeWordConfig
from daemon.wakeword.detector import FRAME_SAMPLES, SAMPLE_RATE, WakeWordDetector
from daemon.wakeword.judge import EdgeJudge
from daemon.wakeword.micro import MicroScorer, load_micro_model
from daemon.wakeword.micro_engine import resolve_micro_models

PHRASE = "hey jarvis"
ENGINES = ("openwakeword", "microwakeword")
AFTER = 1.5
LEAD = 2.0
REFRACTORY = 2.0
WARMUP = {"openwakeword": 18 * FRAME_SAMPLES / SAMPLE_RATE, "microwakeword": 0.3}
SWEEP = {
    "openwakeword": (0.1, 0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8),
    "microwakeword": (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.99),
}
DEFAULTS = {"openwakeword": 0.5, "microwakeword": 0.97}
"""The daemon's threshold for openWakeWord; the model's own cutoff for microWakeWord."""
VOTE_WINDOW = 1.0


class Tracer:
    """Every score an engine gives a stream, with its time."""

    def __init__(self, engine: str) -> None:
        self.engine = engine
        if engine == "openwakeword":
            # Every frame scored: the speech gate changes no detection (figure 2b) but would
            # hide the scores of the frames it holds; the cost figure runs the gated detector.
            self.oww = WakeWordDetector(WakeWordConfig(models=["hey_jarvis"]), speech_gate=False)
        else:
            path = resolve_micro_models(
                WakeWordConfig(engine="microwakeword", models=["hey_jarvis"])
            ).wake_words["hey_jarvis"]
            self.micro = MicroScorer({"hey_jarvis": load_micro_model(path)})

    def trace(self, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        times: list[float] = []
        scores: list[float] = []
        if self.engine == "openwakeword":
            detector = self.oww
            detector.reset()
            origin = detector.stream_time
            for start in range(0, len(audio) - FRAME_SAMPLES + 1, FRAME_SAMPLES):
                detector.feed(audio[start : start + FRAME_SAMPLES])
                times.append(detector.stream_time - origin)
                scores.append(detector.last_scores["hey_jarvis"])
        else:
            self.micro.reset()
            origin = self.micro.stream_time
            for start in range(0, len(audio), FRAME_SAMPLES):
                for _name, score, at in self.micro.feed(audio[start : start + FRAME_SAMPLES]):
                    times.append(at - origin)
                    scores.append(score)
        return np.asarray(times), np.asarray(scores)


def crossings(times: np.ndarray, scores: np.ndarray, threshold: float, warmup: float) -> list[float]:
    judge = EdgeJudge({"w": threshold}, REFRACTORY)
    return [float(t) for t, s in zip(times, scores, strict=True)
            if t >= warmup and judge.judge("w", float(s), float(t))]


def run(talk_seconds: float, progress: Any = print, denoise: bool = False) -> dict[str, Any]:
    voices = all_voices()
    progress(f"rendering {len(voices)} voices")
    prepare([PHRASE], voices)
    tracers = {engine: Tracer(engine) for engine in ENGINES}
    clips: list[dict[str, Any]] = []
    for seed, voice in enumerate(voices):
        progress(f"engines: {voice.label}")
        audio, start, end = padded(say(PHRASE, voice), lead=LEAD)
        for condition in CONDITIONS:
            noisy = in_condition(audio, condition, seed)
            if denoise:
                noisy = speex(noisy)
            row: dict[str, Any] = {"voice": voice.label, "condition": condition}
            for engine, tracer in tracers.items():
                times, scores = tracer.trace(noisy)
                inside = scores[(times >= start) & (times <= end + AFTER)]
                row[engine] = round(float(inside.max(initial=0.0)), 4)
                # when the phrase window's peak came: for voting, the engines must agree on time
                row[engine + "_at"] = round(float(times[(times >= start) & (times <= end + AFTER)][
                    int(np.argmax(inside))]) if len(inside) else 0.0, 3)
            clips.append(row)

    progress(f"ordinary talk: {talk_seconds:.0f} s")
    talk = noisy_talk(talk_seconds)
    if denoise:
        talk = speex(talk)
    hours = len(talk) / SAMPLE_RATE / 3600
    talk_traces: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    cpu: dict[str, float] = {}
    for engine, tracer in tracers.items():
        progress(f"ordinary talk: {engine}")
        began = time.process_time()
        talk_traces[engine] = tracer.trace(talk)
        cpu[engine] = 1000 * (time.process_time() - began) / (len(talk) / SAMPLE_RATE)
    traces = {engine: [np.round(times, 3).tolist(), np.round(scores, 4).tolist()]
              for engine, (times, scores) in talk_traces.items()}
    return {"clips": clips, "talk_hours": hours, "talk_traces": traces,
            "cpu_in_run_ms_per_s": cpu, "voices": len(voices)}


def false_accepts(result: dict[str, Any]) -> dict[str, dict[float, list[float]]]:
    """Detection times on the talk at every SWEEP threshold, from the kept score traces."""
    traces = {e: (np.asarray(t), np.asarray(s)) for e, (t, s) in result["talk_traces"].items()}
    return {engine: {t: crossings(*traces[engine], t, WARMUP[engine]) for t in SWEEP[engine]}
            for engine in ENGINES}


def recall(clips: list[dict[str, Any]], rule: Any, conditions: tuple[str, ...]) -> float:
    chosen = [c for c in clips if c["condition"] in conditions]
    return 100 * sum(bool(rule(c)) for c in chosen) / max(1, len(chosen))


def voted(fa: dict[str, dict[float, list[float]]], t_oww: float, t_micro: float,
          mode: str) -> int:
    """False accepts of the two engines combined: `either` fires, or `both` within VOTE_WINDOW."""
    a, b = fa["openwakeword"][t_oww], fa["microwakeword"][t_micro]
    if mode == "both":
        return sum(any(abs(x - y) <= VOTE_WINDOW for y in b) for x in a)
    merged = sorted(a + b)
    count, last = 0, -1e9
    for t in merged:
        if t - last >= REFRACTORY:
            count += 1
            last = t
    return count


def table(result: dict[str, Any]) -> str:
    clips, hours, fa = result["clips"], result["talk_hours"], false_accepts(result)
    noisy = ("pink 5 dB", "babble 5 dB", "babble 10 dB")
    lines = [
        f"{result['voices']} voices x {len(CONDITIONS)} conditions = {len(clips)} clips per "
        f"engine; {hours:.2f} h of ordinary talk.",
        "",
        "| engine, threshold | " + " | ".join(f"recall {c} (%)" for c in CONDITIONS)
        + " | recall pink 5 dB + babble (%) | false accepts per hour |",
        "|---|" + "---:|" * (len(CONDITIONS) + 2),
    ]
    options: list[tuple[str, Any, float]] = []
    for engine in ENGINES:
        for t in SWEEP[engine]:
            options.append((f"{engine} {t}", lambda c, e=engine, t=t: c[e] >= t,
                            len(fa[engine][t]) / hours))
    for t_oww in SWEEP["openwakeword"]:
        for t_micro in SWEEP["microwakeword"]:
            options.append((f"either: openwakeword {t_oww} or microwakeword {t_micro}",
                            lambda c, a=t_oww, b=t_micro: c["openwakeword"] >= a or c["microwakeword"] >= b,
                            voted(fa, t_oww, t_micro, "either") / hours))
            options.append((f"both: openwakeword {t_oww} and microwakeword {t_micro} within {VOTE_WINDOW:g} s",
                            lambda c, a=t_oww, b=t_micro: c["openwakeword"] >= a and c["microwakeword"] >= b
                            and abs(c["openwakeword_at"] - c["microwakeword_at"]) <= VOTE_WINDOW,
                            voted(fa, t_oww, t_micro, "both") / hours))

    def row(label: str, rule: Any, per_hour: float) -> str:
        return (f"| {label} | " + " | ".join(f"{recall(clips, rule, (c,)):.1f}" for c in CONDITIONS)
                + f" | {recall(clips, rule, noisy):.1f} | {per_hour:.2f} |")

    singles = [o for o in options if not o[0].startswith(("either", "both"))]
    lines += [row(*o) for o in singles]
    within = [o for o in options if o[2] <= 0.5]
    best = sorted(within, key=lambda o: -recall(clips, o[1], noisy))[:8]
    lines += ["", "Best combinations at <= 0.5 false accepts per hour (by recall in pink 5 dB and babble):", "",
              lines[2], lines[3]] + [row(*o) for o in best]
    return "\n".join(lines)


DETECTORS: dict[str, dict[str, Any]] = {
    "openwakeword 0.5": {"engine": "openwakeword"},
    "microwakeword 0.2": {"engine": "microwakeword", "threshold": 0.2},
    "both (the default): openwakeword 0.5 or microwakeword 0.2": {"engine": "both"},
}
"""What `--detectors` compares, as wake_word settings."""


def detections(talk_seconds: float, progress: Any = print) -> dict[str, Any]:
    """Each DETECTORS entry fed the clips and the talk in 80 ms chunks, as the listener feeds it."""
    from daemon.wakeword.engines import make_detector

    voices = all_voices()
    prepare([PHRASE], voices)
    talk = noisy_talk(talk_seconds)
    rows: dict[str, Any] = {}
    for label, settings in DETECTORS.items():
        progress(f"detectors: {label}")
        config = WakeWordConfig(models=["hey_jarvis"], **settings)
        caught: dict[str, list[bool]] = {condition: [] for condition in CONDITIONS}
        for seed, voice in enumerate(voices):
            audio, start, end = padded(say(PHRASE, voice), lead=LEAD)
            for condition in CONDITIONS:
                noisy = in_condition(audio, condition, seed)
                detector = make_detector(config)
                times = [d.time for s in range(0, len(noisy), FRAME_SAMPLES)
                         for d in detector.feed(noisy[s : s + FRAME_SAMPLES])]
                getattr(detector, "close", lambda: None)()
                caught[condition].append(any(start <= t <= end + AFTER for t in times))
        detector = make_detector(config)
        began = time.process_time()
        wakes = [d.time for s in range(0, len(talk), FRAME_SAMPLES)
                 for d in detector.feed(talk[s : s + FRAME_SAMPLES])]
        cpu = 1000 * (time.process_time() - began) / (len(talk) / SAMPLE_RATE)
        getattr(detector, "close", lambda: None)()
        rows[label] = {"recall": {c: 100 * sum(v) / len(v) for c, v in caught.items()},
                       "false_accepts": wakes, "cpu_ms_per_s_on_talk": cpu}
    return {"detectors": rows, "talk_hours": len(talk) / SAMPLE_RATE / 3600, "voices": len(voices)}


def detectors_table(result: dict[str, Any]) -> str:
    hours = result["talk_hours"]
    lines = ["| wake_word settings | " + " | ".join(f"recall {c} (%)" for c in CONDITIONS)
             + " | false accepts in the talk | CPU on the talk (ms per s) |",
             "|---|" + "---:|" * (len(CONDITIONS) + 2)]
    for label, row in result["detectors"].items():
        lines.append(f"| {label} | " + " | ".join(f"{row['recall'][c]:.1f}" for c in CONDITIONS)
                     + f" | {len(row['false_accepts'])} in {hours:.2f} h | {row['cpu_ms_per_s_on_talk']:.1f} |")
    return "\n".join(lines)


def _cost(engine: str, seconds: float) -> dict[str, float]:
    """CPU per second of audio and RSS added, measured in a fresh process."""
    code = f"""
import json, resource, sys, time
import numpy as np
from bench.corpus import noisy_talk
def status(field):
    for line in open('/proc/self/status'):
        if line.startswith(field + ':'):
            return int(line.split()[1]) / 1024
talk = np.array(noisy_talk({seconds}, seed=5))
import daemon.config.schema
import gc; gc.collect()
with open('/proc/self/clear_refs', 'w') as refs:
    refs.write('5')  # the peak so far was making the talk: measure from here
base = status('VmRSS')
from daemon.config.schema import WakeWordConfig
from daemon.wakeword.engines import make_detector
detector = make_detector(WakeWordConfig(engine={engine!r}, models=['hey_jarvis']))
loaded = status('VmRSS')
began = time.process_time()
for start in range(0, len(talk) - 1279, 1280):
    detector.feed(talk[start:start + 1280])
cpu = time.process_time() - began
print(json.dumps({{"rss_added_mb": status('VmHWM') - base, "rss_after_load_mb": loaded - base,
                  "cpu_ms_per_s": 1000 * cpu / (len(talk) / 16000)}}))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.figures.engines", description=__doc__)
    parser.add_argument("--talk-seconds", type=float, default=3600.0)
    parser.add_argument("--cost-seconds", type=float, default=300.0)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--speex", action="store_true", help="speex noise suppression first")
    parser.add_argument("--no-cost", action="store_true", help="skip the fresh-process cost runs")
    parser.add_argument("--report", type=Path, help="only print the tables of an earlier --json")
    parser.add_argument("--cost-only", action="store_true", help="only the fresh-process costs")
    parser.add_argument("--detectors", action="store_true",
                        help="the daemon's detectors per wake_word.engine, each judging itself")
    args = parser.parse_args(argv)
    progress = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    if args.detectors:
        result = detections(args.talk_seconds, progress)
        if not args.no_cost:
            result["cost"] = {e: _cost(e, args.cost_seconds) for e in (*ENGINES, "both")}
        _keep_and_print(result, args.json, detectors_table)
        return 0
    if args.report:
        earlier = json.loads(args.report.read_text())
        _keep_and_print(earlier, None, detectors_table if "detectors" in earlier else table)
        return 0
    if args.cost_only:
        result = {"cost": {engine: _cost(engine, args.cost_seconds) for engine in ENGINES}}
        _print_cost(result)
        return 0
    result = run(args.talk_seconds, progress, denoise=args.speex)
    if not args.no_cost:
        progress("cost, fresh processes")
        result["cost"] = {engine: _cost(engine, args.cost_seconds) for engine in ENGINES}
    _keep_and_print(result, args.json, table)
    return 0


def _keep_and_print(result: dict[str, Any], path: Path | None, tables: Any) -> None:
    """Write the run to `path` (if given, for --report later) and print its tables."""
    if path is not None:
        path.write_text(json.dumps(result))
    print(tables(result))
    if "cost" in result:
        print()
        _print_cost(result)


def _print_cost(result: dict[str, Any]) -> None:
    print("| engine | CPU per second of audio, the daemon's detector (ms) | RSS added after loading (MB) "
          "| RSS added, peak while scoring (MB) | CPU in the scoring run (ms/s) |")
    print("|---|---:|---:|---:|---:|")
    for engine, cost in result["cost"].items():
        in_run = result.get("cpu_in_run_ms_per_s", {}).get(engine)
        print(f"| {engine} | {cost['cpu_ms_per_s']:.2f} | {cost['rss_after_load_mb']:.1f} | "
              f"{cost['rss_added_mb']:.1f} | " + (f"{in_run:.2f} |" if in_run else "- |"))


if __name__ == "__main__":
    sys.exit(main())
