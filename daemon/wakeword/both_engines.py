"""Both wake engines on one stream, either one waking: `wake_word.engine: both`.

openWakeWord and microWakeWord miss different clips: in pink noise at 5 dB
and in speech babble each catches what the other does not, and taking
either's detection (openWakeWord at 0.5, microWakeWord at 0.2) caught far
more "hey jarvis" clips than either alone with no false accept in an hour of
talk (bench/wake_engines.md). This class gives the listener the same face as
one detector.

openWakeWord keeps its speech gate, and microWakeWord only runs once
openWakeWord has scored a frame as faintly like a wake word as HOT_SCORE
(every clip only microWakeWord caught scored at least 0.0015 there; ordinary
talk stays under it most of the time), until WARM_SECONDS after the last such
frame. It starts afresh CATCH_UP_SECONDS before the first, on audio kept for
it, so it hears a wake word said before openWakeWord stirred. A quiet room, a
fan or most talk in the room cost it nothing. Both judge on the same stream
clock, and one utterance that both engines catch wakes once.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from daemon.config.schema import WakeWordConfig
from daemon.wakeword.detector import SAMPLE_RATE, Detection, WakeWordDetector
from daemon.wakeword.micro_engine import (
    MicroModelFiles,
    MicroWakeWordDetector,
    int16_samples,
    resolve_micro_models,
)
from daemon.wakeword.models import ModelFiles, resolve_models

CATCH_UP_SECONDS = 5.0
"""Audio microWakeWord is given when it starts: MICRO_SETTLE_SECONDS, a wake word (about
1 s) and the 1.5 s by which openWakeWord's score may follow the end of it."""
MICRO_SETTLE_SECONDS = 2.5
"""microWakeWord's scores are not judged this long into the audio it starts on. Started
afresh on ordinary talk in pink noise at 10 dB, it scored 0.6-0.95 on the same words
0.8-1.0 s in, 0.03-0.19 at 1.2 s, under 0.09 from 1.5 s and under 0.02 from 3 s (its
own warm-up, 0.3 s, let two false wakes into an hour of talk)."""
HOT_SCORE = 0.001
"""An openWakeWord score at least this high starts microWakeWord."""
WARM_SECONDS = 1.0
"""microWakeWord goes on this long after the last such score."""
KEEP_SECONDS = CATCH_UP_SECONDS + 4.0
"""Audio kept: the catch-up before a frame that may come in a hand-over of frames the
speech gate held (up to 3.2 s)."""


@dataclass(frozen=True)
class BothModelFiles:
    """Each engine's files for the same wake words."""

    openwakeword: ModelFiles
    microwakeword: MicroModelFiles


def resolve_both_models(config: WakeWordConfig) -> BothModelFiles:
    """Both engines' files; WakeWordModelError naming a missing one."""
    return BothModelFiles(resolve_models(config), resolve_micro_models(config))


class BothEnginesDetector:
    """Feed 16 kHz mono int16 audio in any chunk size; a detection from either engine.

    `over_answer` and everything else as WakeWordDetector; microWakeWord starts when
    openWakeWord's score stirs (see the module docstring)."""

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
        self._keep = round(KEEP_SECONDS * SAMPLE_RATE)
        self._recent: deque[np.ndarray] = deque()  # the newest audio, ending at self._end
        self._recent_samples = 0
        self._end = 0  # stream samples accounted for (fed, screened, passed over or skipped)
        self._micro_fresh = False  # microWakeWord must forget what it heard before the audio kept
        self._micro_until = 0  # stream sample up to which microWakeWord runs
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
        """Score the audio with openWakeWord and, once it stirs, with microWakeWord too."""
        samples = int16_samples(samples)
        start = round(self.openwakeword.stream_time * SAMPLE_RATE)
        self._hear(samples[max(0, self._end - start) :])
        found = self.openwakeword.feed(samples, over_answer=over_answer)
        hot = [round(t * SAMPLE_RATE) for t, s in self.openwakeword.frame_scores if s >= HOT_SCORE]
        if hot:
            self._start_micro(hot[0] - round(CATCH_UP_SECONDS * SAMPLE_RATE))
            self._micro_until = max(self._micro_until, hot[-1] + round(WARM_SECONDS * SAMPLE_RATE))
        found += self._run_micro(min(self._end, self._micro_until), over_answer)
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
        self._forget_recent()

    def reset(self) -> None:
        self.openwakeword.reset()
        self._forget_recent()
        self._micro_fresh = True
        self._micro_until = self._end

    def close(self) -> None:
        """Free microWakeWord's interpreters (openWakeWord's sessions go with the object)."""
        self.microwakeword.close()

    def _hear(self, samples: np.ndarray) -> None:
        if not len(samples):
            return
        self._recent.append(samples.copy())  # the caller's buffer may be reused
        self._recent_samples += len(samples)
        while self._recent_samples - len(self._recent[0]) >= self._keep:
            self._recent_samples -= len(self._recent.popleft())
        self._end += len(samples)

    def _forget_recent(self) -> None:
        self._recent.clear()
        self._recent_samples = 0

    def _start_micro(self, begin: int) -> None:
        """openWakeWord stirred: microWakeWord must have heard from `begin` on. Unless it
        has (it is still running), it starts afresh there (or at the oldest audio kept).
        Every position here is a frame's time, never a hand-over's end, so how the
        audio was chunked changes nothing."""
        micro = self.microwakeword
        kept_from = self._end - self._recent_samples
        at = round(micro.stream_time * SAMPLE_RATE)
        if not (self._micro_fresh or at < max(begin, kept_from)):
            return
        begin = max(begin, kept_from)
        micro.skip(max(0, begin - at))
        micro.reset(MICRO_SETTLE_SECONDS)  # after the skip: its settling counts from `begin`
        self._micro_fresh = False

    def _run_micro(self, until: int, over_answer: bool) -> list[Detection]:
        """microWakeWord hears the kept audio up to stream sample `until`."""
        micro = self.microwakeword
        kept_from = self._end - self._recent_samples
        at = round(micro.stream_time * SAMPLE_RATE)
        if at >= until or at < kept_from:  # nothing to hear, or a gap: wait for a start
            return []
        return micro.feed(self._kept_since(at)[: until - at], over_answer=over_answer)

    def _kept_since(self, at: int) -> np.ndarray:
        """The kept audio from stream sample `at` on: only the newest chunks that hold it
        (microWakeWord lags a hand-over at most, the deque holds seconds)."""
        chunks: list[np.ndarray] = []
        start = self._end
        for chunk in reversed(self._recent):
            chunks.append(chunk)
            start -= len(chunk)
            if start <= at:
                break
        return np.concatenate(chunks[::-1])[at - start :]

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

