"""Both wake engines on one stream, either one waking: `wake_word.engine: both`.

openWakeWord and microWakeWord miss different clips: in pink noise at 5 dB
and in speech babble each catches what the other does not, and taking
either's detection (openWakeWord at 0.5, microWakeWord at 0.2) caught far
more "hey jarvis" clips than either alone with no false accept in an hour of
talk (bench/wake_engines.md). This class gives the listener the same face as
one detector.

openWakeWord keeps its speech gate; microWakeWord only runs while that gate
is open (or about to be). Until then the last CATCH_UP_SECONDS of audio are
kept, and when the gate opens microWakeWord starts afresh on them, so its
scores at the wake word are those of having heard everything before it: in a
quiet room the second engine costs nothing. Both judge on the same stream
clock, and one utterance that both engines catch wakes once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from daemon.config.schema import WakeWordConfig
from daemon.wakeword.detector import SAMPLE_RATE, Detection, WakeWordDetector, samples_from_bytes
from daemon.wakeword.micro_engine import (
    MicroModelFiles,
    MicroWakeWordDetector,
    resolve_micro_models,
)
from daemon.wakeword.models import ModelFiles, resolve_models

CATCH_UP_SECONDS = 2.0
"""Audio microWakeWord is given when openWakeWord's gate opens: more than its warm-up
(0.3 s) plus a wake word said just before the gate believed the opening."""


@dataclass(frozen=True)
class BothModelFiles:
    """Each engine's files for the same wake words."""

    openwakeword: ModelFiles
    microwakeword: MicroModelFiles


def resolve_both_models(config: WakeWordConfig) -> BothModelFiles:
    """Both engines' files; WakeWordModelError naming a missing one."""
    return BothModelFiles(resolve_models(config), resolve_micro_models(config))


class BothEnginesDetector:
    """Feed 16 kHz mono int16 audio in any chunk size; a detection from either engine."""

    def __init__(
        self,
        config: WakeWordConfig,
        files: BothModelFiles | None = None,
        *,
        speech_gate: bool = True,
    ) -> None:
        self.config = config
        files = files or resolve_both_models(config)
        self.openwakeword = WakeWordDetector(config, files.openwakeword, speech_gate=speech_gate)
        micro_config = config.model_copy(
            update={"threshold": config.micro_threshold, "thresholds": {}}
        )
        self.microwakeword = MicroWakeWordDetector(micro_config, files.microwakeword)
        self.thresholds = self.openwakeword.thresholds
        self.thresholds_over_answer = self.openwakeword.thresholds_over_answer
        self.refractory_seconds = config.refractory_seconds
        self.gate = self.openwakeword.gate
        self._keep = round(CATCH_UP_SECONDS * SAMPLE_RATE)
        self._recent = np.empty(0, dtype=np.int16)  # the newest audio, ending at self._end
        self._end = 0  # stream samples accounted for (fed, screened, passed over or skipped)
        self._micro_fresh = False  # microWakeWord must forget what it heard before the audio kept
        self._last: dict[str, float] = {}  # each name's last detection, from either engine

    @property
    def model_names(self) -> list[str]:
        return self.openwakeword.model_names

    @property
    def last_scores(self) -> dict[str, float]:
        """The higher of the two engines' latest scores, by name."""
        micro = self.microwakeword.last_scores
        return {
            name: max(score, micro[name]) for name, score in self.openwakeword.last_scores.items()
        }

    @property
    def frames_scored(self) -> int:
        return self.openwakeword.frames_scored

    @property
    def frames_replayed(self) -> int:
        return self.openwakeword.frames_replayed

    @property
    def stream_time(self) -> float:
        return self._end / SAMPLE_RATE

    @property
    def shut(self) -> bool:
        """openWakeWord's gate is shut: neither engine is scoring."""
        return self.openwakeword.shut

    def feed(self, samples: np.ndarray | bytes, *, over_answer: bool = False) -> list[Detection]:
        """Score the audio with openWakeWord and, while its gate is open, microWakeWord."""
        samples = _int16(samples)
        start = round(self.openwakeword.stream_time * SAMPLE_RATE)
        self._hear(samples[max(0, self._end - start) :])
        scored_before = self.openwakeword.frames_scored
        found = self.openwakeword.feed(samples, over_answer=over_answer)
        if self.gate is None or self.openwakeword.frames_scored > scored_before or not self.shut:
            found += self._catch_up_micro(over_answer)
        return self._once_per_utterance(found)

    def screen(self, samples: np.ndarray) -> np.ndarray:
        """openWakeWord's gate on the event loop; the audio is kept for microWakeWord."""
        self._hear(samples)
        return self.openwakeword.screen(samples)

    def pass_over(self, samples: np.ndarray) -> None:
        self._hear(samples)
        self.openwakeword.pass_over(samples)

    def skip(self, n_samples: int) -> None:
        self.openwakeword.skip(n_samples)
        self._end += n_samples
        self._recent = self._recent[:0]

    def reset(self) -> None:
        self.openwakeword.reset()
        self._recent = self._recent[:0]
        self._micro_fresh = True

    def close(self) -> None:
        """Free microWakeWord's interpreters (openWakeWord's sessions go with the object)."""
        self.microwakeword.close()

    def _hear(self, samples: np.ndarray) -> None:
        if not len(samples):
            return
        self._recent = np.concatenate((self._recent, samples))[-self._keep :]
        self._end += len(samples)

    def _catch_up_micro(self, over_answer: bool) -> list[Detection]:
        """Give microWakeWord the audio it has not heard; after a gap, afresh on what is kept."""
        micro = self.microwakeword
        kept_from = self._end - len(self._recent)
        at = round(micro.stream_time * SAMPLE_RATE)
        if self._micro_fresh or at < kept_from:
            micro.skip(max(0, kept_from - at))
            micro.reset()  # after the skip: its warm-up counts from the audio kept
            self._micro_fresh = False
            at = round(micro.stream_time * SAMPLE_RATE)
        return micro.feed(self._recent[at - kept_from :], over_answer=over_answer)

    def _once_per_utterance(self, found: list[Detection]) -> list[Detection]:
        """Both engines may catch the same words: the first detection starts one refractory time."""
        kept = []
        for detection in sorted(found, key=lambda d: d.time):
            last = self._last.get(detection.model)
            if last is not None and abs(detection.time - last) < self.refractory_seconds:
                continue
            self._last[detection.model] = detection.time
            kept.append(detection)
        return kept


def _int16(samples: np.ndarray | bytes) -> np.ndarray:
    if isinstance(samples, bytes | bytearray | memoryview):
        return samples_from_bytes(bytes(samples))
    return np.asarray(samples)
