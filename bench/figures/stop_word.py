"""The stop word (microWakeWord "Stop"): recall in noise, false stops on ordinary talk, CPU.

    python -m bench.figures.stop_word [--talk-seconds 3600] [--json out.json]

Clips: "stop" and "stop stop" (and, for the record, "okay stop", "please stop",
"stop it", "stop that") in every bench voice (bench/corpus.py: espeak-ng and
flite, several speeds), each clean, in pink noise at 10 and 5 dB and in speech
babble (four talkers) at 20, 15, 10 and 5 dB, fed to StopWordDetector in 80 ms chunks as the
microphone delivers them. A clip counts when a stop is detected from the
start of the phrase to 1 s after it. False stops: the same detector over
`--talk-seconds` of ordinary talk (template sentences, 15 % of them with
"shop", "top", "step", "stomp", "spot" in them) under changing noise; the
near-miss words said alone are reported too. Every score is kept, so the
figures are also given at other thresholds. `--speex`: speex noise suppression
in front (bench.corpus.speex). Offline and as fast as it goes.
"""

from __future__ import annotations

import argparse
import json
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
    talk_noise_label,
)
from daemon.config.schema import StopWordConfig
from daemon.wakeword.detector import SAMPLE_RATE
from daemon.wakeword.judge import EdgeJudge
from daemon.wakeword.stop_word import StopWordDetector

CHUNK = 1280
"""The microphone's 80 ms chunk."""
TARGET_PHRASES = ("stop", "stop stop")
OTHER_PHRASES = ("okay stop", "please stop", "stop it", "stop that")
NEAR_WORDS = ("shop", "top", "step", "stomp", "spot")
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
"""0.5 is the default (the model's own cutoff)."""
STOP_CONDITIONS = (*CONDITIONS, "babble 20 dB", "babble 15 dB")
"""Babble also at lower levels: at 10 dB the model hardly hears "stop" at all."""
AFTER = 1.0
"""Seconds after the phrase within which a detection still counts for it."""


def trace(detector: StopWordDetector, audio: np.ndarray) -> tuple[list[float], list[float]]:
    """Every score (and its time from the clip's start), fed in microphone chunks."""
    detector.reset()
    origin = detector.stream_time
    times: list[float] = []
    scores: list[float] = []
    for start in range(0, len(audio), CHUNK):
        for score, at in detector.scores(audio[start : start + CHUNK]):
            times.append(at - origin)
            scores.append(score)
    return times, scores


def detections(times: list[float], scores: list[float], threshold: float,
               refractory: float = 1.0, warmup: float = 0.3) -> list[float]:
    judge = EdgeJudge({"stop": threshold}, refractory)
    return [t for t, s in zip(times, scores, strict=True)
            if t >= warmup and judge.judge("stop", s, t)]


def peak(times: list[float], scores: list[float], start: float, end: float) -> float:
    inside = [s for t, s in zip(times, scores, strict=True) if start <= t <= end]
    return max(inside, default=0.0)


def clip_peaks(detector: StopWordDetector, phrases: tuple[str, ...], conditions: tuple[str, ...],
               progress: Any, denoise: bool = False) -> list[dict[str, Any]]:
    rows = []
    for seed, voice in enumerate(all_voices()):
        progress(f"stop clips: {voice.label}")
        for phrase in phrases:
            audio, start, end = padded(say(phrase, voice))
            for condition in conditions:
                noisy = in_condition(audio, condition, seed)
                times, scores = trace(detector, speex(noisy) if denoise else noisy)
                rows.append({"phrase": phrase, "voice": voice.label, "condition": condition,
                             "peak": round(peak(times, scores, start, end + AFTER), 4),
                             "stray": len([t for t in detections(times, scores, 0.5)
                                           if not start <= t <= end + AFTER])})
    return rows


def recall(rows: list[dict[str, Any]], threshold: float, **match: str) -> float:
    chosen = [r for r in rows if all(r[k] == v for k, v in match.items())]
    return 100 * sum(r["peak"] >= threshold for r in chosen) / max(1, len(chosen))


