"""The six faults found in review, each replayed on the core with a virtual clock.

Each test is what a user did and what they saw; the same paths run end to end
over the real SDK, emulator and audio in tests/e2e/test_appliance_faults.py.
"""

from __future__ import annotations

import logging

import pytest

from daemon.appliance.failures import ERROR_SHOWN_SECONDS
from daemon.core.state import State
from daemon.live.events import (
    InputTranscript,
    ModelAudio,
    OutputTranscript,
    SessionFailed,
    SessionStateChanged,
    TurnComplete,
)
from tests.unit.appliance.rig import SILENCE, WAKE, Rig


@pytest.fixture
def rig():
    rig = Rig()
    yield rig
    rig.stop()


# 1. A session that fails to open ends its conversation at once.


def test_a_session_that_fails_to_open_lets_the_wake_word_be_heard_during_the_error(rig: Rig):
    rig.hear(WAKE)
    rig.fail_to_open(fatal=False)
    assert rig.appliance.machine.state is State.ERROR
    scored = rig.devices.wake_word.scored
    rig.hear(WAKE)  # well within the 2 s of error display
    assert rig.devices.wake_word.scored == scored + 1
    assert rig.appliance.machine.state is State.WAKE
    assert len(rig.sessions) == 2 and rig.sessions[0].closed


def test_the_button_after_a_failed_open_starts_a_new_conversation(rig: Rig):
    rig.ctl("wake")
    rig.fail_to_open(fatal=False)
    rig.press()
    assert len(rig.sessions) == 2
    rig.open_session()
    assert rig.appliance.machine.state is State.LISTENING


def test_ctl_say_answers_when_the_session_cannot_open(rig: Rig):
    request = rig.ctl("say", "what time is it")
    assert not request.task.done()  # still connecting
    rig.fail_to_open(fatal=False)
    reply = request.task.result()
    assert "not sent" in reply["error"] and "no network" in reply["error"]


def test_ctl_say_answers_when_the_server_never_answers_the_setup(rig: Rig):
    request = rig.ctl("say", "hello")
    rig.advance(11)  # the setup times out after 10 s
    assert "timed out" in request.task.result()["error"]


# 2. One writer: an ending conversation never overwrites what a newer one shows.


def test_a_new_conversation_within_the_error_display_keeps_listening(rig: Rig):
    rig.hear(WAKE)
    rig.open_session()
    rig.emit(SessionFailed("server closed the connection (1011)", fatal=False))
    assert rig.appliance.machine.state is State.ERROR
    rig.advance(0.5)
    rig.hear(WAKE)
    rig.open_session()
    assert rig.appliance.machine.state is State.LISTENING
    rig.advance(ERROR_SHOWN_SECONDS + 1)  # the old error display runs out
    assert rig.appliance.machine.state is State.LISTENING
    assert rig.status_lines[-1].startswith("listening")
    assert rig.ctl("status").task.result()["state"] == "listening"


# 3. goAway mid-answer: the answer goes on, and is logged once, whole.


def test_a_go_away_mid_answer_keeps_speaking_and_logs_the_answer_once(rig: Rig, caplog):
    caplog.set_level(logging.INFO, "speakerd.timeline")
    rig.hear(WAKE)
    rig.open_session()
    rig.emit(ModelAudio(b"\0" * 4800), OutputTranscript("Once upon"))
    rig.emit(SessionStateChanged("reconnecting", "goAway", planned=True))
    rig.emit(SessionStateChanged("open", "resumed the conversation"))
    assert rig.appliance.machine.state is State.SPEAKING
    rig.emit(ModelAudio(b"\0" * 4800), OutputTranscript(" a time. Done."), TurnComplete())
    said = [line for line in rig.timeline(caplog) if line.startswith("model said")]
    assert said == ["model said: Once upon a time. Done."]
    assert not any(s == "buzz" for s in rig.devices.speaker.sounds)  # no error sound


# 4. A lost turn's words are not glued to the next turn's.


def test_transcripts_of_a_lost_turn_stay_apart_from_the_next(rig: Rig, caplog):
    caplog.set_level(logging.INFO, "speakerd.timeline")
    rig.hear(WAKE)
    rig.open_session()
    rig.emit(InputTranscript("what time is it"))
    rig.emit(SessionStateChanged("reconnecting", "server closed the connection (1011)"))
    assert rig.appliance.machine.state is State.ERROR
    rig.emit(SessionStateChanged("open", "resumed the conversation"))
    rig.emit(InputTranscript("turn off the lamp"), OutputTranscript("Done."), TurnComplete())
    said = [line for line in rig.timeline(caplog) if line.startswith("user said")]
    assert said == ["user said: what time is it", "user said: turn off the lamp"]
    texts = [t["text"] for t in rig.ctl("status").task.result()["transcripts"]]
    assert texts == ["what time is it", "turn off the lamp", "Done."]


# 5. A mid-session 1007 ends that conversation; the next wake works.


def test_a_mid_session_1007_does_not_lock_the_speaker(rig: Rig):
    rig.hear(WAKE)
    rig.open_session()
    rig.emit(SessionFailed("server closed the connection (1007: invalid argument)", fatal=False))
    rig.advance(ERROR_SHOWN_SECONDS + 0.1)
    assert rig.appliance.machine.state is State.IDLE
    reply = rig.ctl("wake").task.result()
    assert reply["message"] == "ok"
    rig.open_session()
    assert rig.appliance.machine.state is State.LISTENING


def test_failures_in_a_row_back_off_and_a_good_conversation_resets_it(rig: Rig):
    for _ in range(2):
        rig.ctl("wake")
        rig.open_session()
        rig.emit(SessionFailed("server closed the connection (1007)", fatal=False))
    refused = rig.ctl("wake").task.result()
    assert "2 conversations failed in a row" in refused["error"]
    rig.advance(6)
    assert rig.ctl("wake").task.result()["message"] == "ok"
    rig.open_session()
    rig.appliance.button_pressed()  # ends it normally
    rig.settle()
    rig.ctl("wake")
    assert rig.appliance.machine.state is State.WAKE


# 6. A refused wake says so.


def test_a_wake_during_a_fatal_lockout_is_refused_out_loud(rig: Rig, caplog):
    caplog.set_level(logging.INFO, "speakerd.timeline")
    rig.ctl("wake")
    rig.fail_to_open(fatal=True)
    reply = rig.ctl("wake").task.result()
    assert reply["error"].startswith("wake refused: cannot talk to Gemini: API key not valid")
    rig.hear(WAKE)
    refused = [line for line in rig.timeline(caplog) if line.startswith("wake refused")]
    assert refused[0].startswith("wake refused (ctl wake):") or refused[0].startswith(
        "wake refused (button):"
    )
    assert refused[-1].startswith("wake refused (wake word): cannot talk to Gemini")
    assert len(rig.sessions) == 1
    assert rig.appliance.machine.state is State.ERROR
    rig.advance(301)  # a few minutes on, a wake tries again
    assert rig.ctl("wake").task.result()["message"] == "ok"
    assert len(rig.sessions) == 2


def test_muted_wake_is_refused_and_nothing_is_heard(rig: Rig):
    rig.run(rig.appliance.mute(True))
    assert "muted" in rig.ctl("wake").task.result()["error"]
    scored = rig.devices.wake_word.scored
    rig.hear(WAKE)
    assert rig.devices.wake_word.scored == scored
    assert rig.sessions == []
    rig.hear(SILENCE)
