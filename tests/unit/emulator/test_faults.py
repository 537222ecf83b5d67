"""Injected faults reach the SDK exactly as the service's own failures do."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from google.genai import errors

from daemon.emulator import Fault, LiveEmulator, Turn

from .helpers import connect, kinds, model_audio, receive_turn, receive_until_error

CODES = [(1011, "Internal error encountered."), (1007, "Request contains an invalid argument."),
         (1008, "Quota exceeded."), (1000, "")]


@pytest.mark.parametrize(("code", "reason"), CODES)
async def test_close_now_with_any_code(emu: LiveEmulator, code: int, reason: str) -> None:
    async with connect(emu) as session:
        emu.close_next(code, reason)
        _, error = await receive_until_error(session)
    assert (error.code, error.details) == (code, reason)
    record = await emu.wait_closed()
    assert (record.close_code, record.close_reason) == (code, reason)


async def test_close_now_without_a_session_hits_the_next_one_after_setup(
    emu: LiveEmulator,
) -> None:
    emu.close_next(1011, "The service is currently unavailable.")
    async with connect(emu) as session:
        _, error = await receive_until_error(session)
    assert error.code == 1011


async def test_close_at_setup_fails_the_connect(emu: LiveEmulator) -> None:
    emu.close_next(1011, "Internal error encountered.", when="setup")
    with pytest.raises(errors.APIError) as caught:
        async with connect(emu):
            pass
    assert caught.value.code == 1011
    async with connect(emu) as session:  # one-shot: the next connect works
        assert session.setup_complete is not None


async def test_close_mid_turn_after_some_audio(emu: LiveEmulator) -> None:
    emu.close_next(1011, "Internal error encountered.", when="mid_turn")
    async with connect(emu) as session:
        await session.send_realtime_input(text="hello")
        messages, error = await receive_until_error(session)
    assert error.code == 1011
    assert model_audio(messages)
    assert "turn_complete" not in kinds(messages)


async def test_dropped_connection_reads_as_1006(emu: LiveEmulator) -> None:
    async with connect(emu) as session:
        emu.drop_connection()
        await session.send_realtime_input(text="hello")
        _, error = await receive_until_error(session)
    assert error.code == 1006
    record = await emu.wait_closed()
    assert record.closed_by == "drop"


async def test_go_away_announces_time_left_then_closes_1000(emu: LiveEmulator) -> None:
    async with connect(emu) as session:
        emu.send_go_away(time_left="0.2s")
        messages, error = await receive_until_error(session)
    assert [m.go_away.time_left for m in messages] == ["0.200s"]
    assert error.code == 1000


async def test_delayed_setup_complete(emu: LiveEmulator) -> None:
    emu.delay_setup(0.3)
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with connect(emu) as session:
        assert session.setup_complete is not None
        assert loop.time() - started >= 0.3


async def test_stalled_turn_never_completes_until_the_user_barges_in(emu: LiveEmulator) -> None:
    emu.script([Turn(reply="This answer stalls half way."), Turn(reply="Okay.")])
    emu.stall_turn()
    async with connect(emu) as session:
        await session.send_realtime_input(text="hello")
        seen: list = []

        async def read() -> None:
            async for message in session.receive():
                seen.append(message)

        reader = asyncio.ensure_future(read())
        await emu.wait_for(lambda: emu.sessions[0].model_turns, what="the model turn")
        done, _ = await asyncio.wait({reader}, timeout=0.5)
        assert not done  # stalled: no turnComplete
        await session.send_realtime_input(text="hello?")
        await asyncio.wait_for(reader, 5)
        assert kinds(seen)[-2:] == ["interrupted", "turn_complete"]
        assert kinds(await receive_turn(session))[-1] == "turn_complete"


async def test_a_short_stall_then_the_turn_completes(emu: LiveEmulator) -> None:
    emu.stall_turn(seconds=0.2, when="next_turn")
    async with connect(emu) as session:
        await session.send_realtime_input(text="hello")
        messages = await receive_turn(session)
    assert kinds(messages)[-2:] == ["generation_complete", "turn_complete"]


async def test_malformed_frame_fails_the_sdk_parse(emu: LiveEmulator) -> None:
    async with connect(emu) as session:
        emu.send_malformed()
        with pytest.raises(ValueError, match="Failed to parse response"):
            await receive_turn(session)


async def test_a_raw_text_frame_reaches_the_sdk_exactly_as_given(emu: LiveEmulator) -> None:
    async with connect(emu) as session:
        emu.send_raw('{"serverContent": {"outputTranscription": {"text": "as is"}}, "x": 1}')
        emu.send_raw('{"serverContent": {"turnComplete": true}}')
        messages = await receive_turn(session)
    assert [m.server_content.output_transcription.text for m in messages[:1]] == ["as is"]
    assert kinds(messages) == ["output_transcription", "turn_complete"]


async def test_a_raw_binary_frame_that_is_not_utf8_fails_the_sdk_parse(emu: LiveEmulator) -> None:
    async with connect(emu) as session:
        emu.send_raw(b'{"serverContent": \xff}')
        with pytest.raises(UnicodeDecodeError):
            await receive_turn(session)


async def test_a_raw_frame_in_place_of_the_answers_start_then_the_answer(
    emu: LiveEmulator,
) -> None:
    emu.script([Turn(reply="Here it is.")])
    emu.send_raw('{"serverContent": {"inputTranscription": {"text": "first"}}}', when="next_turn")
    async with connect(emu) as session:
        await session.send_realtime_input(text="hello")
        messages = await receive_turn(session)
    assert messages[0].server_content.input_transcription.text == "first"
    assert model_audio(messages) and kinds(messages)[-1] == "turn_complete"


async def test_phantom_interrupted_mid_turn(emu: LiveEmulator) -> None:
    emu.send_interrupted(when="mid_turn")
    async with connect(emu) as session:
        await session.send_realtime_input(text="hello")
        messages = await receive_turn(session)
    assert kinds(messages)[-2:] == ["interrupted", "turn_complete"]
    assert emu.sessions[0].user_turns[0].barged_in is False


@pytest.mark.parametrize(
    ("fault", "problem"),
    [
        (lambda emu: emu.stall_turn(when="now"), "a stall fault cannot happen at 'now'"),
        (lambda emu: emu.send_interrupted(when="setup"), "interrupted fault cannot happen at 'setup'"),
        (lambda emu: emu.close_next(when="later"), "unknown fault moment 'later'"),
        (lambda emu: emu.inject(Fault("explode")), "unknown fault kind 'explode'"),
    ],
)
def test_a_fault_that_cannot_happen_is_refused_by_name(
    emu: LiveEmulator, fault: Callable[[LiveEmulator], None], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        fault(emu)
    assert emu.faults.pending() == []
