"""After warm_sdk, a whole conversation builds none of the SDK's classes.

Each check runs in a fresh interpreter: in this one, earlier tests have built
the classes already.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

CONVERSATION = textwrap.dedent(
    """
    import asyncio, json, sys

    import pydantic
    from google.genai import types

    from daemon.emulator import LiveEmulator, ToolCall, Turn
    from daemon.live import LiveSession, TurnComplete
    from daemon.live.warm import warm_sdk
    from tests.unit.live.conftest import API_KEY, RELAY_TOOL, Recorder, gemini_config
    from tests.unit.live.conftest import send_in_chunks, speech

    def built():
        return {name for name, cls in vars(types).items()
                if isinstance(cls, type) and issubclass(cls, pydantic.BaseModel)
                and cls.__pydantic_complete__}

    async def handler(name, args):
        return {"result": "ok"}

    async def main():
        async with LiveEmulator(api_key=API_KEY, speech="tone", speech_pace=0) as emu:
            config = gemini_config(emu)
            if sys.argv[1] == "warm":
                await warm_sdk(config, [RELAY_TOOL])
            before = built()
            session = LiveSession(config, API_KEY, tools=[RELAY_TOOL], tool_handler=handler)
            recorder = Recorder(session)
            await session.start()
            emu.script([
                Turn(said="turn on the lamp",
                     tool_calls=[ToolCall("set_relay", {"name": "lamp", "on": True})],
                     reply="The lamp is on."),
                Turn(reply="Hello."),
            ])
            await send_in_chunks(session, speech())
            await recorder.wait_for(TurnComplete)
            mark = recorder.mark()
            await session.send_text("hello")
            await recorder.wait_for(TurnComplete, after=mark)
            await session.close()
            await recorder.stop()
            print(json.dumps(sorted(built() - before)))

    asyncio.run(main())
    """
)


def built_during_a_conversation(warm: bool) -> list[str]:
    """The SDK classes whose validators a conversation had to build (fresh interpreter)."""
    result = subprocess.run(
        [sys.executable, "-c", CONVERSATION, "warm" if warm else "cold"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_after_warming_the_first_conversation_builds_nothing() -> None:
    cold = built_during_a_conversation(warm=False)
    assert "LiveServerMessage" in cold and "LiveConnectParameters" in cold  # what it saves
    assert built_during_a_conversation(warm=True) == []
