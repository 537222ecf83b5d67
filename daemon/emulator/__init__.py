"""A local Gemini Live API emulator the unmodified google-genai SDK can talk to.

It serves the real wire protocol over TLS on loopback only, answers like a
small model (tool calls, spoken replies, transcriptions), keeps a record of
what every session received, and injects the faults the daemon must survive:

    from google import genai
    from daemon.emulator import LiveEmulator, Turn, ToolCall

    async with LiveEmulator(speech_pace=20) as emu:
        emu.script([Turn(said="turn on the lamp")])      # the next audio turn "says" this
        client = genai.Client(api_key="any", http_options=emu.http_options())
        # == HttpOptions(base_url=emu.url, async_client_args={"ssl": emu.client_ssl_context()})
        async with client.aio.live.connect(model="gemini-2.5-flash-native-audio-preview-12-2025",
                                           config={"response_modalities": ["AUDIO"]}) as session:
            await session.send_realtime_input(text="hello")
            async for message in session.receive():
                ...
        emu.close_next(1011, "Internal error encountered.", when="mid_turn")
        assert emu.sessions[0].texts == ["hello"]

From synchronous code: `with EmulatorThread(speech="tone") as emu: ...`.
From a shell: `speakerd emulator --port 0 --ca-out /tmp/ca.pem`.
"""

from .brain import ToolCall, Turn
from .faults import Fault
from .protocol import DEFAULT_MODEL, KNOWN_MODELS, KNOWN_VOICES
from .records import FrameRecord, ModelTurnRecord, SessionRecord, ToolResponseRecord, UserTurnRecord
from .server import LiveEmulator, NotLoopbackError, check_loopback
from .thread import EmulatorThread, start_in_thread

__all__ = [
    "DEFAULT_MODEL",
    "KNOWN_MODELS",
    "KNOWN_VOICES",
    "EmulatorThread",
    "Fault",
    "FrameRecord",
    "LiveEmulator",
    "ModelTurnRecord",
    "NotLoopbackError",
    "SessionRecord",
    "ToolCall",
    "ToolResponseRecord",
    "Turn",
    "UserTurnRecord",
    "check_loopback",
    "start_in_thread",
]
