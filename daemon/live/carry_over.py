"""The conversation so far, as text turns a fresh session can be given.

A resumption handle carries the context over to the next connection. When the
service refuses the handle (1007/1008 at the handshake) or the session cannot
be resumed at all, the next connection starts with no memory of what was said;
these turns are then sent to it as `client_content` without `turn_complete`, before
the user's next words, so the model goes on where the conversation was
(docs/live-protocol.md, "Carrying a conversation over").

Only the transcripts are kept (what the server heard the user say, what the
model said, what was typed): audio cannot be replayed as context, and the
tail of a long conversation is what matters to the next answer, so the turns
are bounded in number and size, oldest dropped first.
"""

from __future__ import annotations

from collections import deque
from typing import Literal

from google.genai import types

TurnRole = Literal["user", "model"]

MAX_TURNS = 40
MAX_CHARS = 8000
"""About 2,000 tokens: a few minutes of talk, against a context of 131,072."""


class CarriedTurns:
    """Finished turns (role, text), oldest first, plus the one being heard."""

    def __init__(self, max_turns: int = MAX_TURNS, max_chars: int = MAX_CHARS) -> None:
        self._turns: deque[tuple[TurnRole, str]] = deque()
        self._max_turns = max_turns
        self._max_chars = max_chars
        self._role: TurnRole | None = None
        self._pieces: list[str] = []

    def heard(self, role: TurnRole, piece: str) -> None:
        """A transcript piece; a change of speaker ends the turn before it."""
        if self._role is not None and role != self._role:
            self.end_turn()
        self._role = role
        self._pieces.append(piece)

    def typed(self, text: str) -> None:
        """Text sent as input: a user turn of its own (the server sends no transcript of it)."""
        self.end_turn()
        self._add("user", text)

    def end_turn(self) -> None:
        """The turn is over (turnComplete, interrupted, or the connection went)."""
        if self._role is not None:
            self._add(self._role, "".join(self._pieces))
        self._role = None
        self._pieces = []

    def _add(self, role: TurnRole, text: str) -> None:
        text = " ".join(text.split())
        if not text:
            return
        if self._turns and self._turns[-1][0] == role:
            role, earlier = self._turns.pop()
            text = f"{earlier} {text}"
        self._turns.append((role, text[-self._max_chars :]))
        while len(self._turns) > self._max_turns or (
            len(self._turns) > 1 and sum(len(t) for _, t in self._turns) > self._max_chars
        ):
            self._turns.popleft()

    def turns(self) -> list[tuple[TurnRole, str]]:
        """Every turn so far, the one in progress included."""
        self.end_turn()
        return list(self._turns)

    def contents(self) -> list[types.Content]:
        """The turns as the `client_content` a fresh session is sent."""
        return [types.Content(role=role, parts=[types.Part(text=text)]) for role, text in self.turns()]
