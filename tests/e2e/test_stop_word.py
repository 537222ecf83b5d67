"""""Stop" without the wake word, end to end: the real microWakeWord model on the real-time
microphone, said by two speech engines while a timer rings; near misses ("shop", "top",
a sentence about the shop) and an idle "stop" leave everything as it was."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from bench.corpus import Voice, say
from daemon.emulator import EmulatorThread
from daemon.sim.pulse import PulseAudioHarness
from daemon.sim.speech import concat, silence, write_wav
from tests.e2e.conftest import appliance_config, async_wait_until, in_process_daemon

VOICES = [Voice("espeak-ng", "en-us", 150), Voice("flite", "slt", 1.0)]


def spoken(directory: Path, text: str, voice: Voice) -> Path:
    audio = concat(silence(0.3), say(text, voice), silence(0.5))
    loud = np.clip(audio.astype(np.float64) * 1.5, -32768, 32767).astype(np.int16)
    return write_wav(directory / f"{voice.engine}-{text.replace(' ', '-')}.wav", loud)


@pytest.mark.parametrize("voice", VOICES, ids=lambda v: v.engine)
async def test_stop_ends_a_ring_and_near_misses_do_not(
    pulse: PulseAudioHarness, emu: EmulatorThread, workdir: Path, voice: Voice
) -> None:
    config = appliance_config(workdir, emu, timers={"ring_seconds": 60, "announce": False})
    async with in_process_daemon(pulse, config) as daemon:
        appliance = daemon.appliance
        assert appliance is not None
        assert appliance.status().stop_word == "ready", "the stop model did not load"

        # Idle, "stop" is not listened for: nothing happens.
        await daemon.speak(pulse, spoken(workdir, "stop", voice))
        await asyncio.sleep(0.5)
        assert str(appliance.machine.state) == "idle" and appliance.status().last_stop is None

        assert appliance.timers is not None
        appliance.timers.set_timer(1.0, "tea")
        await async_wait_until(lambda: appliance.ringing.active, 10, "the tea timer to ring")
        assert appliance.status().stop_word in ("ready", "listening")

        for near_miss in ("shop", "top", "we went to the shop for bread"):
            await daemon.speak(pulse, spoken(workdir, near_miss, voice))
            await asyncio.sleep(0.5)
            assert appliance.ringing.active, f'"{near_miss}" stopped the ring'

        # "stop" on its own, as the README asks: said half a second after the sentence
        # before, that sentence's tail lowered the model's score and the sound check's
        # noise floor, and flite's "stop" was turned away about half the time.
        await asyncio.sleep(1.5)
        await daemon.speak(pulse, spoken(workdir, "stop", voice))
        await async_wait_until(lambda: not appliance.ringing.active, 5, '"stop" to end the ring')
        assert appliance.status().last_stop is not None
        assert not appliance.conversation or not appliance.conversation.is_open
