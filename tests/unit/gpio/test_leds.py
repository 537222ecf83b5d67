"""Status LED: pin levels for every appliance state, and the blink/pulse patterns."""

from __future__ import annotations

import itertools
import time

import pytest

from daemon.config.schema import NAMED_COLORS, LedStates
from daemon.core.state import State
from hardware.gpio.leds import StatusLed
from hardware.gpio.looks import rgb_from_hex

DEFAULT_LOOKS = LedStates()
BLINK = 0.1  # seconds; short so the tests are quick, the code path is the same
PULSE = 0.2


def look(state: str) -> tuple[str, tuple[float, float, float]]:
    entry = getattr(DEFAULT_LOOKS, state)
    return entry.effect, NAMED_COLORS[entry.color]


def wait_for_changes(pin, count: int, limit: float = 10.0) -> list:
    """The pin's recorded (seconds-in-previous-level, level) pairs once it changed `count` times."""
    deadline = time.monotonic() + limit
    while len(pin.states) <= count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(pin.states) > count, f"pin changed only {len(pin.states) - 1} times"
    return list(pin.states)


def assert_blinks(pin, on_level, period: float) -> None:
    """Alternates on/off, and every level lasts at least the configured time."""
    pin.clear_states()
    states = wait_for_changes(pin, 5)[1:6]
    levels = [s.state for s in states]
    assert all(level in (on_level, not on_level) for level in levels)
    assert all(a != b for a, b in itertools.pairwise(levels)), levels
    # Each entry's timestamp is the time spent in the level before it; skip the
    # first one (it started before clear_states).
    assert all(s.timestamp >= period * 0.9 for s in states[1:]), states


@pytest.fixture
def leds():
    made: list[StatusLed] = []
    yield made
    for led in made:
        led.close()


# --- single LED -------------------------------------------------------------


@pytest.mark.parametrize("state", [s.value for s in State])
@pytest.mark.parametrize("active_high", [True, False])
def test_single_led_steady_levels_for_each_state(pins, leds, state, active_high):
    effect, color = look(state)
    led = StatusLed.single(
        25, active_high=active_high, pin_factory=pins, blink_seconds=BLINK, pulse_seconds=PULSE
    )
    leds.append(led)
    pin = pins.pin(25)
    led.show(effect, color)
    lit = active_high  # the pin level that lights the LED
    if effect == "off":
        assert pin.state is (not lit)
    elif effect == "on":
        assert pin.state is lit
    else:  # blink, and pulse as slow blink on a pin without PWM
        assert_blinks(pin, lit, BLINK if effect == "blink" else led.pulse_seconds)


def test_single_led_blink_pattern(pins, leds):
    led = StatusLed.single(25, pin_factory=pins, blink_seconds=BLINK)
    leds.append(led)
    led.show("blink")
    assert_blinks(pins.pin(25), True, BLINK)


def test_single_led_pulse_fades_up_and_down_with_pwm(pwm_pins, leds):
    led = StatusLed.single(25, pin_factory=pwm_pins, pulse_seconds=PULSE)
    leds.append(led)
    assert led.pwm
    pin = pwm_pins.pin(25)
    led.show("pulse")
    assert_pulses(pin, active_high=True)


def test_active_low_pulse_inverts_duty_cycle(pwm_pins, leds):
    led = StatusLed.single(25, active_high=False, pin_factory=pwm_pins, pulse_seconds=PULSE)
    leds.append(led)
    led.show("pulse")
    assert_pulses(pwm_pins.pin(25), active_high=False)


def assert_pulses(pin, *, active_high: bool) -> None:
    """Brightness climbs through many steps to full over ~PULSE s, then falls back."""
    pin.clear_states()
    states = wait_for_changes(pin, 16)
    brightness = [s.state if active_high else 1 - s.state for s in states[1:]]
    top = brightness.index(max(brightness))
    bottom = brightness.index(min(brightness))
    assert max(brightness) == pytest.approx(1.0) and min(brightness) == pytest.approx(0.0)
    intermediate = [b for b in brightness if 0.05 < b < 0.95]
    assert len(intermediate) >= 5, f"no fading: {brightness}"
    # From dark to full, brightness only rises; the climb takes about PULSE seconds.
    start, end = sorted((top, bottom))
    segment = brightness[start : end + 1]
    assert segment == sorted(segment) or segment == sorted(segment, reverse=True)
    climb = sum(s.timestamp for s in states[start + 2 : end + 2])
    assert climb >= PULSE * 0.8


