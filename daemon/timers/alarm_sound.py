"""The alarm sound, played again and again with short pauses, until stopped or timed out.

It only schedules sounds on the Clock seam; the appliance decides when it
starts and stops. While the model is talking (announcing what rang) a repeat
is skipped, so the announcement is heard over silence rather than beeps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from daemon.core.clock import Clock, Scheduled
from hardware.audio.sounds import load_sound
from hardware.audio.wav import WavError

log = logging.getLogger(__name__)



def sound_seconds(name_or_path: str) -> float:
    """How long one play of the sound lasts (a WAV that cannot be read: 1 s, and a log line)."""
    rate = 8000
    try:
        return max(0.2, len(load_sound(name_or_path, rate)) / rate)
    except (WavError, OSError, ValueError) as exc:
        log.warning("alarm sound %s cannot be read (%s); it will not play", name_or_path, exc)
        return 1.0


class AlarmSound:
    def __init__(
        self,
        clock: Clock,
        play: Callable[[], None],
        *,
        period: float,
        ring_seconds: float,
        hold_off: Callable[[], bool] = lambda: False,
        on_timeout: Callable[[], None] = lambda: None,
    ) -> None:
        self._clock = clock
        self._play = play
        self._period = period
        self._ring_seconds = ring_seconds
        self._hold_off = hold_off
        self._on_timeout = on_timeout
        self._repeat: Scheduled | None = None
        self._limit: Scheduled | None = None
        self.plays = 0

    @property
    def ringing(self) -> bool:
        return self._limit is not None

    def start(self) -> None:
        """Ring now; while already ringing, one ring for all, given ring_seconds afresh
        (the newest timer deserves as long as the first)."""
        was_ringing = self.ringing
        if self._limit is not None:
            self._limit.cancel()
        self._limit = self._clock.call_later(self._ring_seconds, self._timed_out)
        if not was_ringing:
            self._tick()

    def stop(self) -> None:
        for handle in (self._repeat, self._limit):
            if handle is not None:
                handle.cancel()
        self._repeat = self._limit = None

    def _tick(self) -> None:
        if not self._hold_off():
            self.plays += 1
            self._play()
        self._repeat = self._clock.call_later(self._period, self._tick)

    def _timed_out(self) -> None:
        self._limit = None
        self.stop()
        self._on_timeout()
