"""`speakerd run` as its owner uses it: spoken wake word, follow-ups, ctl, mute, faults.

One daemon process serves the whole module (start-up loads the wake-word
models and opens real-time audio); every test starts and ends with it idle.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from scipy import signal as scipy_signal

from daemon.emulator import EmulatorThread, Turn
from daemon.sim.pulse import PulseAudioHarness
from tests.e2e.conftest import (
    DaemonProcess,
    Speech,
    appliance_config,
    running_daemon,
    wait_until,
)
from tests.support.speech import RATE

SPEECH_RMS = 300  # a 20 ms block louder than this is sound, not silence


@pytest.fixture(scope="module")
def daemon(pulse: PulseAudioHarness, emulator: EmulatorThread) -> Iterator[DaemonProcess]:
    with tempfile.TemporaryDirectory(prefix="spk-e2e-") as directory:
        workdir = Path(directory)
        config = appliance_config(workdir, emulator)
        watchdog = {"WATCHDOG_USEC": "2000000"}  # as systemd sets it for WatchdogSec=2
        with running_daemon(workdir, pulse, config, extra_env=watchdog) as daemon:
            yield daemon


@pytest.fixture
def idle(daemon: DaemonProcess, emu: EmulatorThread) -> Iterator[DaemonProcess]:
    """The module's daemon, idle and unmuted, before and after the test."""
    daemon.wait_state("idle")
    yield daemon
    if daemon.proc.poll() is None:
        daemon.request({"cmd": "mute", "on": False})
        daemon.wait_state("idle")


