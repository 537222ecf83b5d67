"""What the sessions of one emulator share, and all a session may use of it.

A `Session` gets a `SessionContext`, never the `LiveEmulator`: the settings,
the script of user turns, the resumption handles, the armed faults and the
model. Tests change these through the emulator while sessions run.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from dataclasses import dataclass

from . import protocol as p
from .brain import DefaultBrain, Turn
from .faults import FaultBook
from .records import KEPT_AUDIO_SECONDS

History = list[tuple[str, str]]
"""(role, text) pairs of a conversation, oldest first."""

HANDLE_TTL_SECONDS = 2 * 3600.0


@dataclass
class EmulatorSettings:
    """How the emulated service behaves; read live, so a test may change them mid-run."""

    api_key: str | None = None
    """None accepts any key."""
    models: tuple[str, ...] = p.KNOWN_MODELS
    speech: str = "auto"
    speech_pace: float = 1.0
    connection_lifetime: float | None = None
    go_away_notice: float = 60.0
    handle_ttl: float = HANDLE_TTL_SECONDS
    vad_threshold: float = 400.0
    setup_timeout: float = 10.0
    """Seconds a client may stay connected without sending its setup."""
    kept_audio_seconds: float = KEPT_AUDIO_SECONDS
    """How much of its newest input audio a session keeps in its record."""
    session_max_age: float | None = None
    """Emulated seconds after which a session (across its resumed connections) is
    closed with 1011 and its handles are refused with 1007, as gemini-3.8-live was
    seen to do at 58 minutes (docs/live-protocol.md, "Known field problems")."""
    clock_rate: float = 1.0
    """Emulated seconds per real second for `session_max_age`: 3600 makes 58 minutes
    pass in about a second."""
    thinking_seconds: float = 0.0
    """Extended thinking: how long the model works on a tool's result before it
    speaks again (interactionStatus stays IN_PROGRESS meanwhile)."""


class Script:
    """What the next user turns say and how the model answers, in order (any session)."""

    def __init__(self) -> None:
        self._turns: deque[Turn] = deque()

    def extend(self, turns: list[Turn]) -> None:
        self._turns.extend(turns)

    def clear(self) -> None:
        self._turns.clear()

    def next(self) -> Turn | None:
        return self._turns.popleft() if self._turns else None

    def __len__(self) -> int:
        return len(self._turns)


@dataclass(frozen=True)
class Resumed:
    """What a handle stands for: the history, and when its session began."""

    history: History
    origin: float
    """time.monotonic() when the session's first connection opened."""


REVOKED = "revoked"
"""resume(): the handle's session was ended by the service (its age limit)."""


class HandleStore:
    """Resumption handles and the history each stands for, until they expire."""

    def __init__(self, settings: EmulatorSettings) -> None:
        self._settings = settings
        self._handles: dict[str, tuple[History, float, float]] = {}
        self._revoked: set[float] = set()
        self.skipped: dict[float, float] = {}
        """Emulated seconds a test fast-forwarded each session (by its origin)."""
        self.refusals: deque[int] = deque()
        """Close codes for the next resumptions to be refused with (1008 or 1007)."""

    def issue(self, history: History, origin: float = 0.0) -> str:
        handle = secrets.token_urlsafe(24)
        expiry = time.monotonic() + self._settings.handle_ttl
        self._handles[handle] = (list(history), expiry, origin)
        return handle

    def resume(self, handle: str) -> Resumed | str | None:
        """What a handle stands for; REVOKED if its session was ended; None if unknown
        or expired."""
        entry = self._handles.get(handle)
        if entry is None or entry[1] < time.monotonic():
            return None
        if entry[2] in self._revoked:
            return REVOKED
        return Resumed(list(entry[0]), entry[2])

    def revoke(self, origin: float) -> None:
        """Refuse every handle of the session that began at `origin`."""
        self._revoked.add(origin)

    def expire_all(self) -> None:
        self._handles.clear()


@dataclass(frozen=True)
class SessionContext:
    """All a session may use of the emulator that serves it."""

    settings: EmulatorSettings
    script: Script
    handles: HandleStore
    faults: FaultBook
    brain: DefaultBrain

    @classmethod
    def new(cls, settings: EmulatorSettings) -> SessionContext:
        return cls(settings, Script(), HandleStore(settings), FaultBook(), DefaultBrain())
