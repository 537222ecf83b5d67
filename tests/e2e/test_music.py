"""Music in the real daemon over real-time audio: radio from a local web server, decoded
by ffmpeg, heard at the speaker, ducked by the spoken wake word and back after.

One short test (the CI budget is tight): the unit tests cover the formats, the
failures, the drops and every way of ducking (tests/unit/media, appliance).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from daemon.emulator import EmulatorThread
from daemon.sim.pulse import PulseAudioHarness, SpeakerRecorder
from tests.e2e.conftest import Speech, appliance_config, async_wait_until, in_process_daemon
from tests.support.media_server import MediaServer

RATE = 24000
MUSIC_HZ = 440  # tone.mp3; the emulated model speaks at 330 Hz


@pytest.fixture(scope="module")
def radio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MediaServer]:
    with MediaServer(tmp_path_factory.mktemp("radio")) as server:
        yield server


def music_level(recorder: SpeakerRecorder, seconds: float = 0.4) -> float:
    """RMS of the music's band (440 Hz +- 20) over the last `seconds` at the speaker."""
    pcm = np.frombuffer(recorder.snapshot().pcm, np.int16)[-int(seconds * RATE) :]
    spectrum = np.fft.rfft(pcm.astype(np.float64) * np.hanning(len(pcm)))
    freqs = np.fft.rfftfreq(len(pcm), 1 / RATE)
    band = (freqs > MUSIC_HZ - 20) & (freqs < MUSIC_HZ + 20)
    return float(np.sqrt(np.sum(np.abs(spectrum[band]) ** 2)) / len(pcm))


async def test_radio_plays_ducks_under_the_wake_word_and_comes_back(
    pulse: PulseAudioHarness, emu: EmulatorThread, workdir: Path, speech: Speech,
    radio: MediaServer,
) -> None:  # fmt: skip
    stations = [{"name": "Test Radio", "url": radio.url("live.mp3")}]
    config = appliance_config(
        workdir, emu, media={"stations": stations, "volume": 100, "duck_db": 20},
        conversation={"follow_up_seconds": 1.0},
    )  # fmt: skip
    async with in_process_daemon(pulse, config) as daemon:
        appliance = daemon.appliance
        assert appliance is not None and appliance.media is not None
        with pulse.record_speaker(RATE) as recorder:
            code, out = await daemon.ctl("play", "test", "radio")
            assert code == 0 and out.startswith("playing Test Radio"), out
            await asyncio.sleep(1.5)
            full = music_level(recorder)
            assert full > 0, "no music at the speaker"

            await daemon.speak(pulse, speech.wav())  # "hey jarvis"
            await async_wait_until(lambda: appliance.media.ducked, 10, "the music to duck")
            await asyncio.sleep(0.3)  # the ramp, the device buffer, the recorder's pipe
            ducked = music_level(recorder, 0.3)
            code, out = await daemon.ctl("stop")  # ends the conversation, not the music
            assert code == 0 and out.strip() == "stopped", out
            await daemon.wait_state("idle", 10)
            await asyncio.sleep(1.2)  # the rise
            back = music_level(recorder)
        code, out = await daemon.ctl("stop")
        assert code == 0 and out.strip() == "stopped the music", out
        assert appliance.media.state == "stopped"
    drop_db = 20 * np.log10(full / max(ducked, 1e-9))
    assert drop_db > 14, f"the music dropped {drop_db:.1f} dB, not ~20"
    assert back == pytest.approx(full, rel=0.25), "the music did not come back"
