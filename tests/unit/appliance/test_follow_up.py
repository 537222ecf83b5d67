"""The follow-up window: how long the speaker listens for more without the wake word.

Driven through the appliance's seams on a virtual clock (tests/unit/appliance/rig.py).
"""

from __future__ import annotations

import pytest

from daemon.core.state import State
from daemon.live.events import InputTranscript, ModelAudio, OutputTranscript, TurnComplete
from tests.unit.appliance.rig import SILENCE, SPEECH, WAKE, Rig

SHORT = 0.5  # an owner who wants the line closed right after each answer


@pytest.fixture
def rig():
    rig = Rig({"conversation": {"follow_up_seconds": SHORT}})
    yield rig
    rig.stop()


def answer_played(rig: Rig) -> None:
    """The last words leave the speaker; the half-duplex tail (0.3 s) passes."""
    rig.devices.speaker.drain()
    rig.advance(0.05)  # the conversation sees the speaker drained and listens again
    rig.advance(0.35)


def is_open(rig: Rig) -> bool:
    return rig.appliance.conversation is not None and rig.appliance.conversation.is_open


def test_a_command_said_with_the_wake_word_is_answered_under_a_short_window(rig: Rig):
    rig.hear(WAKE)  # "hey jarvis, turn on the lamp": the scripted pre-roll is speech
    rig.open_session()
    rig.advance(1.5)  # the server waits for the end of speech, then its transcript comes
    assert is_open(rig), "the conversation closed before the command was answered"
    rig.emit(InputTranscript("turn on the lamp"))
    rig.emit(ModelAudio(b"\0" * 4800), OutputTranscript("Done."), TurnComplete())
    assert rig.appliance.machine.state is State.SPEAKING
    answer_played(rig)
    rig.advance(SHORT)  # answered and nothing more said: the short window ends it
    assert not is_open(rig)
    assert rig.appliance.machine.state is State.IDLE


def test_speech_after_an_answer_keeps_the_line_until_the_server_hears_its_end(rig: Rig):
    rig.hear(WAKE)
    rig.open_session()
    rig.emit(InputTranscript("what time is it"))
    rig.emit(ModelAudio(b"\0" * 4800), OutputTranscript("Noon."), TurnComplete())
    answer_played(rig)
    rig.hear(SPEECH)  # "and tomorrow?" within the window
    rig.hear(SILENCE)
    rig.advance(1.5)
    assert is_open(rig), "the follow-up question was cut off"
    rig.emit(InputTranscript("and tomorrow"))
    assert rig.appliance.machine.state is State.THINKING


def test_woken_without_a_word_the_short_window_still_applies(rig: Rig):
    rig.ctl("wake")
    rig.open_session()
    rig.hear(SILENCE)
    rig.advance(SHORT + 0.1)
    assert not is_open(rig)
