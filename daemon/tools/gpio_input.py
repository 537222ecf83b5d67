"""Owner tools that read a GPIO input (a door contact, a float switch) through gpiozero.

The pin is opened once, at start-up, so a busy pin shows in the journal before
anyone asks; a pin that could not be opened is tried again at the next call,
and until then the model is told why there is no answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from daemon.config.tools import GpioInputAction

log = logging.getLogger(__name__)


class GpioInput:
    """One input pin and the names of its two levels.

    >>> door = GpioInput("back_door", GpioInputAction(pin=5, low="closed", high="open"))
    >>> door.open(); door.read()
    {'state': 'closed', 'pin': 5, 'level': 'low'}
    """

    def __init__(self, name: str, action: GpioInputAction, pin_factory: Any = None) -> None:
        self.name = name
        self.action = action
        self._pin_factory = pin_factory
        self._device: Any = None
        self.problem: str | None = "the pin is not open in this process"

    def open(self) -> None:
        """Claim the pin; a failure is remembered for read() to report, never raised."""
        from gpiozero import DigitalInputDevice  # Pi libraries load only when a pin is used

        pull = {"up": True, "down": False, "none": None}[self.action.pull]
        try:
            self._device = DigitalInputDevice(
                self.action.pin,
                pull_up=pull,
                active_state=True if pull is None else None,
                pin_factory=self._pin_factory,
            )
        except Exception as exc:
            self.problem = f"GPIO {self.action.pin} could not be opened: {exc}"
            log.error("tool %s: %s", self.name, self.problem)
            return
        self.problem = None

    def read(self) -> dict[str, Any]:
        if self._device is None:
            self.open()
        if self._device is None:
            raise RuntimeError(self.problem)
        high = bool(self._device.pin.state)
        return {
            "state": self.action.high if high else self.action.low,
            "pin": self.action.pin,
            "level": "high" if high else "low",
        }

    def close(self) -> None:
        device, self._device = self._device, None
        if device is not None:
            with contextlib.suppress(Exception):
                device.close()


def gpio_handler(gpio: GpioInput) -> Callable[[], Awaitable[dict[str, Any]]]:
    async def read() -> dict[str, Any]:
        return await asyncio.to_thread(gpio.read)  # lgpio talks to the kernel: off the loop

    return read


def describe(description: str, action: GpioInputAction) -> str:
    """The owner's description plus the answers the model can expect."""
    return f"{description.rstrip()} Answers {action.low!r} or {action.high!r}."
