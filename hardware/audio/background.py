"""A background PCM channel for the speaker: music or radio under the voice.

Whoever feeds it (a decoder process, read on the event loop) pushes 16-bit
mono PCM; the speaker's writer thread takes it block by block, converts it to
the device rate, scales it by its own gain and mixes it under the voice and
sounds, before the echo canceller's far end is handed the block. The gain is
changed on a short linear ramp, sample by sample, at the next block written:
so ducking is heard within one block plus the device buffer, however much is
queued here, and never clicks.

The queue is bounded (`capacity_s`): push() refuses what does not fit, so a
feeder that runs ahead simply waits, and a stream that plays for days holds
no more than that. Not thread-safe by itself: the speaker calls it under its
own lock.
"""

from __future__ import annotations

import collections
import time

import numpy as np

from hardware.audio.convert import PlaybackResampler, int16_to_float

DEFAULT_CAPACITY_S = 2.0
DEFAULT_RAMP_S = 0.05


def db_to_gain(db: float) -> float:
    """Amplitude factor of `db` decibels (-20 dB: 0.1)."""
    return float(10.0 ** (db / 20.0))


class BackgroundChannel:
    """Bounded queue of (pcm, rate) chunks, read as float32 at the device rate with a gain ramp."""

    def __init__(self, capacity_s: float = DEFAULT_CAPACITY_S) -> None:
        self.capacity_s = capacity_s
        self._chunks: collections.deque[tuple[bytes, int]] = collections.deque()
        self._queued_s = 0.0
        self._converted = np.zeros(0, np.float32)
        self._out_rate = 48000  # of _converted: the device rate take() is asked for
        self._resampler: PlaybackResampler | None = None
        self._gain = 1.0
        self._target = 1.0
        self._step = 0.0  # per sample, towards the target
        self._ramp_s = DEFAULT_RAMP_S
        self.paused = False
        self.underruns = 0
        """Times the queue ran dry while not paused (a slow stream)."""
        self.ramp_done_at: float | None = None
        """time.monotonic() when the last gain change was complete in a block taken."""
        self._was_feeding = False

    # -- the feeder's side -------------------------------------------------------

    def push(self, pcm: bytes, rate: int) -> bool:
        """Queue `pcm` (16-bit mono at `rate`); False (nothing queued) when it does not fit."""
        seconds = len(pcm) / (2 * rate)
        queued = self.queued_seconds()
        if queued + seconds > self.capacity_s and queued > 0:
            return False
        if pcm:
            self._chunks.append((pcm, rate))
            self._queued_s += seconds
        return True

    def queued_seconds(self) -> float:
        """Seconds queued and not yet played."""
        return self._queued_s + len(self._converted) / self._out_rate

    def room_seconds(self) -> float:
        return max(0.0, self.capacity_s - self.queued_seconds())

    def clear(self) -> None:
        """Drop everything queued (stop, or a new track)."""
        self._chunks.clear()
        self._queued_s = 0.0
        self._converted = np.zeros(0, np.float32)
        self._resampler = None
        self._was_feeding = False

    def set_gain(self, gain: float, ramp_s: float = DEFAULT_RAMP_S) -> None:
        """Move to `gain` (amplitude) over `ramp_s` seconds from the next block on."""
        self._target = max(0.0, float(gain))
        self._ramp_s = max(0.0, ramp_s)
        self._step = 0.0  # computed at the next block, at the device rate

    @property
    def gain(self) -> float:
        """The gain the last block ended at."""
        return self._gain

    @property
    def target_gain(self) -> float:
        return self._target

    # -- the writer thread's side ------------------------------------------------

    def has_audio(self) -> bool:
        return not self.paused and (bool(self._chunks) or len(self._converted) > 0)

    def take(self, count: int, rate: int) -> np.ndarray:
        """Up to `count` float32 samples at `rate`, gain applied; empty when paused or dry."""
        if self.paused:
            return np.zeros(0, np.float32)
        self._out_rate = rate
        while len(self._converted) < count and self._chunks:
            pcm, chunk_rate = self._chunks.popleft()
            self._queued_s = max(0.0, self._queued_s - len(pcm) / (2 * chunk_rate))
            samples = int16_to_float(pcm)
            if chunk_rate != rate:
                if self._resampler is None or self._resampler.in_rate != chunk_rate:
                    self._resampler = PlaybackResampler(chunk_rate, rate)
                samples = self._resampler.convert(samples)
            self._converted = np.concatenate([self._converted, samples])
        out, self._converted = self._converted[:count], self._converted[count:]
        if len(out) == 0:
            if self._was_feeding:
                self.underruns += 1
            self._was_feeding = False
            return out
        self._was_feeding = True
        scaled: np.ndarray = out * self._gains(len(out), rate)
        return scaled

    def _gains(self, count: int, rate: int) -> np.ndarray:
        if self._gain == self._target:
            return np.full(count, self._gain, np.float32)
        if self._step == 0.0:
            samples = max(1.0, self._ramp_s * rate)
            self._step = (self._target - self._gain) / samples
        ramp = self._gain + self._step * np.arange(1, count + 1, dtype=np.float64)
        ramp = np.minimum(ramp, self._target) if self._step > 0 else np.maximum(ramp, self._target)
        self._gain = float(ramp[-1])
        if self._gain == self._target:
            self._step = 0.0
            self.ramp_done_at = time.monotonic()
        return ramp.astype(np.float32)
