"""The household memory reaches the model through every connection's setup."""

from __future__ import annotations

from daemon.emulator import LiveEmulator, Turn
from daemon.live import TurnComplete


def instruction(record) -> str:
    setup = record.setup
    content = setup.get("systemInstruction") or setup.get("system_instruction")
    return "\n".join(part["text"] for part in content["parts"])


async def test_every_connection_reads_the_memory_anew(emu: LiveEmulator, open_session):
    facts = ["- my daughter is called Mia"]
    session, recorder = await open_session(instruction_note=lambda: "\n".join(facts))

    assert instruction(emu.sessions[0]).endswith("\n\n- my daughter is called Mia")
    assert instruction(emu.sessions[0]).startswith("You are a helpful smart speaker")
    mark = recorder.mark()
    emu.script([Turn(reply="Noted.")])
    await session.send_text("what is my daughter called")
    await recorder.wait_for(TurnComplete, after=mark)
    assert emu.sessions[0].model_turns[-1].reply == "Noted."

    facts.append("- the bins go out on Tuesday night")
    mark = recorder.mark()
    emu.drop_connection()
    await recorder.wait_state("open", after=mark)
    assert instruction(emu.sessions[1]).endswith("- the bins go out on Tuesday night")
    await session.send_text("when do the bins go out")
    await recorder.wait_for(TurnComplete, after=mark)
    assert emu.sessions[1].model_turns[-1].reply == "You told me: the bins go out on Tuesday night"
