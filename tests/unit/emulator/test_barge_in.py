"""Barge-in: user speech or text while the model talks stops it at once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from daemon.emulator import LiveEmulator, ToolCall, Turn

from .helpers import connect, kinds, receive_turn, send_audio, silence_pcm, speech_pcm

LONG_REPLY = "Once upon a time there was a tiny speaker that talked and talked all day."


@pytest.fixture
async def realtime_emu() -> AsyncIterator[LiveEmulator]:
    """Reply audio at real time, so there is a moment to interrupt it."""
    async with LiveEmulator(speech="tone", speech_pace=1.0) as emulator:
        yield emulator


async def _until_audio(session: object, seen: list) -> None:
    async for message in session.receive():  # type: ignore[attr-defined]
        seen.append(message)
        if message.server_content and message.server_content.model_turn:
            return


async def test_text_while_talking_interrupts_without_generation_complete(
    realtime_emu: LiveEmulator,
) -> None:
    emu = realtime_emu
    emu.script([Turn(reply=LONG_REPLY), Turn(reply="Okay.")])
    async with connect(emu) as session:
        await session.send_realtime_input(text="tell me a story")
        first: list = []
        await _until_audio(session, first)
        await session.send_realtime_input(text="stop")
        first += await receive_turn(session)
        second = await receive_turn(session)

    assert kinds(first)[-2:] == ["interrupted", "turn_complete"]
    assert "generation_complete" not in kinds(first)
    assert kinds(second)[-2:] == ["generation_complete", "turn_complete"]
    record = emu.sessions[0]
    assert [t.interrupted for t in record.model_turns] == [True, False]
    assert [t.barged_in for t in record.user_turns] == [False, True]


async def test_speech_while_talking_interrupts_and_becomes_the_next_turn(
    realtime_emu: LiveEmulator,
) -> None:
    emu = realtime_emu
    emu.script([Turn(reply=LONG_REPLY), Turn(said="wait a moment", reply="Sure.")])
    async with connect(emu, realtime_input_config={
            "automatic_activity_detection": {"silence_duration_ms": 200}}) as session:
        await session.send_realtime_input(text="tell me a story")
        first: list = []
        await _until_audio(session, first)
        await send_audio(session, speech_pcm(0.4))
        first += await receive_turn(session)
        await send_audio(session, silence_pcm(0.3))
        second = await receive_turn(session)

    assert kinds(first)[-2:] == ["interrupted", "turn_complete"]
    assert kinds(second)[0] == "input_transcription"
    assert emu.sessions[0].user_turns[1].transcription == "wait a moment"
    assert emu.sessions[0].user_turns[1].barged_in


async def test_no_interruption_mode_lets_the_model_finish(realtime_emu: LiveEmulator) -> None:
    emu = realtime_emu
    emu.script([Turn(reply="Short answer here.")])
    emu.speech_pace = 4.0
    async with connect(emu, realtime_input_config={
            "activity_handling": "NO_INTERRUPTION"}) as session:
        await session.send_realtime_input(text="go")
        first: list = []
        await _until_audio(session, first)
        await send_audio(session, speech_pcm(0.3))
        first += await receive_turn(session)
    assert "interrupted" not in kinds(first)
    assert kinds(first)[-2:] == ["generation_complete", "turn_complete"]


async def test_barge_in_cancels_pending_tool_calls(realtime_emu: LiveEmulator) -> None:
    emu = realtime_emu
    emu.script([Turn(tool_calls=[ToolCall("get_time", id="fc-1")]), Turn(reply="Fine.")])
    async with connect(emu) as session:
        await session.send_realtime_input(text="what time is it")
        messages = []
        async for message in session.receive():
            messages.append(message)
            if message.tool_call:
                await session.send_realtime_input(text="never mind")  # no tool response
    cancellations = [m.tool_call_cancellation for m in messages if m.tool_call_cancellation]
    assert [c.ids for c in cancellations] == [["fc-1"]]
    assert kinds(messages) == ["toolCall", "toolCallCancellation", "interrupted",
                               "turn_complete"]
