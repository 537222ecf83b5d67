"""A named relay output that remembers which way is "on" and where is safe.

>>> lamp = Relay("lamp", pin=17, active_high=False)
>>> lamp.on(); lamp.is_on
True
"""

from __future__ import annotations

import logging
from typing import Literal

from gpiozero import DigitalOutputDevice
from gpiozero.pins import Factory

log = logging.getLogger(__name__)

RelayState = Literal["on", "off"]


class Relay:
    """One relay channel: on/off/toggle by name, back to its safe state on close.

    Many relay boards are active-low (the relay closes when the pin is low);
    ``active_high=False`` hides that so "on" always means "switched on".
    """

    def __init__(
        self,
        name: str,
        pin: int,
        *,
        active_high: bool = True,
        initial: RelayState = "off",
        pin_factory: Factory | None = None,
    ) -> None:
        if initial not in ("on", "off"):
            raise ValueError(f"relay {name}: initial must be 'on' or 'off', not {initial!r}")
        self.name = name
        self.pin = pin
        self._device = DigitalOutputDevice(
            pin,
            active_high=active_high,
            initial_value=initial == "on",
            pin_factory=pin_factory,
        )
        log.debug("relay %s on pin %d starts %s", name, pin, initial)

    @property
    def is_on(self) -> bool:
        return bool(self._device.value)

    @property
    def closed(self) -> bool:
        return bool(self._device.closed)

    def on(self) -> None:
        self._device.on()

    def off(self) -> None:
        self._device.off()

    def toggle(self) -> None:
        self._device.toggle()

    def set(self, state: RelayState) -> None:
        """Switch to "on" or "off" (the spelling the config and the tools use)."""
        if state == "on":
            self.on()
        elif state == "off":
            self.off()
        else:
            raise ValueError(f"relay {self.name}: state must be 'on' or 'off', not {state!r}")

    def close(self, safe_state: RelayState = "off") -> None:
        """Drive the safe state, then release the pin.

        Released, the pin becomes an input (gpiozero does that on close and at
        exit), so from then on the board's own pull resistor decides: wire the
        relay so that its safe state is also what an undriven input gives.
        """
        if self._device.closed:
            return
        try:
            self.set(safe_state)
        finally:
            self._device.close()
        log.debug("relay %s closed in safe state %s", self.name, safe_state)

    def __repr__(self) -> str:
        state = "closed" if self.closed else ("on" if self.is_on else "off")
        return f"<Relay {self.name} pin={self.pin} {state}>"
