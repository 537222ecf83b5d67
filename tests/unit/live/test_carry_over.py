"""A conversation that never loses the thread: when the service will not resume.

The service may refuse a resumption handle (1008 `session not found`, or a bare
1007 on gemini-3.8-live), or end a session at its age limit (1011 at 58
minutes) and then refuse its handles. The session then opens a fresh one and
gives it the turns so far as client_content without turn_complete, before the
user's next words (docs/live-protocol.md, "Carrying a conversation over"). The
emulator checks that they came with their roles, and answers from them.
"""

import pytest

from daemon.emulator import LiveEmulator, Turn
from daemon.live import LiveSession, SessionFailed, TurnComplete
from daemon.live.carry_over import CarriedTurns
from tests.unit.live.conftest import Recorder


async def say(emu: LiveEmulator, session: LiveSession, recorder: Recorder, text: str,
              reply: str | None = None) -> str:
    """A typed turn; what the model answered (as the emulator recorded it)."""
    mark = recorder.mark()
    if reply is not None:
        emu.script([Turn(reply=reply)])
    await session.send_text(text)
    await recorder.wait_for(TurnComplete, after=mark)
    record = emu.sessions[-1]
    await emu.wait_for(lambda: record.handles_issued, what="a handle")
    await emu.wait_for(lambda: session.resumption_handle == record.handles_issued[-1],
                       what="the client to keep the handle")  # fmt: skip
    return record.model_turns[-1].reply


def carried(record) -> list[tuple[str | None, str]]:
    assert len(record.client_contents) == 1, record.client_contents
    content = record.client_contents[0]
    assert content.turn_complete is False  # it waits for the user's next words
    return content.turns


@pytest.mark.parametrize("code", [1008, 1007])
async def test_a_refused_handle_starts_fresh_and_the_next_answer_knows_the_conversation(
    emu: LiveEmulator, open_session, code: int
):
    session, recorder = await open_session()
    await say(emu, session, recorder, "my daughter is called Mia", reply="What a lovely name.")
    await say(emu, session, recorder, "the bins go out on Tuesday night", reply="Noted.")
    mark = recorder.mark()
    emu.refuse_next_resumption(code)
    emu.drop_connection()

    reopened = await recorder.wait_state("open", after=mark)
    answer = await say(emu, session, recorder, "what is my daughter called")

    assert "new session" in reopened.detail
    refused, fresh = emu.sessions[1], emu.sessions[2]
    assert refused.close_code == code and refused.resumed_from is not None
    assert fresh.resumed_from is None
    assert carried(fresh) == [
        ("user", "my daughter is called Mia"),
        ("model", "What a lovely name."),
        ("user", "the bins go out on Tuesday night"),
        ("model", "Noted."),
    ]
    assert answer == "You told me: my daughter is called Mia"
    assert not recorder.of(SessionFailed)


async def test_what_did_i_just_ask_after_a_fresh_start(emu: LiveEmulator, open_session):
    session, recorder = await open_session()
    await say(emu, session, recorder, "how tall is the Eiffel tower", reply="330 metres.")
    mark = recorder.mark()
    emu.expire_handles()
    emu.drop_connection()
    await recorder.wait_state("open", after=mark)

    answer = await say(emu, session, recorder, "what did I just ask")

    assert answer == "You said: how tall is the Eiffel tower"


async def test_the_58_minute_close_and_the_refused_resume_lose_nothing(
    emu: LiveEmulator, open_session
):
    emu.session_max_age = 58 * 60
    session, recorder = await open_session(gemini={"model": "gemini-3.8-live"})
    await say(emu, session, recorder, "I take my coffee black", reply="Got it.")
    mark = recorder.mark()

    emu.fast_forward(58 * 60)  # the emulated clock reaches 58 minutes

    reopened = await recorder.wait_state("open", after=mark)
    answer = await say(emu, session, recorder, "how do I take my coffee")

    aged, refused, fresh = emu.sessions[0], emu.sessions[1], emu.sessions[2]
    assert aged.aged_out and aged.close_code == 1011
    assert aged.close_reason == "Deadline expired before operation could complete."
    assert refused.close_code == 1007 and refused.resumed_from in aged.handles_issued
    assert "new session" in reopened.detail and fresh.resumed_from is None
    assert carried(fresh) == [("user", "I take my coffee black"), ("model", "Got it.")]
    assert answer == "You told me: I take my coffee black"
    assert not recorder.of(SessionFailed)


async def test_a_resumed_session_is_not_given_the_turns_again(emu: LiveEmulator, open_session):
    session, recorder = await open_session()
    await say(emu, session, recorder, "hello there", reply="Hello!")
    mark = recorder.mark()
    emu.drop_connection()
    await recorder.wait_state("open", after=mark)

    assert emu.sessions[1].resumed_from is not None
    assert emu.sessions[1].client_contents == []


def test_carried_turns_alternate_and_keep_the_newest_within_their_bounds():
    turns = CarriedTurns(max_turns=3, max_chars=100)
    turns.heard("user", "turn on")
    turns.heard("user", " the lamp")
    turns.heard("model", "Okay, the lamp")
    turns.heard("model", " is on.")
    turns.end_turn()
    turns.typed("and the fan")
    turns.typed("please")
    assert turns.turns() == [
        ("user", "turn on the lamp"), ("model", "Okay, the lamp is on."),
        ("user", "and the fan please"),
    ]
    turns.heard("model", "x" * 90)
    assert turns.turns() == [("model", "x" * 90)]  # the oldest went first
    assert [c.role for c in turns.contents()] == ["model"]
