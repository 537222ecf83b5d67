"""The wake-word face the daemon's capture path uses: pre-roll plus off-loop inference.

Every microphone chunk goes into the pre-roll on the event loop (a memcpy) and
through the detector's speech gate (a few microseconds); only frames the gate
lets through go to inference, which runs on one dedicated worker thread, so
frames stay in order and the loop is never blocked by ONNX (1-2 ms per 80 ms
frame on a desktop core, several times that on a Pi). In a quiet room most
frames never leave the loop. While a conversation is open the daemon
calls record() instead of process(): the audio is kept, nothing is scored,
and the detector starts afresh when listening resumes. With echo
cancellation it calls pass_over() while the model is silent and process()
while it talks: nothing is scored in between, yet the detector is warm as
soon as the model's voice starts (reset() would leave it deaf for 1.4 s).

    listener = WakeWordListener(config.wake_word)
    if detection := await listener.process(chunk):
        first_audio = listener.audio_since_wake(detection)
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from daemon.config.schema import Config, WakeWordConfig
from daemon.wakeword.detector import FRAME_SAMPLES, Detection, samples_from_bytes
from daemon.wakeword.engines import Detector, EngineFiles, make_detector, resolve_engine_models
from daemon.wakeword.preroll import PreRollBuffer

log = logging.getLogger(__name__)

POST_WAKE_LOOKBACK_SECONDS = 0.8
"""How far before a detection the conversation's audio starts.

