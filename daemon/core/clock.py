"""Time as the appliance core sees it: now, timers and sleeps behind one seam.

The conversation and the state owner ask this seam, never the event loop or
`time`, so their decisions can be tested on a virtual clock in milliseconds
(tests/unit/appliance) while the daemon runs on the loop's own clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol


class Scheduled(Protocol):
    """A call the clock will make later, unless cancelled first."""

    def cancel(self) -> None: ...


class Clock(Protocol):
    def now(self) -> float:
        """Seconds on a monotonic scale (only differences mean anything)."""
        ...

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> Scheduled: ...


class LoopClock:
    """The running event loop's monotonic clock: what the daemon uses."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop or asyncio.get_running_loop()

    def now(self) -> float:
        return self._loop.time()

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> Scheduled:
        return self._loop.call_later(delay, callback, *args)
