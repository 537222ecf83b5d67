"""The idle baseline: a bare openWakeWord Model.predict loop over a WAV, in real time.

Nothing but the library: the same ONNX models the daemon loads, 80 ms frames
handed to predict() at the pace a microphone would deliver them. Prints one
JSON line: CPU seconds (all threads, getrusage) spent from the first frame
to the last, the audio seconds scored, the peak RSS.

    python -m bench.bare_wakeword room.wav --models-dir models   # then: echo START | ...

It prints {"ready": true} once the models are loaded and then reads one line
from stdin: the time.monotonic() at which the audio starts (the moment the
bench starts playing it into the daemon's microphone).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import wave
from pathlib import Path

import numpy as np

FRAME = 1280  # 80 ms at 16 kHz: openWakeWord's hop


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bare_wakeword")
    parser.add_argument("wav")
    parser.add_argument("--models-dir", required=True)
    parser.add_argument("--model", default="hey_jarvis_v0.1.onnx")
    args = parser.parse_args(argv)

    # The library's own Model with its own session options; only its package import is
    # kept from loading the verifier-training code (scikit-learn is not installed).
    from daemon.wakeword.runtime import openwakeword_model_class

    Model = openwakeword_model_class()
    models = Path(args.models_dir)
    model = Model(
        wakeword_models=[str(models / args.model)],
        inference_framework="onnx",
        melspec_model_path=str(models / "melspectrogram.onnx"),
        embedding_model_path=str(models / "embedding_model.onnx"),
    )
    with wave.open(args.wav) as wav:
        audio = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    frames = len(audio) // FRAME
    print(json.dumps({"ready": True}), flush=True)
    start = float(sys.stdin.readline())  # time.monotonic() at which audio starts arriving
    while time.monotonic() < start:
        time.sleep(max(0.0, min(0.05, start - time.monotonic())))
    cpu_before = _cpu()
    peak = 0.0
    for index in range(frames):
        due = start + (index + 1) * FRAME / 16000  # a frame exists once it has been heard
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        scores = model.predict(audio[index * FRAME : (index + 1) * FRAME])
        peak = max(peak, *scores.values())
    cpu = _cpu() - cpu_before
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6
    print(json.dumps({"cpu_seconds": cpu, "audio_seconds": frames * FRAME / 16000,
                      "peak_rss_mb": rss_mb, "max_score": float(peak)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
