"""Simulated sound devices for the audio driver tests (real PyAudio over ALSA)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from daemon.sim import FileBackedAlsa, PulseAudioHarness


def tone(freq: float, seconds: float, rate: int, amplitude: float = 0.5) -> np.ndarray:
    """A sine as int16 samples."""
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * freq * t) * amplitude * 32767).astype(np.int16)


def dominant_frequency(samples: np.ndarray, rate: int) -> float:
    """The frequency with the most energy (Hann-windowed FFT)."""
    x = samples.astype(np.float64) * np.hanning(len(samples))
    spectrum = np.abs(np.fft.rfft(x))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if len(samples) else 0.0


async def logged(caplog: pytest.LogCaptureFixture, text: str, count: int = 1) -> None:
    """Wait (up to 10 s) until `count` log records contain `text`.

    A device thread logs what it did; once the record is seen, one more turn of
    the loop runs whatever the thread handed to the loop before it logged.
    """

    async def seen() -> None:
        while sum(text in r.getMessage() for r in caplog.records) < count:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0)

    await asyncio.wait_for(seen(), 10)


@pytest.fixture
def sim_alsa(tmp_path: Path) -> Iterator[FileBackedAlsa]:
    """File-backed ALSA devices, active in this process for the test's duration."""
    sim = FileBackedAlsa(tmp_path / "alsa")
    with sim.activate():
        yield sim


@pytest.fixture
def pulse() -> Iterator[PulseAudioHarness]:
    """A private real-time PulseAudio server whose `mic` and `speaker` PyAudio sees."""
    with PulseAudioHarness() as harness, harness.activate():
        yield harness
