"""What is ringing now: the timers and alarms that fell due, and the sound, until stopped.

The appliance owns one of these and asks it `active` when it derives the
state; it reports every start and stop back through `on_change`, so the
appliance stays the one writer of the state. Two entries due together (or one
falling due while another rings) ring as one; each is announced.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from daemon.config.schema import TimersConfig
from daemon.core.clock import Clock
from daemon.timers import AlarmSound, Ring, sound_seconds

timeline = logging.getLogger("speakerd.timeline")


class Ringing:
    def __init__(
        self,
        config: TimersConfig,
        clock: Clock,
        play_sound: Callable[[str], None],
        *,
        on_change: Callable[[str], None],
        model_talking: Callable[[], bool],
    ) -> None:
        self._config = config
        self._on_change = on_change
        self.rings: list[Ring] = []
        self.started_at = 0.0
        self._clock = clock
        self._sound = AlarmSound(
            clock,
            lambda: play_sound(config.sound),
            period=sound_seconds(config.sound) + config.pause_seconds,
            ring_seconds=config.ring_seconds,
            hold_off=model_talking,
            on_timeout=self._timed_out,
        )

    @property
    def active(self) -> bool:
        return bool(self.rings)

    def due(self, rings: list[Ring]) -> None:
        self.rings += rings
        timeline.info("ringing: %s", "; ".join(r.spoken() for r in rings))
        self.started_at = self._clock.now()
        self._sound.start()  # already ringing: one ring for all, for ring_seconds from now
        self._on_change("ringing: " + ", ".join(r.entry.name() for r in rings))

    def stop(self, how: str) -> bool:
        """Stop ringing; False when nothing was ringing."""
        if not self.rings:
            return False
        self._sound.stop()
        self.rings = []
        timeline.info("ringing stopped (%s)", how)
        self._on_change(f"ringing stopped ({how})")
        return True

    def close(self) -> None:
        self._sound.stop()

    def _timed_out(self) -> None:
        self.rings = []
        timeline.info("ringing stopped by itself after %g s (timers.ring_seconds)",
                      self._config.ring_seconds)  # fmt: skip
        self._on_change("ringing timed out")
