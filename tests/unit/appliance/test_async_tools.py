"""What a conversation does with Live 3.8's non-blocking tools and Google Search.

Driven through the appliance's own seams on a virtual clock (tests/unit/appliance/rig.py);
the same events come from the real SDK and emulator in tests/unit/live/test_generations.py.
"""

from __future__ import annotations

import logging

import pytest

from daemon.core.state import State
from daemon.live.events import (
    Grounding,
    Interrupted,
    ModelAudio,
    OutputTranscript,
    Source,
    ToolCall,
    ToolResult,
    TurnComplete,
)
from tests.unit.appliance.rig import WAKE, Rig

FOLLOW_UP = 8.0  # the default conversation.follow_up_seconds


@pytest.fixture
def rig():
    rig = Rig()
    yield rig
    rig.stop()


def answer_played(rig: Rig) -> None:
    rig.devices.speaker.drain()
    rig.advance(0.5)


def test_a_tool_call_while_the_model_speaks_keeps_it_speaking(rig: Rig, caplog):
    caplog.set_level(logging.INFO, "speakerd.timeline")
    rig.hear(WAKE)
    rig.open_session()
    rig.emit(ModelAudio(b"\0" * 4800), OutputTranscript("Sure, noting that"))
    rig.emit(ToolCall("n1", "note", {"text": "milk"}))
    assert rig.appliance.machine.state is State.SPEAKING  # not back to "thinking"
    rig.emit(ModelAudio(b"\0" * 4800), OutputTranscript(" now."), TurnComplete())
    assert "tool call note(text='milk')" in rig.timeline(caplog)


def test_a_slow_non_blocking_tool_keeps_the_conversation_open_for_its_result(rig: Rig):
    rig.hear(WAKE)
    rig.open_session()
    rig.emit(ToolCall("b1", "backup", {}), ModelAudio(b"\0" * 4800))
    rig.emit(OutputTranscript("One moment."), TurnComplete())
    answer_played(rig)
    rig.advance(FOLLOW_UP * 2)  # the tool takes longer than the follow-up window
    assert rig.appliance.conversation is not None and rig.appliance.conversation.is_open
    rig.emit(ToolResult("b1", "backup", {"result": "done"}))
    rig.emit(ModelAudio(b"\0" * 4800), OutputTranscript("The backup is done."), TurnComplete())
    answer_played(rig)
    rig.advance(FOLLOW_UP + 1)  # nothing is running now: the window ends it
    assert rig.appliance.conversation is None or not rig.appliance.conversation.is_open


def test_a_result_after_a_barge_in_is_logged_and_the_conversation_goes_on(rig: Rig, caplog):
    caplog.set_level(logging.INFO, "speakerd.timeline")
    rig.hear(WAKE)
    rig.open_session()
    rig.emit(ToolCall("n2", "note", {}), ModelAudio(b"\0" * 4800))
    rig.emit(Interrupted(), TurnComplete())  # the user spoke over the model
    rig.emit(ToolResult("n2", "note", {"result": "noted"}))
    rig.emit(ModelAudio(b"\0" * 4800), OutputTranscript("Noted."), TurnComplete())
    assert "tool result note -> result='noted'" in rig.timeline(caplog)
    assert rig.appliance.machine.state is State.SPEAKING


def test_a_grounded_answer_logs_its_sources_and_status_shows_them(rig: Rig, caplog):
    caplog.set_level(logging.INFO, "speakerd.timeline")
    rig.hear(WAKE)
    rig.open_session()
    rig.emit(Grounding(
        ("will it rain in Bangkok tomorrow",),
        (Source("Bangkok weather forecast", "https://weather.example/forecast/bangkok"),),
    ))  # fmt: skip
    rig.emit(ModelAudio(b"\0" * 4800), OutputTranscript("Showers are likely."), TurnComplete())

    lines = rig.timeline(caplog)
    assert "searched Google for: will it rain in Bangkok tomorrow" in lines
    assert "  source: Bangkok weather forecast https://weather.example/forecast/bangkok" in lines
    status = rig.ctl("status").task.result()
    sources = [t["text"] for t in status["transcripts"] if t["role"] == "sources"]
    assert sources == [
        "searched: will it rain in Bangkok tomorrow | "
        "Bangkok weather forecast <https://weather.example/forecast/bangkok>"
    ]
