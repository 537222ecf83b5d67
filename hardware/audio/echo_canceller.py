"""Acoustic echo cancellation and noise suppression for the microphone (WebRTC APM).

The speaker hands over exactly what it writes (voice and chimes, after the
volume) as the far-end reference; the microphone passes every captured chunk
through `process_capture()`. WebRTC's AEC3 (from the `livekit` package's
`rtc.AudioProcessingModule`, 10 ms frames at 16 kHz) subtracts the speaker's
sound as the room returned it; its own delay estimator finds the echo path,
starting from the playout delay we tell it.

When nothing has been played for `idle_after` seconds the capture bypasses
the module (unless noise suppression is asked for on the idle path): there is
no echo to remove then, and the wake word works as well on the bare signal.

    canceller = EchoCanceller()       # EchoCancellerUnavailable if the library does not load
    speaker = Speaker(..., far_end=canceller.far_end)
    mic = Microphone(..., processor=canceller.process_capture)
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from typing import Any

import numpy as np
import soxr

log = logging.getLogger(__name__)

RATE = 16000
FRAME = RATE // 100  # the module takes exactly 10 ms frames
IDLE_AFTER_SECONDS = 2.0
"""How long after the speaker last played the capture stops going through the module."""
LEAD_FRAMES = 2
"""Silent far-end frames put before a new stream's first: room for either thread to
run a little late. It shortens the delay the module sees by as much, so it stays
well under the shortest echo delay (a device buffer, half a mic chunk, the air)."""
STREAM_GAP_SECONDS = 0.2
"""No far end for this long: the speaker's stream stopped, the next is a new one."""
SILENT_FRAME = np.zeros(FRAME, np.int16)
MAX_FAR_AHEAD_FRAMES = 50
"""More far-end frames than this between two capture chunks (0.5 s; a device buffer
and a chunk are far less): the microphone is not running, so none are kept."""


class EchoCancellerUnavailable(RuntimeError):
    """The WebRTC audio processing library is missing or does not load on this machine."""


def load_module(**features: bool) -> tuple[Any, Any]:
    """A new rtc.AudioProcessingModule and the AudioFrame class it takes; or
    EchoCancellerUnavailable, saying why not."""
    try:
        from livekit import rtc
    except Exception as exc:  # ImportError, or a shared library that does not load
        raise EchoCancellerUnavailable(
            f"the livekit package does not load ({exc}); pip install livekit"
        ) from exc
    try:
        return rtc.AudioProcessingModule(**features), rtc.AudioFrame
    except Exception as exc:
        raise EchoCancellerUnavailable(f"WebRTC audio processing failed to start: {exc}") from exc


