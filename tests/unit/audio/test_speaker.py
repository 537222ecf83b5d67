"""Speaker over a file-backed ALSA device: conversion, volume, sounds, missing devices."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import numpy as np
import pytest

from daemon.sim import FileBackedAlsa
from hardware.audio import AudioStatus, Speaker, volume_gain, write_wav
from hardware.audio.convert import StreamFormat
from hardware.audio.sounds import load_sound
from tests.unit.audio.conftest import dominant_frequency, rms, tone


async def play_all(speaker: Speaker, *pcms: bytes) -> None:
    for pcm in pcms:
        speaker.play(pcm)
    await asyncio.wait_for(speaker.wait_drained(), 10)


async def test_model_audio_is_written_converted_to_the_device_rate(sim_alsa: FileBackedAlsa):
    sim_alsa.add_speaker("sim_speaker")
    audio = tone(1000, 1.0, 24000, amplitude=0.5)
    started: list[float] = []
    speaker = Speaker("sim_speaker", volume=100, device_rate=48000, device_channels=2,
                      on_playout_start=started.append)
    async with speaker:
        # Arrives in 40 ms pieces, as from the Live API.
        await play_all(speaker, *(audio[i : i + 960].tobytes() for i in range(0, len(audio), 960)))
        assert not speaker.is_playing
    out = sim_alsa.recording("sim_speaker")
    assert (out.rate, out.channels) == (48000, 2)
    assert out.seconds == pytest.approx(1.0, abs=0.03)
    left, right = np.frombuffer(out.pcm, np.int16).reshape(-1, 2).T
    assert np.array_equal(left, right)
    assert dominant_frequency(left, 48000) == pytest.approx(1000, abs=2)
    assert rms(left[4800:-4800]) / 32767 == pytest.approx(0.5 / np.sqrt(2), rel=0.02)
    assert len(started) == 1 and started[0] == speaker.playout_started_at
    assert speaker.format == StreamFormat(48000, 2)


async def test_volume_scales_the_output_and_can_change_while_playing(sim_alsa: FileBackedAlsa):
    sim_alsa.add_speaker("sim_speaker")
    audio = tone(500, 0.5, 24000, amplitude=0.8).tobytes()
    async with Speaker("sim_speaker", volume=100) as speaker:
        await play_all(speaker, audio)
        speaker.set_volume(50)
        await play_all(speaker, audio)
        speaker.set_volume(0)
        await play_all(speaker, audio)
    out = np.frombuffer(sim_alsa.recording("sim_speaker").pcm, np.int16)
    full, half, mute = out[:12000], out[12000:24000], out[24000:36000]
    assert len(mute) == 12000
    assert rms(half) / rms(full) == pytest.approx(volume_gain(50), rel=0.02)
    assert volume_gain(50) == 0.25 and rms(mute) == 0


async def test_built_in_and_wav_sounds_play_and_a_bad_path_is_only_logged(
    sim_alsa: FileBackedAlsa, tmp_path: Path, caplog
):
    sim_alsa.add_speaker("sim_speaker")
    beep = tmp_path / "beep.wav"
    write_wav(beep, tone(2000, 0.25, 8000).tobytes(), 8000)
    async with Speaker("sim_speaker", volume=100) as speaker:
        for sound in ("chime", "buzz", str(beep), str(tmp_path / "missing.wav")):
            speaker.play_sound(sound)
            await asyncio.wait_for(speaker.wait_drained(), 10)
    out = np.frombuffer(sim_alsa.recording("sim_speaker").pcm, np.int16)
    seconds = len(out) / 24000
    assert seconds == pytest.approx(0.35 + 0.38 + 0.25, abs=0.05)
    beep_part = out[-6000:]
    assert dominant_frequency(beep_part, 24000) == pytest.approx(2000, abs=8)
    assert any("missing.wav" in r.getMessage() and r.levelno == logging.WARNING
               for r in caplog.records)


async def test_a_sound_is_mixed_over_the_voice_not_queued_after_it(sim_alsa: FileBackedAlsa):
    sim_alsa.add_speaker("sim_speaker")
    voice = tone(300, 1.0, 24000, amplitude=0.3)
    async with Speaker("sim_speaker", volume=100) as speaker:
        speaker.play(voice.tobytes())
        speaker.play_sound("chime")
        await asyncio.wait_for(speaker.wait_drained(), 10)
    out = sim_alsa.recording("sim_speaker")
    assert (out.rate, out.channels) == (24000, 1)
    assert out.seconds == pytest.approx(1.0, abs=0.03)  # not 1.35 s: nothing waited
    # What was played on top of the voice is the whole chime, sample for sample,
    # starting while the voice still had most of its second to go.
    added = np.frombuffer(out.pcm, np.int16)[: len(voice)].astype(np.float64) - voice
    chime = load_sound("chime", 24000).astype(np.float64) * 32768
    start = int(np.argmax(np.correlate(added, chime, "valid")))
    assert start < 0.2 * 24000
    assert np.abs(added[start : start + len(chime)] - chime).max() <= 2
    assert np.abs(np.delete(added, np.s_[start : start + len(chime)])).max() <= 1
    assert rms(added) > 0.1 * rms(voice.astype(np.float64))


async def test_a_missing_speaker_reports_an_error_and_playing_does_not_raise(
    sim_alsa: FileBackedAlsa,
):
    sim_alsa.add_speaker("sim_speaker")
    statuses: list[AudioStatus] = []
    speaker = Speaker("hdmi", on_status=statuses.append, retry_initial=0.05, retry_max=0.1)
    await speaker.start()
    speaker.play(tone(440, 0.2, 24000).tobytes())
    speaker.play_sound("chime")
    await asyncio.wait_for(speaker.wait_drained(), 5)
    await speaker.stop()
    assert statuses[0].state == "error"
    assert "'hdmi'" in statuses[0].message and "sim_speaker" in statuses[0].message


async def test_silence_between_replies_goes_out_no_faster_than_it_plays(sim_alsa: FileBackedAlsa):
    """With echo cancellation the stream runs on written silence after a reply; a
    device whose writes never block (this file) must not make that a busy loop."""
    sim_alsa.add_speaker("sim_speaker")
    reference: list[int] = []
    speaker = Speaker(
        "sim_speaker", volume=100, far_end=lambda block, rate: reference.append(len(block)),
        keep_running=30.0,
    )  # fmt: skip
    loop = asyncio.get_running_loop()
    async with speaker:
        started = loop.time()
        await play_all(speaker, tone(440, 0.2, 24000).tobytes())
        await asyncio.sleep(1.0)  # the gap after the reply
        elapsed = loop.time() - started
    written = sim_alsa.recording("sim_speaker").seconds
    assert 1.0 <= written <= elapsed + 0.5, (written, elapsed)
