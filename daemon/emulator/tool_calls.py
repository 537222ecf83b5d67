"""Blocking function calls a model turn waits on, and the responses the client sent.

The session feeds client `toolResponse`s in; the model turn registers its
calls, waits for their answers and, when interrupted, cancels the rest.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .brain import PlannedCall
from .records import ToolResponseRecord

log = logging.getLogger(__name__)


class PendingCalls:
    def __init__(self) -> None:
        self._waiting: dict[str, PlannedCall] = {}
        self._answers: dict[str, ToolResponseRecord] = {}
        self._changed = asyncio.Event()

    def expect(self, calls: Iterable[PlannedCall]) -> None:
        self._waiting.update((call.id, call) for call in calls)

    def answer(self, response: ToolResponseRecord) -> None:
        """A client response; one for an unknown or cancelled call is noted and ignored."""
        if response.id in self._waiting:
            self._answers[response.id] = response
            self._changed.set()
        else:
            log.info("tool response for unknown or cancelled call %s", response.id)

    async def responses(self, interrupted: asyncio.Event) -> list[ToolResponseRecord] | None:
        """Every expected response, in call order; None if `interrupted` is set first."""
        while not all(call_id in self._answers for call_id in self._waiting):
            if interrupted.is_set():
                return None
            self._changed.clear()
            answered = asyncio.ensure_future(self._changed.wait())
            stopped = asyncio.ensure_future(interrupted.wait())
            try:
                await asyncio.wait({answered, stopped}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                answered.cancel()
                stopped.cancel()
        return [self._answers[call_id] for call_id in self._waiting]

    def unanswered(self) -> list[str]:
        return [call_id for call_id in self._waiting if call_id not in self._answers]

    def clear(self) -> None:
        self._waiting.clear()
        self._answers.clear()


@dataclass
class Running:
    """A non-blocking call the model did not wait for, and what it says of the result."""

    call: PlannedCall
    follow_up: Callable[[list[ToolResponseRecord]], str]


class BackgroundCalls:
    """Non-blocking calls of this session: they outlive the turn that made them (a
    barge-in does not cancel them), and each result is used as its `scheduling`
    says (docs/live-protocol.md, "Blocking and non-blocking functions")."""

    def __init__(self) -> None:
        self._running: dict[str, Running] = {}

    def start(
        self, calls: Iterable[PlannedCall], follow_up: Callable[[list[ToolResponseRecord]], str]
    ) -> None:
        for call in calls:
            self._running[call.id] = Running(call, follow_up)

    def take(self, call_id: str) -> Running | None:
        """The running call this response answers (it is then no longer running)."""
        return self._running.pop(call_id, None)

    @property
    def ids(self) -> list[str]:
        return list(self._running)
