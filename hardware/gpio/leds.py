"""The status LED: one look (effect + colour) at a time, chosen by the state machine.

>>> led = StatusLed.rgb(red=5, green=6, blue=13)
>>> led.show("pulse", (0.0, 1.0, 1.0))

A single LED ignores the colour. Pulsing needs PWM; on pins without it (gpiozero's
plain mock pins) the LED falls back to on/off and a pulse becomes a slow blink,
so a look never fails for lack of PWM.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from gpiozero import LED, PWMLED, RGBLED
from gpiozero.exc import PinPWMUnsupported
from gpiozero.pins import Factory

from hardware.gpio.looks import BLACK, EFFECTS, WHITE, Color

log = logging.getLogger(__name__)

T = TypeVar("T")

class StatusLed:
    """A single LED or an RGB LED that shows one of four effects.

    blink: ``blink_seconds`` on, the same off. pulse: fades up over
    ``pulse_seconds`` and down over the same (PWM), or blinks at that period
    without PWM.
    """

    def __init__(
        self,
        device: LED | PWMLED | RGBLED,
        *,
        pwm: bool,
        blink_seconds: float = 0.5,
        pulse_seconds: float = 1.0,
    ) -> None:
        self._device = device
        self.pwm = pwm
        self.blink_seconds = blink_seconds
        self.pulse_seconds = pulse_seconds
        self.effect: str = "off"
        self.color: Color = BLACK

    @classmethod
    def single(
        cls,
        pin: int,
        *,
        active_high: bool = True,
        pin_factory: Factory | None = None,
        **timing: float,
    ) -> StatusLed:
        device, pwm = _with_pwm_if_possible(
            lambda pwm: (PWMLED if pwm else LED)(
                pin, active_high=active_high, pin_factory=pin_factory
            ),
            f"pin {pin}",
        )
        return cls(device, pwm=pwm, **timing)

    @classmethod
    def rgb(
        cls,
        red: int,
        green: int,
        blue: int,
        *,
        active_high: bool = True,
        pin_factory: Factory | None = None,
        **timing: float,
    ) -> StatusLed:
        device, pwm = _with_pwm_if_possible(
            lambda pwm: RGBLED(
                red, green, blue, active_high=active_high, pwm=pwm, pin_factory=pin_factory
            ),
            f"pins {red}/{green}/{blue}",
        )
        return cls(device, pwm=pwm, **timing)

    @property
    def is_rgb(self) -> bool:
        return isinstance(self._device, RGBLED)

    def show(self, effect: str, color: Color = WHITE) -> None:
        """Replace whatever the LED shows with this effect (returns at once)."""
        if effect not in EFFECTS:
            raise ValueError(f"unknown LED effect {effect!r}; allowed: {', '.join(EFFECTS)}")
        if len(color) != 3 or not all(0.0 <= c <= 1.0 for c in color):
            raise ValueError(f"colour {color!r} is not three values between 0 and 1")
        color = tuple(float(c) for c in color)  # type: ignore[assignment]
        if not self.pwm:
            # Without PWM a channel is on or off: orange (1, .5, 0) shows as yellow.
            color = tuple(1.0 if c >= 0.5 else 0.0 for c in color)  # type: ignore[assignment]
        self.effect, self.color = effect, color
        if self.is_rgb:
            self._show_rgb(effect, color)
        else:
            self._show_single(effect)

    def _show_single(self, effect: str) -> None:
        device = self._device
        if effect == "off":
            device.off()
        elif effect == "on":
            device.on()
        elif effect == "blink":
            device.blink(on_time=self.blink_seconds, off_time=self.blink_seconds)
        elif self.pwm:
            device.pulse(fade_in_time=self.pulse_seconds, fade_out_time=self.pulse_seconds)
        else:
            device.blink(on_time=self.pulse_seconds, off_time=self.pulse_seconds)

    def _show_rgb(self, effect: str, color: Color) -> None:
        device: RGBLED = self._device
        if effect == "off" or color == BLACK:
            device.off()
        elif effect == "on":
            device.value = color
        elif effect == "blink":
            device.blink(on_time=self.blink_seconds, off_time=self.blink_seconds, on_color=color)
        elif self.pwm:
            device.pulse(
                fade_in_time=self.pulse_seconds, fade_out_time=self.pulse_seconds, on_color=color
            )
        else:
            device.blink(on_time=self.pulse_seconds, off_time=self.pulse_seconds, on_color=color)

    def close(self) -> None:
        """Stop any effect, turn the LED off and release its pins."""
        if self._device.closed:
            return
        try:
            self._device.off()
        finally:
            self._device.close()

    def __repr__(self) -> str:
        kind = "rgb" if self.is_rgb else "single"
        return f"<StatusLed {kind} {self.effect} {self.color}>"


def _with_pwm_if_possible(make: Callable[[bool], T], where: str) -> tuple[T, bool]:
    try:
        return make(True), True
    except PinPWMUnsupported:
        log.info("%s: no PWM, so the LED is on/off only (pulse shows as a slow blink)", where)
        return make(False), False
