"""Faults in the middle of a conversation, as the appliance meets them (docs/live-protocol.md).

A goAway in the middle of an answer, a 1007/1008 after a setup that worked,
and a TCP connection that dies mid-answer: each seen through the real SDK.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from daemon.emulator import LiveEmulator, Turn
from daemon.emulator.speech import tone_for

from .helpers import (
    connect,
    kinds,
    model_audio,
    output_text,
    receive_turn,
    receive_until_error,
)

LONG_REPLY = "This answer is long enough for a fault to land in the middle of it, word by word."


async def _handle_after_turn(session: object) -> str:
    async for message in session.receive():  # type: ignore[attr-defined]
        update = message.session_resumption_update
        assert update is not None and update.resumable
        return str(update.new_handle)
    raise AssertionError("no sessionResumptionUpdate after the turn")


async def test_go_away_mid_answer_lets_the_whole_answer_arrive_then_closes_1000(
    emu: LiveEmulator,
) -> None:
    emu.script([Turn(reply=LONG_REPLY)])
    emu.send_go_away(time_left="1s", when="mid_turn")
    loop = asyncio.get_running_loop()
    go_away_at = None
    async with connect(emu) as session:
        await session.send_realtime_input(text="tell me something long")
        answer = []
        async for message in session.receive():
            answer.append(message)
            if message.go_away:
                go_away_at = loop.time()
        still_open = not emu.sessions[0].closed
        after, error = await receive_until_error(session)
        closed_after = loop.time() - go_away_at if go_away_at is not None else 0.0

    trace = kinds(answer)
    assert "goAway" in trace
    before, rest = trace[: trace.index("goAway")], trace[trace.index("goAway") + 1 :]
    assert "model_turn" in before and "model_turn" in rest  # it came in the middle
    assert rest[-2:] == ["generation_complete", "turn_complete"]
    assert model_audio(answer) == tone_for(LONG_REPLY)  # nothing of the answer is lost
    assert output_text(answer) == LONG_REPLY
    assert still_open  # the answer ended before timeLeft ran out
    assert after == []
    assert (error.code, error.details) == (1000, "The connection was closed after goAway.")
    assert closed_after > 0.8  # closed when timeLeft ran out, not when the answer ended
    record = await emu.wait_closed()
    assert (record.close_code, record.closed_by) == (1000, "server")


async def test_after_go_away_a_new_connection_resumes_while_the_old_one_finishes(
    emu: LiveEmulator,
) -> None:
    """What the appliance does: reconnect at once, but hear the old answer to its end."""
    emu.script([Turn(reply="My name is Ada."), Turn(reply=LONG_REPLY)])
    async with contextlib.AsyncExitStack() as stack:
        old = await stack.enter_async_context(connect(emu, session_resumption={}))
        await old.send_realtime_input(text="my name is Ada")
        await receive_turn(old)
        handle = await _handle_after_turn(old)
        emu.send_go_away(time_left="2s", when="mid_turn")
        await old.send_realtime_input(text="tell me something long")
        answer, new = [], None
        async for message in old.receive():
            answer.append(message)
            if message.go_away:  # open the next connection before the answer ends
                new = await stack.enter_async_context(
                    connect(emu, session_resumption={"handle": handle})
                )
        assert new is not None, "no goAway arrived"
        assert len(emu.live_sessions) == 2  # the old one is still open
        await new.send_realtime_input(text="what did I say")
        resumed = await receive_turn(new)

    assert model_audio(answer) == tone_for(LONG_REPLY)
    assert kinds(answer)[-1] == "turn_complete"
    assert output_text(resumed) == "You said: my name is Ada"
    assert emu.sessions[1].resumed_from == handle
    assert emu.sessions[0].model_turns[-1].interrupted is False


@pytest.mark.parametrize(
    ("code", "reason"),
    [(1007, "Request contains an invalid argument."),
     (1008, "Operation is not implemented, or supported, or enabled.")],
)
@pytest.mark.parametrize("when", ["next_turn", "mid_turn"])
async def test_a_1007_or_1008_after_setup_ends_that_session_only(
    emu: LiveEmulator, code: int, reason: str, when: str
) -> None:
    emu.script([Turn(reply=LONG_REPLY), Turn(reply="Still here.")])
    emu.close_next(code, reason, when=when)
    async with connect(emu) as session:
        assert session.setup_complete is not None  # the setup (and the key) were fine
        await session.send_realtime_input(text="hello")
        messages, error = await receive_until_error(session)
    assert (error.code, error.details) == (code, reason)
    assert "turn_complete" not in kinds(messages)
    if when == "mid_turn":
        assert 0 < len(model_audio(messages)) < len(tone_for(LONG_REPLY))
    else:
        assert messages == []
    record = await emu.wait_closed()
    assert (record.close_code, record.closed_by) == (code, "server")

    async with connect(emu) as session:  # the same key opens the next session
        await session.send_realtime_input(text="hello again")
        assert output_text(await receive_turn(session)) == "Still here."


async def test_a_connection_dropped_mid_answer_reads_as_1006(emu: LiveEmulator) -> None:
    emu.script([Turn(reply=LONG_REPLY), Turn(reply="Back again.")])
    emu.drop_connection(when="mid_turn")
    async with connect(emu) as session:
        await session.send_realtime_input(text="hello")
        messages, error = await receive_until_error(session)
    assert error.code == 1006
    assert 0 < len(model_audio(messages)) < len(tone_for(LONG_REPLY))
    assert "turn_complete" not in kinds(messages)
    record = await emu.wait_closed()
    assert (record.close_code, record.closed_by) == (1006, "drop")

    async with connect(emu) as session:
        await session.send_realtime_input(text="hello again")
        assert output_text(await receive_turn(session)) == "Back again."
