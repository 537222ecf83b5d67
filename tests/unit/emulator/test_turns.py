"""Ordinary turns, as the unmodified SDK sees them."""

from __future__ import annotations

import logging

import pytest
from google.genai import errors, types

from daemon.emulator import LiveEmulator, ToolCall, Turn

from .helpers import (
    FAST,
    connect,
    input_text,
    kinds,
    model_audio,
    output_text,
    receive_turn,
    send_audio,
    silence_pcm,
    speech_pcm,
)


async def test_text_turn_gets_spoken_answer_in_protocol_order(emu: LiveEmulator) -> None:
    async with connect(emu) as session:
        await session.send_realtime_input(text="hello there")
        messages = await receive_turn(session)

    trace = kinds(messages)
    assert trace[0] == "model_turn"
    assert set(trace[:-2]) == {"model_turn", "output_transcription"}  # interleaved
    assert trace[-2:] == ["generation_complete", "turn_complete"]
    assert output_text(messages) == "Hello! How can I help?"
    assert messages[-1].usage_metadata.total_token_count > 0
    record = emu.sessions[0]
    assert record.texts == ["hello there"]
    assert record.user_turns[0].transcription == "hello there"


async def test_reply_audio_is_24khz_pcm_in_20_to_40_ms_chunks(emu: LiveEmulator) -> None:
    async with connect(emu) as session:
        await session.send_client_content(
            turns=types.Content(role="user", parts=[types.Part(text="tell me something")])
        )
        messages = await receive_turn(session)
    chunks = [
        part.inline_data.data
        for m in messages if m.server_content and m.server_content.model_turn
        for part in m.server_content.model_turn.parts
    ]
    assert chunks
    assert all(len(c) % 2 == 0 and len(c) <= 24000 * 2 * 40 // 1000 for c in chunks)
    assert all(len(c) >= 24000 * 2 * 20 // 1000 for c in chunks[:-1])
    assert emu.sessions[0].texts == ["tell me something"]


async def test_audio_turn_is_detected_transcribed_and_answered(emu: LiveEmulator) -> None:
    emu.script([Turn(said="what is on the shopping list")])
    async with connect(emu, realtime_input_config={
        "automatic_activity_detection": {"silence_duration_ms": 300}
    }) as session:
        await send_audio(session, speech_pcm(1.0) + silence_pcm(0.6))
        messages = await receive_turn(session)

    trace = kinds(messages)
    assert trace[0] == "input_transcription"
    assert trace[-2:] == ["generation_complete", "turn_complete"]
    assert input_text(messages) == "what is on the shopping list"
    assert output_text(messages) == "You said: what is on the shopping list"
    assert len(model_audio(messages)) > 24000  # at least half a second of 24 kHz speech
    record = emu.sessions[0]
    assert record.audio_seconds == 1.6
    assert record.user_turns[0].source == "audio"
    assert 0.9 <= record.user_turns[0].audio_seconds <= 1.1


async def test_unscripted_audio_is_described_by_its_length(emu: LiveEmulator) -> None:
    async with connect(emu) as session:
        await send_audio(session, speech_pcm(1.2) + silence_pcm(0.8))
        messages = await receive_turn(session)
    assert input_text(messages) == "(1.2 s of speech)"
    assert "1.2 s of speech" in output_text(messages)


async def test_audio_stream_end_ends_the_utterance_without_silence(emu: LiveEmulator) -> None:
    emu.script([Turn(said="stop")])
    async with connect(emu) as session:
        await send_audio(session, speech_pcm(0.5))
        await session.send_realtime_input(audio_stream_end=True)
        messages = await receive_turn(session)
    assert input_text(messages) == "stop"
    assert emu.sessions[0].audio_stream_ends == 1


async def test_manual_activity_signals_delimit_the_turn(emu: LiveEmulator) -> None:
    emu.script([Turn(said="manual mode works")])
    async with connect(emu, realtime_input_config={
        "automatic_activity_detection": {"disabled": True}
    }) as session:
        await session.send_realtime_input(activity_start=types.ActivityStart())
        await send_audio(session, silence_pcm(0.4))  # energy does not matter here
        await session.send_realtime_input(activity_end=types.ActivityEnd())
        messages = await receive_turn(session)
    assert input_text(messages) == "manual mode works"
    record = emu.sessions[0]
    assert (record.activity_starts, record.activity_ends) == (1, 1)
    assert record.user_turns[0].audio_seconds == 0.4


async def test_switch_utterance_calls_the_declared_function_and_reports_the_result(
    emu: LiveEmulator,
) -> None:
    async with connect(emu) as session:
        await session.send_realtime_input(text="please switch off the kitchen light")
        messages = []
        async for message in session.receive():
            messages.append(message)
            if message.tool_call:
                call = message.tool_call.function_calls[0]
                assert (call.name, call.args) == ("set_relay", {"name": "kitchen_light",
                                                                "state": "off"})
                await session.send_tool_response(function_responses=[types.FunctionResponse(
                    id=call.id, name=call.name, response={"result": "ok"})])
    assert kinds(messages)[0] == "toolCall"
    assert output_text(messages) == "Okay, the kitchen light is off."
    response = emu.sessions[0].tool_responses[0]
    assert (response.name, response.response) == ("set_relay", {"result": "ok"})


async def test_turn_the_lamp_on_and_a_tool_error_is_spoken(emu: LiveEmulator) -> None:
    async with connect(emu) as session:
        await session.send_realtime_input(text="turn the lamp on")
        async for message in session.receive():
            if message.tool_call:
                call = message.tool_call.function_calls[0]
                assert call.args == {"name": "lamp", "state": "on"}
                await session.send_tool_response(function_responses=[types.FunctionResponse(
                    id=call.id, name=call.name, response={"error": "relay lamp is stuck"})])
                continue
            if message.server_content and message.server_content.turn_complete:
                break
    assert emu.sessions[0].model_turns[0].reply == "Sorry, that did not work: relay lamp is stuck"


async def test_scripted_turn_makes_its_tool_calls_and_says_its_reply(emu: LiveEmulator) -> None:
    emu.script([Turn(said="what time is it", reply="It is noon.",
                     tool_calls=[ToolCall("get_time", {"zone": "local"})])])
    async with connect(emu) as session:
        await send_audio(session, speech_pcm(0.6) + silence_pcm(0.6))
        calls = []
        messages = []
        async for message in session.receive():
            messages.append(message)
            if message.tool_call:
                calls += message.tool_call.function_calls
                await session.send_tool_response(function_responses=[types.FunctionResponse(
                    id=calls[0].id, name="get_time", response={"time": "12:00"})])
    assert [(c.name, c.args) for c in calls] == [("get_time", {"zone": "local"})]
    assert input_text(messages) == "what time is it"
    assert output_text(messages) == "It is noon."
    assert emu.sessions[0].tool_responses[0].response == {"time": "12:00"}


async def test_text_only_modality_answers_in_text(emu: LiveEmulator) -> None:
    async with connect(emu, response_modalities=["TEXT"], output_audio_transcription=None,
                       input_audio_transcription=None) as session:
        await session.send_realtime_input(text="hi")
        messages = await receive_turn(session)
    texts = [part.text for m in messages if m.server_content and m.server_content.model_turn
             for part in m.server_content.model_turn.parts]
    assert texts == ["Hello! How can I help?"]
    assert model_audio(messages) == b""


async def test_client_leaving_mid_reply_leaves_the_emulator_serving(
    emu: LiveEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    emu.speech_pace = 1.0
    emu.script([Turn(reply="A reply long enough that the client leaves in the middle of it.")])
    async with connect(emu) as session:
        await session.send_realtime_input(text="hello")
        async for message in session.receive():
            if message.server_content and message.server_content.model_turn:
                break
    record = await emu.wait_closed()
    assert (record.closed_by, record.close_code) == ("client", 1000)
    emu.speech_pace = FAST
    async with connect(emu) as session:
        await session.send_realtime_input(text="hello")
        assert output_text(await receive_turn(session)) == "Hello! How can I help?"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_failing_scripted_reply_closes_1011_like_an_internal_error(
    emu: LiveEmulator,
) -> None:
    def broken(_responses: object) -> str:
        raise RuntimeError("script bug")

    emu.script([Turn(reply=broken)])
    async with connect(emu) as session:
        await session.send_realtime_input(text="hello")
        with pytest.raises(errors.APIError) as caught:
            await receive_turn(session)
    assert caught.value.code == 1011
