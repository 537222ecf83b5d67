"""One utterance, one detection: the rule every speakerd detector fires by.

A score crossing its threshold fires on the rising edge only (a word keeps the
score high for several steps), and not again within the refractory time (a
score that dips and comes back inside the same utterance, or "stop, stop").
"""

from __future__ import annotations

from collections.abc import Iterable


class EdgeJudge:
    """Thresholds per name; judge() says whether a score at a stream time is a new detection."""

    def __init__(self, thresholds: dict[str, float], refractory_seconds: float) -> None:
        self.thresholds = dict(thresholds)
        self.refractory_seconds = refractory_seconds
        self._armed = dict.fromkeys(self.thresholds, True)
        self._last: dict[str, float] = {}
        self._before: dict[str, float | None] = {}  # each name's last detection before the newest

    def judge(self, name: str, score: float, time: float, threshold: float | None = None) -> bool:
        """True when `score` (at stream `time`) is a detection; `threshold` overrides the name's."""
        if score < (self.thresholds[name] if threshold is None else threshold):
            self._armed[name] = True
            return False
        if not self._armed[name]:
            return False
        self._armed[name] = False
        last = self._last.get(name)
        if last is not None and time - last < self.refractory_seconds:
            return False
        self._before[name] = last
        self._last[name] = time
        return True

    def withdraw(self, name: str) -> None:
        """The newest detection of `name` turned out not to be one: it starts no refractory
        time (the rising edge is still spent, so the same utterance does not fire again)."""
        if name not in self._before:
            return
        before = self._before.pop(name)
        if before is None:
            self._last.pop(name, None)
        else:
            self._last[name] = before

    def rearm(self, names: Iterable[str] | None = None) -> None:
        """Scores fell (or audio was skipped): the next crossing is a new edge."""
        for name in self.thresholds if names is None else names:
            self._armed[name] = True
