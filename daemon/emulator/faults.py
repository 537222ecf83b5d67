"""Faults tests can inject: the field problems the daemon must survive, on demand.

A fault is armed with a moment ("now", "setup", "next_turn", "mid_turn") and
fires once, in the first session that reaches that moment. `fire` is the one
place that knows what each kind does; a session only offers the few actions
a fault can take (`FaultTarget`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

WHENS = ("now", "setup", "next_turn", "mid_turn")
ANY_MOMENT = WHENS
IN_A_TURN = ("next_turn", "mid_turn")

#: Each kind and the moments it can be armed for.
MOMENTS: dict[str, tuple[str, ...]] = {
    "close": ANY_MOMENT,
    "drop": ANY_MOMENT,
    "go_away": ANY_MOMENT,
    "malformed": ANY_MOMENT,
    "raw": ANY_MOMENT,
    "interrupted": ("now", *IN_A_TURN),
    "delay_setup": ("setup",),
    "stall": IN_A_TURN,
}
KINDS = tuple(MOMENTS)

MALFORMED_FRAME = '{"serverContent": {"modelTurn": '
DEFAULT_TIME_LEFT = 5.0


@dataclass
class Fault:
    kind: str
    when: str = "now"
    code: int = 1011
    reason: str = ""
    seconds: float | None = None
    """delay_setup / stall: how long (None = stall until the client goes);
    go_away: the timeLeft announced."""
    then_close: bool = True
    """go_away: close 1000 when timeLeft runs out."""
    payload: str | bytes = ""
    """raw: the frame sent as-is (str: a text frame, bytes: a binary frame)."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {KINDS}")
        if self.when not in WHENS:
            raise ValueError(f"unknown fault moment {self.when!r}; expected one of {WHENS}")
        if self.when not in MOMENTS[self.kind]:
            raise ValueError(
                f"a {self.kind} fault cannot happen at {self.when!r};"
                f" expected one of {MOMENTS[self.kind]}"
            )


class FaultTarget(Protocol):
    """What a fault can do to one connection."""

    async def close(self, code: int, reason: str) -> None: ...

    def drop(self) -> None: ...

    async def send_raw(self, data: str | bytes) -> None: ...

    async def go_away(self, seconds: float, then_close: bool) -> None: ...

    async def interrupt(self) -> None: ...

    async def pause(self, seconds: float | None) -> None: ...


async def fire(fault: Fault, target: FaultTarget, session_index: int) -> None:
    """Do what `fault` stands for to `target` (the moment has already come)."""
    log.info("session %d: injecting %s (%s)", session_index, fault.kind, fault.when)
    if fault.kind == "close":
        await target.close(fault.code, fault.reason)
    elif fault.kind == "drop":
        target.drop()
    elif fault.kind == "malformed":
        await target.send_raw(MALFORMED_FRAME)
    elif fault.kind == "raw":
        await target.send_raw(fault.payload)
    elif fault.kind == "go_away":
        seconds = fault.seconds if fault.seconds is not None else DEFAULT_TIME_LEFT
        await target.go_away(seconds, fault.then_close)
    elif fault.kind == "interrupted":
        await target.interrupt()
    else:  # delay_setup, stall
        await target.pause(fault.seconds)


class FaultBook:
    """Armed faults waiting for their moment."""

    def __init__(self) -> None:
        self._armed: list[Fault] = []

    def arm(self, fault: Fault) -> None:
        self._armed.append(fault)

    def take(self, when: str) -> list[Fault]:
        """Remove and return the faults due at `when`, in arming order."""
        due = [f for f in self._armed if f.when == when]
        self._armed = [f for f in self._armed if f.when != when]
        return due

    def pending(self) -> list[Fault]:
        return list(self._armed)

    def clear(self) -> None:
        self._armed.clear()
