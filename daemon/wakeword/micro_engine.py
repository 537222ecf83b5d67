"""microWakeWord as the wake engine: the same face as WakeWordDetector, other models.

`wake_word.engine: microwakeword` swaps openWakeWord's ONNX models for the
microWakeWord v2 models built into pymicro-wakeword (hey_jarvis, okay_nabu,
alexa, hey_mycroft; Apache-2.0) or an owner's .json. The listener drives this
class exactly as it drives WakeWordDetector (feed, screen, pass_over, skip,
reset, shut, stream_time), so the appliance cannot tell the engines apart.

No speech gate: the front end must hear every 10 ms step to keep its noise
estimate, and the model is streaming (its state is the audio heard), so a
skipped stretch would have to be run anyway when the gate opened. Scoring
everything costs about 3.5 ms of CPU per second of audio for hey_jarvis on a
desktop core, a tenth of openWakeWord's (bench/wake_engines.md), so there is
little for a gate to save.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from daemon.config.schema import MICRO_WAKE_WORDS, WakeWordConfig, model_name
from daemon.wakeword.detector import Detection, samples_from_bytes
from daemon.wakeword.judge import EdgeJudge
from daemon.wakeword.micro import MicroModel, MicroScorer, builtin_models_dir, load_micro_model
from daemon.wakeword.models import WakeWordModelError, candidate_dirs

log = logging.getLogger(__name__)

WARMUP_SECONDS = 0.3
"""Scores after a start or reset() that are not trusted: the sliding window (5 x 30 ms)
and the front end's noise estimate settle."""


@dataclass(frozen=True)
class MicroModelFiles:
    """The microWakeWord model descriptions a config names, as existing paths."""

    wake_words: dict[str, Path]
    """Detection name (model_name()) to its .json (the .tflite beside it), in config order."""


def resolve_micro_models(config: WakeWordConfig) -> MicroModelFiles:
    """Paths for every model the config names; WakeWordModelError for a missing one."""
    wake_words: dict[str, Path] = {}
    for entry in config.models:
        path = _micro_path(entry, config.models_dir)
        name = model_name(entry)
        if name in wake_words:
            raise WakeWordModelError(
                f"wake-word models {wake_words[name]} and {path} would both report as {name!r}"
            )
        wake_words[name] = path
    return MicroModelFiles(wake_words)


def _micro_path(entry: str, models_dir: Path | None) -> Path:
    if entry in MICRO_WAKE_WORDS:
        path = builtin_models_dir() / f"{entry}.json"
        if not path.is_file():
            raise WakeWordModelError(
                f"microWakeWord model {path} for {entry!r} not found (reinstall pymicro-wakeword)"
            )
        return path
    given = Path(entry).expanduser()
    looked = [given] + [directory / given for directory, _why in candidate_dirs(models_dir)]
    for path in looked:
        if path.is_file():
            return path.resolve()
    raise WakeWordModelError(
        f"microWakeWord model {entry} not found (looked at {', '.join(map(str, looked))})"
    )


class MicroWakeWordDetector:
    """Feed 16 kHz mono int16 audio in any chunk size; get Detections (microWakeWord)."""

    gate = None
    """No speech gate (see the module docstring): every step is scored."""

    def __init__(
        self, config: WakeWordConfig, files: MicroModelFiles | None = None, *, speech_gate: bool = True
    ) -> None:
        self.config = config
        files = files or resolve_micro_models(config)
        models: dict[str, MicroModel] = {}
        try:
            for name, path in files.wake_words.items():
                models[name] = load_micro_model(path)
        except WakeWordModelError:
            for model in models.values():
                model.close()
            raise
        own = "threshold" in config.model_fields_set
        self.thresholds: dict[str, float] = {
            name: config.thresholds.get(
                name, config.threshold if own else model.spec.probability_cutoff
            )
            for name, model in models.items()
        }
        self.thresholds_over_answer: dict[str, float] = {
            name: min(threshold, config.threshold_over_answer)
            for name, threshold in self.thresholds.items()
        }
        """Used by feed(over_answer=True): a voice over the model's, damped by the canceller."""
        self.refractory_seconds = config.refractory_seconds
        self._scorer = MicroScorer(models)
        self._judge = EdgeJudge(self.thresholds, self.refractory_seconds)
        self._trusted_from = WARMUP_SECONDS
        self.last_scores: dict[str, float] = dict.fromkeys(self.thresholds, 0.0)
        self.frames_scored = 0
        """Model inferences run (one per 30 ms of audio and model)."""
        self.frames_replayed = 0

    @property
    def model_names(self) -> list[str]:
        return list(self.thresholds)

    @property
    def stream_time(self) -> float:
        """Seconds of stream accounted for so far (fed or skipped)."""
        return self._scorer.stream_time

    @property
    def shut(self) -> bool:
        """Never: with no gate, every chunk is scored as it comes."""
        return False

    def feed(self, samples: np.ndarray | bytes, *, over_answer: bool = False) -> list[Detection]:
        """Score everything now available; keep a partial 10 ms step for next time.

        `over_answer`: the model's voice plays, judge with thresholds_over_answer."""
        samples = int16_samples(samples)
        thresholds = self.thresholds_over_answer if over_answer else self.thresholds
        found: list[Detection] = []
        for name, score, time in self._scorer.feed(samples):
            self.frames_scored += 1
            self.last_scores[name] = score
            if time < self._trusted_from:
                continue
            if self._judge.judge(name, score, time, thresholds[name]):
                found.append(Detection(model=name, score=score, time=time, engine="microwakeword"))
            elif score >= thresholds[name]:
                log.debug("%s %.2f at %.2fs ignored (same utterance or refractory)", name, score, time)
        return found

    def screen(self, samples: np.ndarray) -> np.ndarray:
        """Everything is scored: all of it is left for feed()."""
        return samples

    def pass_over(self, samples: np.ndarray) -> None:
        """Hear audio that needs no score now (the model stays warm); nothing is judged."""
        for name, score, _time in self._scorer.feed(int16_samples(samples)):
            self.last_scores[name] = score
        self._judge.rearm()

    def skip(self, n_samples: int) -> None:
        """Move the clock past audio that was not fed (the partial step is dropped)."""
        self._scorer.skip(n_samples)

    def reset(self, warmup_seconds: float = WARMUP_SECONDS) -> None:
        """Forget all audio heard so far; the clock keeps running. Scores of the next
        `warmup_seconds` of audio are not judged."""
        self._scorer.reset()
        self._judge.rearm()
        self._trusted_from = self._scorer.stream_time + warmup_seconds
        self.last_scores = dict.fromkeys(self.thresholds, 0.0)

    def close(self) -> None:
        self._scorer.close()


def int16_samples(samples: np.ndarray | bytes) -> np.ndarray:
    """s16le bytes or an int16 array as a 1-D int16 array; ValueError for anything else."""
    if isinstance(samples, bytes | bytearray | memoryview):
        samples = samples_from_bytes(bytes(samples))
    samples = np.asarray(samples)
    if samples.dtype != np.int16 or samples.ndim != 1:
        raise ValueError(f"expected 1-D int16 samples, got {samples.dtype} {samples.shape}")
    return samples

