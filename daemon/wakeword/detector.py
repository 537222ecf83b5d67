"""openWakeWord over a continuous 16 kHz stream: framing, thresholds, refractory, clock.

openWakeWord scores fixed 80 ms frames and keeps its own rolling feature
buffers; it knows nothing of wall time or of "one utterance, one wake". This
class adds exactly that: it frames arbitrary chunks, timestamps every frame on
the stream's sample clock, applies per-model thresholds, and fires once per
utterance. A speech gate (daemon.wakeword.gate) keeps quiet frames from the
models and replays them into the feature buffers when it opens, so each score
is the one the library would give had it heard everything. It is synchronous
and not thread-safe: the listener runs it on one worker thread (screen() on
the event loop, between feeds).

    detector = WakeWordDetector(WakeWordConfig(models=["hey_jarvis"]))
    for detection in detector.feed(samples):
        print(f"{detection.time:.2f}s {detection.model} {detection.score:.2f}")
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from daemon.config.schema import WakeWordConfig
from daemon.wakeword.gate import GatedFrames, SpeechGate
from daemon.wakeword.models import ModelFiles, resolve_models
from daemon.wakeword.runtime import load_model, placeholder_features, reset_model

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
FRAME_SAMPLES = 1280
"""openWakeWord's hop: 80 ms. Feeding exactly one frame per predict() keeps scores per frame."""
WARMUP_FRAMES = 18
"""Frames after start or reset() whose scores are not trusted.

openWakeWord starts from placeholder buffers; with steady noise at the mic
its scores rise to ~0.4 in frames 8-17 after a (re)start, then fall to ~0
(measured on white noise, several levels and seeds). The library itself
only mutes the first 5 frames. Frames the gate skipped and replayed count.
"""
REPLAY_FRAMES = 25
"""Quiet frames kept while the speech gate is shut, replayed into the model when it opens.

A score depends on the last 16 embeddings (1.28 s), each computed from 76 mel
frames (0.76 s) of audio: 25 frames (2 s) back. Replaying that much makes the
model's buffers, and so its scores from the first loud frame on, what they
would have been had it heard everything.
"""


@dataclass(frozen=True)
class Detection:
    """One wake: which model, how sure, and when on the stream's clock."""

    model: str
    """The name detections report under (config.schema.model_name of the configured entry)."""
    score: float
    """The model's score for the frame that crossed the threshold, 0-1."""
    time: float
    """Seconds since stream start at the end of the 80 ms frame that crossed."""
    engine: str = "openwakeword"
    """Which engine heard it (with `wake_word.engine: both`, either may)."""


def samples_from_bytes(chunk: bytes) -> np.ndarray:
    """s16le bytes (what the microphone driver delivers) to int16 samples."""
    if len(chunk) % 2:
        raise ValueError(f"audio chunk of {len(chunk)} bytes is not whole 16-bit samples")
    return np.frombuffer(chunk, dtype="<i2")


