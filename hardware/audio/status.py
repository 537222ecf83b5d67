"""What an audio device tells its owner about its health, and the retry pacing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class AudioStatus:
    """A change in a device's health, delivered on the event loop."""

    device: str
    """What the owner asked for (the config value), or "default"."""
    state: Literal["ok", "error"]
    """ok: audio flows; error: the device is missing or failed and is being retried."""
    message: str
    """One line for a person: which device, what happened, what happens next."""


StatusCallback = Callable[[AudioStatus], None]


class RetryDelay:
    """How long a device thread waits before reopening a missing or failed device.

    Delays of initial, 2x, 4x ... up to `maximum`; a wait ends early on `wake`
    (stop, pause). Not the Live session's backoff: this one blocks a thread.
    """

    def __init__(self, initial: float = 0.5, maximum: float = 30.0) -> None:
        self.initial = initial
        self.maximum = maximum
        self.next_delay = initial

    def reset(self) -> None:
        self.next_delay = self.initial

    def wait(self, wake: threading.Event) -> None:
        wake.wait(self.next_delay)
        self.next_delay = min(self.next_delay * 2, self.maximum)