def sounding_seconds(samples: np.ndarray, rate: int) -> float:
    """How long the signal is audibly on, in 20 ms blocks."""
    block = rate // 50
    blocks = samples[: len(samples) // block * block].astype(np.float64).reshape(-1, block)
    loud = np.sqrt(np.mean(blocks**2, axis=1)) > SPEECH_RMS
    return float(loud.sum()) * 0.02


def best_match(haystack: np.ndarray, needle: np.ndarray) -> tuple[int, float]:
    """Offset and normalized correlation of `needle` where it best fits in `haystack`."""
    hay, pin = haystack.astype(np.float64), needle.astype(np.float64)
    scores = scipy_signal.correlate(hay, pin, mode="valid", method="fft")
    energy = scipy_signal.correlate(hay**2, np.ones(len(pin)), mode="valid", method="fft")
    window = np.sqrt(np.maximum(energy, 0.0))  # FFT rounding can dip just below 0
    normalized = scores / (np.linalg.norm(pin) * np.maximum(window, 1e-9))
    offset = int(np.argmax(normalized))
    return offset, float(normalized[offset])


def test_a_command_said_in_one_breath_with_the_wake_word_reaches_the_model_and_is_answered(
    idle: DaemonProcess, emu: EmulatorThread, pulse: PulseAudioHarness, speech: Speech
) -> None:
    emu.script([Turn(said="turn on the fan")])
    before = len(emu.sessions)
    with pulse.record_speaker() as recorder:
        pulse.speak_into_mic(speech.wav("turn on the fan"))
        wait_until(lambda: len(emu.sessions) > before, 10, "the session the wake word opens")
        idle.wait_state("idle")
        heard = recorder.stop()
    assert len(emu.sessions) == before + 1
    session = emu.sessions[before]

    # Everything said after the wake word reached the model, though the session
    # was still opening while it was said.
    command = speech.words("turn on the fan")
    received = np.frombuffer(bytes(session.audio), dtype=np.int16)
    assert len(received) > len(command)
    offset, similarity = best_match(received, command)
    assert similarity > 0.9, f"the command is not in what the model received ({similarity:.2f})"
    assert offset + len(command) <= len(received)
    assert [t.source for t in session.user_turns] == ["audio"]
    assert session.user_turns[0].audio_seconds >= 0.9 * len(command) / RATE
    assert idle.status()["relays"]["fan"] is True

    # The model's spoken answer came out of the speaker, all of it.
    [answer] = session.model_turns
    answer_seconds = answer.audio_bytes_sent / 2 / 24000
    assert answer_seconds > 0.5
    played = sounding_seconds(heard.mono(), heard.rate)
    assert 0.8 * answer_seconds <= played <= 1.25 * answer_seconds + 0.1, (
        f"{played:.2f} s of the {answer_seconds:.2f} s answer heard "
        f"(recorded {heard.seconds:.2f} s, peak {int(np.abs(heard.mono()).max(initial=0))})"
        + idle.log()
    )


def test_ctl_say_switches_the_relay_and_ctl_status_shows_it(
    idle: DaemonProcess, emu: EmulatorThread
) -> None:
    assert idle.status()["relays"]["lamp"] is False
    said = idle.ctl("say", "turn", "on", "the", "lamp")
    assert said.returncode == 0, said.stderr
    idle.wait_state("idle")
    shown = idle.ctl("status")
    assert shown.returncode == 0, shown.stderr
    status = json.loads(shown.stdout)
    assert status["relays"]["lamp"] is True
    assert status["state"] == "idle"
    texts = [(t["role"], t["text"]) for t in status["transcripts"]]
    assert ("user", "turn on the lamp") in texts
    assert any(role == "model" and "lamp" in text for role, text in texts)
    assert emu.sessions[-1].texts == ["turn on the lamp"]
    assert "relay lamp switched on" in idle.log()  # the owner reads it in the journal


def test_a_follow_up_without_the_wake_word_is_answered_in_the_same_session(
    idle: DaemonProcess, emu: EmulatorThread, pulse: PulseAudioHarness, speech: Speech
) -> None:
    emu.script([
        Turn(said="what is the weather", reply="It is sunny.", tool_calls=[]),
        Turn(said="and tomorrow", reply="Rain, I am afraid.", tool_calls=[]),
    ])  # fmt: skip
    before = len(emu.sessions)
    lines = len(idle.notify.statuses())
    pulse.speak_into_mic(speech.wav("what is the weather"))
    answered = idle.wait_status_line(idle.wait_status_line(lines, "speaking"), "listening")
    pulse.speak_into_mic(speech.wav("and tomorrow", wake=False))
    second = idle.wait_status_line(idle.wait_status_line(answered, "speaking"), "listening")
    # Nobody says anything more: the follow-up window runs out and it goes idle.
    went_idle = idle.wait_status_line(second, "idle")
    assert "no follow-up" in idle.notify.statuses()[went_idle]
    assert len(emu.sessions) == before + 1
    session = emu.sessions[before]
    assert session.transcriptions == ["what is the weather", "and tomorrow"]
    assert [t.reply for t in session.model_turns] == ["It is sunny.", "Rain, I am afraid."]
    wait_until(lambda: session.closed, 5, "the daemon to close the session")
    assert session.closed_by == "client"
    assert idle.status()["state"] == "idle"


def test_mute_from_ctl_makes_the_wake_word_do_nothing_until_unmuted(
    idle: DaemonProcess, emu: EmulatorThread, pulse: PulseAudioHarness, speech: Speech
) -> None:
    muted = idle.ctl("mute", "on")
    assert muted.returncode == 0, muted.stderr
    status = idle.status()
    assert status["state"] == "muted" and status["muted"] is True
    before = len(emu.sessions)
    pulse.speak_into_mic(speech.wav())  # the microphone is closed: nobody hears this
    assert idle.status()["state"] == "muted"

    unmuted = idle.ctl("mute", "off")
    assert unmuted.returncode == 0, unmuted.stderr
    assert idle.status()["state"] == "idle"
    emu.script([Turn(said="hello", reply="Hello!", tool_calls=[])])
    pulse.speak_into_mic(speech.wav("hello"))
    wait_until(lambda: len(emu.sessions) > before, 10, "a session after unmuting")
    idle.wait_state("idle")
    # Only the wake word said after unmuting opened a session: the muted one never did.
    assert len(emu.sessions) == before + 1
    assert emu.sessions[before].transcriptions == ["hello"]


@pytest.mark.parametrize("fault", ["drop", "go_away"])
def test_a_connection_lost_mid_answer_leaves_the_appliance_working(
    idle: DaemonProcess, emu: EmulatorThread, fault: str
) -> None:
    if fault == "drop":
        emu.drop_connection(when="mid_turn")
    else:
        emu.send_go_away(time_left="0.5s", when="mid_turn")
    assert idle.status()["relays"]["kettle"] is False
    said = idle.ctl("say", "turn on the kettle")
    assert said.returncode == 0, said.stderr
    idle.wait_state("idle", timeout=30)
    status = idle.status()
    assert status["fatal"] is False
    assert status["relays"]["kettle"] is True
    # A later conversation works as if nothing had happened.
    again = idle.ctl("say", "turn off the kettle")
    assert again.returncode == 0, again.stderr
    idle.wait_state("idle", timeout=30)
    status = idle.status()
    assert status["relays"]["kettle"] is False
    assert status["fatal"] is False


def test_systemd_hears_ready_once_listening_then_every_state(
    idle: DaemonProcess, emu: EmulatorThread
) -> None:
    fields = idle.notify.fields()
    assert fields.count("READY=1") == 1
    ready = fields.index("READY=1")
    # What came with READY=1 said the appliance is idle and why, and when it came the
    # control socket answered at once.
    statuses = [f for f in fields[: ready + 2] if f.startswith("STATUS=")]
    assert statuses == ["STATUS=idle: listening for the wake word"], fields
    assert idle.status_at_ready is not None and idle.status_at_ready["state"] == "idle"
    # The watchdog is fed, and only once the appliance is up.
    assert "WATCHDOG=1" in fields[ready:] and "WATCHDOG=1" not in fields[:ready]
    lines = len(idle.notify.statuses())
    emu.script([Turn(reply="Done.", tool_calls=[])])
    assert idle.ctl("say", "hello").returncode == 0
    idle.wait_state("idle")
    idle.wait_status_line(lines, "idle")
    states = [line.split(":")[0] for line in idle.notify.statuses()[lines:]]
    assert states == ["wake", "listening", "thinking", "speaking", "listening", "idle"]
