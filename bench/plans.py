"""How long each figure is measured: full (for the record), quick (while working), smoke (CI).

The smoke plan measures every figure once, in under three minutes, so that CI notices
when the bench stops running; its numbers are too short to quote.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    name: str
    idle_seconds: float
    """Length of each room-sound clip (both mixes)."""
    idle_runs: int
    wake_trials: int
    ctl_wake_trials: int
    conversation_seconds: float
    conversation_runs: int
    startup_runs: int
    recall_voices: int
    """espeak-ng voices (each in ten rooms) for the gate's recall figure..."""
    recall_speeds: int = 3
    """... each at this many speeds (150, 130, 170 wpm)."""
    stop_tries: int = 10
    """"stop" said over a ring, and as many times over an answer (figure 10)."""
    stop_cpu_seconds: float = 20.0
    """Each window of figure 10's ring CPU, stop word on and off."""


FULL = Plan("full", idle_seconds=60, idle_runs=3, wake_trials=7, ctl_wake_trials=7,
            conversation_seconds=60, conversation_runs=3, startup_runs=5, recall_voices=5)
QUICK = Plan("quick", idle_seconds=15, idle_runs=3, wake_trials=3, ctl_wake_trials=3,
             conversation_seconds=18, conversation_runs=2, startup_runs=3, recall_voices=2,
             stop_tries=4, stop_cpu_seconds=10.0)
SMOKE = Plan("smoke", idle_seconds=6, idle_runs=1, wake_trials=1, ctl_wake_trials=1,
             conversation_seconds=8, conversation_runs=1, startup_runs=1, recall_voices=1,
             recall_speeds=1, stop_tries=2, stop_cpu_seconds=5.0)
PLANS = {plan.name: plan for plan in (FULL, QUICK, SMOKE)}
