"""Owner `gpio_input` tools: real gpiozero input devices on mock pins."""

from __future__ import annotations

from gpiozero import DigitalOutputDevice

from .conftest import owner_registry

DOOR = """
- name: back_door
  description: Whether the back door is open or closed.
  gpio_input: {pin: 5, pull: up, low: closed, high: open}
- name: float_switch
  description: Whether the rain barrel is full.
  gpio_input: {pin: 6, pull: down, low: not full, high: full}
"""


async def test_a_door_contact_reads_closed_and_open(pins):
    registry = owner_registry(DOOR, pin_factory=pins)
    contact = pins.pin(5)
    assert await registry.call("back_door", {}) == {
        "result": {"state": "open", "pin": 5, "level": "high"}  # pull-up, contact apart
    }
    contact.drive_low()  # the door closes the contact to ground
    assert await registry.call("back_door", {}) == {
        "result": {"state": "closed", "pin": 5, "level": "low"}
    }
    contact.drive_high()
    assert (await registry.call("back_door", {}))["result"]["state"] == "open"
    registry.close()


async def test_pull_down_and_no_arguments(pins):
    registry = owner_registry(DOOR, pin_factory=pins)
    assert (await registry.call("float_switch", {}))["result"]["state"] == "not full"
    pins.pin(6).drive_high()
    assert (await registry.call("float_switch", {}))["result"]["state"] == "full"
    assert await registry.call("float_switch", {"pin": 7}) == {
        "error": "float_switch: no argument 'pin'; allowed: no arguments"
    }
    registry.close()


def test_the_model_is_told_the_possible_answers(pins):
    registry = owner_registry(DOOR, pin_factory=pins)
    declarations = {d["name"]: d for d in registry.declarations()}
    assert declarations["back_door"] == {
        "name": "back_door",
        "description": "Whether the back door is open or closed. Answers 'closed' or 'open'.",
        "behavior": "BLOCKING",  # a pin reads at once, and its value is the answer
    }
    registry.close()


async def test_a_busy_pin_is_an_error_result_until_it_is_free(pins):
    squatter = DigitalOutputDevice(5, pin_factory=pins)  # another program holds the pin
    registry = owner_registry(DOOR, pin_factory=pins)
    result = await registry.call("back_door", {})
    assert result["error"].startswith("back_door failed: GPIO 5 could not be opened: ")
    assert (await registry.call("float_switch", {}))["result"]["state"] == "not full"
    squatter.close()
    assert (await registry.call("back_door", {}))["result"]["state"] == "open"
    registry.close()


async def test_listing_does_not_claim_pins(pins):
    registry = owner_registry(DOOR, pin_factory=pins, relays=None)
    declared = [d["name"] for d in registry.declarations()]
    assert declared[-2:] == ["back_door", "float_switch"]
    DigitalOutputDevice(5, pin_factory=pins).close()  # the pin is still free
    registry.close()
