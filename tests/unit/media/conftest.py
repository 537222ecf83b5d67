"""A recording stand-in for the speaker's background channel, and the test web server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import numpy as np
import pytest

from tests.support.media_server import MediaServer

RATE = 16000


class RecordingSink:
    """Takes decoded audio like the speaker's channel, up to `limit_s` seconds, then is full."""

    def __init__(self, limit_s: float = 3.0) -> None:
        self.limit_s = limit_s
        self.pcm = bytearray()
        self.gains: list[tuple[float, float]] = []
        self.paused = False
        self.cleared = 0

    @property
    def seconds(self) -> float:
        return len(self.pcm) / (2 * RATE)

    def feed_background(self, pcm: bytes, rate: int) -> bool:
        assert rate == RATE
        if self.seconds >= self.limit_s:
            return False
        self.pcm += pcm
        return True

    def set_background_gain(self, gain: float, ramp_s: float = 0.05) -> None:
        self.gains.append((gain, ramp_s))

    def pause_background(self, paused: bool) -> None:
        self.paused = paused

    def clear_background(self) -> None:
        self.cleared += 1

    def samples(self) -> np.ndarray:
        return np.frombuffer(bytes(self.pcm), np.int16)

    async def filled(self, seconds: float, timeout: float = 20.0) -> None:
        async def wait() -> None:
            while self.seconds < seconds:
                await asyncio.sleep(0.02)

        await asyncio.wait_for(wait(), timeout)


def dominant_frequency(samples: np.ndarray, rate: int = RATE) -> float:
    x = samples.astype(np.float64) * np.hanning(len(samples))
    spectrum = np.abs(np.fft.rfft(x))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MediaServer]:
    with MediaServer(tmp_path_factory.mktemp("media")) as running:
        yield running
