"""`speakerd detect FILE.wav`: run the wake-word detector over a recording.

For tuning thresholds and checking a microphone recording without starting
the appliance: the same detector, models and config the daemon uses.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from daemon.cli.common import add_config_arg
from daemon.config import EX_CONFIG, Config, ConfigError, default_config_path, load_config
from daemon.config.schema import WakeWordConfig, model_name
from daemon.wakeword.detector import FRAME_SAMPLES, SAMPLE_RATE, Detection
from daemon.wakeword.engines import Detector, make_detector
from daemon.wakeword.models import WakeWordModelError

EX_USAGE = 2
TAIL_PADDING_SECONDS = 1.0
"""Silence fed after the file so a wake word at its very end still completes."""


class AudioFileError(Exception):
    """The file cannot be read as a WAV recording."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser], summary: str) -> None:
    parser = subparsers.add_parser(
        "detect",
        help=summary,
        description="Print every wake-word detection in a WAV file (any rate, any channels) "
        "as `TIME MODEL SCORE (peak P)`, then a summary.",
    )
    parser.add_argument("file", type=Path, metavar="FILE.wav", help="recording to scan")
    parser.add_argument(
        "--model",
        action="append",
        metavar="NAME",
        help="wake word (hey_jarvis, alexa, hey_mycroft, hey_rhasspy) or a .onnx path; "
        "repeat for several (default: the config's wake_word.models)",
    )
    parser.add_argument(
        "--threshold", type=float, metavar="T", help="score threshold 0-1 for every model"
    )
    add_config_arg(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        wake_config = _wake_word_config(args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EX_CONFIG
    except ValueError as exc:
        print(f"speakerd detect: {exc}", file=sys.stderr)
        return EX_USAGE
    try:
        samples = read_wav_16k_mono(args.file)
    except AudioFileError as exc:
        print(f"speakerd detect: {exc}", file=sys.stderr)
        return EX_USAGE
    try:
        detector = make_detector(wake_config)
    except WakeWordModelError as exc:
        print(f"speakerd detect: {exc}", file=sys.stderr)
        return 1
    padded = np.concatenate(
        (samples, np.zeros(round(TAIL_PADDING_SECONDS * SAMPLE_RATE), np.int16))
    )
    results = sorted(scan_with_peaks(detector, padded), key=lambda r: r[0].time)
    for detection, peak in results:
        heard_by = f" by {detection.engine}" if wake_config.engine == "both" else ""
        print(
            f"{detection.time:.2f}s {detection.model} {detection.score:.2f} (peak {peak:.2f})"
            + heard_by
        )
    count = len(results)
    print(
        f"{count} detection{'' if count == 1 else 's'} in {len(samples) / SAMPLE_RATE:.1f} s "
        f"of audio ({', '.join(detector.model_names)})"
    )
    return 0


def scan_with_peaks(
    detector: Detector, samples: np.ndarray
) -> Iterator[tuple[Detection, float]]:
    """Each detection with the highest score its utterance reached (what to tune thresholds by)."""
    open_peaks: list[list[Any]] = []  # [detection, peak] while its score stays above threshold
    for offset in range(0, len(samples), FRAME_SAMPLES):
        for detection in detector.feed(samples[offset : offset + FRAME_SAMPLES]):
            open_peaks.append([detection, detection.score])
        still_open = []
        for entry in open_peaks:
            score = detector.last_scores[entry[0].model]
            if score >= detector.thresholds[entry[0].model]:
                entry[1] = max(entry[1], score)
                still_open.append(entry)
            else:
                yield entry[0], entry[1]
        open_peaks = still_open
    for detection, peak in open_peaks:
        yield detection, peak


def _wake_word_config(args: argparse.Namespace) -> WakeWordConfig:
    """The config's wake_word section (defaults if there is no file) with the flags applied."""
    path = args.config or default_config_path()
    if args.config is not None or path.exists():
        base = load_config(path).wake_word
    else:
        base = Config().wake_word
    values = base.model_dump(exclude_unset=True)  # microwakeword: unset threshold = model's own
    if args.model:
        values["models"] = args.model
        names = {model_name(m) for m in args.model}
        values["thresholds"] = {k: v for k, v in base.thresholds.items() if k in names}
    if args.threshold is not None:
        values["threshold"] = args.threshold
        values["thresholds"] = {}
    try:
        return WakeWordConfig.model_validate(values)
    except ValidationError as exc:
        reasons = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        raise ValueError(reasons) from None


def read_wav_16k_mono(path: Path) -> np.ndarray:
    """Any PCM/float WAV as 16 kHz mono int16: channels averaged, resampled with soxr."""
    import soxr
    from scipy.io import wavfile

    if not path.is_file():
        raise AudioFileError(f"{path}: no such file")
    try:
        rate, data = wavfile.read(path)
    except (ValueError, OSError, EOFError) as exc:
        raise AudioFileError(f"{path}: not a readable WAV file ({exc})") from None
    audio = _to_float(data)
    if audio.ndim == 2:
        audio = audio.mean(axis=1)
    if audio.size == 0:
        raise AudioFileError(f"{path}: the file holds no audio")
    if rate != SAMPLE_RATE:
        audio = soxr.resample(audio, rate, SAMPLE_RATE, quality="HQ")
    return np.clip(np.round(audio * 32767.0), -32768, 32767).astype(np.int16)


def _to_float(data: np.ndarray) -> np.ndarray:
    """Samples scaled to [-1, 1] whatever the WAV's sample format."""
    if data.dtype.kind == "f":
        return data.astype(np.float32)
    if data.dtype == np.uint8:  # 8-bit WAV is unsigned, centred on 128
        return (data.astype(np.float32) - 128.0) / 128.0
    return data.astype(np.float32) / float(np.iinfo(data.dtype).max + 1)
