"""microWakeWord models on pymicro-wakeword's TensorFlow Lite C library, loaded safely.

pymicro-wakeword hands the .tflite path straight to TfLiteModelCreateFromFile
and uses the result unchecked: a missing, truncated or garbage file makes the
C library print one line and then crashes the whole process (SIGSEGV in
TfLiteInterpreterCreate). Every microWakeWord model speakerd loads (the stop
word, the second wake engine) therefore goes through load_micro_model(), which
checks the JSON and the file's FlatBuffer identifier in Python and every
pointer the C library returns, and raises WakeWordModelError naming the file.

MicroScorer turns a 16 kHz s16le stream of any chunking into scores on the
stream's clock: the audio front end makes one feature window per 10 ms, each
model runs once per `stride` windows (30 ms for the v2 models) and reports the
mean of its last `sliding_window_size` outputs, as ESPHome and pymicro-wakeword
judge it.

    scorer = MicroScorer({"stop": load_micro_model(Path("models/stop.json"))})
    for name, score, time in scorer.feed(samples):
        ...
"""

from __future__ import annotations

import ctypes
import json
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from daemon.wakeword.models import WakeWordModelError

SAMPLE_RATE = 16000
STEP_SAMPLES = 160
"""The front end's hop: one feature window per 10 ms."""
TFLITE_IDENTIFIER = b"TFL3"
"""Bytes 4-8 of every TensorFlow Lite FlatBuffer."""
FEATURES = 40
"""Mel channels per window: the input width of every microWakeWord model."""


@dataclass(frozen=True)
class MicroModelSpec:
    """What a microWakeWord JSON file says about its model."""

    json_path: Path
    tflite_path: Path
    wake_word: str
    """The phrase, as its author wrote it ("Stop", "Hey Jarvis")."""
    probability_cutoff: float
    """The author's threshold for the windowed mean."""
    sliding_window_size: int
    """How many model outputs are averaged into one score."""


def builtin_models_dir() -> Path:
    """Where pymicro-wakeword keeps its built-in models (hey_jarvis, okay_nabu, alexa, hey_mycroft)."""
    import pymicro_wakeword

    return Path(pymicro_wakeword.__file__).parent / "models"


