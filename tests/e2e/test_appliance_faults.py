"""The review's faults on the real daemon: session failures, goAway mid-answer, lost turns.

`speakerd run` over real-time PulseAudio devices and the emulator over TLS, as
the owner would meet each fault. The same paths are explored exhaustively on a
virtual clock in tests/unit/appliance.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon.emulator import EmulatorThread, Turn
from daemon.sim.pulse import PulseAudioHarness
from tests.e2e.conftest import DaemonProcess, Speech, appliance_config, running_daemon, wait_until
from tests.e2e.test_appliance_voice import sounding_seconds

STORY = (
    "Once upon a time a small speaker in a kitchen told a story to the end, "
    "even though its connection was moved in the middle of it. Done."
)


@pytest.fixture(scope="module")
def daemon(pulse: PulseAudioHarness, emulator: EmulatorThread) -> Iterator[DaemonProcess]:
    with tempfile.TemporaryDirectory(prefix="spk-e2e-") as directory:
        workdir = Path(directory)
        with running_daemon(workdir, pulse, appliance_config(workdir, emulator)) as daemon:
            yield daemon


@pytest.fixture
def idle(daemon: DaemonProcess) -> Iterator[DaemonProcess]:
    daemon.wait_state("idle")
    yield daemon
    daemon.wait_state("idle", timeout=30)


def test_a_mid_session_1007_ends_that_conversation_and_the_next_wake_works(
    idle: DaemonProcess, emu: EmulatorThread
) -> None:
    before = len(emu.sessions)
    emu.close_next(1007, "Request contains an invalid argument.", when="mid_turn")
    emu.script([Turn(reply=STORY, tool_calls=[])])
    assert idle.ctl("say", "tell me a story").returncode == 0
    shown = wait_until(lambda: (s := idle.status())["state"] == "error" and s, 15, "the error")
    assert shown["fatal"] is False and "1007" in shown["last_error"]
    idle.wait_state("idle", timeout=10)  # the error is shown a moment, then it listens again

    said = idle.ctl("say", "turn on the kettle")  # no 5-minute lockout
    assert said.returncode == 0, said.stderr
    idle.wait_state("idle", timeout=30)
    assert idle.status()["relays"]["kettle"] is True
    assert len(emu.sessions) == before + 2
    assert emu.sessions[-1].resumed_from is None  # a new session, not a resumption
    idle.ctl("say", "turn off the kettle")


def test_a_go_away_mid_answer_is_heard_to_the_end_and_logged_once(
    idle: DaemonProcess, emu: EmulatorThread, pulse: PulseAudioHarness
) -> None:
    before = len(emu.sessions)
    emu.send_go_away(time_left="30s", when="mid_turn")
    emu.script([Turn(reply=STORY, tool_calls=[]), Turn(reply="Sure.", tool_calls=[])])
    with pulse.record_speaker() as recorder:
        assert idle.ctl("say", "tell me a story").returncode == 0
        wait_until(lambda: len(emu.sessions) == before + 2, 15, "the move to a new connection")
        idle.wait_state("listening", timeout=30)
        heard = recorder.stop()
    old = emu.sessions[before]
    [answer] = old.model_turns
    assert answer.reply == STORY and not answer.interrupted
    answer_seconds = answer.audio_bytes_sent / 2 / 24000
    played = sounding_seconds(heard.mono(), heard.rate)
    assert played >= 0.8 * answer_seconds, f"{played:.2f} s of {answer_seconds:.2f} s heard"
    assert idle.ctl("say", "and then?").returncode == 0  # goes to the new connection
    idle.wait_state("idle", timeout=30)
    assert emu.sessions[before + 1].texts == ["and then?"]
    log = idle.log()
    assert log.count(f"model said: {STORY}") == 1
    assert "model said: Sure." in log
    assert "connection lost" not in log  # a planned move, not a fault


def test_the_wake_word_is_heard_right_after_a_session_failed_to_open(
    idle: DaemonProcess, emu: EmulatorThread, pulse: PulseAudioHarness, speech: Speech
) -> None:
    before = len(emu.sessions)
    emu.close_next(1011, "The service is currently unavailable.", when="setup")
    idle.ctl("wake")
    wait_until(lambda: idle.status()["last_error"], 10, "the failed open")
    emu.script([Turn(said="turn on the lamp")])
    pulse.speak_into_mic(speech.wav("turn on the lamp"))  # within the error display
    wait_until(lambda: len(emu.sessions) == before + 2, 15, "the wake word's session")
    idle.wait_state("idle", timeout=30)
    assert idle.status()["relays"]["lamp"] is True
    idle.ctl("say", "turn off the lamp")


def test_a_lost_turns_words_are_not_glued_to_the_next_turns(
    idle: DaemonProcess, emu: EmulatorThread, pulse: PulseAudioHarness, speech: Speech
) -> None:
    emu.drop_connection(when="mid_turn")
    emu.script([
        Turn(said="what time is it", reply=STORY, tool_calls=[]),
        Turn(said="turn off the lamp"),
    ])  # fmt: skip
    mark = len(idle.log())
    pulse.speak_into_mic(speech.wav("what time is it"))
    wait_until(lambda: "connection resumed" in idle.log()[mark:], 20, "the resumed connection")
    idle.wait_state("listening", timeout=20)  # what did arrive has been played
    pulse.speak_into_mic(speech.wav("turn off the lamp", wake=False))  # a follow-up
    idle.wait_state("idle", timeout=30)
    said = [line.split("user said: ", 1)[1] for line in idle.log()[mark:].splitlines()
            if "user said: " in line]  # fmt: skip
    assert said == ["what time is it", "turn off the lamp"], idle.log()[mark:]
    users = [t["text"] for t in idle.status()["transcripts"] if t["role"] == "user"]
    assert users[-2:] == ["what time is it", "turn off the lamp"]