class WakeWordDetector:
    """Feed 16 kHz mono int16 audio in any chunk size; get Detections."""

    def __init__(
        self, config: WakeWordConfig, files: ModelFiles | None = None, *, speech_gate: bool = True
    ) -> None:
        self.config = config
        files = files or resolve_models(config)
        self.thresholds: dict[str, float] = {
            name: config.thresholds.get(name, config.threshold) for name in files.wake_words
        }
        self.thresholds_over_answer: dict[str, float] = {
            name: min(threshold, config.threshold_over_answer)
            for name, threshold in self.thresholds.items()
        }
        """Used by feed(over_answer=True): a voice over the model's, damped by the canceller."""
        self.refractory_seconds = config.refractory_seconds
        self._model = load_model(files, longest_feed=FRAME_SAMPLES)  # replays go frame by frame
        self._placeholder = placeholder_features(self._model)
        # openWakeWord keys its scores by file stem ("hey_jarvis_v0.1"); ours are model_name().
        self._keys = {name: path.stem for name, path in files.wake_words.items()}
        self._pending = np.empty(0, dtype=np.int16)
        self._frame_start = 0  # stream sample at which the pending frame starts
        self._armed = dict.fromkeys(self.thresholds, True)
        self._warmup_left = WARMUP_FRAMES
        self._last_detection: dict[str, float] = {}
        self.last_scores: dict[str, float] = dict.fromkeys(self.thresholds, 0.0)
        self.gate = GatedFrames(SpeechGate(), REPLAY_FRAMES) if speech_gate else None
        """Skips quiet frames (None: every frame is scored, as the bare library does)."""
        self.frames_scored = 0
        """Frames the wake-word models scored (the rest the gate skipped)."""
        self.frames_replayed = 0
        """Skipped frames fed to the feature models when the gate opened."""
        self._opened_ahead = False  # screen() found the next frame to feed loud
        self.frame_scores: list[tuple[float, float]] = []
        """Each frame the last feed() scored: its time and the highest score of any model."""

    @property
    def model_names(self) -> list[str]:
        return list(self.thresholds)

    @property
    def stream_time(self) -> float:
        """Seconds of stream accounted for so far (fed or skipped)."""
        return (self._frame_start + len(self._pending)) / SAMPLE_RATE

    @property
    def shut(self) -> bool:
        """The speech gate is shut: nothing is being scored or waits to be (a quiet room)."""
        return self.gate is not None and self.gate.shut and not self._opened_ahead

    def feed(self, samples: np.ndarray | bytes, *, over_answer: bool = False) -> list[Detection]:
        """Score every whole 80 ms frame now available; keep the remainder for next time.

        `over_answer`: the model's voice plays, judge with thresholds_over_answer."""
        if isinstance(samples, bytes | bytearray | memoryview):
            samples = samples_from_bytes(bytes(samples))
        samples = np.asarray(samples)
        if samples.dtype != np.int16 or samples.ndim != 1:
            raise ValueError(f"expected 1-D int16 samples, got {samples.dtype} {samples.shape}")
        audio = np.concatenate((self._pending, samples)) if len(self._pending) else samples
        detections: list[Detection] = []
        self.frame_scores = []
        whole = len(audio) // FRAME_SAMPLES * FRAME_SAMPLES
        for offset in range(0, whole, FRAME_SAMPLES):
            frame = audio[offset : offset + FRAME_SAMPLES]
            self._frame_start += FRAME_SAMPLES
            opened_ahead, self._opened_ahead = self._opened_ahead, False
            if self.gate is not None and not (opened_ahead or self.gate.offer(frame)):
                self._quiet()
                continue
            detections.extend(self._catch_up(over_answer))
            scores = self._model.predict(frame)
            self.frames_scored += 1
            detections.extend(self._judge(scores, self._frame_start / SAMPLE_RATE, over_answer))
        self._pending = audio[whole:].copy()
        return detections

    def screen(self, samples: np.ndarray) -> np.ndarray:
        """Pass whole frames through the speech gate only; return what is left to feed().

        Frames the gate keeps (quiet, or held until an opening is believed) move
        the clock; the return value starts at the frame on which it opened for
        scoring (already judged), and is empty when it never did. A few microseconds a
        frame, so the listener calls it on the event loop and hands audio to the
        inference thread only when there is something to score. Not while
        feed() runs on another thread.
        """
        if self.gate is None or len(self._pending) or self._opened_ahead:
            return samples
        whole = len(samples) // FRAME_SAMPLES * FRAME_SAMPLES
        for offset in range(0, whole, FRAME_SAMPLES):
            if self.gate.offer(samples[offset : offset + FRAME_SAMPLES]):
                self._opened_ahead = True
                return samples[offset:]
            self._frame_start += FRAME_SAMPLES
            self._quiet()
        return samples[whole:]

    def pass_over(self, samples: np.ndarray) -> None:
        """Move the clock past whole frames that need no score now, without forgetting them.

        The newest REPLAY_FRAMES of them go to the feature models when a frame is
        next scored (as quiet frames do), so the model is warm at once: unlike
        reset(), which leaves it deaf for WARMUP_FRAMES. Nothing is judged here.
        """
        audio = np.concatenate((self._pending, samples)) if len(self._pending) else samples
        whole = len(audio) // FRAME_SAMPLES * FRAME_SAMPLES
        for offset in range(0, whole, FRAME_SAMPLES):
            frame = audio[offset : offset + FRAME_SAMPLES]
            self._frame_start += FRAME_SAMPLES
            if self.gate is not None:
                self.gate.keep(frame)
            else:
                self._model.preprocessor(frame)
            self._quiet()
        self._pending = audio[whole:].copy()
        self._opened_ahead = False

    def _quiet(self) -> None:
        """A skipped frame scores nothing, as the bare model scores silence (~0)."""
        for name in self.last_scores:
            self.last_scores[name] = 0.0
            self._armed[name] = True

    def _catch_up(self, over_answer: bool) -> list[Detection]:
        """Give the model what the gate kept from it, before the frame now being scored.

        Quiet frames go to the feature models only (no scores: they were quiet);
        frames held while the gate waited to believe an opening are scored and
        judged at their own times. One frame at a time, as predict() would have:
        the melspectrogram of a long chunk differs numerically near silence.
        """
        if self.gate is None:
            return []
        quiet, held = self.gate.take()
        for frame in quiet:
            self._model.preprocessor(frame)
        self.frames_replayed += len(quiet)
        self._warmup_left = max(0, self._warmup_left - len(quiet))
        detections: list[Detection] = []
        for age, frame in zip(range(len(held), 0, -1), held, strict=True):
            scores = self._model.predict(frame)
            self.frames_scored += 1
            time = (self._frame_start - age * FRAME_SAMPLES) / SAMPLE_RATE
            detections.extend(self._judge(scores, time, over_answer))
        return detections

    def skip(self, n_samples: int) -> None:
        """Move the clock past audio that was not fed (e.g. recorded during a conversation).

        The partial frame is dropped: it would be glued to audio that did not follow it.
        """
        self._frame_start += len(self._pending) + n_samples
        self._pending = np.empty(0, dtype=np.int16)
        if self.gate is not None:
            self.gate.clear()
        self._opened_ahead = False

    def reset(self) -> None:
        """Forget all audio heard so far, so stale sound cannot complete a wake word.

        The clock keeps running; the pending partial frame is dropped and moved past.
        """
        reset_model(self._model, self._placeholder)
        self.skip(0)
        if self.gate is not None:
            self.gate.reset()
        self._armed = dict.fromkeys(self.thresholds, True)
        self._warmup_left = WARMUP_FRAMES
        self.last_scores = dict.fromkeys(self.thresholds, 0.0)

    def _judge(self, scores: dict[str, float], time: float, over_answer: bool) -> list[Detection]:
        """Fire on a rising edge across the threshold, and not again within the refractory time.

        Edge-triggering keeps one utterance to one detection even with a zero
        refractory period; the refractory period covers a score that dips and
        comes back within the same utterance.
        """
        found = []
        warming_up = self._warmup_left > 0
        self._warmup_left -= warming_up
        self.frame_scores.append((time, max(float(scores[key]) for key in self._keys.values())))
        for name, key in self._keys.items():
            score = float(scores[key])
            self.last_scores[name] = score
            if warming_up:
                continue
            threshold = (self.thresholds_over_answer if over_answer else self.thresholds)[name]
            if score < threshold:
                self._armed[name] = True
                continue
            if not self._armed[name]:
                continue
            self._armed[name] = False
            last = self._last_detection.get(name)
            if last is not None and time - last < self.refractory_seconds:
                log.debug("%s %.2f at %.2fs ignored (refractory)", name, score, time)
                continue
            self._last_detection[name] = time
            found.append(Detection(model=name, score=score, time=time))
        return found
