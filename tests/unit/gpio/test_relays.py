"""Relays: the level on the pin for on/off, active-low boards, safe state on close."""

from __future__ import annotations

import pytest

from hardware.gpio.relays import Relay


def test_active_high_relay_starts_off_and_switches(pins):
    lamp = Relay("lamp", pin=17, pin_factory=pins)
    pin = pins.pin(17)
    assert pin.state is False and not lamp.is_on
    lamp.on()
    assert pin.state is True and lamp.is_on
    lamp.toggle()
    assert pin.state is False and not lamp.is_on
    lamp.set("on")
    assert pin.state is True


def test_initial_on(pins):
    fan = Relay("fan", pin=27, initial="on", pin_factory=pins)
    assert fan.is_on and pins.pin(27).state is True


def test_active_low_relay_inverts_the_pin(pins):
    lamp = Relay("lamp", pin=17, active_high=False, pin_factory=pins)
    pin = pins.pin(17)
    assert not lamp.is_on and pin.state is True, "off must hold an active-low pin high"
    lamp.on()
    assert lamp.is_on and pin.state is False
    lamp.toggle()
    assert pin.state is True


def test_active_low_initial_on_never_passes_through_on_high(pins):
    Relay("heater", pin=22, active_high=False, initial="on", pin_factory=pins)
    pin = pins.pin(22)
    assert pin.state is False
    # The pin went straight to the initial level: no brief "off" pulse first.
    assert [s.state for s in pin.states[1:]] in ([], [False])


@pytest.mark.parametrize(
    ("active_high", "safe", "level"),
    [(True, "off", False), (True, "on", True), (False, "off", True), (False, "on", False)],
)
def test_close_leaves_the_safe_state_on_the_pin(pins, active_high, safe, level):
    relay = Relay("pump", pin=5, active_high=active_high, initial="on", pin_factory=pins)
    relay.toggle()
    relay.toggle()
    relay.close(safe)
    assert relay.closed
    assert pins.pin(5).state is level
    relay.close(safe)  # a second close is harmless


def test_closed_pin_can_be_claimed_again(pins):
    Relay("lamp", pin=17, pin_factory=pins).close()
    Relay("lamp", pin=17, pin_factory=pins).on()


def test_bad_state_names_the_allowed_ones(pins):
    relay = Relay("lamp", pin=17, pin_factory=pins)
    with pytest.raises(ValueError, match="'on' or 'off'"):
        relay.set("dim")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'on' or 'off'"):
        Relay("fan", pin=18, initial="maybe", pin_factory=pins)  # type: ignore[arg-type]
