"""What a LiveSession tells its consumer, as plain frozen values.

The conversation logic never sees SDK types: these events are the whole
contract, so the SDK can change underneath without touching the state machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

SessionStateName = Literal["idle", "connecting", "open", "reconnecting", "closed"]

# The Live API speaks 24 kHz PCM unless the frame's MIME type says otherwise.
DEFAULT_OUTPUT_RATE = 24000


@dataclass(frozen=True)
class ModelAudio:
    """A chunk of the model's voice: 16-bit little-endian mono PCM."""

    pcm: bytes
    rate: int = DEFAULT_OUTPUT_RATE


@dataclass(frozen=True)
class InputTranscript:
    """A piece of what the server heard the user say."""

    text: str


@dataclass(frozen=True)
class OutputTranscript:
    """A piece of what the model said."""

    text: str


@dataclass(frozen=True)
class ToolCall:
    """The model asked to run a tool; a ToolResult or ToolCancelled follows."""

    id: str
    name: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ToolResult:
    """A tool's answer, already sent to the model."""

    id: str
    name: str
    response: dict[str, Any]


@dataclass(frozen=True)
class ToolCancelled:
    """The server withdrew these calls (barge-in); their results were not sent."""

    ids: tuple[str, ...]


@dataclass(frozen=True)
class Source:
    """A page a grounded answer drew on."""

    title: str
    uri: str


@dataclass(frozen=True)
class Grounding:
    """The model searched Google for this answer: what it asked and what it read."""

    queries: tuple[str, ...]
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class Interrupted:
    """The user spoke over the model: drop queued playback now."""


@dataclass(frozen=True)
class GenerationComplete:
    """The model has produced its whole answer (playback may still be running)."""


@dataclass(frozen=True)
class TurnComplete:
    """The turn is over; usage is the server's token accounting when it sent one."""

    usage: dict[str, Any] | None = None


@dataclass(frozen=True)
class InteractionStatus:
    """The server is still working on the request (in_progress: reasoning, tools, more
    to say) or done with all of it. Only models that send `interactionStatus` report
    it; there a turnComplete alone does not mean the model is finished
    (docs/live-protocol.md, "Extended thinking")."""

    in_progress: bool


@dataclass(frozen=True)
class SessionStateChanged:
    """The connection moved to a new state; detail says why, for logs and the UI."""

    state: SessionStateName
    detail: str = ""
    planned: bool = False
    """A handover the server asked for (goAway): no fault to show the user."""


@dataclass(frozen=True)
class SessionFailed:
    """The session ended for good. fatal: retrying will not help (key, model, config)."""

    message: str
    fatal: bool


SessionEvent = (
    ModelAudio
    | InputTranscript
    | OutputTranscript
    | ToolCall
    | ToolResult
    | ToolCancelled
    | Grounding
    | Interrupted
    | GenerationComplete
    | TurnComplete
    | InteractionStatus
    | SessionStateChanged
    | SessionFailed
)
