"""Talk button over mock pins: press, hold, and contact bounce."""

from __future__ import annotations

import threading
import time

import pytest

from hardware.gpio.button import TalkButton

HOLD = 0.3
BOUNCE_MS = 30


class Events:
    """Records callbacks, as the daemon would receive them (from another thread)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.changed = threading.Event()

    def press(self) -> None:
        self.calls.append("press")
        self.changed.set()

    def hold(self) -> None:
        self.calls.append("hold")
        self.changed.set()

    def wait(self) -> None:
        assert self.changed.wait(5), f"no callback; got {self.calls}"
        self.changed.clear()


@pytest.fixture
def events():
    return Events()


@pytest.fixture
def button(pins, events):
    b = TalkButton(
        23,
        pull_up=True,
        hold_seconds=HOLD,
        bounce_ms=BOUNCE_MS,
        on_press=events.press,
        on_hold=events.hold,
        pin_factory=pins,
    )
    yield b
    b.close()


def settle() -> None:
    """Longer than the debounce window, far shorter than a hold."""
    time.sleep(BOUNCE_MS / 1000 * 3)


def test_short_press_fires_once_on_release(button, pins, events):
    pin = pins.pin(23)
    pin.drive_low()  # pull-up button: pressed connects to ground
    settle()
    assert button.is_pressed and events.calls == [], "press must wait for the release"
    pin.drive_high()
    events.wait()
    assert events.calls == ["press"]
    time.sleep(HOLD * 1.5)
    assert events.calls == ["press"], "a short press must never become a hold"


def test_long_hold_fires_hold_once_and_no_press(button, pins, events):
    pin = pins.pin(23)
    pin.drive_low()
    events.wait()
    assert events.calls == ["hold"]
    time.sleep(HOLD * 1.5)  # still held: no repeat
    pin.drive_high()
    settle()
    assert events.calls == ["hold"]
    # The next short press works normally.
    pin.drive_low()
    settle()
    pin.drive_high()
    events.wait()
    assert events.calls == ["hold", "press"]


def bounce(pin, final_low: bool) -> None:
    """Contact chatter: a burst of edges a few ms apart, ending at the final level."""
    for _ in range(4):
        pin.drive_low()
        time.sleep(0.002)
        pin.drive_high()
        time.sleep(0.002)
    if final_low:
        pin.drive_low()


def test_bouncy_press_and_release_count_once(button, pins, events):
    pin = pins.pin(23)
    bounce(pin, final_low=True)
    settle()
    bounce(pin, final_low=False)
    events.wait()
    settle()
    assert events.calls == ["press"]


def test_glitch_shorter_than_bounce_is_ignored(button, pins, events):
    pin = pins.pin(23)
    pin.drive_low()
    time.sleep(0.002)
    pin.drive_high()
    time.sleep(HOLD * 1.5)
    assert events.calls == []
    assert not button.is_pressed


def test_pull_down_button_is_pressed_when_high(pins, events):
    b = TalkButton(
        24,
        pull_up=False,
        hold_seconds=HOLD,
        bounce_ms=0,
        on_press=events.press,
        on_hold=events.hold,
        pin_factory=pins,
    )
    try:
        pin = pins.pin(24)
        pin.drive_high()
        pin.drive_low()
        events.wait()
        assert events.calls == ["press"]
    finally:
        b.close()


def test_failing_callback_does_not_break_the_button(pins, events):
    def broken() -> None:
        raise RuntimeError("daemon bug")

    b = TalkButton(
        23, hold_seconds=HOLD, bounce_ms=0, on_press=broken, on_hold=events.hold, pin_factory=pins
    )
    try:
        pin = pins.pin(23)
        pin.drive_low()
        pin.drive_high()  # on_press raises, logged
        pin.drive_low()
        events.wait()
        assert events.calls == ["hold"]
    finally:
        b.close()


def test_close_cancels_a_pending_hold(pins, events):
    b = TalkButton(
        23,
        hold_seconds=HOLD,
        bounce_ms=0,
        on_press=events.press,
        on_hold=events.hold,
        pin_factory=pins,
    )
    pins.pin(23).drive_low()
    b.close()
    time.sleep(HOLD * 1.5)
    assert events.calls == []
