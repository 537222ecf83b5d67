"""The pre-roll ring: the last N seconds, addressed by stream time."""

from __future__ import annotations

import numpy as np
import pytest

from daemon.wakeword.preroll import PreRollBuffer


def ramp(start: int, count: int) -> np.ndarray:
    """Samples whose value is their index on the stream (mod 2**15): easy to check."""
    return (np.arange(start, start + count) % 32768).astype(np.int16)


def test_returns_everything_from_a_time_on_before_it_wraps():
    buffer = PreRollBuffer(seconds=1.0)
    buffer.append(ramp(0, 8000))
    assert buffer.end_time == 0.5
    assert np.array_equal(buffer.since(0.25), ramp(4000, 4000))


@pytest.mark.parametrize("chunk", [160, 640, 1000, 7777, 16000, 40000])
def test_keeps_the_last_seconds_across_wraps(chunk):
    buffer = PreRollBuffer(seconds=1.0)
    written = 0
    while written < 50000:
        buffer.append(ramp(written, chunk))
        written += chunk
    assert buffer.end_time == written / 16000
    assert buffer.start_time == (written - 16000) / 16000
    assert np.array_equal(buffer.since(0.0), ramp(written - 16000, 16000))
    half = (written - 8000) / 16000
    assert np.array_equal(buffer.since(half), ramp(written - 8000, 8000))


def test_a_time_in_the_future_gives_nothing_and_the_past_is_clamped():
    buffer = PreRollBuffer(seconds=0.5)
    buffer.append(ramp(0, 20000))
    assert len(buffer.since(99.0)) == 0
    assert len(buffer.since(-1.0)) == 8000


def test_returned_audio_is_a_copy():
    buffer = PreRollBuffer(seconds=0.5)
    buffer.append(ramp(0, 100))
    taken = buffer.since(0.0)
    buffer.append(ramp(100, 8000))
    assert np.array_equal(taken, ramp(0, 100))


def test_length_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        PreRollBuffer(seconds=0)
