"""Energy-based start/end of speech, like the service's automatic activity detection.

Works on audio time (samples), not wall-clock time, so a client that streams
faster than real time still gets the same end-of-utterance decisions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FRAME_SAMPLES = 320  # 20 ms at 16 kHz
DEFAULT_THRESHOLD_RMS = 400.0
DEFAULT_SILENCE_MS = 500
MIN_SPEECH_MS = 60


@dataclass
class ActivityEvent:
    kind: str
    """"start" or "end"."""
    speech_seconds: float = 0.0
    """For "end": seconds from the first to the last voiced frame."""


class EnergyDetector:
    """Feeds on 16 kHz s16le chunks, reports speech start and end."""

    def __init__(
        self,
        silence_ms: int = DEFAULT_SILENCE_MS,
        threshold_rms: float = DEFAULT_THRESHOLD_RMS,
        rate: int = 16000,
    ) -> None:
        self.rate = rate
        self.frame_samples = max(1, rate * FRAME_SAMPLES // 16000)
        self.silence_frames_needed = max(1, round(silence_ms / 20))
        self.min_voiced_frames = max(1, round(MIN_SPEECH_MS / 20))
        self.threshold = threshold_rms
        self._pending = np.zeros(0, dtype=np.int16)
        self._in_speech = False
        self._voiced_run = 0
        self._silent_run = 0
        self._speech_frames = 0

    def feed(self, pcm: bytes) -> list[ActivityEvent]:
        samples = np.frombuffer(pcm, dtype="<i2")
        self._pending = np.concatenate([self._pending, samples])
        events: list[ActivityEvent] = []
        n = self.frame_samples
        while len(self._pending) >= n:
            frame, self._pending = self._pending[:n], self._pending[n:]
            rms = float(np.sqrt(np.mean(frame.astype(np.float64) ** 2)))
            event = self._step(rms > self.threshold)
            if event:
                events.append(event)
        return events

    def _step(self, voiced: bool) -> ActivityEvent | None:
        if not self._in_speech:
            self._voiced_run = self._voiced_run + 1 if voiced else 0
            if self._voiced_run >= self.min_voiced_frames:
                self._in_speech = True
                self._speech_frames = self._voiced_run
                self._silent_run = 0
                return ActivityEvent("start")
            return None
        if voiced:
            self._speech_frames += self._silent_run + 1
            self._silent_run = 0
            return None
        self._silent_run += 1
        if self._silent_run >= self.silence_frames_needed:
            return self.finish()
        return None

    def finish(self) -> ActivityEvent | None:
        """End the utterance now (audioStreamEnd), if one is going on."""
        if not self._in_speech:
            self._voiced_run = 0
            return None
        seconds = self._speech_frames * self.frame_samples / self.rate
        self._in_speech = False
        self._voiced_run = 0
        self._silent_run = 0
        self._speech_frames = 0
        return ActivityEvent("end", seconds)
