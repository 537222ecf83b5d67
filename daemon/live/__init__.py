"""The daemon's side of the Gemini Live API: one LiveSession per conversation.

Names are imported on first use, so that `daemon.core.models` (read by the
config check) does not pull in the SDK, and the config schema can import it.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "FatalSessionError": "daemon.live.errors",
    "SessionError": "daemon.live.errors",
    "LiveSession": "daemon.live.session",
    **{
        name: "daemon.live.events"
        for name in (
            "GenerationComplete", "Grounding", "Source", "InputTranscript", "Interrupted", "ModelAudio",
            "OutputTranscript", "SessionEvent", "SessionFailed", "SessionStateChanged",
            "ToolCall", "ToolCancelled", "ToolResult", "TurnComplete", "InteractionStatus",
        )
    },
}  # fmt: skip

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'daemon.live' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
