"""Session resumption handles, and the connection lifetime that makes them needed."""

from __future__ import annotations

import pytest
from google.genai import errors

from daemon.emulator import LiveEmulator

from .helpers import connect, output_text, receive_turn


async def _turn_and_handle(session: object, text: str) -> tuple[list, str]:
    await session.send_realtime_input(text=text)  # type: ignore[attr-defined]
    messages = await receive_turn(session)
    async for update in session.receive():  # type: ignore[attr-defined]
        assert update.session_resumption_update.resumable
        return messages, update.session_resumption_update.new_handle
    raise AssertionError("no sessionResumptionUpdate")


async def test_a_handle_resumes_the_conversation_in_a_new_connection(emu: LiveEmulator) -> None:
    async with connect(emu, session_resumption={}) as session:
        _, handle = await _turn_and_handle(session, "my name is Ada")
    async with connect(emu, session_resumption={"handle": handle}) as session:
        messages, _ = await _turn_and_handle(session, "what did I say")
    assert output_text(messages) == "You said: my name is Ada"
    assert emu.sessions[1].resumed_from == handle
    assert emu.sessions[0].handles_issued == [handle]


async def test_without_a_handle_the_history_starts_empty(emu: LiveEmulator) -> None:
    async with connect(emu, session_resumption={}) as session:
        await _turn_and_handle(session, "my name is Ada")
    async with connect(emu, session_resumption={}) as session:
        messages, _ = await _turn_and_handle(session, "what did I say")
    assert output_text(messages) == "You have not said anything yet."
    assert emu.sessions[1].resumed_from is None


async def test_no_update_without_resumption_configured(emu: LiveEmulator) -> None:
    async with connect(emu) as session:
        await session.send_realtime_input(text="hi")
        await receive_turn(session)
    assert emu.sessions[0].handles_issued == []


async def test_unknown_handle_closes_1008_session_not_found(emu: LiveEmulator) -> None:
    with pytest.raises(errors.APIError) as caught:
        async with connect(emu, session_resumption={"handle": "no-such-handle"}):
            pass
    assert (caught.value.code, caught.value.details) == (1008, "session not found")


async def test_expired_handles_close_1008(emu: LiveEmulator) -> None:
    async with connect(emu, session_resumption={}) as session:
        _, handle = await _turn_and_handle(session, "hello")
    emu.expire_handles()
    with pytest.raises(errors.APIError) as caught:
        async with connect(emu, session_resumption={"handle": handle}):
            pass
    assert caught.value.code == 1008


async def test_connection_lifetime_sends_go_away_then_closes_1000() -> None:
    async with LiveEmulator(speech="tone", connection_lifetime=0.6, go_away_notice=0.3) as emu:
        async with connect(emu) as session:
            messages = []
            with pytest.raises(errors.APIError) as caught:
                async for message in session.receive():
                    messages.append(message)
        assert [m.go_away.time_left for m in messages] == ["0.300s"]
        assert caught.value.code == 1000
        record = await emu.wait_closed()
        assert (record.close_code, record.closed_by) == (1000, "server")
