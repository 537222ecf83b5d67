"""What each emulated session received and did: the thing tests assert on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

INPUT_RATE = 16000
INPUT_SAMPLE_BYTES = 2
KEPT_AUDIO_SECONDS = 120.0
"""A session keeps only its newest input audio, so a long or hostile stream is bounded."""


@dataclass
class FrameRecord:
    """One video frame as it arrived."""

    at: float
    """loop.time() when the frame arrived."""
    mime_type: str
    size: int
    gap: float | None
    """Seconds since the previous frame (None for the first)."""
    too_fast: bool
    """Arrived sooner than 1 s after the previous frame (the service allows 1 fps)."""


@dataclass
class ToolResponseRecord:
    id: str
    name: str
    response: Any
    scheduling: str | None = None


@dataclass
class UserTurnRecord:
    """One user turn as the emulator understood it."""

    transcription: str
    source: str
    """"audio" or "text"."""
    audio_seconds: float = 0.0
    barged_in: bool = False
    """This turn's input interrupted the model."""


@dataclass
class ClientContentRecord:
    """One client_content frame: its turns as (role as sent, None if absent; text)."""

    turns: list[tuple[str | None, str]]
    turn_complete: bool


@dataclass
class ModelTurnRecord:
    reply: str
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    interrupted: bool = False
    audio_bytes_sent: int = 0
    results_for: list[str] = field(default_factory=list)
    """The turn the model started itself to tell these non-blocking calls' results."""
    grounding: dict[str, Any] | None = None
    """The groundingMetadata sent with the answer (Google Search)."""


@dataclass
class SessionRecord:
    """Everything one connection received; filled in while the session runs."""

    path: str = ""
    setup: dict[str, Any] = field(default_factory=dict)
    model: str | None = None
    voice: str | None = None
    resumed_from: str | None = None
    audio: bytearray = field(default_factory=bytearray, repr=False)
    """The newest input audio (KEPT_AUDIO_SECONDS by default, as 16 kHz PCM):
    all of it in a short session."""
    audio_bytes_received: int = 0
    """All the input audio received, kept or not."""
    audio_mime_types: list[str] = field(default_factory=list)
    frames: list[FrameRecord] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    tool_responses: list[ToolResponseRecord] = field(default_factory=list)
    silent_results: list[str] = field(default_factory=list)
    """Non-blocking results with scheduling SILENT: kept in context, never spoken."""
    user_turns: list[UserTurnRecord] = field(default_factory=list)
    model_turns: list[ModelTurnRecord] = field(default_factory=list)
    handles_issued: list[str] = field(default_factory=list)
    client_contents: list[ClientContentRecord] = field(default_factory=list)
    aged_out: bool = False
    """The service closed the session at its age limit (`session_max_age`)."""
    activity_starts: int = 0
    activity_ends: int = 0
    audio_stream_ends: int = 0
    messages: int = 0
    close_code: int | None = None
    close_reason: str | None = None
    closed_by: str | None = None
    """"server", "client" or "drop" (TCP aborted without a close frame)."""

    def keep_audio(self, data: bytes, seconds: float = KEPT_AUDIO_SECONDS) -> None:
        """Count `data` and keep it, dropping what is older than the newest `seconds`."""
        self.audio_bytes_received += len(data)
        limit = int(seconds * INPUT_RATE) * INPUT_SAMPLE_BYTES
        self.audio += data[-limit:] if limit else b""
        if len(self.audio) > limit:
            del self.audio[: len(self.audio) - limit]

    @property
    def audio_seconds(self) -> float:
        """All the input audio received, including what is no longer kept."""
        return self.audio_bytes_received / (INPUT_RATE * INPUT_SAMPLE_BYTES)

    @property
    def too_fast_frames(self) -> list[FrameRecord]:
        return [frame for frame in self.frames if frame.too_fast]

    @property
    def transcriptions(self) -> list[str]:
        return [turn.transcription for turn in self.user_turns]

    @property
    def closed(self) -> bool:
        return self.close_code is not None
