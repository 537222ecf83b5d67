"""The emulator on its own thread, for synchronous callers (subprocess tests, the demo)."""

from __future__ import annotations

import asyncio

from google.genai import errors

from daemon.emulator import EmulatorThread, Turn

from .helpers import connect, output_text, receive_turn


def test_synchronous_code_scripts_and_faults_a_threaded_emulator() -> None:
    with EmulatorThread(speech="tone", speech_pace=0) as emu:
        emu.script([Turn(reply="From another thread.")])

        async def talk() -> str:
            async with connect(emu.emulator) as session:
                await session.send_realtime_input(text="hi")
                text = output_text(await receive_turn(session))
                emu.close_next(1011, "Internal error encountered.")
                try:
                    await receive_turn(session)
                except errors.APIError as error:
                    return f"{text} / {error.code}"
            return text

        assert asyncio.run(talk()) == "From another thread. / 1011"
        assert emu.sessions[0].texts == ["hi"]
        assert emu.url.startswith("https://127.0.0.1:")
