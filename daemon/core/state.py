"""The one owner of the appliance state; LEDs, STATUS= and the socket only observe it.

Keeping a single writer means the LED can never disagree with what the daemon
is doing, and every observer sees the same sequence of states.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


class State(enum.StrEnum):
    IDLE = "idle"
    WAKE = "wake"
    LISTENING = "listening"
    THINKING = "thinking"
    SPEAKING = "speaking"
    MUTED = "muted"
    ERROR = "error"
    RINGING = "ringing"


@dataclass(frozen=True)
class Change:
    old: State
    new: State
    reason: str
    at: float  # time.monotonic()


Observer = Callable[[Change], None]


class StateMachine:
    """Holds the current state and tells every observer about each change, in order."""

    def __init__(self, initial: State = State.IDLE) -> None:
        self._state = initial
        self._since = time.monotonic()
        self._observers: list[Observer] = []
        self.history: list[Change] = []

    @property
    def state(self) -> State:
        return self._state

    @property
    def since(self) -> float:
        return self._since

    def observe(self, observer: Observer) -> None:
        """Call `observer` on every change; it is also told the current state at once."""
        self._observers.append(observer)
        observer(Change(self._state, self._state, "current", self._since))

    def set(self, new: State, reason: str = "") -> None:
        if new is self._state:
            return
        change = Change(self._state, new, reason, time.monotonic())
        self._state, self._since = new, change.at
        self.history.append(change)
        del self.history[:-100]
        log.debug("state %s -> %s (%s)", change.old, new, reason)
        for observer in self._observers:
            try:
                observer(change)
            except Exception:  # an LED glitch must not stop the appliance
                log.exception("state observer %r failed", observer)
