"""Both Live generations through the unmodified SDK, against the emulator over TLS.

Every test runs once on gemini-3.8-live (the default) and once on the 2.5
native-audio preview: an audio turn, a blocking tool, a non-blocking tool with
each scheduling, a tool call while the model speaks, a barge-in while a
non-blocking call is pending, and a grounded answer.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from daemon.core.models import DEFAULT_MODEL, PREVIEW_MODEL
from daemon.emulator import LiveEmulator, ToolCall, Turn
from daemon.live import (
    Grounding,
    InputTranscript,
    Interrupted,
    ModelAudio,
    OutputTranscript,
    ToolCancelled,
    ToolResult,
    TurnComplete,
)
from daemon.live import (
    ToolCall as ToolCallEvent,
)

from .conftest import send_in_chunks, speech

pytestmark = pytest.mark.parametrize("model", [DEFAULT_MODEL, PREVIEW_MODEL])

NOTE_TOOL = {
    "name": "note",
    "description": "Write down a note.",
    "behavior": "NON_BLOCKING",
    "parameters": {"type": "OBJECT", "properties": {"text": {"type": "STRING"}}},
}
CLOCK_TOOL = {"name": "get_time", "description": "The local time.", "behavior": "BLOCKING"}


class SlowTool:
    """A tool the test releases; its calls are counted."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def __call__(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((name, args))
        await self.release.wait()
        return {"result": f"noted {args.get('text', '')}".strip()}


def turns_after(recorder, mark: int, n: int):
    return lambda _e: len(recorder.of(TurnComplete, mark)) >= n


def text_of(recorder, after: int = 0) -> str:
    return "".join(e.text for e in recorder.of(OutputTranscript, after))


async def test_an_audio_turn(model, emu: LiveEmulator, open_session):
    session, recorder = await open_session(gemini={"model": model})
    emu.script([Turn(said="what is on the shopping list", reply="Milk and eggs.")])

    await send_in_chunks(session, speech())
    await recorder.wait_for(TurnComplete)

    assert emu.sessions[0].model == model
    assert [e.text for e in recorder.of(InputTranscript)] == ["what is on the shopping list"]
    assert recorder.of(ModelAudio)
    assert text_of(recorder) == "Milk and eggs."


async def test_a_blocking_tool_is_answered_before_the_model_speaks(
    model, emu: LiveEmulator, open_session
):
    async def clock(name: str, args: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0.2)
        return {"result": "07:30"}

    session, recorder = await open_session(
        gemini={"model": model}, tools=[CLOCK_TOOL], tool_handler=clock
    )
    emu.script([
        Turn(tool_calls=[ToolCall("get_time", {}, id="t1")],
             reply=lambda responses: f"It is {responses[0].response['result']}.")
    ])  # fmt: skip

    await session.send_text("what time is it")
    await recorder.wait_for(TurnComplete)

    kinds = [type(e) for e in recorder.events if type(e) in (ToolResult, ModelAudio)]
    assert kinds[0] is ToolResult  # the model waited for the clock before it spoke
    assert text_of(recorder) == "It is 07:30."
    assert emu.sessions[0].tool_responses[0].scheduling is None  # blocking: no scheduling


@pytest.mark.parametrize("scheduling", ["WHEN_IDLE", "SILENT", "INTERRUPT"])
async def test_a_non_blocking_tool_result_is_used_as_scheduled(
    model, scheduling, emu: LiveEmulator, open_session
):
    tool = SlowTool()
    session, recorder = await open_session(
        gemini={"model": model}, tools=[NOTE_TOOL], tool_handler=tool,
        scheduling=lambda name, response: scheduling,
    )  # fmt: skip
    interim = "Sure, I am writing that down for you now, it will only take a moment."
    emu.script([
        Turn(tool_calls=[ToolCall("note", {"text": "milk"}, id="n1")], interim=interim,
             reply="Your note about milk is saved.")
    ])  # fmt: skip
    emu.speech_pace = 1.0 if scheduling == "INTERRUPT" else 0  # INTERRUPT: cut the model off

    await session.send_text("note milk")
    # The model talks while the tool runs: its voice comes before any result.
    await recorder.wait_for(ModelAudio)
    assert not recorder.of(ToolResult)
    tool.release.set()
    await recorder.wait_for(ToolResult)
    record = emu.sessions[0]

    if scheduling == "SILENT":
        await recorder.wait_for(TurnComplete)
        await emu.wait_for(lambda: record.silent_results == ["n1"], what="silent result")
        await asyncio.sleep(0.3)
        assert len(record.model_turns) == 1  # kept in mind, never said
        assert text_of(recorder) == interim
    else:
        await recorder.wait_for(TurnComplete, where=turns_after(recorder, 0, 2))
        assert record.model_turns[-1].results_for == ["n1"]
        assert text_of(recorder).endswith("Your note about milk is saved.")
        cut_off = record.model_turns[0].interrupted
        assert cut_off == (scheduling == "INTERRUPT")
        assert bool(recorder.of(Interrupted)) == (scheduling == "INTERRUPT")
    assert record.tool_responses[0].scheduling == scheduling
    assert tool.calls == [("note", {"text": "milk"})]


