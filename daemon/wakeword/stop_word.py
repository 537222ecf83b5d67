"""The stop word: "stop" heard without the wake word (microWakeWord's "Stop" model).

Meant for the moments when "stop" is what anyone would say: while an answer
plays or a timer rings. The model (Kevin Ahrendt's microWakeWord v2 "Stop",
Apache-2.0, fetched by scripts/fetch-models as stop.json + stop.tflite) is
small: 3.3 ms of CPU per second of audio on a desktop core. On synthetic
voices (bench/stop_word.md) it hears "stop" and "stop, stop" said on their own
in quiet and moderate noise, hardly over other voices, never in "okay stop";
ordinary talk did not fire it in an hour, but "shop", "top", "step", "stomp"
and "spot" said on their own nearly always do. So when the model fires, the
last ~1.2 s of audio fed is looked at again (daemon.wakeword.stop_check,
stop_word.check_sound): "shop", "top", "step" and mostly "spot" said alone
are then turned away, "stomp" is not; still feed it only when a false stop
costs little.

Synchronous and not thread-safe; nothing runs between feeds, so an instance
that is not fed costs nothing. Its clock is the audio fed (and skipped) since
it was made; after a stretch it was not fed, reset() so the old audio cannot
complete a word with the new.

    stop = StopWordDetector(config.stop_word, models_dir=config.wake_word.models_dir)
    if (hit := stop.feed(chunk)) is not None:
        print(f"stop ({hit.score:.2f}) at {hit.time:.2f} s")
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from daemon.config.schema import StopWordConfig
from daemon.wakeword.detector import SAMPLE_RATE
from daemon.wakeword.judge import EdgeJudge
from daemon.wakeword.micro import MicroScorer, load_micro_model, read_spec, tflite_problem
from daemon.wakeword.micro_engine import WARMUP_SECONDS, int16_samples
from daemon.wakeword.models import FETCH_HINT, WakeWordModelError, candidate_dirs
from daemon.wakeword.stop_check import WINDOW_SECONDS, sounds_like_stop

log = logging.getLogger(__name__)

STOP_MODEL_FILE = "stop.json"
"""The model description scripts/fetch-models installs (stop.tflite beside it)."""
NAME = "stop"


class StopWordModelError(WakeWordModelError):
    """The stop model is missing or unusable; the message names the file (the daemon can
    carry on without the stop word)."""


@dataclass(frozen=True)
class StopDetection:
    """"Stop" was heard."""

    score: float
    """The windowed model score that crossed the threshold, 0-1."""
    time: float
    """Seconds on the detector's clock (audio fed and skipped) at the end of the audio scored."""


def resolve_stop_model(config: StopWordConfig, models_dir: Path | None = None) -> Path:
    """The stop model's .json: stop_word.model, else stop.json in the wake-word models directory
    (`models_dir`, else $SPEAKERD_MODELS_DIR, ./models, /opt/speakerd/models)."""
    if config.model is not None:
        path = config.model.expanduser()
        if not path.is_file():
            raise StopWordModelError(f"stop-word model {path} (stop_word.model) not found")
        return path
    candidates = candidate_dirs(models_dir)
    for directory, _why in candidates:
        if (directory / STOP_MODEL_FILE).is_file():
            return directory / STOP_MODEL_FILE
    tried = ", ".join(f"{d / STOP_MODEL_FILE} ({why})" for d, why in candidates)
    raise StopWordModelError(f"stop-word model {STOP_MODEL_FILE} not found; looked at {tried}. {FETCH_HINT}")


def stop_model_problem(config: StopWordConfig, models_dir: Path | None = None) -> str | None:
    """Why the stop model would not load, judged without loading it (for check-config)."""
    try:
        spec = read_spec(resolve_stop_model(config, models_dir))
    except WakeWordModelError as exc:
        return str(exc)
    return tflite_problem(spec.tflite_path)


class StopWordDetector:
    """Feed 16 kHz mono s16le audio in chunks of any length; a StopDetection when "stop" is heard."""

    def __init__(self, config: StopWordConfig, models_dir: Path | None = None) -> None:
        path = resolve_stop_model(config, models_dir)
        try:
            model = load_micro_model(path)
        except WakeWordModelError as exc:
            raise StopWordModelError(f"stop word: {exc}") from None
        self.path = path
        self.threshold = config.threshold
        self.refractory_seconds = config.refractory_seconds
        self._scorer = MicroScorer({NAME: model})
        self._judge = EdgeJudge({NAME: config.threshold}, config.refractory_seconds)
        self._trusted_from = WARMUP_SECONDS
        self.last_score = 0.0
        """The newest score (one per 30 ms of audio)."""
        self.check_sound = config.check_sound
        self._recent = np.zeros(round(WINDOW_SECONDS * SAMPLE_RATE), dtype=np.int16)
        """The last WINDOW_SECONDS of audio fed (zeros before any), for the sound check."""
        self.rejected = 0
        """Firings of the model the sound check turned away."""

    @property
    def stream_time(self) -> float:
        """Seconds of audio fed or skipped since the detector was made."""
        return self._scorer.stream_time

    def feed(self, chunk: bytes | np.ndarray) -> StopDetection | None:
        """Score the chunk; the first new stop in it, if any (one per utterance and refractory time)."""
        samples = int16_samples(chunk)
        self._remember(samples)
        found: StopDetection | None = None
        for _name, score, time in self._scorer.feed(samples):
            self.last_score = score
            if time >= self._trusted_from and self._judge.judge(NAME, score, time) and found is None:
                found = StopDetection(score=score, time=time)
        if found is not None and self.check_sound and not sounds_like_stop(self._recent):
            # No refractory time from a near miss: "shop... stop" said quickly must
            # stop. The spent rising edge keeps the same near miss from firing again.
            self._judge.withdraw(NAME)
            self.rejected += 1
            log.info("stop word (score %.2f) turned away: it does not sound like \"stop\"",
                     found.score)
            return None
        return found

    def _remember(self, samples: np.ndarray) -> None:
        keep = len(self._recent)
        if len(samples) >= keep:
            self._recent = samples[-keep:].copy()
        else:
            self._recent = np.concatenate([self._recent[len(samples) :], samples])

    def recent_audio(self) -> np.ndarray:
        """The last WINDOW_SECONDS of audio fed (zeros before any, and after reset())."""
        return self._recent.copy()

    def scores(self, chunk: bytes | np.ndarray) -> list[tuple[float, float]]:
        """Hear the chunk and return every (score, time) it completes, judging nothing
        (for measuring: what feed() would compare with the threshold)."""
        samples = int16_samples(chunk)
        self._remember(samples)
        heard = [(score, time) for _name, score, time in self._scorer.feed(samples)]
        if heard:
            self.last_score = heard[-1][0]
        return heard

    def skip(self, seconds: float) -> None:
        """Move the clock past audio that was not fed (call reset() before feeding again)."""
        self._scorer.skip(round(seconds * SAMPLE_RATE))

    def reset(self) -> None:
        """Forget what was heard, so stale audio cannot complete a stop; the clock runs on."""
        self._scorer.reset()
        self._judge.rearm()
        self._trusted_from = self._scorer.stream_time + WARMUP_SECONDS
        self.last_score = 0.0
        self._recent[:] = 0

    def close(self) -> None:
        """Free the interpreter (also done when the object is collected)."""
        self._scorer.close()
