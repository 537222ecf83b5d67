"""The follow-up window with gemini-3.8-live-extended-thinking, on a virtual clock.

That model says a filler while its tool runs and goes on working after the tool's
result (interactionStatus IN_PROGRESS) before it answers; only IDLE means the
request is done (docs/live-protocol.md, "Extended thinking"). The same events come
from the real SDK and emulator in tests/unit/live/test_extended_thinking.py.
"""

from __future__ import annotations

import pytest

from daemon.core.state import State
from daemon.live.events import (
    InteractionStatus,
    ModelAudio,
    OutputTranscript,
    ToolCall,
    ToolResult,
    TurnComplete,
)
from tests.unit.appliance.rig import WAKE, Rig

FOLLOW_UP = 8.0  # the default conversation.follow_up_seconds


@pytest.fixture
def rig():
    rig = Rig({"gemini": {"model": "gemini-3.8-live-extended-thinking"}})
    yield rig
    rig.stop()


def played(rig: Rig) -> None:
    rig.devices.speaker.drain()
    rig.advance(0.5)


def is_open(rig: Rig) -> bool:
    conversation = rig.appliance.conversation
    return conversation is not None and conversation.is_open


def test_the_window_stays_open_until_idle_and_shows_thinking_meanwhile(rig: Rig):
    rig.hear(WAKE)
    rig.open_session()
    rig.emit(InteractionStatus(True))
    assert rig.appliance.machine.state is State.THINKING
    rig.emit(ToolCall("t1", "train_times", {}), ModelAudio(b"\0" * 4800))
    rig.emit(OutputTranscript("I'm checking that now."), TurnComplete(), InteractionStatus(True))
    assert rig.appliance.machine.state is State.SPEAKING  # the filler plays
    played(rig)
    assert rig.appliance.machine.state is State.THINKING  # said its filler, still working
    rig.advance(FOLLOW_UP * 2)  # the tool takes longer than the window
    rig.emit(ToolResult("t1", "train_times", {"result": {"next": "17:42"}}))
    rig.advance(FOLLOW_UP * 2)  # no tool runs now, but the model still works on the result
    assert is_open(rig)
    assert rig.appliance.machine.state is State.THINKING
    rig.emit(ModelAudio(b"\0" * 4800), OutputTranscript("The next train is at 17:42."))
    rig.emit(TurnComplete(), InteractionStatus(False))
    played(rig)
    assert rig.appliance.machine.state is State.LISTENING
    rig.advance(FOLLOW_UP - 1)
    assert is_open(rig)  # the window counts from the IDLE
    rig.advance(2)
    assert not is_open(rig)


def test_a_turn_complete_without_idle_does_not_end_the_request(rig: Rig):
    rig.hear(WAKE)
    rig.open_session()
    rig.emit(ModelAudio(b"\0" * 4800), OutputTranscript("Let me think."), TurnComplete())
    rig.emit(InteractionStatus(True))
    played(rig)
    rig.advance(FOLLOW_UP * 3)
    assert is_open(rig)
    rig.emit(InteractionStatus(False))
    played(rig)
    rig.advance(FOLLOW_UP + 1)
    assert not is_open(rig)
