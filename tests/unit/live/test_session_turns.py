"""Conversations through the real SDK, over real TLS, against the local emulator."""

import asyncio
import logging

from daemon.emulator import LiveEmulator, ToolCall, Turn
from daemon.live import (
    GenerationComplete,
    InputTranscript,
    Interrupted,
    ModelAudio,
    OutputTranscript,
    ToolCancelled,
    ToolResult,
    TurnComplete,
)
from daemon.live import ToolCall as ToolCallEvent
from tests.unit.live.conftest import (
    API_KEY,
    RELAY_TOOL,
    Recorder,
    send_in_chunks,
    silence,
    speech,
)


def output_text(recorder: Recorder, after: int = 0) -> str:
    return "".join(e.text for e in recorder.of(OutputTranscript, after))


async def test_text_turn_is_answered_with_voice_and_usage(emu: LiveEmulator, open_session):
    session, recorder = await open_session()
    emu.script([Turn(reply="Hello from the kitchen.")])

    await session.send_text("hello")
    done = await recorder.wait_for(TurnComplete)

    assert emu.sessions[0].texts == ["hello"]
    audio = recorder.of(ModelAudio)
    assert audio and all(chunk.rate == 24000 for chunk in audio)
    assert sum(len(chunk.pcm) for chunk in audio) == emu.sessions[0].model_turns[0].audio_bytes_sent
    assert recorder.of(GenerationComplete)
    assert done.usage["total_token_count"] > 0
    assert output_text(recorder) == "Hello from the kitchen."
    # The handle that follows the turn is kept for resumption.
    await emu.wait_for(lambda: session.resumption_handle, what="a resumption handle")
    assert session.resumption_handle == emu.sessions[0].handles_issued[-1]


async def test_audio_turn_arrives_whole_and_both_transcripts_come_back(
    emu: LiveEmulator, open_session
):
    session, recorder = await open_session()
    emu.script([Turn(said="what time is it", reply="It is noon.")])
    utterance = speech()

    await send_in_chunks(session, utterance)
    await recorder.wait_for(TurnComplete)

    record = emu.sessions[0]
    assert bytes(record.audio) == utterance
    assert record.audio_mime_types[0] == "audio/pcm;rate=16000"
    assert [e.text for e in recorder.of(InputTranscript)] == ["what time is it"]
    assert output_text(recorder) == "It is noon."
    assert record.setup  # the setup the config produced reached the server intact
    assert record.voice == "Kore"


async def test_tool_call_runs_and_its_result_reaches_the_model(emu: LiveEmulator, open_session):
    calls = []

    async def handler(name, args):
        calls.append((name, args))
        return {"result": "ok", "state": "on"}

    session, recorder = await open_session(tools=[RELAY_TOOL], tool_handler=handler)
    emu.script([
        Turn(
            said="turn on the lamp",
            tool_calls=[ToolCall("set_relay", {"name": "lamp", "on": True}, id="fc-1")],
            reply="The lamp is on.",
        )
    ])  # fmt: skip

    await session.send_text("turn on the lamp")
    await recorder.wait_for(TurnComplete)

    assert calls == [("set_relay", {"name": "lamp", "on": True})]
    assert recorder.of(ToolCallEvent) == [
        ToolCallEvent("fc-1", "set_relay", {"name": "lamp", "on": True})
    ]
    assert recorder.of(ToolResult)[0].response == {"result": "ok", "state": "on"}
    responses = emu.sessions[0].tool_responses
    assert [(r.id, r.name, r.response) for r in responses] == [
        ("fc-1", "set_relay", {"result": "ok", "state": "on"})
    ]
    assert output_text(recorder) == "The lamp is on."
    declared = [
        d["name"]
        for tool in emu.sessions[0].setup["tools"]
        for d in tool.get("functionDeclarations") or tool.get("function_declarations") or []
    ]
    assert declared == ["set_relay"]


