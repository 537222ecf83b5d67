"""The speaker's background channel: bounded, mixed under the voice, ducked on a ramp."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from daemon.sim import FileBackedAlsa
from hardware.audio import Speaker
from hardware.audio.background import BackgroundChannel, db_to_gain
from tests.unit.audio.conftest import dominant_frequency, rms, tone


def test_the_queue_is_bounded_and_refuses_what_does_not_fit():
    channel = BackgroundChannel(capacity_s=1.0)
    second = tone(440, 1.0, 16000).tobytes()
    assert channel.push(second, 16000)
    assert not channel.push(second[:320], 16000)
    assert channel.queued_seconds() == pytest.approx(1.0)
    channel.take(8000, 16000)
    assert channel.room_seconds() == pytest.approx(0.5)
    channel.clear()
    assert channel.queued_seconds() == 0 and not channel.has_audio()


def test_the_gain_ramps_to_its_target_within_the_ramp():
    channel = BackgroundChannel()
    channel.push(np.full(16000, 16384, np.int16).tobytes(), 16000)
    channel.set_gain(db_to_gain(-20), ramp_s=0.05)  # 800 samples at 16 kHz
    first = channel.take(320, 16000)
    assert first[0] < 0.5 and first[-1] > 0.05  # on its way down, no step
    assert np.all(np.diff(first) <= 0)
    channel.take(480, 16000)
    assert channel.gain == pytest.approx(0.1)
    assert channel.take(320, 16000) == pytest.approx(np.full(320, 0.05), rel=1e-3)


def test_paused_it_gives_nothing_and_keeps_what_it_has():
    channel = BackgroundChannel()
    channel.push(tone(440, 0.5, 16000).tobytes(), 16000)
    channel.paused = True
    assert not channel.has_audio() and len(channel.take(320, 16000)) == 0
    channel.paused = False
    assert len(channel.take(320, 16000)) == 320


async def test_music_plays_under_the_voice_at_its_gain_and_reaches_the_far_end(
    sim_alsa: FileBackedAlsa,
):
    sim_alsa.add_speaker("sim_speaker")
    far_end: list[np.ndarray] = []
    speaker = Speaker("sim_speaker", volume=100, device_rate=48000, device_channels=1,
                      far_end=lambda block, rate: far_end.append(block.copy()), keep_running=0.2)  # fmt: skip
    music = tone(440, 1.0, 16000, amplitude=0.5).tobytes()
    async with speaker:
        speaker.set_background_gain(0.5, ramp_s=0)
        assert speaker.feed_background(music, 16000)
        assert not speaker.feed_background(music + music, 16000)  # over the 2 s bound
        speaker.play(tone(1000, 0.3, 24000, amplitude=0.3).tobytes())
        while speaker.background_queued() > 0:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)
    out = np.frombuffer(sim_alsa.recording("sim_speaker").pcm, np.int16)
    tail = out[int(0.5 * 48000) : int(0.9 * 48000)]  # music alone, after the voice
    assert dominant_frequency(tail, 48000) == pytest.approx(440, abs=3)
    assert rms(tail) / 32767 == pytest.approx(0.5 * 0.5 / np.sqrt(2), rel=0.05)
    written = np.concatenate(far_end)
    assert rms(written[int(0.5 * 48000) : int(0.9 * 48000)]) == pytest.approx(rms(tail), rel=0.01)
