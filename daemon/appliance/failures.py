"""What the appliance remembers of failed conversations, and so whether a wake may try.

A fatal failure (a refused key or model, at the handshake) blocks wakes for a
few minutes; failures in a row back off a little more each time; a failure
that will be retried at once is shown for a moment. Kept apart from the state
owner so the rules read in one place and are driven by the same clock seam.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from daemon.core.clock import Clock, Scheduled
from daemon.live.events import SessionFailed

log = logging.getLogger(__name__)

FATAL_RETRY_SECONDS = 300.0  # after a fatal error, a wake tries again this much later
ERROR_SHOWN_SECONDS = 2.0  # how long the error LED stays after a recovered fault
# After conversations that failed one after another, a wake waits this long so a
# broken service is not hammered (the last figure repeats).
FAILURE_BACKOFF_SECONDS = (0.0, 5.0, 15.0, 60.0)


class FailureBook:
    """Fatal lockout, back-off after failures in a row, and the brief error display."""

    def __init__(self, clock: Clock, on_change: Callable[[str], None]) -> None:
        self._clock = clock
        self._on_change = on_change  # the display ran out: the owner shows the state again
        self.fatal: str | None = None
        self._fatal_until = 0.0
        self._in_a_row = 0
        self._retry_after = 0.0
        self._last: str | None = None
        self._shown: Scheduled | None = None

    @property
    def showing(self) -> bool:
        """True while the error should be on display (fatal, or a moment after a failure)."""
        return self.fatal is not None or self._shown is not None

    def refusal(self) -> str | None:
        """Why a wake cannot open a conversation now, or None when it can."""
        now = self._clock.now()
        if self.fatal is not None:
            if now < self._fatal_until:
                return f"cannot talk to Gemini: {self.fatal}; next try in {self._fatal_until - now:.0f} s"
            self.fatal = None  # a few minutes on: try once more (the key may work now)
        if now < self._retry_after:
            return (
                f"{self._in_a_row} conversations failed in a row "
                f"(last: {self._last}); next try in {self._retry_after - now:.0f} s"
            )
        return None

    def failed(self, failure: SessionFailed) -> None:
        now = self._clock.now()
        self._last = failure.message
        if failure.fatal:
            self.fatal = failure.message
            self._fatal_until = now + FATAL_RETRY_SECONDS
            log.error(
                "cannot talk to Gemini: %s. Fix the key or the config and restart speakerd "
                "(until then a wake tries again at most every %d minutes)",
                failure.message, FATAL_RETRY_SECONDS // 60,
            )  # fmt: skip
            return
        self._in_a_row += 1
        step = min(self._in_a_row, len(FAILURE_BACKOFF_SECONDS)) - 1
        self._retry_after = now + FAILURE_BACKOFF_SECONDS[step]
        self.hide()
        self._shown = self._clock.call_later(ERROR_SHOWN_SECONDS, self._display_over)

    def succeeded(self) -> None:
        """A conversation ended normally: the back-off starts again from nothing."""
        self._in_a_row = 0

    def hide(self) -> None:
        """A new conversation opens: the error display of the last one is over."""
        if self._shown is not None:
            self._shown.cancel()
            self._shown = None

    def _display_over(self) -> None:
        self._shown = None
        self._on_change("error shown")
