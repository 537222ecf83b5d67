"""The last few seconds of microphone audio, addressable by stream time.

The Live session takes a moment to open after the wake word; the words the
user says meanwhile must not be lost. The capture path writes every chunk
here, and once the session is up the conversation starts with the audio from
just before the end of the wake word (see listener.POST_WAKE_LOOKBACK_SECONDS).

    buffer = PreRollBuffer(seconds=10)
    buffer.append(samples)
    command = buffer.since(wake_end_time)
"""

from __future__ import annotations

import numpy as np

from daemon.wakeword.detector import SAMPLE_RATE


class PreRollBuffer:
    """A fixed-size ring of int16 samples on the same clock as the detector."""

    def __init__(self, seconds: float, rate: int = SAMPLE_RATE) -> None:
        if seconds <= 0:
            raise ValueError(f"pre-roll length must be positive, not {seconds}")
        self.rate = rate
        self.capacity = round(seconds * rate)
        self._ring = np.zeros(self.capacity, dtype=np.int16)
        self._written = 0  # samples appended since stream start: the clock

    @property
    def end_time(self) -> float:
        """Stream time just after the newest sample (seconds since stream start)."""
        return self._written / self.rate

    @property
    def start_time(self) -> float:
        """Stream time of the oldest sample still held."""
        return max(0, self._written - self.capacity) / self.rate

    def append(self, samples: np.ndarray) -> None:
        """Add samples at the end; the oldest fall off once the buffer is full."""
        samples = np.asarray(samples, dtype=np.int16)
        if len(samples) >= self.capacity:
            tail = samples[-self.capacity :]
            start = (self._written + len(samples) - self.capacity) % self.capacity
            self._ring[start:] = tail[: self.capacity - start]
            self._ring[:start] = tail[self.capacity - start :]
        else:
            start = self._written % self.capacity
            first = min(len(samples), self.capacity - start)
            self._ring[start : start + first] = samples[:first]
            self._ring[: len(samples) - first] = samples[first:]
        self._written += len(samples)

    def since(self, time: float) -> np.ndarray:
        """A copy of the audio from stream time `time` (clamped to what is held) to now."""
        oldest = max(0, self._written - self.capacity)
        first = min(max(round(time * self.rate), oldest), self._written)
        count = self._written - first
        start = first % self.capacity
        if start + count <= self.capacity:
            return self._ring[start : start + count].copy()
        return np.concatenate((self._ring[start:], self._ring[: count - (self.capacity - start)]))
