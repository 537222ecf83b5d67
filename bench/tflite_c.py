"""tflite_runtime's Interpreter, as much of it as openWakeWord uses, over TensorFlow Lite's C library.

pyopen-wakeword (PyPI) ships libtensorflowlite_c.so (4.8 MB) and the openWakeWord
models as .tflite; this lets openWakeWord's own Model run on that library, so
that its scores can be compared with onnxruntime's frame for frame
(bench.wakeword_runtimes). Measurement only: the daemon does not use it.
"""

from __future__ import annotations

import ctypes
from pathlib import Path
from typing import Any

import numpy as np

OUTPUT_BASE = 1000
"""get_output_details() indexes outputs from here, so get_tensor() can tell them from inputs."""


def _library(path: Path) -> ctypes.CDLL:
    lib = ctypes.CDLL(str(path))
    p, i32, size = ctypes.c_void_p, ctypes.c_int32, ctypes.c_size_t
    signatures: dict[str, tuple[Any, list[Any]]] = {
        "TfLiteModelCreateFromFile": (p, [ctypes.c_char_p]),
        "TfLiteInterpreterOptionsCreate": (p, []),
        "TfLiteInterpreterOptionsSetNumThreads": (None, [p, i32]),
        "TfLiteInterpreterCreate": (p, [p, p]),
        "TfLiteInterpreterAllocateTensors": (i32, [p]),
        "TfLiteInterpreterResizeInputTensor": (i32, [p, i32, ctypes.POINTER(ctypes.c_int), i32]),
        "TfLiteInterpreterGetInputTensor": (p, [p, i32]),
        "TfLiteInterpreterGetOutputTensor": (p, [p, i32]),
        "TfLiteInterpreterInvoke": (i32, [p]),
        "TfLiteTensorNumDims": (i32, [p]),
        "TfLiteTensorDim": (i32, [p, i32]),
        "TfLiteTensorByteSize": (size, [p]),
        "TfLiteTensorCopyFromBuffer": (i32, [p, p, size]),
        "TfLiteTensorCopyToBuffer": (i32, [p, p, size]),
    }
    for name, (result, arguments) in signatures.items():
        function = getattr(lib, name)
        function.restype, function.argtypes = result, arguments
    return lib


class Interpreter:
    """tflite_runtime.interpreter.Interpreter for float32 models with one input."""

    library_path: Path | None = None
    """Set before use: the libtensorflowlite_c.so to load."""
    _lib: ctypes.CDLL | None = None

    def __init__(self, model_path: str, num_threads: int = 1) -> None:
        if Interpreter._lib is None:
            if Interpreter.library_path is None:
                raise RuntimeError("bench.tflite_c.Interpreter.library_path is not set")
            Interpreter._lib = _library(Interpreter.library_path)
        self.lib = Interpreter._lib
        self.model = self.lib.TfLiteModelCreateFromFile(model_path.encode())
        if not self.model:
            raise ValueError(f"TensorFlow Lite cannot load {model_path}")
        options = self.lib.TfLiteInterpreterOptionsCreate()
        self.lib.TfLiteInterpreterOptionsSetNumThreads(options, num_threads)
        self.interpreter = self.lib.TfLiteInterpreterCreate(self.model, options)

    def allocate_tensors(self) -> None:
        self._check(self.lib.TfLiteInterpreterAllocateTensors(self.interpreter), "allocate")

    def resize_tensor_input(self, index: int, shape: list[int], strict: bool = False) -> None:
        dims = (ctypes.c_int * len(shape))(*shape)
        self._check(self.lib.TfLiteInterpreterResizeInputTensor(
            self.interpreter, index, dims, len(shape)), "resize")

    def get_input_details(self) -> list[dict[str, Any]]:
        tensor = self.lib.TfLiteInterpreterGetInputTensor(self.interpreter, 0)
        return [{"index": 0, "shape": self._shape(tensor)}]

    def get_output_details(self) -> list[dict[str, Any]]:
        tensor = self.lib.TfLiteInterpreterGetOutputTensor(self.interpreter, 0)
        return [{"index": OUTPUT_BASE, "shape": self._shape(tensor)}]

    def _shape(self, tensor: int) -> np.ndarray:
        return np.array([self.lib.TfLiteTensorDim(tensor, d)
                         for d in range(self.lib.TfLiteTensorNumDims(tensor))])

    def set_tensor(self, index: int, value: np.ndarray) -> None:
        tensor = self.lib.TfLiteInterpreterGetInputTensor(self.interpreter, index)
        data = np.ascontiguousarray(value, dtype=np.float32)
        self._check(self.lib.TfLiteTensorCopyFromBuffer(
            tensor, data.ctypes.data_as(ctypes.c_void_p), data.nbytes), "set_tensor")

    def invoke(self) -> None:
        self._check(self.lib.TfLiteInterpreterInvoke(self.interpreter), "invoke")

    def get_tensor(self, index: int) -> np.ndarray:
        tensor = self.lib.TfLiteInterpreterGetOutputTensor(self.interpreter, index - OUTPUT_BASE)
        out = np.empty(self._shape(tensor), dtype=np.float32)
        self._check(self.lib.TfLiteTensorCopyToBuffer(
            tensor, out.ctypes.data_as(ctypes.c_void_p), out.nbytes), "get_tensor")
        return out

    @staticmethod
    def _check(status: int, what: str) -> None:
        if status != 0:
            raise RuntimeError(f"TensorFlow Lite {what} failed (status {status})")
