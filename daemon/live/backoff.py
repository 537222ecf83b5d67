"""How long to wait between reconnect attempts, and when to stop trying.

Delays double from 0.2 s (2 s after a quota error), jittered so that many
speakers on one network do not reconnect in lockstep. The give-up clock runs
from the first failure of a stretch of trouble; a connection that stayed up
a while ends the stretch, so a flaky day does not add up to one long outage.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from daemon.live.errors import Recovery

HEALTHY_AFTER_S = 10.0


def jitter() -> float:
    """±20 %, so that speakers that lost the network together do not return together."""
    return random.uniform(0.8, 1.2)


class Backoff:
    def __init__(
        self,
        give_up_after_s: float,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = jitter,
    ) -> None:
        self.give_up_after_s = give_up_after_s
        self._clock = clock
        self._jitter = jitter
        self._trouble_since: float | None = None
        self._delay = 0.0

    def failed(self, recovery: Recovery, connection_lived_s: float | None = None) -> None:
        """Count a failure; connection_lived_s is how long the lost connection had been up."""
        if connection_lived_s is not None and connection_lived_s >= HEALTHY_AFTER_S:
            self._trouble_since = None
        first, cap = (2.0, 30.0) if recovery is Recovery.RESUME_SLOWLY else (0.2, 5.0)
        if self._trouble_since is None:
            self._trouble_since = self._clock()
            self._delay = first
        else:
            self._delay = min(cap, max(first, self._delay * 2))

    def next_delay(self) -> float:
        """Seconds to wait before the next attempt (jittered)."""
        return self._delay * self._jitter()

    def exhausted(self) -> bool:
        """True once the trouble has lasted longer than give_up_after_s."""
        return (
            self._trouble_since is not None
            and self._clock() - self._trouble_since > self.give_up_after_s
        )
