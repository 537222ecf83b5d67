"""The speaker's mix: the model's voice with short sounds laid over it, one block at a time.

Voice arrives as 16-bit PCM at any rate, in chunks with gaps between them; it
is converted to the device rate only as far as the next block needs, so that
a flush drops almost nothing already converted. Sounds start at the next block,
over whatever voice is playing, instead of waiting behind it.
"""

from __future__ import annotations

import collections

import numpy as np

from hardware.audio.convert import PlaybackResampler, float_to_int16, int16_to_float


class Mixer:
    """Voice and sounds at `rate` (the device's), read in blocks of `block` samples."""

    def __init__(self, rate: int, block: int) -> None:
        self.rate = rate
        self.block = block
        self._voice = SampleQueue()
        self._sounds = SampleQueue()
        self._resampler: PlaybackResampler | None = None

    def has_audio(self) -> bool:
        return bool(len(self._voice) or len(self._sounds))

    def take_voice(self, queued: collections.deque[tuple[bytes, int]]) -> None:
        """Convert (pcm, rate) chunks from `queued` until the next block is full.

        When `queued` runs dry first, the reply has (for now) ended: the
        resampler's last samples are let out too.
        """
        while len(self._voice) < self.block and queued:
            pcm, rate = queued.popleft()
            if self._resampler is None or self._resampler.in_rate != rate:
                self._resampler = PlaybackResampler(rate, self.rate)
            self._voice.push(self._resampler.convert(int16_to_float(pcm)))
        if len(self._voice) < self.block and not queued and self._resampler is not None:
            self._voice.push(self._resampler.convert(np.zeros(0, np.float32), last=True))
            self._resampler = None

    def add_sound(self, clip: np.ndarray) -> None:
        """Lay a float32 clip at `rate` over the voice, from the next block on."""
        self._sounds.push(clip)

    def next_block(self, gain: float, under: np.ndarray | None = None) -> np.ndarray:
        """Up to `block` int16 samples of voice plus sounds (plus `under`, float32 at
        `rate` with its own gain already applied: the background), scaled by `gain`."""
        voice = self._voice.take(self.block)
        sounds = self._sounds.take(self.block)
        extra = under if under is not None else np.zeros(0, np.float32)
        mix = np.zeros(max(len(voice), len(sounds), len(extra)), np.float32)
        mix[: len(voice)] += voice
        mix[: len(sounds)] += sounds
        mix[: len(extra)] += extra
        return float_to_int16(mix * gain)

    def clear(self) -> None:
        """Drop everything (flush), including the resampler's state."""
        self._voice.clear()
        self._sounds.clear()
        self._resampler = None


class SampleQueue:
    """A FIFO of float32 samples fed in arbitrary pieces and read in blocks."""

    def __init__(self) -> None:
        self._parts: collections.deque[np.ndarray] = collections.deque()
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def push(self, samples: np.ndarray) -> None:
        if len(samples):
            self._parts.append(samples)
            self._size += len(samples)

    def take(self, count: int) -> np.ndarray:
        out: list[np.ndarray] = []
        while count > 0 and self._parts:
            head = self._parts[0]
            if len(head) <= count:
                out.append(self._parts.popleft())
            else:
                out.append(head[:count])
                self._parts[0] = head[count:]
            count -= len(out[-1])
            self._size -= len(out[-1])
        return np.concatenate(out) if out else np.zeros(0, np.float32)

    def clear(self) -> None:
        self._parts.clear()
        self._size = 0
