"""The talk button: press to talk or stop, hold to mute.

>>> TalkButton(23, on_press=start_or_stop, on_hold=toggle_mute)

A short press fires ``on_press`` once, when the button is *released*: that way a
hold never also counts as a press (a press-on-down would start a conversation
and then mute it). A hold fires ``on_hold`` once, ``hold_seconds`` after the
press, while the button is still down; its release then does nothing.

Debouncing is done here rather than by the pin factory, because gpiozero's
mock pins ignore ``bounce_time``; the code that runs on the Pi is the code the
tests exercise. A level counts once it has been stable for ``bounce_ms``, so
contact chatter and glitches shorter than that are ignored.

Callbacks run on a timer thread, not the asyncio loop: the daemon hands them
over with ``loop.call_soon_threadsafe``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from gpiozero import DigitalInputDevice
from gpiozero.pins import Factory

log = logging.getLogger(__name__)


class TalkButton:
    def __init__(
        self,
        pin: int,
        *,
        pull_up: bool = True,
        hold_seconds: float = 2.0,
        bounce_ms: int = 50,
        on_press: Callable[[], object],
        on_hold: Callable[[], object],
        pin_factory: Factory | None = None,
    ) -> None:
        if hold_seconds <= 0:
            raise ValueError("hold_seconds must be above 0")
        if bounce_ms < 0:
            raise ValueError("bounce_ms must be 0 or more")
        self.hold_seconds = hold_seconds
        self.bounce_seconds = bounce_ms / 1000
        self._on_press = on_press
        self._on_hold = on_hold
        self._lock = threading.Lock()
        self._pressed = False  # the debounced level
        self._held = False  # on_hold already fired for this press
        self._settle_timer: threading.Timer | None = None
        self._hold_timer: threading.Timer | None = None
        self._closed = False
        self._input = DigitalInputDevice(
            pin, pull_up=pull_up, bounce_time=None, pin_factory=pin_factory
        )
        self._input.when_activated = self._edge
        self._input.when_deactivated = self._edge

    @property
    def is_pressed(self) -> bool:
        """The debounced state: down for at least bounce_ms."""
        return self._pressed

    def _edge(self) -> None:
        """Any raw change restarts the settle window; only a stable level counts."""
        if self.bounce_seconds == 0:
            self._settle()
            return
        with self._lock:
            if self._closed:
                return
            if self._settle_timer is not None:
                self._settle_timer.cancel()
            self._settle_timer = _timer(self.bounce_seconds, self._settle)

    def _settle(self) -> None:
        fire: Callable[[], object] | None = None
        with self._lock:
            if self._closed:
                return
            level = bool(self._input.is_active)
            if level == self._pressed:
                return
            self._pressed = level
            if level:
                self._held = False
                self._hold_timer = _timer(self.hold_seconds, self._hold_elapsed)
            else:
                if self._hold_timer is not None:
                    self._hold_timer.cancel()
                    self._hold_timer = None
                if not self._held:
                    fire = self._on_press
        if fire is not None:
            _call(fire, "on_press")

    def _hold_elapsed(self) -> None:
        with self._lock:
            if self._closed or not self._pressed or self._held:
                return
            self._held = True
        _call(self._on_hold, "on_hold")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for timer in (self._settle_timer, self._hold_timer):
                if timer is not None:
                    timer.cancel()
        self._input.close()


def _timer(seconds: float, action: Callable[[], None]) -> threading.Timer:
    timer = threading.Timer(seconds, action)
    timer.daemon = True
    timer.start()
    return timer


def _call(callback: Callable[[], object], what: str) -> None:
    """A failing callback must not kill the button for the rest of the run."""
    try:
        callback()
    except Exception:
        log.exception("button %s callback failed", what)
