"""onnxruntime sessions that give memory back: what openWakeWord makes, minus the hoarding.

openWakeWord builds its sessions itself, with onnxruntime's defaults, and at
start and at every reset() pushes 4 s of noise through the embedding model in
one batch of ~40 windows to fill its feature buffer. With the defaults, the CPU
memory arena keeps that batch's intermediate tensors for the life of the process
(~30 MB, and it grows again at each reset after a conversation). Measured in
the running daemon (bench figures 1 and 6), with the sessions made in
lean_sessions() and release_freed_memory() after each warm-up:

    default options                         idle 179 MB, after a conversation 221 MB
    memory pattern off                      idle 179 MB, after a conversation 187 MB
    arena and memory pattern off            idle 196 MB, after a conversation 203 MB
    arena and pattern off, malloc_trim      idle 153 MB, after a conversation 169 MB

Per 80 ms frame (a batch of one) the arena buys nothing measurable; the
batch is also run one window at a time (MAX_BATCH) so the warm-up's peak
stays small. None of this changes a score: each window is computed alone.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
from collections.abc import Iterator
from typing import Any

import numpy as np

MAX_BATCH = 1
"""Windows per embedding run: the warm-up's 40 at once cost ~25 MB of activations, 4 at
once 12 MB, one at a time 3.7 MB, in the same time (~45 ms). Only the load runs it now:
a reset reuses its embeddings (daemon.wakeword.runtime.reset_model)."""


@contextlib.contextmanager
def lean_sessions() -> Iterator[None]:
    """Sessions made inside this block are lean (see the module docstring).

    openWakeWord offers no way to pass session options, so for the duration of
    the load onnxruntime.SessionOptions and InferenceSession are replaced by
    lean versions; nothing else in the daemon makes sessions meanwhile.
    """
    import onnxruntime

    default_options, default_session = onnxruntime.SessionOptions, onnxruntime.InferenceSession

    def lean_options() -> Any:
        options = default_options()
        options.enable_cpu_mem_arena = False
        options.enable_mem_pattern = False
        return options

    class PiecewiseSession(default_session):  # type: ignore[misc,valid-type]
        """Runs a single-input batch larger than MAX_BATCH in pieces and joins the outputs."""

        def run(self, output_names: Any, input_feed: dict[str, Any], run_options: Any = None
                ) -> list[Any]:
            if len(input_feed) != 1:
                whole: list[Any] = super().run(output_names, input_feed, run_options)
                return whole
            ((name, batch),) = input_feed.items()
            if not isinstance(batch, np.ndarray) or batch.ndim < 2 or len(batch) <= MAX_BATCH:
                small: list[Any] = super().run(output_names, input_feed, run_options)
                return small
            pieces = [super(PiecewiseSession, self).run(
                output_names, {name: batch[i : i + MAX_BATCH]}, run_options)
                for i in range(0, len(batch), MAX_BATCH)]
            return [np.concatenate([piece[k] for piece in pieces]) for k in range(len(pieces[0]))]

    onnxruntime.SessionOptions = lean_options
    onnxruntime.InferenceSession = PiecewiseSession
    try:
        yield
    finally:
        onnxruntime.SessionOptions = default_options
        onnxruntime.InferenceSession = default_session


def release_freed_memory() -> None:
    """Hand memory freed on the heap back to the system (glibc keeps it otherwise).

    Without the arena, onnxruntime's tensors come from malloc; glibc keeps what
    was freed in the heap for reuse, so the warm-up batch would still count in
    the RSS. A few milliseconds; a no-op where libc has no malloc_trim.
    """
    name = ctypes.util.find_library("c")
    if name is None:
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(name).malloc_trim(0)
