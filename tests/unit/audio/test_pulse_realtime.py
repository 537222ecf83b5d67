"""Real-time audio through a private PulseAudio server: the mic hears, the speaker stops."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import numpy as np
import pytest

from daemon.sim import PulseAudioHarness
from hardware.audio import AudioStatus, Microphone, Speaker, write_wav
from tests.unit.audio.conftest import dominant_frequency, logged, rms, tone


async def test_a_wav_spoken_into_the_mic_reaches_the_microphone_in_real_time(
    pulse: PulseAudioHarness, tmp_path: Path
):
    wav = tmp_path / "tone.wav"
    write_wav(wav, tone(1000, 1.0, 16000, amplitude=0.5).tobytes(), 16000)
    assert pulse.startup_seconds is not None
    print(f"PulseAudio harness started in {pulse.startup_seconds:.3f} s")
    async with Microphone("mic") as mic:
        await asyncio.wait_for(mic.read(), 10)  # capture is running
        began = time.monotonic()
        player = pulse.speak_into_mic(wav, wait=False)
        chunks = [await asyncio.wait_for(mic.read(), 5) for _ in range(50)]  # 2 s
        elapsed = time.monotonic() - began
        await asyncio.to_thread(player.wait)
    samples = np.frombuffer(b"".join(chunks), np.int16)
    loud = [rms(np.frombuffer(c, np.int16)) > 3000 for c in chunks]
    assert 20 <= sum(loud) <= 27  # about 1 s of the 2 s held the tone
    assert dominant_frequency(samples, 16000) == pytest.approx(1000, abs=2)
    assert elapsed > 1.5  # it came at the speed of sound, not of a file read


def seconds_of_tone(samples: np.ndarray, rate: int, freq: float | None = None) -> float:
    """How long the recording held a loud signal (of about `freq`), in 20 ms blocks."""
    block = rate // 50
    blocks = samples[: len(samples) // block * block].reshape(-1, block)
    return sum(
        rms(b) > 1000 and (freq is None or abs(dominant_frequency(b, rate) - freq) < 100)
        for b in blocks
    ) / 50


async def test_flush_silences_the_speaker_at_once(pulse: PulseAudioHarness):
    reply = tone(700, 5.0, 24000, amplitude=0.5).tobytes()
    after_flush = tone(1500, 0.3, 24000, amplitude=0.5).tobytes()
    async with Speaker("speaker", volume=100) as speaker:
        with pulse.record_speaker(rate=24000) as recorder:
            for i in range(0, len(reply), 1920):  # 40 ms pieces, all queued at once
                speaker.play(reply[i : i + 1920])
            for _ in range(250):  # until the room has heard a little of the reply
                if seconds_of_tone(recorder.snapshot().mono(), 24000) >= 0.3:
                    break
                await asyncio.sleep(0.02)
            assert speaker.is_playing
            speaker.flush()
            speaker.play(after_flush)  # the next thing the room hears
            await asyncio.wait_for(speaker.wait_drained(), 5)
            for _ in range(250):
                if seconds_of_tone(recorder.snapshot().mono(), 24000, 1500) >= 0.2:
                    break
                await asyncio.sleep(0.02)
            heard = recorder.stop()
        assert speaker.playout_started_at is not None
    reply_heard = seconds_of_tone(heard.mono(), 24000, 700)
    print(f"heard {reply_heard:.2f} s of 5 s queued")
    assert seconds_of_tone(heard.mono(), 24000, 1500) >= 0.2
    assert 0.3 <= reply_heard < 1.0


async def test_a_microphone_whose_server_dies_reports_an_error_without_raising(caplog):
    caplog.set_level(logging.DEBUG, logger="hardware.audio.microphone")
    statuses: list[AudioStatus] = []
    with PulseAudioHarness() as harness, harness.activate():
        mic = Microphone("mic", on_status=statuses.append, retry_initial=0.05, retry_max=0.2)
        await mic.start()
        await asyncio.wait_for(mic.read(), 10)
        await asyncio.to_thread(harness.kill_server)
        for _ in range(100):
            if any(s.state == "error" for s in statuses):
                break
            await asyncio.sleep(0.05)
        stalled_at = mic.last_chunk_at
        tries = sum("next try in" in r.getMessage() for r in caplog.records)
        await logged(caplog, "next try in", count=tries + 2)  # tried to reopen twice more
        await mic.stop()
    errors = [s for s in statuses if s.state == "error"]
    assert len(errors) == 1 and "'mic'" in errors[0].message
    assert mic.last_chunk_at == stalled_at  # the watchdog can see capture stopped


async def test_a_writer_held_up_past_the_device_buffer_counts_a_device_underrun(
    pulse: PulseAudioHarness,
):
    """The count says when the writer was late (a gap heard); a pause between two
    replies is not counted."""
    async with Speaker("speaker", volume=100) as speaker:
        speaker.play(tone(700, 0.5, 24000).tobytes())
        await asyncio.wait_for(speaker.wait_drained(), 5)
        await asyncio.sleep(0.3)  # a pause: the device runs dry, nobody is late
        speaker.play(tone(700, 0.5, 24000).tobytes())
        await asyncio.wait_for(speaker.wait_drained(), 5)
        assert speaker.device_underruns == 0
        assert speaker.feed_background(tone(440, 2.0, 24000).tobytes(), 24000)
        await asyncio.sleep(0.3)
        with speaker._cond:  # the writer's lock: it stalls 200 ms, past the device buffer
            await asyncio.to_thread(time.sleep, 0.2)
        while speaker.background_queued() > 0.5:
            await asyncio.sleep(0.02)
        assert speaker.device_underruns == 1
