"""Sample-rate and channel conversion between what we want and what a device takes.

Many USB microphones only capture 48 kHz (often stereo); many speakers' DACs
only play 44.1/48 kHz. Rather than relying on ALSA's `plug` interpolation, we
open the device at a format it takes natively and convert with soxr, keeping
the resampler's state across chunks so chunk edges do not click.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import soxr

# Rates tried, in order, after the one we want and the device's own default.
COMMON_RATES = (48000, 44100, 32000, 16000, 24000, 22050, 96000, 8000)

SAMPLE_WIDTH = 2
"""Bytes of one sample: every stream here is 16-bit signed PCM."""


def pcm_bytes(ms: float, rate: int, channels: int = 1) -> int:
    """Bytes of `ms` milliseconds of 16-bit PCM, in whole frames (16 kHz mono: 32 a ms)."""
    return int(rate * ms // 1000) * channels * SAMPLE_WIDTH


def pcm_seconds(size: int, rate: int, channels: int = 1) -> float:
    """How long `size` bytes of 16-bit PCM last."""
    return size / (rate * channels * SAMPLE_WIDTH)


BYTES_PER_SECOND_16K = pcm_bytes(1000, 16000)
"""Bytes in one second of the 16 kHz 16-bit mono audio the microphone delivers (32000)."""


@dataclass(frozen=True)
class StreamFormat:
    """How a device stream is opened (always 16-bit signed PCM)."""

    rate: int
    channels: int

    def bytes_per_second(self) -> int:
        return pcm_bytes(1000, self.rate, self.channels)


def choose_format(
    wanted_rate: int,
    default_rate: int,
    max_channels: int,
    supports: Callable[[int, int], bool],
    *,
    rate: int | None = None,
    channels: int | None = None,
) -> StreamFormat:
    """The format to open a device with: mono at `wanted_rate` if it takes that.

    Otherwise the device's default rate (then other common rates), mono if it
    can, else stereo. `rate` / `channels` force a choice (e.g. to avoid a poor
    driver-side resampler). `supports(rate, channels)` asks the device.
    """
    if rate is not None or channels is not None:
        return StreamFormat(rate or wanted_rate, channels or 1)
    candidates: list[int] = _unique([wanted_rate, default_rate, *COMMON_RATES])
    channel_options = [c for c in (1, 2) if c <= max(max_channels, 1)]
    for candidate in candidates:
        for count in channel_options:
            if supports(candidate, count):
                return StreamFormat(candidate, count)
    # Nothing probed as supported: try the device's own default and let opening report why.
    return StreamFormat(default_rate, min(max(max_channels, 1), 2))


def _unique(values: Iterable[int]) -> list[int]:
    seen: list[int] = []
    for value in values:
        if value > 0 and value not in seen:
            seen.append(value)
    return seen


def downmix(samples: np.ndarray, channels: int) -> np.ndarray:
    """Interleaved int16 frames to mono int16 by averaging the channels."""
    if channels == 1:
        return samples
    frames = samples[: len(samples) - len(samples) % channels].reshape(-1, channels)
    mono: np.ndarray = (frames.astype(np.int32).sum(axis=1) // channels).astype(np.int16)
    return mono


def upmix(mono: np.ndarray, channels: int) -> np.ndarray:
    """Mono samples to interleaved frames with the same signal on every channel."""
    if channels == 1:
        return mono
    return np.repeat(mono, channels)


class CaptureConverter:
    """Device-format chunks in, 16-bit mono at `out_rate` out; stateful across chunks."""

    def __init__(self, device: StreamFormat, out_rate: int) -> None:
        self.device = device
        self.out_rate = out_rate
        self._resampler = (
            soxr.ResampleStream(device.rate, out_rate, 1, dtype="int16", quality="HQ")
            if device.rate != out_rate
            else None
        )

    @property
    def converts(self) -> bool:
        return self._resampler is not None or self.device.channels != 1

    def convert(self, data: bytes) -> bytes:
        mono = downmix(np.frombuffer(data, dtype=np.int16), self.device.channels)
        if self._resampler is not None:
            mono = self._resampler.resample_chunk(mono)
        return mono.astype(np.int16, copy=False).tobytes()


def resample(samples: np.ndarray, in_rate: int, out_rate: int) -> np.ndarray:
    """One-shot resampling of a whole float32 mono clip (sounds, WAV files)."""
    if in_rate == out_rate or len(samples) == 0:
        return samples.astype(np.float32, copy=False)
    resampled: np.ndarray = soxr.resample(
        samples.astype(np.float32, copy=False), in_rate, out_rate, quality="HQ"
    )
    return resampled


class PlaybackResampler:
    """A stream of mono float32 at one rate to the device rate, seamless across chunks."""

    def __init__(self, in_rate: int, out_rate: int) -> None:
        self.in_rate = in_rate
        self.out_rate = out_rate
        self._stream = (
            soxr.ResampleStream(in_rate, out_rate, 1, dtype="float32", quality="HQ")
            if in_rate != out_rate
            else None
        )

    def convert(self, samples: np.ndarray, last: bool = False) -> np.ndarray:
        if self._stream is None:
            return samples
        resampled: np.ndarray = self._stream.resample_chunk(samples, last=last)
        return resampled


def int16_to_float(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.int16).astype(np.float32) / 32768.0


def float_to_int16(samples: np.ndarray) -> np.ndarray:
    pcm: np.ndarray = (np.clip(samples, -1.0, 32767 / 32768) * 32768.0).astype(np.int16)
    return pcm
