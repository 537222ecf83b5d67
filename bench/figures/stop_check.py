"""The stop word's sound check (daemon.wakeword.stop_check): near misses and "stop" before and after it.

    python -m bench.figures.stop_check [--json out.json]

Each phrase below in every bench voice (bench/corpus.py), clean, in pink
noise at 10 and 5 dB and in speech babble at 20 dB, between silences, fed to StopWordDetector in 80 ms chunks. A
clip "fired" when the model detects a stop from the phrase's start to 1 s
after it; "after the check" when sounds_like_stop() also passes the audio the
detector kept at that moment. The check's thresholds were chosen on the
TRAINING voices; the table is for the others (held out), with the training
voices' figures beside it. A few minutes with a warm synthesis cache.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bench.corpus import Voice, all_voices, in_condition, padded, prepare, say
from daemon.config.schema import StopWordConfig
from daemon.wakeword.stop_check import sounds_like_stop
from daemon.wakeword.stop_word import StopWordDetector

CHUNK = 1280
"""The microphone's 80 ms chunk."""
PHRASES = ("stop", "stop stop", "stop it", "please stop", "okay stop",
           "shop", "top", "step", "stomp", "spot")  # fmt: skip
CONDITIONS = ("clean", "pink 10 dB", "pink 5 dB", "babble 20 dB")
TRAINING = frozenset({"en-us", "en-gb-scotland", "en-gb-x-gbclan", "en-us+f2", "en+m3", "awb", "slt"})
"""Voice names (all their speeds) the thresholds were set on: half of espeak-ng's, half of flite's."""
AFTER = 1.0


def held_out(voice: Voice) -> bool:
    return voice.name not in TRAINING


def clip(detector: StopWordDetector, audio: Any, start: float, end: float) -> tuple[bool, bool]:
    """(the model fired on the phrase, and the check passed that firing)."""
    detector.reset()
    origin = detector.stream_time
    for at in range(0, len(audio), CHUNK):
        hit = detector.feed(audio[at : at + CHUNK])
        if hit is not None and start <= hit.time - origin <= end + AFTER:
            return True, sounds_like_stop(detector.recent_audio())
    return False, False


def run(progress: Any = print) -> dict[str, Any]:
    voices = all_voices()
    prepare(list(PHRASES), voices)
    detector = StopWordDetector(StopWordConfig(check_sound=False))
    rows = []
    for seed, voice in enumerate(voices):
        progress(voice.label)
        for phrase in PHRASES:
            audio, start, end = padded(say(phrase, voice))
            for condition in CONDITIONS:
                fired, passed = clip(detector, in_condition(audio, condition, seed), start, end)
                rows.append({"phrase": phrase, "voice": voice.label, "held_out": held_out(voice),
                             "condition": condition, "fired": fired, "passed": passed})
    return {"rows": rows, "held_out_voices": sum(held_out(v) for v in voices), "voices": len(voices)}


def share(rows: list[dict[str, Any]], key: str, **match: Any) -> float:
    chosen = [r for r in rows if all(r[k] == v for k, v in match.items())]
    return 100 * sum(r[key] for r in chosen) / max(1, len(chosen))


def report(result: dict[str, Any]) -> str:
    rows = result["rows"]
    lines = [
        f"{result['held_out_voices']} held-out voices of {result['voices']} (training: "
        + ", ".join(sorted(TRAINING)) + ", at every speed). Fired (%): model alone -> with the check.",
        "",
        "| phrase | " + " | ".join(f"{part}, {c}" for part in ("held out", "training") for c in CONDITIONS) + " |",
        "|---|" + "---:|" * (2 * len(CONDITIONS)),
    ]
    for phrase in PHRASES:
        cells = [f"{share(rows, 'fired', phrase=phrase, held_out=h, condition=c):.0f} -> "
                 f"{share(rows, 'passed', phrase=phrase, held_out=h, condition=c):.0f}"
                 for h in (True, False) for c in CONDITIONS]
        lines.append(f"| \"{phrase}\" | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.figures.stop_check", description=__doc__)
    parser.add_argument("--json", type=Path, help="also write every clip's outcome here")
    args = parser.parse_args(argv)
    result = run(progress=lambda m: print(m, file=sys.stderr, flush=True))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    print(report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