def test_show_replaces_the_running_effect(pins, leds):
    led = StatusLed.single(25, pin_factory=pins, blink_seconds=BLINK)
    leds.append(led)
    pin = pins.pin(25)
    led.show("blink")
    wait_for_changes(pin, 2)
    led.show("on")
    pin.clear_states()
    time.sleep(BLINK * 3)
    assert pin.state is True and len(pin.states) == 1, "the blink thread kept running"


def test_close_turns_off_and_releases(pins):
    led = StatusLed.single(25, pin_factory=pins)
    led.show("on")
    led.close()
    assert pins.pin(25).state is False
    StatusLed.single(25, pin_factory=pins).close()  # the pin is free again


def test_unknown_effect_names_the_allowed(pins, leds):
    led = StatusLed.single(25, pin_factory=pins)
    leds.append(led)
    with pytest.raises(ValueError, match="allowed: off, on, blink, pulse"):
        led.show("strobe")
    with pytest.raises(ValueError, match="between 0 and 1"):
        led.show("on", (2.0, 0.0, 0.0))


# --- RGB LED ----------------------------------------------------------------


def rgb_levels(factory, pins=(5, 6, 13)):
    return tuple(factory.pin(p).state for p in pins)


@pytest.mark.parametrize("state", [s.value for s in State])
def test_rgb_led_colour_for_each_state_with_pwm(pwm_pins, leds, state):
    effect, color = look(state)
    led = StatusLed.rgb(5, 6, 13, pin_factory=pwm_pins, blink_seconds=BLINK, pulse_seconds=PULSE)
    leds.append(led)
    led.show(effect, color)
    if effect == "off":
        assert rgb_levels(pwm_pins) == (0.0, 0.0, 0.0)
    elif effect == "on":
        assert rgb_levels(pwm_pins) == pytest.approx(color)
    else:
        # The brightest moment of a blink or pulse is the configured colour.
        lit = [c for c in range(3) if color[c] > 0]
        pin = pwm_pins.pin((5, 6, 13)[lit[0]])
        pin.clear_states()
        wait_for_changes(pin, 6)
        peak = max(s.state for s in pin.states)
        assert peak == pytest.approx(color[lit[0]])
        dark = [c for c in range(3) if color[c] == 0]
        assert all(pwm_pins.pin((5, 6, 13)[c]).state == 0.0 for c in dark)


def test_rgb_orange_is_half_green(pwm_pins, leds):
    led = StatusLed.rgb(5, 6, 13, pin_factory=pwm_pins)
    leds.append(led)
    led.show("on", NAMED_COLORS["orange"])
    assert rgb_levels(pwm_pins) == pytest.approx((1.0, 0.5, 0.0))


def test_rgb_active_low_common_anode(pwm_pins, leds):
    led = StatusLed.rgb(5, 6, 13, active_high=False, pin_factory=pwm_pins)
    leds.append(led)
    led.show("on", NAMED_COLORS["blue"])
    assert rgb_levels(pwm_pins) == pytest.approx((1.0, 1.0, 0.0))
    led.show("off", NAMED_COLORS["blue"])
    assert rgb_levels(pwm_pins) == pytest.approx((1.0, 1.0, 1.0))


def test_rgb_without_pwm_rounds_colours_and_blinks(pins, leds):
    led = StatusLed.rgb(5, 6, 13, pin_factory=pins, blink_seconds=BLINK)
    leds.append(led)
    assert not led.pwm
    led.show("on", NAMED_COLORS["orange"])
    assert rgb_levels(pins) == (True, True, False)
    led.show("blink", NAMED_COLORS["red"])
    assert pins.pin(6).state is False and pins.pin(13).state is False
    assert_blinks(pins.pin(5), True, BLINK)


def test_rgb_blink_pattern_in_colour(pwm_pins, leds):
    led = StatusLed.rgb(5, 6, 13, pin_factory=pwm_pins, blink_seconds=BLINK)
    leds.append(led)
    led.show("blink", NAMED_COLORS["magenta"])
    for pin in (5, 13):
        p = pwm_pins.pin(pin)
        p.clear_states()
        states = wait_for_changes(p, 4)[1:5]
        assert {s.state for s in states} == {0.0, 1.0}
        assert all(s.timestamp >= BLINK * 0.9 for s in states[1:])
    assert pwm_pins.pin(6).state == 0.0


def test_rgb_from_hex():
    assert rgb_from_hex("#ff0080") == pytest.approx((1.0, 0.0, 128 / 255))
    with pytest.raises(ValueError, match="#rrggbb"):
        rgb_from_hex("#fff")
