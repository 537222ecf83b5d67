"""Shows the appliance state on the status LED, as the config says per state."""

from __future__ import annotations

from typing import Any

from daemon.config.schema import NAMED_COLORS, LedsConfig
from daemon.core.state import Change
from hardware.gpio.leds import StatusLed
from hardware.gpio.looks import rgb_from_hex


class StatusLight:
    """A state-machine observer; the only code that sets the LED."""

    def __init__(self, config: LedsConfig, led: StatusLed) -> None:
        self._config = config
        self.led = led

    def __call__(self, change: Change) -> None:
        look = getattr(self._config.states, change.new.value)
        color = NAMED_COLORS.get(look.color) or rgb_from_hex(look.color)
        effect = look.effect
        if effect != "off" and color == (0, 0, 0) and self.led.is_rgb:
            effect = "off"  # "on" in black is off, whatever the effect says
        self.led.show(effect, tuple(float(c) for c in color))  # type: ignore[arg-type]

    def close(self) -> None:
        self.led.show("off", (0.0, 0.0, 0.0))
        self.led.close()


def open_status_light(leds: LedsConfig, pin_factory: Any = None) -> StatusLight | None:
    """The LED the config describes (single or RGB), or None when there is none."""
    if leds.kind == "none":
        return None
    pins = leds.pins
    if leds.kind == "rgb":
        assert pins.red is not None and pins.green is not None and pins.blue is not None
        led = StatusLed.rgb(
            pins.red, pins.green, pins.blue, active_high=leds.active_high, pin_factory=pin_factory
        )
    else:
        assert pins.led is not None
        led = StatusLed.single(pins.led, active_high=leds.active_high, pin_factory=pin_factory)
    return StatusLight(leds, led)