async def test_a_tool_call_while_the_model_speaks(model, emu: LiveEmulator, open_session):
    tool = SlowTool()
    tool.release.set()
    session, recorder = await open_session(
        gemini={"model": model}, tools=[NOTE_TOOL], tool_handler=tool,
        scheduling=lambda name, response: "WHEN_IDLE",
    )  # fmt: skip
    emu.script([
        Turn(tool_calls=[ToolCall("note", {"text": "eggs"}, id="n2")], call_mid_speech=True,
             interim="Eggs, right, I am putting them on the list as we speak.",
             reply="Eggs are on the list.")
    ])  # fmt: skip

    await session.send_text("add eggs")
    await recorder.wait_for(TurnComplete, where=turns_after(recorder, 0, 2))

    kinds = [type(e) for e in recorder.events]
    call_at = kinds.index(ToolCallEvent)
    assert ModelAudio in kinds[:call_at]  # the model was already talking
    assert ModelAudio in kinds[call_at + 1 : kinds.index(TurnComplete)]  # and went on
    assert [r.id for r in emu.sessions[0].tool_responses] == ["n2"]
    assert text_of(recorder).endswith("Eggs are on the list.")


async def test_a_barge_in_while_a_non_blocking_call_runs(model, emu: LiveEmulator, open_session):
    tool = SlowTool()
    session, recorder = await open_session(
        gemini={"model": model}, tools=[NOTE_TOOL], tool_handler=tool,
        scheduling=lambda name, response: "WHEN_IDLE",
    )  # fmt: skip
    emu.script([
        Turn(tool_calls=[ToolCall("note", {"text": "bread"}, id="n3")],
             interim="I am writing that down, and while I do let me tell you a long story.",
             reply="Bread is noted."),
        Turn(reply="It is sunny."),
    ])  # fmt: skip
    emu.speech_pace = 1.0

    await session.send_text("note bread")
    await recorder.wait_for(ModelAudio)
    mark = recorder.mark()
    await session.send_text("actually, how is it outside")  # the user speaks over the model
    await recorder.wait_for(Interrupted, after=mark)
    tool.release.set()  # the note finishes after the barge-in
    await recorder.wait_for(ToolResult, after=mark)
    emu.speech_pace = 0
    await recorder.wait_for(TurnComplete, after=mark, where=turns_after(recorder, mark, 3))

    assert not recorder.of(ToolCancelled)  # a non-blocking call outlives the barge-in
    assert [r.id for r in emu.sessions[0].tool_responses] == ["n3"]
    said = text_of(recorder, mark)
    assert "It is sunny." in said and said.endswith("Bread is noted.")


async def test_a_grounded_answer_names_its_sources(model, emu: LiveEmulator, open_session):
    session, recorder = await open_session(gemini={"model": model})

    await session.send_text("will it rain in Bangkok tomorrow")
    grounding = await recorder.wait_for(Grounding)
    await recorder.wait_for(TurnComplete)

    assert grounding.queries == ("will it rain in Bangkok tomorrow",)
    assert [s.uri for s in grounding.sources] == [
        "https://weather.example/forecast/bangkok",
        "https://rainradar.example/bangkok",
    ]
    assert grounding.sources[0].title == "Bangkok weather forecast"
    assert "Bangkok" in text_of(recorder)
    tools = emu.sessions[0].setup["tools"]
    assert any("googleSearch" in tool or "google_search" in tool for tool in tools)


async def test_without_search_the_model_cannot_look_it_up(model, emu: LiveEmulator, open_session):
    session, recorder = await open_session(gemini={"model": model, "google_search": False})

    await session.send_text("will it rain in Bangkok tomorrow")
    await recorder.wait_for(TurnComplete)

    assert not recorder.of(Grounding)
    assert "cannot look that up" in text_of(recorder)
    assert "tools" not in emu.sessions[0].setup


async def test_several_non_blocking_calls_in_flight(model, emu: LiveEmulator, open_session):
    tool = SlowTool()
    session, recorder = await open_session(
        gemini={"model": model}, tools=[NOTE_TOOL], tool_handler=tool,
        scheduling=lambda name, response: "WHEN_IDLE",
    )  # fmt: skip
    emu.script([
        Turn(tool_calls=[ToolCall("note", {"text": "tea"}, id="a"),
                         ToolCall("note", {"text": "jam"}, id="b")],
             interim="Both noted in a moment.", reply=lambda rs: f"Saved {rs[0].response['result']}.")
    ])  # fmt: skip

    await session.send_text("note tea and jam")
    await recorder.wait_for(TurnComplete)
    await emu.wait_for(lambda: len(tool.calls) == 2, what="both calls running")
    tool.release.set()
    await recorder.wait_for(TurnComplete, where=turns_after(recorder, 0, 3))

    assert sorted(r.id for r in emu.sessions[0].tool_responses) == ["a", "b"]
    told = [t.results_for for t in emu.sessions[0].model_turns[1:]]
    assert sorted(told) == [["a"], ["b"]]  # each result told once, in a turn of its own
    said = text_of(recorder)
    assert "Saved noted tea." in said and "Saved noted jam." in said
