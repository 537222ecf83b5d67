"""Where the wake-word ONNX files are, resolved before anything is loaded.

openWakeWord would happily download missing models from GitHub at run time;
the appliance must not (no surprise network access, pinned sha256 files), so
every path handed to it is resolved here and a missing file is an error that
names the file and the command that fetches it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from daemon.config.schema import BUNDLED_WAKE_WORDS, WakeWordConfig, model_name

MELSPEC_FILE = "melspectrogram.onnx"
EMBEDDING_FILE = "embedding_model.onnx"
BUNDLED_VERSION = "v0.1"
MODELS_DIR_ENV = "SPEAKERD_MODELS_DIR"
REPO_MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
SYSTEM_MODELS_DIR = Path("/opt/speakerd/models")
FETCH_HINT = "run scripts/fetch-models (it downloads and sha256-checks them)"


class WakeWordModelError(Exception):
    """A wake-word model file is missing or unusable; the message says which and what to do."""


@dataclass(frozen=True)
class ModelFiles:
    """Every file openWakeWord needs, as existing absolute paths."""

    melspectrogram: Path
    """Shared feature model 1: audio to mel spectrogram."""
    embedding: Path
    """Shared feature model 2: mel spectrogram to speech embeddings."""
    wake_words: dict[str, Path]
    """Detection name (model_name()) to its classifier .onnx file, in config order."""


def bundled_file_name(name: str) -> str:
    """hey_jarvis -> hey_jarvis_v0.1.onnx, the file scripts/fetch-models installs."""
    return f"{name}_{BUNDLED_VERSION}.onnx"


def candidate_dirs(configured: Path | None) -> list[tuple[Path, str]]:
    """Directories to search, each with why it is a candidate (for error messages).

    An explicit choice (config models_dir, then $SPEAKERD_MODELS_DIR) is the
    only candidate: silently falling back elsewhere would hide a typo.
    """
    if configured is not None:
        return [(configured.expanduser(), "wake_word.models_dir")]
    from_env = os.environ.get(MODELS_DIR_ENV)
    if from_env:
        return [(Path(from_env).expanduser(), f"${MODELS_DIR_ENV}")]
    return [(REPO_MODELS_DIR, "the source tree"), (SYSTEM_MODELS_DIR, "the install location")]


def find_models_dir(configured: Path | None = None) -> Path:
    """The first candidate directory that holds the two feature models."""
    candidates = candidate_dirs(configured)
    for directory, _why in candidates:
        if (directory / MELSPEC_FILE).is_file() and (directory / EMBEDDING_FILE).is_file():
            return directory
    tried = ", ".join(f"{d} ({why})" for d, why in candidates)
    first = candidates[0][0]
    missing = next(f for f in (MELSPEC_FILE, EMBEDDING_FILE) if not (first / f).is_file())
    raise WakeWordModelError(
        f"wake-word model {missing} not found; looked in {tried}. {FETCH_HINT}, "
        f"or set wake_word.models_dir / ${MODELS_DIR_ENV} to the directory that holds it"
    )


def resolve_models(config: WakeWordConfig) -> ModelFiles:
    """Paths for every model the config names; raise WakeWordModelError for any missing one."""
    directory = find_models_dir(config.models_dir)
    wake_words: dict[str, Path] = {}
    for entry in config.models:
        path = _wake_word_path(entry, directory)
        name = model_name(entry)
        if name in wake_words:
            raise WakeWordModelError(
                f"wake-word models {wake_words[name]} and {path} would both report as "
                f"{name!r}; rename one of the files"
            )
        wake_words[name] = path
    return ModelFiles(
        melspectrogram=directory / MELSPEC_FILE,
        embedding=directory / EMBEDDING_FILE,
        wake_words=wake_words,
    )


def _wake_word_path(entry: str, directory: Path) -> Path:
    if entry in BUNDLED_WAKE_WORDS:
        path = directory / bundled_file_name(entry)
        if not path.is_file():
            raise WakeWordModelError(
                f"wake-word model {path.name} for {entry!r} not found in {directory}; {FETCH_HINT}"
            )
        return path
    # A custom model: as written (absolute or relative to the working directory),
    # else relative to the models directory so a bare file name dropped there works.
    given = Path(entry).expanduser()
    for path in (given, directory / given):
        if path.is_file():
            return path.resolve()
    raise WakeWordModelError(
        f"custom wake-word model {entry} not found (looked at {given.resolve()} and {directory / given})"
    )


def custom_model_problem(path: Path) -> str | None:
    """Why an owner's .onnx file would not load as an openWakeWord wake-word model
    (check-config says so, rather than `run` refusing at start)."""
    import onnxruntime

    try:
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own types for every bad file
        return load_problem(path, exc)
    return shape_problem(session, path)


NOT_A_MODEL_MARKS = ("INVALID_PROTOBUF", "Protobuf parsing failed", "No graph was found")
"""What onnxruntime says of a file that is not an ONNX model at all (garbage, empty, truncated)."""


def load_problem(path: Path | str, exc: BaseException) -> str:
    """onnxruntime's failure to load `path`, said for an owner: a damaged or foreign file is
    "not a valid model"; anything else keeps onnxruntime's reason (shortened)."""
    reason = " ".join(str(exc).split())
    if any(mark in reason for mark in NOT_A_MODEL_MARKS):
        return f"wake-word model {path} is not a valid model (not an ONNX file, or damaged)"
    return f"wake-word model {path} cannot be loaded: {reason[:200]}"


def shape_problem(session: Any, path: Path | str) -> str | None:
    """A loaded model that does not take embedding windows fails at its first score."""
    inputs, outputs = session.get_inputs(), session.get_outputs()
    shape = inputs[0].shape if len(inputs) == 1 else None
    if shape is None or len(shape) != 3 or shape[-1] != 96 or len(outputs) != 1:
        return (
            f"wake-word model {path} is not an openWakeWord wake-word model "
            "(one input of embedding windows, N x 96, and one score)"
        )
    return None
