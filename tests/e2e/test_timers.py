"""Timers end to end: set by voice (`ctl say`, through the emulated model's tool call),
rung on the real speaker in real time, stopped by the button, and kept across `kill -9`."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from daemon.emulator import EmulatorThread
from daemon.sim.alsa_files import Recording
from daemon.sim.pulse import PulseAudioHarness
from tests.e2e.conftest import (
    DaemonProcess,
    Speech,
    appliance_config,
    async_wait_until,
    in_process_daemon,
    wait_until,
    write_config,
)
from tests.e2e.test_appliance_gpio import BUTTON, press

WINDOW = 0.02  # seconds per analysed piece of the recording


def alarm_seconds(recording: Recording) -> float:
    """How much of what the speaker played was the alarm (its 880 Hz beeps, not the
    emulator's 330 Hz voice): pieces whose strongest frequency is near 880 Hz."""
    samples = recording.mono().astype(np.float32)
    size = int(WINDOW * recording.rate)
    count = len(samples) // size
    if count == 0:
        return 0.0
    pieces = samples[: count * size].reshape(count, size) * np.hanning(size)
    spectrum = np.abs(np.fft.rfft(pieces, axis=1))
    peak = np.argmax(spectrum, axis=1) * recording.rate / size
    loud = np.sqrt(np.mean(pieces**2, axis=1)) > 300
    return float(np.sum(loud & (np.abs(peak - 880) < 60))) * WINDOW


async def test_a_timer_set_by_voice_rings_about_then_and_the_button_stops_it(
    pulse: PulseAudioHarness, emu: EmulatorThread, workdir: Path
) -> None:
    config = appliance_config(workdir, emu, timers={"ring_seconds": 60})
    async with in_process_daemon(pulse, config) as daemon:
        assert daemon.appliance is not None
        with pulse.record_speaker() as speaker:
            asked = time.monotonic()
            code, out = await daemon.ctl("say", "set a timer for 3 seconds called tea")
            assert code == 0, out
            await async_wait_until(
                lambda: daemon.appliance.status().timers, 10, "the tea timer to be set"
            )
            assert daemon.appliance.status().timers[0]["label"] == "tea"
            code, out = await daemon.ctl("timers")
            assert code == 0 and "tea  in " in out, out
            assert alarm_seconds(speaker.snapshot()) == 0
            await async_wait_until(
                lambda: alarm_seconds(speaker.snapshot()) >= 0.2, 15, "the alarm to sound"
            )
            rang_after = time.monotonic() - asked
            assert 3.0 <= rang_after <= 10.0, rang_after  # 3 s after it was set, plus the turn
            assert daemon.state == "ringing"
            assert "your tea timer is done" in daemon.appliance.status().ringing[0]
            prompt = "Say briefly, in one short sentence: your tea timer is done."
            await async_wait_until(
                lambda: any(prompt in session.texts for session in emu.sessions), 10,
                "the announcement to reach the model",
            )  # fmt: skip
            await async_wait_until(
                lambda: any(t.role == "model" and t.text == "Your tea timer is done."
                            for t in daemon.appliance.status().transcripts), 15,
                "the model to say what rang",
            )  # fmt: skip
            await async_wait_until(
                lambda: alarm_seconds(speaker.snapshot()) >= 1.0, 10, "the alarm to repeat"
            )
            assert daemon.state == "ringing"  # the announcement did not stop it

            await press(daemon.pins.pin(BUTTON))
            await async_wait_until(lambda: daemon.state != "ringing", 5, "the ring to stop")
            heard = alarm_seconds(speaker.snapshot())
            await asyncio.sleep(3.0)  # longer than a sound and its pause
            # At most 0.1 s more (5 windows): what was already in the device at the press.
            more = alarm_seconds(speaker.snapshot()) - heard
            assert round(more / WINDOW) <= 5, more
            assert daemon.appliance.status().timers == ()


def test_a_pending_timer_rings_after_the_daemon_is_killed_and_started_again(
    pulse: PulseAudioHarness, emu: EmulatorThread, workdir: Path
) -> None:
    config_path = write_config(workdir, appliance_config(workdir, emu))
    daemon = DaemonProcess(config_path, pulse, workdir)
    try:
        daemon.wait_ready()
        for words in ("set a timer for 12 seconds called bread",
                      "set a timer for 10 minutes called pasta"):  # fmt: skip
            said = daemon.ctl("say", words)
            assert said.returncode == 0, said.stderr
        wait_until(lambda: len(daemon.status()["timers"]) == 2, 15, "both timers to be set")
        os.kill(daemon.proc.pid, signal.SIGKILL)
        daemon.proc.wait(10)
    finally:
        daemon.close()

    (workdir / "notify.sock").unlink()  # systemd's socket: it would be there already
    daemon = DaemonProcess(config_path, pulse, workdir)
    try:
        with pulse.record_speaker() as speaker:
            daemon.wait_ready()
            labels = [t["label"] for t in daemon.status()["timers"]]
            assert "pasta" in labels
            cancelled = daemon.ctl("cancel", "pasta")
            assert cancelled.returncode == 0 and "cancelled the pasta timer" in cancelled.stdout
            wait_until(lambda: daemon.status()["ringing"], 30, "bread to ring after the restart")
            assert "your bread timer is done" in daemon.status()["ringing"][0]
            wait_until(lambda: alarm_seconds(speaker.snapshot()) >= 0.2, 10, "the alarm sound")
            stopped = daemon.ctl("stop")
            assert stopped.returncode == 0 and "stopped ringing" in stopped.stdout
            daemon.wait_state("idle", 15)
            assert daemon.status()["timers"] == []
        assert daemon.terminate() == 0
    finally:
        daemon.close()


@pytest.mark.parametrize("in_conversation", [False, True], ids=["idle", "in-conversation"])
async def test_the_wake_word_stops_a_ring_and_nothing_else(
    pulse: PulseAudioHarness, emu: EmulatorThread, workdir: Path, speech: Speech,
    in_conversation: bool,
) -> None:
    # A short follow-up: the conversation that set the timer is over when it rings;
    # a long one: it rings during that conversation, which must go on.
    follow_up = 30.0 if in_conversation else 0.5
    config = appliance_config(
        workdir, emu, timers={"announce": False}, conversation={"follow_up_seconds": follow_up}
    )
    async with in_process_daemon(pulse, config) as daemon:
        assert daemon.appliance is not None
        code, out = await daemon.ctl("say", "set a timer for 6 seconds called eggs")
        assert code == 0, out
        await daemon.wait_state("ringing", 20)
        conversation = daemon.appliance.conversation
        assert conversation is not None and conversation.is_open == in_conversation
        sessions = len(emu.sessions)
        await daemon.speak(pulse, speech.wav())  # "hey jarvis"
        await async_wait_until(lambda: daemon.state != "ringing", 5, "the ring to stop")
        await asyncio.sleep(1.0)
        assert daemon.appliance.status().ringing == ()
        assert len(emu.sessions) == sessions, "stopping the ring opened a conversation"
        assert conversation.is_open == in_conversation, "the ring's stop ended the conversation"
        if not in_conversation:
            assert daemon.state == "idle"