def read_spec(json_path: Path) -> MicroModelSpec:
    """Parse a microWakeWord model's JSON; WakeWordModelError naming the file when it will not do."""
    try:
        config = json.loads(json_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WakeWordModelError(f"microWakeWord model {json_path} not found") from None
    except (OSError, UnicodeError, ValueError) as exc:
        raise WakeWordModelError(
            f"microWakeWord model {json_path} is not a valid model description: {exc}"
        ) from None
    try:
        micro = config["micro"]
        spec = MicroModelSpec(
            json_path=json_path,
            tflite_path=json_path.parent / str(config["model"]),
            wake_word=str(config.get("wake_word", json_path.stem)),
            probability_cutoff=float(micro["probability_cutoff"]),
            sliding_window_size=int(micro["sliding_window_size"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise WakeWordModelError(
            f"microWakeWord model {json_path} is not a valid model description "
            f"(missing or bad {exc})"
        ) from None
    if not 0 < spec.probability_cutoff < 1 or spec.sliding_window_size < 1:
        raise WakeWordModelError(f"microWakeWord model {json_path} has impossible settings")
    return spec


def tflite_problem(path: Path) -> str | None:
    """Why `path` cannot be a TensorFlow Lite model, judged without the C library."""
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except FileNotFoundError:
        return f"microWakeWord model file {path} not found"
    except OSError as exc:
        return f"microWakeWord model file {path} cannot be read: {exc.strerror or exc}"
    if len(head) < 8 or head[4:8] != TFLITE_IDENTIFIER:
        return f"microWakeWord model file {path} is not a valid model (no TensorFlow Lite header)"
    return None


def load_micro_model(json_path: Path) -> MicroModel:
    """The model a microWakeWord JSON file describes, ready to score; WakeWordModelError if not."""
    spec = read_spec(json_path)
    problem = tflite_problem(spec.tflite_path)
    if problem:
        raise WakeWordModelError(problem)
    return MicroModel(spec)


def _library_path() -> Path:
    import pymicro_wakeword

    lib_dir = Path(pymicro_wakeword.__file__).parent / "lib"
    found = next(iter(sorted(lib_dir.glob("*tensorflowlite_c.*"))), None)
    if found is None:
        raise WakeWordModelError(
            f"pymicro-wakeword has no TensorFlow Lite library in {lib_dir} (reinstall it)"
        )
    return found


_TYPES = {3: np.uint8, 9: np.int8}  # kTfLiteUInt8, kTfLiteInt8


class MicroModel:
    """One streaming microWakeWord model: feature windows in, a windowed mean score out."""

    def __init__(self, spec: MicroModelSpec) -> None:
        from pymicro_wakeword.wakeword import TfLiteWakeWord

        self.spec = spec
        self.name = spec.json_path.stem
        self._lib: Any = TfLiteWakeWord(_library_path()).lib
        self._model: int | None = None
        self._interpreter: int | None = None
        self._pending: list[np.ndarray] = []
        self._outputs: deque[float] = deque(maxlen=spec.sliding_window_size)
        self._load()

    def _load(self) -> None:
        """Create the interpreter; every C result is checked (NULL would crash the process)."""
        lib, path = self._lib, self.spec.tflite_path
        self._model = lib.TfLiteModelCreateFromFile(str(path.resolve()).encode())
        if not self._model:
            raise WakeWordModelError(f"microWakeWord model file {path} is not a valid model")
        self._interpreter = lib.TfLiteInterpreterCreate(self._model, None)
        if not self._interpreter or lib.TfLiteInterpreterAllocateTensors(self._interpreter) != 0:
            self.close()
            raise WakeWordModelError(f"microWakeWord model file {path} cannot be run")
        self._input = lib.TfLiteInterpreterGetInputTensor(self._interpreter, 0)
        self._output = lib.TfLiteInterpreterGetOutputTensor(self._interpreter, 0)
        dims = [lib.TfLiteTensorDim(self._input, i) for i in range(lib.TfLiteTensorNumDims(self._input))]
        in_type, out_type = lib.TfLiteTensorType(self._input), lib.TfLiteTensorType(self._output)
        if (
            len(dims) != 3 or dims[2] != FEATURES or in_type not in _TYPES or out_type not in _TYPES
            or lib.TfLiteTensorByteSize(self._output) != 1
        ):
            self.close()
            raise WakeWordModelError(
                f"microWakeWord model file {path} is not a microWakeWord model "
                f"(input {dims}, {FEATURES} features per window, one quantized score)"
            )
        self.stride = dims[1]
        """Feature windows per inference (3: one score per 30 ms)."""
        in_q = lib.TfLiteTensorQuantizationParams(self._input)
        out_q = lib.TfLiteTensorQuantizationParams(self._output)
        self._in_scale, self._in_zero, self._in_type = in_q.scale, in_q.zero_point, _TYPES[in_type]
        self._out_scale, self._out_zero = out_q.scale, out_q.zero_point
        self._out_type = _TYPES[out_type]
        self._out_buffer = np.empty(1, dtype=self._out_type)

    def step(self, window: np.ndarray) -> float | None:
        """Take one 10 ms feature window; the score when this window completed an inference
        (0.0 until the sliding window has filled), else None."""
        self._pending.append(window)
        if len(self._pending) < self.stride:
            return None
        quantized = np.round(np.concatenate(self._pending) / self._in_scale + self._in_zero)
        self._pending.clear()
        info = np.iinfo(self._in_type)
        data = np.ascontiguousarray(np.clip(quantized, info.min, info.max).astype(self._in_type))
        lib = self._lib
        lib.TfLiteTensorCopyFromBuffer(self._input, data.ctypes.data_as(ctypes.c_void_p), data.nbytes)
        lib.TfLiteInterpreterInvoke(self._interpreter)
        lib.TfLiteTensorCopyToBuffer(
            self._output, self._out_buffer.ctypes.data_as(ctypes.c_void_p), self._out_buffer.nbytes
        )
        self._outputs.append((float(self._out_buffer[0]) - self._out_zero) * self._out_scale)
        if len(self._outputs) < self._outputs.maxlen:  # type: ignore[operator]
            return 0.0
        return sum(self._outputs) / len(self._outputs)

    def reset(self) -> None:
        """Forget everything heard: the streaming layers keep state inside the interpreter,
        so it is made anew (about a millisecond)."""
        self.close()
        self._pending.clear()
        self._outputs.clear()
        self._load()

    def close(self) -> None:
        if self._interpreter:
            self._lib.TfLiteInterpreterDelete(self._interpreter)
            self._interpreter = None
        if self._model:
            self._lib.TfLiteModelDelete(self._model)
            self._model = None

    def __del__(self) -> None:
        self.close()


class MicroScorer:
    """The microWakeWord front end shared by one or more models, on the stream's sample clock."""

    def __init__(self, models: Mapping[str, MicroModel]) -> None:
        from pymicro_features import MicroFrontend

        self.models = dict(models)
        self._frontend = MicroFrontend()
        self._pending = b""
        self.samples_seen = 0
        """Samples the front end has consumed since the stream started (the clock)."""

    def feed(self, samples: np.ndarray | bytes) -> Iterator[tuple[str, float, float]]:
        """(model name, score, stream time in seconds at the end of the audio scored) for
        every inference the new audio completes; a partial 10 ms step waits for more."""
        data = samples if isinstance(samples, bytes) else np.asarray(samples, "<i2").tobytes()
        buffer = self._pending + data if self._pending else data
        step_bytes = STEP_SAMPLES * 2
        offset = 0
        while offset + step_bytes <= len(buffer):
            result = self._frontend.process_samples(buffer[offset : offset + step_bytes])
            read = max(1, result.samples_read)
            offset += read * 2
            self.samples_seen += read
            if not result.features:
                continue
            window = np.asarray(result.features, dtype=np.float32).reshape(1, 1, FEATURES)
            time = self.samples_seen / SAMPLE_RATE
            for name, model in self.models.items():
                score = model.step(window)
                if score is not None:
                    yield name, score, time
        self._pending = buffer[offset:]

    def skip(self, n_samples: int) -> None:
        """Move the clock past audio that was not fed; the partial step is dropped."""
        self.samples_seen += len(self._pending) // 2 + n_samples
        self._pending = b""

    def reset(self) -> None:
        """Forget all audio (front end and models); the clock keeps running."""
        self.skip(0)
        self._frontend.reset()
        for model in self.models.values():
            model.reset()

    @property
    def stream_time(self) -> float:
        return (self.samples_seen + len(self._pending) // 2) / SAMPLE_RATE

    def close(self) -> None:
        for model in self.models.values():
            model.close()
