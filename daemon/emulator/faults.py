"""Faults tests can inject: the field problems the daemon must survive, on demand.

A fault is armed with a moment ("now", "setup", "next_turn", "mid_turn") and
fires once, in the first session that reaches that moment.
"""

from __future__ import annotations

from dataclasses import dataclass

WHENS = ("now", "setup", "next_turn", "mid_turn")
KINDS = ("close", "drop", "go_away", "malformed", "delay_setup", "stall", "interrupted")


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

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {KINDS}")
        if self.when not in WHENS:
            raise ValueError(f"unknown fault moment {self.when!r}; expected one of {WHENS}")


class FaultBook:
    """Armed faults waiting for their moment."""

    def __init__(self) -> None:
        self._armed: list[Fault] = []

    def arm(self, fault: Fault) -> None:
        self._armed.append(fault)

    def take(self, *whens: str) -> list[Fault]:
        """Remove and return the faults due at any of `whens`, in arming order."""
        due = [f for f in self._armed if f.when in whens]
        self._armed = [f for f in self._armed if f.when not in whens]
        return due

    def take_kind(self, kind: str, when: str) -> Fault | None:
        for fault in self._armed:
            if fault.kind == kind and fault.when == when:
                self._armed.remove(fault)
                return fault
        return None

    def pending(self) -> list[Fault]:
        return list(self._armed)

    def clear(self) -> None:
        self._armed.clear()
