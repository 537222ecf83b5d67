"""openWakeWord loaded for inference only: no training code, no network, less copying.

The library's package import loads the custom-verifier *training* module, and
with it scikit-learn and SciPy (about 1.7 s and 100 MB, more on a Pi), which
inference never uses and which speakerd does not install; its download helpers
(requests, tqdm) are not loaded either. Everything that loads openWakeWord (the daemon, the bench's bare baseline) goes through here.

The daemon's model also keeps less raw audio: the library holds the last 10 s
in a deque and turns all of it into a Python list on every 80 ms frame, only to
use the newest 1760 samples; that copy is a third of its CPU per frame.

    Model = openwakeword_model_class()          # the library's own class, import made cheap
    model = load_model(files, longest_feed=...) # the daemon's
    placeholder = placeholder_features(model)   # at load, for...
    reset_model(model, placeholder)             # ...a reset without the library's warm-up
"""

from __future__ import annotations

import contextlib
import sys
import types
from collections import defaultdict, deque
from collections.abc import Iterator
from functools import partial
from typing import Any

import numpy as np

from daemon.wakeword.lean_onnx import lean_sessions, release_freed_memory
from daemon.wakeword.models import ModelFiles, WakeWordModelError, load_problem, shape_problem

VERIFIER_MODULE = "openwakeword.custom_verifier_model"
MELSPEC_CONTEXT = 480
"""Samples before a fed chunk that the library's streaming melspectrogram reads again (30 ms)."""


DOWNLOAD_HELPERS = ("requests", "tqdm")
"""What openwakeword.utils imports only to download models and show progress bars
(~4.5 MB resident, with urllib3 and charset_normalizer); speakerd never downloads."""


def openwakeword_model_class() -> Any:
    """openwakeword.model.Model, imported without scikit-learn (which need not be installed)
    and without its download helpers."""
    _without_verifier_training()
    with _without_download_helpers():
        from openwakeword.model import Model

    return Model


def load_model(files: ModelFiles, *, longest_feed: int) -> Any:
    """openWakeWord on onnxruntime with every path explicit, so it never downloads,
    its sessions lean (daemon.wakeword.lean_onnx).

    `longest_feed`: the most samples ever handed to predict() or the feature
    extractor at once; the raw-audio history is cut to that plus what the
    melspectrogram reads before it, which changes no score (the rest is never read).
    """
    model_class = openwakeword_model_class()
    try:
        with lean_sessions():
            model = model_class(
                wakeword_models=[str(p) for p in files.wake_words.values()],
                inference_framework="onnx",
                melspec_model_path=str(files.melspectrogram),
                embedding_model_path=str(files.embedding),
            )
    except Exception as exc:  # onnxruntime raises its own types for corrupt files
        raise WakeWordModelError(_which_file(files, exc)) from exc
    for path, session in zip(files.wake_words.values(), model.models.values(), strict=True):
        problem = shape_problem(session, path)
        if problem:
            raise WakeWordModelError(problem)
    release_freed_memory()
    features = model.preprocessor
    features.raw_data_buffer = deque(features.raw_data_buffer, maxlen=longest_feed + MELSPEC_CONTEXT)
    return model


def placeholder_features(model: Any) -> Any:
    """The embeddings of the 4 s of random noise the library fills its feature buffer
    with at load: kept to fill it again at every reset."""
    return model.preprocessor.feature_buffer.copy()


def reset_model(model: Any, placeholder: Any) -> None:
    """Model.reset(), less its warm-up: the library pushes 4 s of fresh random noise
    through the embedding model to refill its feature buffer (about 70 ms of CPU here,
    at every conversation's end, and a peak of activations). The noise's embeddings
    from load are as good a placeholder: the scores they lead to are muted
    (WARMUP_FRAMES) either way, and with the same noise they are the same scores."""
    model.prediction_buffer = defaultdict(partial(deque, maxlen=30))
    features = model.preprocessor
    features.raw_data_buffer.clear()
    features.melspectrogram_buffer = np.ones((76, 32))
    features.accumulated_samples = 0
    features.raw_data_remainder = np.empty(0)
    features.feature_buffer = placeholder.copy()


def _which_file(files: ModelFiles, exc: Exception) -> str:
    """Name the file onnxruntime failed on (its message holds the path) and say why."""
    paths = [files.melspectrogram, files.embedding, *files.wake_words.values()]
    culprit = next((path for path in paths if str(path) in str(exc)), None)
    if culprit is None:
        return f"cannot load wake-word models: {' '.join(str(exc).split())[:300]}"
    return f"cannot load wake-word models: {load_problem(culprit, exc)}"


@contextlib.contextmanager
def _without_download_helpers() -> Iterator[None]:
    """While openWakeWord imports, DOWNLOAD_HELPERS not loaded yet are stand-ins that
    refuse to be used; they leave sys.modules afterwards, so anything importing them
    later gets the real package. Only the library's download functions hold them."""
    missing = [name for name in DOWNLOAD_HELPERS if name not in sys.modules]
    for name in missing:
        sys.modules[name] = _RefusingModule(name)
    try:
        yield
    finally:
        for name in missing:
            if isinstance(sys.modules.get(name), _RefusingModule):
                del sys.modules[name]


class _RefusingModule(types.ModuleType):
    """A module every attribute of which says why it is not there (`from tqdm import tqdm`
    gets a function that raises when called)."""

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        module = self.__name__

        def refuse(*args: object, **kwargs: object) -> None:
            raise RuntimeError(
                f"speakerd loads openWakeWord without {module}: it never downloads models"
            )

        return refuse


def _without_verifier_training() -> None:
    """Put a stand-in for openwakeword.custom_verifier_model in sys.modules.

    openwakeword/__init__.py imports it only to re-export train_custom_verifier;
    the stand-in refuses to train, which speakerd never does.
    """
    if VERIFIER_MODULE in sys.modules:
        return
    stand_in = types.ModuleType(VERIFIER_MODULE)

    def train_custom_verifier(*args: object, **kwargs: object) -> None:
        raise RuntimeError("speakerd does not train openWakeWord verifier models")

    stand_in.train_custom_verifier = train_custom_verifier  # type: ignore[attr-defined]
    sys.modules[VERIFIER_MODULE] = stand_in
