"""The daemon's side of the Gemini Live API: one LiveSession per conversation."""

from daemon.live.errors import FatalSessionError, SessionError
from daemon.live.events import (
    GenerationComplete,
    InputTranscript,
    Interrupted,
    ModelAudio,
    OutputTranscript,
    SessionEvent,
    SessionFailed,
    SessionStateChanged,
    ToolCall,
    ToolCancelled,
    ToolResult,
    TurnComplete,
)
from daemon.live.session import LiveSession

__all__ = [
    "FatalSessionError",
    "GenerationComplete",
    "InputTranscript",
    "Interrupted",
    "LiveSession",
    "ModelAudio",
    "OutputTranscript",
    "SessionError",
    "SessionEvent",
    "SessionFailed",
    "SessionStateChanged",
    "ToolCall",
    "ToolCancelled",
    "ToolResult",
    "TurnComplete",
]