class EchoCanceller:
    """Removes the speaker's sound from the microphone; thread-safe (speaker and mic threads)."""

    def __init__(
        self,
        *,
        echo_cancellation: bool = True,
        noise_suppression: bool = False,
        high_pass_filter: bool = True,
        auto_gain_control: bool = False,
        process_when_idle: bool = False,
        idle_after: float = IDLE_AFTER_SECONDS,
        delay_ms: int = 0,
    ) -> None:
        """`process_when_idle` keeps the module on while nothing plays (for noise
        suppression); `delay_ms` is the first guess of the echo delay."""
        self._apm, self._frame_type = load_module(
            echo_cancellation=echo_cancellation,
            noise_suppression=noise_suppression,
            high_pass_filter=high_pass_filter,
            auto_gain_control=auto_gain_control,
        )
        self.echo_cancellation = echo_cancellation
        self.process_when_idle = process_when_idle
        self.idle_after = idle_after
        self._lock = threading.Lock()
        self._far_pending = np.zeros(0, np.int16)
        self._far_frames: collections.deque[np.ndarray] = collections.deque()
        """10 ms far-end frames written by the speaker, not yet paired with a capture frame."""
        self._far_written_at = -1e9  # time.monotonic() of the last far_end()
        self._far_since_capture = 0  # far-end frames handed over since the last capture
        self.far_end_late = 0
        """Capture frames the speaker's frame came too late for (each moves the delay)."""
        self._near_pending = np.zeros(0, np.int16)
        self._out = bytearray()  # processed, not yet handed back
        self._resampler: Any = None
        self._resampler_rate = 0
        self._last_far = -1e9  # time.monotonic() of the last far-end block
        self._delay_ms = -1
        self.set_delay_ms(delay_ms)
        self.frames_processed = 0
        """Capture frames that went through the module (the rest bypassed it)."""
        self.errors = 0
        """Frames the module refused (passed on as they were)."""

    def set_delay_ms(self, delay_ms: int) -> None:
        """The playout plus capture delay: where the delay estimator starts looking."""
        delay_ms = int(max(0, min(500, delay_ms)))
        if self.echo_cancellation and delay_ms != self._delay_ms:
            with self._lock:
                self._apm.set_stream_delay_ms(delay_ms)
            self._delay_ms = delay_ms

    @property
    def active(self) -> bool:
        """The capture goes through the module now (something played recently)."""
        return self.process_when_idle or time.monotonic() - self._last_far < self.idle_after

    def _failed(self, exc: Exception) -> None:
        self.errors += 1
        if self.errors == 1 or self.errors % 1000 == 0:
            log.warning("echo canceller failed on a frame (%d so far): %s", self.errors, exc)

    # -- the speaker's thread ----------------------------------------------------------

    def far_end(self, samples: np.ndarray, rate: int) -> None:
        """What the speaker just wrote: int16 mono at the device's rate, after the volume.

        Queued, not handed to the module yet: the capture side hands one frame over
        before each frame it processes (see `_next_far_frame`)."""
        if not self.echo_cancellation or not len(samples):
            return
        if samples.any():
            self._last_far = time.monotonic()
        if rate != RATE:
            if self._resampler is None or self._resampler_rate != rate:
                self._resampler = soxr.ResampleStream(rate, RATE, 1, dtype="int16", quality="LQ")
                self._resampler_rate = rate
            samples = self._resampler.resample_chunk(np.asarray(samples, np.int16))
        with self._lock:
            now = time.monotonic()
            if now - self._far_written_at > STREAM_GAP_SECONDS and not self._far_frames:
                self._far_frames.extend([SILENT_FRAME] * LEAD_FRAMES)  # a new stream
            self._far_written_at = now
            pending = np.concatenate([self._far_pending, samples])
            whole = len(pending) // FRAME * FRAME
            self._far_pending = pending[whole:]
            self._far_since_capture += whole // FRAME
            if self._far_since_capture > MAX_FAR_AHEAD_FRAMES:  # nobody captures
                self._far_frames.clear()
                return
            for start in range(0, whole, FRAME):
                self._far_frames.append(pending[start : start + FRAME])

    def _next_far_frame(self) -> np.ndarray:
        """Under the lock, before a capture frame: the far end's frame that goes with it.

        One far-end frame per capture frame, in step, so the module sees the same
        distance between a sound written and its echo all reply long (handed over
        as the speaker wrote them, in bursts, with silence put in whenever the
        capture got ahead, that distance moved and AEC3 leaked the echo for a
        second or two mid-answer while it found it again). A new stream starts
        `LEAD_FRAMES` ahead; if the speaker still falls behind, this capture frame
        gets silence, which moves the distance once, by one frame, and widens
        the lead for the next time."""
        if self._far_frames:
            return self._far_frames.popleft()
        if self._speaker_writing():
            self.far_end_late += 1
        return SILENT_FRAME

    def _speaker_writing(self) -> bool:
        return time.monotonic() - self._far_written_at < STREAM_GAP_SECONDS

    # -- the microphone's thread -------------------------------------------------------

    def process_capture(self, pcm: bytes) -> bytes:
        """16 kHz int16 mono chunk in, the same length out.

        Chunks of whole 10 ms frames come out as they went in; other lengths are
        delayed by under 10 ms (constant, zeros first) so no sample is lost."""
        if self._far_since_capture:
            with self._lock:
                if self._far_since_capture > MAX_FAR_AHEAD_FRAMES:
                    # The microphone was closed (muted) or stalled while the speaker
                    # went on: pair afresh, as for a new stream.
                    self._far_frames.clear()
                    self._far_written_at = -1e9
                self._far_since_capture = 0
        if not self.active:
            if len(self._near_pending) or self._out:
                self._near_pending = np.zeros(0, np.int16)
                self._out.clear()
            if self._far_frames:  # bypassed, but the far end's frames keep their step
                with self._lock:
                    for _ in range(min(len(pcm) // (2 * FRAME), len(self._far_frames))):
                        self._far_frames.popleft()
            return pcm
        samples = np.concatenate([self._near_pending, np.frombuffer(pcm, np.int16)])
        whole = len(samples) // FRAME * FRAME
        with self._lock:
            for start in range(0, whole, FRAME):
                raw = samples[start : start + FRAME].tobytes()
                frame = self._frame_type(raw, RATE, 1, FRAME)
                try:
                    if self.echo_cancellation:
                        far = self._next_far_frame().tobytes()
                        self._apm.process_reverse_stream(self._frame_type(far, RATE, 1, FRAME))
                    self._apm.process_stream(frame)
                    self._out += frame.data.tobytes()
                except RuntimeError as exc:  # the microphone goes on, uncancelled
                    self._failed(exc)
                    self._out += raw
            self.frames_processed += whole // FRAME
        self._near_pending = samples[whole:]
        if len(self._out) < len(pcm):
            self._out[:0] = bytes(len(pcm) - len(self._out))
        chunk = bytes(self._out[: len(pcm)])
        del self._out[: len(pcm)]
        return chunk