Measured with espeak-ng speech (9 voices, 130-170 wpm, the command following
the wake word with no pause): the frame that crosses 0.5 ends 0.05-0.52 s
after the last sample of "hey jarvis" (median ~0.19 s), and crossing 0.9 comes
0.13-0.46 s after it. openWakeWord never fired before the phrase was over in
those runs, but the delay varies a lot, so we start 0.8 s before the
detection: the command is complete in every measured case with >= 0.28 s to
spare, at the cost of repeating up to ~0.75 s of the wake word's tail (the
model hears "...jarvis, turn on the lamp", which it handles fine; a lost
"turn" it cannot).
"""

PREROLL_SECONDS = 15.0
"""Audio kept: the lookback plus the time a Live session may take to open."""


class WakeWordListener:
    """Pre-roll buffer + detector on a worker thread; one instance per microphone stream."""

    def __init__(
        self,
        config: WakeWordConfig | Config,
        *,
        preroll_seconds: float = PREROLL_SECONDS,
        files: EngineFiles | None = None,
    ) -> None:
        self.config = config.wake_word if isinstance(config, Config) else config
        # Resolve paths now so a missing file fails at start-up with a clear message;
        # load the models on the worker (a few hundred ms for ONNX) so the loop never waits.
        # wake_word.engine picks openWakeWord or microWakeWord; both detectors look alike.
        files = files or resolve_engine_models(self.config)
        self.preroll = PreRollBuffer(preroll_seconds)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wakeword")
        self._detector_future: Future[Detector] = self._executor.submit(
            make_detector, self.config, files
        )
        self._detector: Detector | None = None
        self._inflight: Future[Any] | None = None  # the worker's current job
        self._unscored = np.empty(0, dtype=np.int16)  # less than a frame, not yet handed over
        self._skipped = 0  # samples recorded but not scored since the last process()
        self._stale = False  # the detector holds audio from before a record()/reset()

    async def ready(self) -> Detector:
        """Wait for the models to load (raises WakeWordModelError if they cannot)."""
        if self._detector is None:
            self._detector = await asyncio.wrap_future(self._detector_future)
        return self._detector

    async def process(self, chunk: bytes, *, over_answer: bool = False) -> Detection | None:
        """Keep the chunk and score it; the earliest (then strongest) detection, if any.

        `over_answer`: the model's voice plays (echo cancelled), so the detector judges
        with wake_word.threshold_over_answer."""
        samples = samples_from_bytes(chunk)
        detector = await self.ready()
        self.preroll.append(samples)
        # Hand over whole 80 ms frames only: a 40 ms chunk then costs no thread hop at all.
        pending = np.concatenate((self._unscored, samples)) if len(self._unscored) else samples
        whole = len(pending) // FRAME_SAMPLES * FRAME_SAMPLES
        self._unscored = pending[whole:]
        if not whole:
            return None
        skipped, stale = self._skipped, self._stale
        self._skipped, self._stale = 0, False
        frames = pending[:whole]
        if not (skipped or stale) and (self._inflight is None or self._inflight.done()):
            frames = detector.screen(frames)  # the worker is idle: the gate may run here
            if not len(frames):
                return None
        self._inflight = self._executor.submit(
            _score, detector, frames, skipped, stale, over_answer
        )
        detections: list[Detection] = await asyncio.wrap_future(self._inflight)
        if not detections:
            return None
        detections.sort(key=lambda d: (d.time, -d.score))
        for extra in detections[1:]:
            log.info("also detected %s (%.2f) at %.2fs", extra.model, extra.score, extra.time)
        return detections[0]

    @property
    def quiet(self) -> bool:
        """Nothing is being scored and the speech gate is shut: the next chunks may come
        late (in bigger hand-overs) without delaying a detection."""
        detector = self._detector
        return (
            detector is not None
            and detector.shut
            and not (self._skipped or self._stale)
            and (self._inflight is None or self._inflight.done())
        )

    def record(self, chunk: bytes) -> None:
        """Keep the chunk in the pre-roll without scoring it (a conversation is open)."""
        samples = samples_from_bytes(chunk)
        self.preroll.append(samples)
        self._skipped += len(self._unscored) + len(samples)
        self._unscored = self._unscored[:0]
        self._stale = True

    def pass_over(self, chunk: bytes) -> None:
        """Keep the chunk unscored, but warm: the detector gets it for replay (cheap, no model)."""
        if self._detector is None:  # not loaded yet: nothing to keep warm
            self.record(chunk)
            return
        samples = samples_from_bytes(chunk)
        self.preroll.append(samples)
        pending = np.concatenate((self._unscored, samples))
        whole = len(pending) // FRAME_SAMPLES * FRAME_SAMPLES
        self._unscored = pending[whole:]
        if not whole:
            return
        skipped, stale = self._skipped, self._stale
        self._skipped, self._stale = 0, False
        job = (self._detector, pending[:whole], skipped, stale)
        if self._inflight is None or self._inflight.done():
            _pass_over(*job)  # microseconds a frame: the gate and a copy
        else:  # after the frames the worker is scoring
            self._inflight = self._executor.submit(_pass_over, *job)

    def reset(self) -> None:
        """Make the next process() start with a clean detector (no stale audio can trigger)."""
        self._skipped += len(self._unscored)
        self._unscored = self._unscored[:0]
        self._stale = True

    def wake_audio_start(self, detection: Detection) -> float:
        """Stream time where the conversation's audio begins for this detection."""
        return max(0.0, detection.time - POST_WAKE_LOOKBACK_SECONDS)

    def audio_since_wake(self, detection: Detection) -> bytes:
        """s16le audio from just before the wake word's end up to now, to send first."""
        start = self.wake_audio_start(detection)
        if start < self.preroll.start_time:
            lost = self.preroll.start_time - start
            log.warning("pre-roll overrun: the first %.2f s after the wake word are gone", lost)
        return self.preroll.since(start).astype("<i2").tobytes()

    @property
    def stream_time(self) -> float:
        """Seconds of microphone audio seen (processed or recorded)."""
        return self.preroll.end_time

    def close(self) -> None:
        """Stop the worker thread (waits for the frame in progress)."""
        self._executor.shutdown(wait=True, cancel_futures=True)


def _score(
    detector: Detector, samples: np.ndarray, skipped: int, stale: bool, over_answer: bool
) -> list[Detection]:
    """Worker-thread body: catch the clock up, start afresh if needed, score the chunk."""
    if stale:
        detector.reset()
    if skipped:
        detector.skip(skipped)
    return detector.feed(samples, over_answer=over_answer)


def _pass_over(detector: Detector, samples: np.ndarray, skipped: int, stale: bool) -> None:
    """pass_over()'s body, on the loop or (when it is busy) the worker, in stream order."""
    if stale:
        detector.reset()
    if skipped:
        detector.skip(skipped)
    detector.pass_over(samples)
