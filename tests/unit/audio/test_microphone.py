"""Microphone over file-backed ALSA devices: format, conversion, missing devices."""

from __future__ import annotations

import asyncio
import logging

import numpy as np
import pytest

from daemon.sim import FileBackedAlsa
from hardware.audio import (
    AudioStatus,
    DeviceNotFound,
    Microphone,
    MicrophoneStopped,
    find_device,
    read_wav_as,
    write_wav,
)
from hardware.audio.convert import (
    BYTES_PER_SECOND_16K,
    StreamFormat,
    choose_format,
    pcm_bytes,
    pcm_seconds,
)
from tests.unit.audio.conftest import dominant_frequency, logged, rms, tone


async def read_chunks(mic: Microphone, count: int) -> list[bytes]:
    return [await asyncio.wait_for(mic.read(), 10) for _ in range(count)]


@pytest.mark.parametrize("chunk_ms", [40, 20])
async def test_capture_delivers_the_files_audio_in_16k_chunks(sim_alsa: FileBackedAlsa, chunk_ms):
    audio = tone(440, 1.0, 16000)
    sim_alsa.add_microphone("sim_mic", audio.tobytes())
    async with Microphone("sim_mic", chunk_ms=chunk_ms, lossless=True) as mic:
        chunks = await read_chunks(mic, 1000 // chunk_ms)
    assert {len(c) for c in chunks} == {16000 * chunk_ms // 1000 * 2}
    assert np.array_equal(np.frombuffer(b"".join(chunks), np.int16), audio)
    assert mic.format == StreamFormat(16000, 1)
    assert mic.last_chunk_at is not None


async def test_after_the_file_ends_the_microphone_hears_silence(sim_alsa: FileBackedAlsa):
    sim_alsa.add_microphone("sim_mic", tone(440, 0.4, 16000).tobytes(), tail_silence_s=1.0)
    async with Microphone("sim_mic", lossless=True) as mic:
        chunks = await read_chunks(mic, 100)  # 4 s: the file holds 1.4 s
    after = np.frombuffer(b"".join(chunks[20:]), np.int16)
    assert not after.any()


async def test_a_48k_stereo_device_is_converted_to_16k_mono(sim_alsa: FileBackedAlsa):
    left = tone(1000, 1.0, 48000, amplitude=0.5)
    right = tone(1000, 1.0, 48000, amplitude=0.3)
    stereo = np.column_stack([left, right]).ravel()
    sim_alsa.add_microphone("usb_mic", stereo.tobytes(), rate=48000, channels=2)
    async with Microphone("usb", lossless=True, device_rate=48000, device_channels=2) as mic:
        chunks = await read_chunks(mic, 24)
    assert mic.format == StreamFormat(48000, 2)
    assert {len(c) for c in chunks} == {1280}
    samples = np.frombuffer(b"".join(chunks), np.int16)[800:]  # past the resampler's start-up
    assert dominant_frequency(samples, 16000) == pytest.approx(1000, abs=16000 / len(samples) * 1.5)
    # The downmix is the average of the channels: 0.4 of full scale, RMS 0.4 / sqrt(2).
    assert rms(samples) / 32767 == pytest.approx(0.4 / np.sqrt(2), rel=0.03)


def test_a_device_that_cannot_do_16k_mono_is_opened_at_its_own_format():
    def stereo_48k_only(rate: int, channels: int) -> bool:
        return rate == 48000 and channels == 2

    assert choose_format(16000, 48000, 2, stereo_48k_only) == StreamFormat(48000, 2)
    assert choose_format(16000, 44100, 2, lambda r, c: r == 44100) == StreamFormat(44100, 1)
    assert choose_format(16000, 44100, 2, lambda r, c: True) == StreamFormat(16000, 1)


def test_sizes_of_16_bit_audio_are_counted_in_whole_frames():
    assert BYTES_PER_SECOND_16K == 32000
    assert pcm_bytes(40, 16000) == 1280 == Microphone(chunk_ms=40).chunk_bytes
    assert pcm_bytes(20, 44100, channels=2) == 882 * 2 * 2  # 882 frames, not 882.0
    assert pcm_bytes(1, 22050) == 22 * 2
    assert pcm_seconds(48000, 24000) == 1.0
    assert StreamFormat(48000, 2).bytes_per_second() == 192000


def test_an_unknown_device_name_lists_what_exists(sim_alsa: FileBackedAlsa):
    sim_alsa.add_microphone("sim_mic")
    with pytest.raises(DeviceNotFound) as caught:
        find_device("blue yeti", "input")
    assert "'blue yeti'" in str(caught.value) and "sim_mic" in str(caught.value)
    assert find_device("SIM_M", "input").name == "sim_mic"
    assert find_device(find_device("sim_mic", "input").index, "input").name == "sim_mic"
    with pytest.raises(DeviceNotFound, match="index 99"):
        find_device(99, "input")


async def test_a_missing_microphone_reports_an_error_and_is_retried_until_it_appears(
    sim_alsa: FileBackedAlsa, caplog
):
    caplog.set_level(logging.DEBUG, logger="hardware.audio.microphone")
    sim_alsa.add_microphone("sim_mic")
    statuses: list[AudioStatus] = []
    mic = Microphone("late_mic", on_status=statuses.append, retry_initial=0.05, retry_max=0.2,
                     lossless=True)
    await mic.start()
    await logged(caplog, "next try in", count=3)  # failed three more times, quietly
    errors = [s for s in statuses if s.state == "error"]
    assert len(errors) == 1 and "late_mic" in errors[0].message and "sim_mic" in errors[0].message
    assert sum("late_mic" in r.getMessage() for r in caplog.records if r.levelname == "WARNING") == 1

    sim_alsa.add_microphone("late_mic", tone(440, 0.2, 16000).tobytes())
    chunk = await asyncio.wait_for(mic.read(), 10)
    await mic.stop()
    assert len(chunk) == 1280 and np.frombuffer(chunk, np.int16).any()
    assert statuses[-1].state == "ok"


async def test_reading_ends_cleanly_after_stop(sim_alsa: FileBackedAlsa):
    sim_alsa.add_microphone("sim_mic", tone(440, 0.2, 16000).tobytes())
    mic = Microphone("sim_mic", lossless=True, max_queue_chunks=4)
    await mic.start()
    await asyncio.wait_for(mic.read(), 10)  # capturing, and soon waiting for room
    await mic.stop()
    leftover = await asyncio.wait_for(_collect(mic), 5)
    assert len(leftover) <= 4
    with pytest.raises(MicrophoneStopped):
        await asyncio.wait_for(mic.read(), 5)


async def _collect(mic: Microphone) -> list[bytes]:
    return [chunk async for chunk in mic]


async def test_pause_closes_the_device_and_resume_reopens_it(sim_alsa: FileBackedAlsa, caplog):
    caplog.set_level(logging.INFO, logger="hardware.audio.microphone")
    sim_alsa.add_microphone("sim_mic", tone(440, 1.0, 16000).tobytes())
    statuses: list[AudioStatus] = []
    async with Microphone("sim_mic", lossless=True, on_status=statuses.append) as mic:
        await read_chunks(mic, 2)  # the queue fills up behind these (lossless)
        mic.pause()
        await logged(caplog, "microphone closed (paused)")
        mic.drain()
        mic.resume()
        chunk = await asyncio.wait_for(mic.read(), 10)
        # Nothing captured before the pause came out after it: the first chunk
        # read is from the reopened device, which had reported "ok" by then.
        assert [s.state for s in statuses] == ["ok", "ok"]  # opened twice, never failed
        assert len(chunk) == 1280


def test_wav_files_of_any_format_become_16k_mono(tmp_path):
    stereo = np.column_stack([tone(1000, 0.5, 44100), tone(1000, 0.5, 44100)]).ravel()
    path = tmp_path / "in.wav"
    write_wav(path, stereo.tobytes(), 44100, channels=2)
    samples = np.frombuffer(read_wav_as(path, 16000), np.int16)
    assert len(samples) == pytest.approx(8000, abs=2)
    assert dominant_frequency(samples, 16000) == pytest.approx(1000, abs=3)


async def test_chunks_are_handed_over_joined_while_asked_then_one_by_one(sim_alsa: FileBackedAlsa):
    """A quiet room: four chunks per hand-over; back to one, nothing lost or reordered."""
    audio = tone(440, 2.0, 16000)
    sim_alsa.add_microphone("sim_mic", audio.tobytes())
    mic = Microphone("sim_mic", chunk_ms=80, lossless=True, max_queue_chunks=1)
    mic.handover_chunks = 4
    async with mic:
        joined = await read_chunks(mic, 3)
        mic.handover_chunks = 1
        rest = [await asyncio.wait_for(mic.read(), 10)]
        while sum(map(len, joined + rest)) < len(audio) * 2:
            rest.append(await asyncio.wait_for(mic.read(), 10))
    assert [len(c) for c in joined] == [4 * mic.chunk_bytes] * 3
    assert {len(c) for c in rest[2:]} == {mic.chunk_bytes}, "one chunk a hand-over again"
    assert np.array_equal(np.frombuffer(b"".join(joined + rest), np.int16)[: len(audio)], audio)