async def test_a_tool_that_raises_answers_with_an_error_and_the_session_goes_on(
    emu: LiveEmulator, open_session
):
    async def handler(name, args):
        raise RuntimeError("relay board not answering")

    session, recorder = await open_session(tools=[RELAY_TOOL], tool_handler=handler)
    emu.script([
        Turn(tool_calls=[ToolCall("set_relay", {"name": "fan", "on": True}, id="fc-9")]),
        Turn(reply="Still here."),
    ])  # fmt: skip

    await session.send_text("turn on the fan")
    await recorder.wait_for(TurnComplete)
    [response] = emu.sessions[0].tool_responses
    assert response.id == "fc-9"
    assert "relay board not answering" in response.response["error"]

    mark = recorder.mark()
    await session.send_text("are you there")
    await recorder.wait_for(TurnComplete, after=mark)
    assert output_text(recorder, mark) == "Still here."
    assert session.state == "open"


async def test_a_cancelled_tool_call_sends_no_response(emu: LiveEmulator, open_session):
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def slow_handler(name, args):
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return {"result": "too late"}

    session, recorder = await open_session(tools=[RELAY_TOOL], tool_handler=slow_handler)
    emu.script([
        Turn(tool_calls=[ToolCall("set_relay", {"name": "heater", "on": True}, id="fc-7")]),
        Turn(reply="Okay, stopped."),
    ])  # fmt: skip

    await session.send_text("turn on the heater")
    await started.wait()
    mark = recorder.mark()
    await session.send_text("stop")  # barge-in: the server withdraws the pending call
    assert (await recorder.wait_for(ToolCancelled, after=mark)).ids == ("fc-7",)
    await cancelled.wait()
    # The next turn went through, so a response would have reached the server by now.
    answer = await recorder.wait_for(
        OutputTranscript, after=mark, where=lambda e: "stopped" in e.text
    )
    await recorder.wait_for(TurnComplete, after=recorder.events.index(answer))

    assert emu.sessions[0].tool_responses == []
    assert not recorder.of(ToolResult)


async def test_barge_in_interrupts_the_model():
    async with LiveEmulator(api_key=API_KEY, speech="tone", speech_pace=1.0) as emu:
        from daemon.live import LiveSession
        from tests.unit.live.conftest import gemini_config

        session = LiveSession(gemini_config(emu), API_KEY)
        recorder = Recorder(session)
        await session.start()
        try:
            emu.script([
                Turn(said="tell me a story", reply="Once upon a time " * 20),
                Turn(said="stop", reply="Okay."),
            ])  # fmt: skip
            await send_in_chunks(session, speech())
            await recorder.wait_for(ModelAudio)
            mark = recorder.mark()
            await send_in_chunks(session, speech())  # the user talks over the model

            interrupted = await recorder.wait_for(Interrupted, after=mark)
            turn_end = await recorder.wait_for(TurnComplete)
            position = recorder.events.index
            assert position(interrupted) < position(turn_end)
            # An interrupted turn never reports a complete generation.
            assert not [
                e
                for e in recorder.events[: position(turn_end)]
                if isinstance(e, GenerationComplete)
            ]
            assert emu.sessions[0].model_turns[0].interrupted
        finally:
            await session.close()
            await recorder.stop()


async def test_a_malformed_server_frame_is_logged_and_skipped(
    emu: LiveEmulator, open_session, caplog
):
    caplog.set_level(logging.WARNING, logger="daemon.live")
    session, recorder = await open_session()
    emu.send_malformed()
    await emu.wait_for(lambda: any("malformed" in r.getMessage() for r in caplog.records),
                       what="the warning")  # fmt: skip
    emu.script([Turn(reply="Fine.")])
    await session.send_text("still there?")
    await recorder.wait_for(TurnComplete)
    assert output_text(recorder) == "Fine."
    assert len(emu.sessions) == 1


async def test_audio_sent_before_start_finishes_is_delivered_first(emu: LiveEmulator):
    from daemon.live import LiveSession
    from tests.unit.live.conftest import gemini_config

    emu.delay_setup(0.3)
    session = LiveSession(gemini_config(emu), API_KEY)
    starting = asyncio.create_task(session.start())
    await emu.wait_for(lambda: emu.sessions, what="a connection")
    early = silence(0.2)
    await session.send_audio(early)  # e.g. the words right after the wake word
    await starting
    late = b"\x01\x00" * 100
    await session.send_audio(late)
    await emu.wait_for(lambda: len(emu.sessions[0].audio) == len(early) + len(late),
                       what="all audio")  # fmt: skip
    assert bytes(emu.sessions[0].audio) == early + late
    await session.close()