def run(talk_seconds: float, progress: Any = print, denoise: bool = False) -> dict[str, Any]:
    voices = all_voices()
    progress(f"rendering {len(voices)} voices")
    prepare(list(TARGET_PHRASES + OTHER_PHRASES + NEAR_WORDS), voices)
    detector = StopWordDetector(StopWordConfig())
    target = clip_peaks(detector, TARGET_PHRASES, STOP_CONDITIONS, progress, denoise)
    other = clip_peaks(detector, OTHER_PHRASES, ("clean", "pink 10 dB"), progress, denoise)
    near = clip_peaks(detector, NEAR_WORDS, ("clean",), progress, denoise)

    progress(f"ordinary talk: {talk_seconds:.0f} s")
    talk = noisy_talk(talk_seconds)
    if denoise:
        talk = speex(talk)
    detector.reset()
    cpu_start = time.process_time()
    times, scores = trace(detector, talk)
    cpu = time.process_time() - cpu_start
    hours = len(talk) / SAMPLE_RATE / 3600
    false_per_hour = {t: len(detections(times, scores, t)) / hours for t in THRESHOLDS}
    return {
        "voices": len(voices),
        "conditions": list(STOP_CONDITIONS),
        "target": target,
        "other": other,
        "near": near,
        "talk_hours": hours,
        "talk_noise": talk_noise_label(),
        "false_stops_per_hour": false_per_hour,
        "cpu_ms_per_audio_second": 1000 * cpu / (len(talk) / SAMPLE_RATE),
    }


def report(result: dict[str, Any]) -> str:
    target, other, near = result["target"], result["other"], result["near"]
    lines = [
        f"{result['voices']} voices (espeak-ng and flite, several speeds); a clip counts when "
        f"a stop is detected from the phrase's start to {AFTER:g} s after it.",
        "",
        "| clips | " + " | ".join(f"recall at {t} (%)" for t in THRESHOLDS) + " |",
        "|---|" + "---:|" * len(THRESHOLDS),
    ]
    for phrase in TARGET_PHRASES:
        for condition in result["conditions"]:
            lines.append(f"| \"{phrase}\", {condition} | " + " | ".join(
                f"{recall(target, t, phrase=phrase, condition=condition):.1f}" for t in THRESHOLDS) + " |")
    lines.append("| \"stop\" and \"stop stop\", all conditions | " + " | ".join(
        f"{recall(target, t):.1f}" for t in THRESHOLDS) + " |")
    for phrase in OTHER_PHRASES:
        for condition in ("clean", "pink 10 dB"):
            lines.append(f"| \"{phrase}\", {condition} | " + " | ".join(
                f"{recall(other, t, phrase=phrase, condition=condition):.1f}" for t in THRESHOLDS) + " |")
    for word in NEAR_WORDS:
        lines.append(f"| near miss \"{word}\" alone, clean (fired, %) | " + " | ".join(
            f"{recall(near, t, phrase=word):.1f}" for t in THRESHOLDS) + " |")
    lines += [
        "",
        f"False stops on {result['talk_hours']:.2f} h of ordinary talk ({result['talk_noise']}; "
        "15 % of the sentences hold shop/top/step/stomp/spot): "
        + ", ".join(f"{n:.1f}/h at {t}" for t, n in result["false_stops_per_hour"].items()) + ".",
        f"CPU: {result['cpu_ms_per_audio_second']:.2f} ms per second of audio "
        "(front end + model, this machine, shared).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.figures.stop_word", description=__doc__)
    parser.add_argument("--talk-seconds", type=float, default=3600.0)
    parser.add_argument("--json", type=Path, help="also write every clip's peak score here")
    parser.add_argument("--speex", action="store_true",
                        help="speex noise suppression first (pip install pyspeex-noise)")
    args = parser.parse_args(argv)
    result = run(args.talk_seconds, progress=lambda m: print(m, file=sys.stderr, flush=True),
                 denoise=args.speex)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    print(report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
