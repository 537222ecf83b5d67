"""set_relay and get_relays over mock pins: good calls, every kind of bad call, failures."""

from __future__ import annotations

import pytest
from gpiozero.pins.mock import MockFactory

from daemon.tools import ToolRegistry, open_relays

from .conftest import CONFIG, SHORT, StuckPin


@pytest.mark.parametrize(
    ("state", "lamp_on", "lamp_pin"),
    [("on", True, True), ("off", False, False), ("toggle", True, True)],
)
async def test_set_relay_switches_the_pin(registry, pins, appliance, state, lamp_on, lamp_pin):
    result = await registry.call("set_relay", {"name": "lamp", "state": state})
    assert result == {"result": {"name": "lamp", "state": "on" if lamp_on else "off"}}
    assert pins.pin(17).state is lamp_pin
    assert appliance.calls == [("relay_changed", "lamp", lamp_on)]


async def test_active_low_relay_through_the_tool(registry, pins):
    assert pins.pin(27).state is False  # fan starts on: active-low pin low
    result = await registry.call("set_relay", {"name": "fan", "state": "toggle"})
    assert result == {"result": {"name": "fan", "state": "off"}}
    assert pins.pin(27).state is True


async def test_get_relays_reports_states_and_descriptions(registry):
    await registry.call("set_relay", {"name": "lamp", "state": "on"})
    assert await registry.call("get_relays", {}) == {
        "result": [
            {"name": "lamp", "state": "on", "description": "the floor lamp in the living room"},
            {"name": "fan", "state": "on", "description": ""},
        ]
    }


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            {"name": "garage", "state": "on"},
            "set_relay: unknown relay 'garage'; allowed: lamp, fan",
        ),
        ({"name": "lamp", "state": "dim"}, "set_relay: state 'dim'; allowed: on, off, toggle"),
        (
            {"name": "lamp"},
            "set_relay: missing argument 'state' (one of on, off, toggle); "
            "allowed: set_relay(name: one of lamp, fan; state: one of on, off, toggle)",
        ),
        ({"state": "on"}, "set_relay: missing argument 'name' (one of lamp, fan)"),
        ({"name": 17, "state": "on"}, "set_relay: name must be one of lamp, fan, not 17"),
        (
            {"name": "lamp", "state": True},
            "set_relay: state must be one of on, off, toggle, not True",
        ),
        (
            {"name": "lamp", "state": "on", "brightness": 5},
            "set_relay: no argument 'brightness'; allowed: name, state",
        ),
    ],
)
async def test_bad_set_relay_calls_name_what_is_allowed(registry, pins, args, error):
    result = await registry.call("set_relay", args)
    assert set(result) == {"error"}
    assert result["error"].startswith(error)
    assert pins.pin(17).state is False, "a bad call must switch nothing"


async def test_get_relays_takes_no_arguments(registry):
    result = await registry.call("get_relays", {"name": "lamp"})
    assert result == {"error": "get_relays: no argument 'name'; allowed: no arguments"}


async def test_a_relay_that_raises_gives_an_error_and_the_rest_still_work(registry, relays):
    relays["lamp"].close()
    result = await registry.call("set_relay", {"name": "lamp", "state": "on"})
    assert result["error"].startswith("set_relay failed:")
    assert "closed" in result["error"]
    assert (await registry.call("set_relay", {"name": "fan", "state": "off"}))["result"]
    failed = await registry.call("get_relays", {})
    assert failed["error"].startswith("get_relays failed:")


async def test_a_wedged_relay_times_out(appliance):
    factory = MockFactory(pin_class=StuckPin)
    StuckPin.release.clear()
    StuckPin.release.set()  # let open_relays drive the initial states
    relays = open_relays(CONFIG.relays, pin_factory=factory)
    StuckPin.release.clear()
    registry = ToolRegistry.from_config(
        CONFIG, relays=relays, context=appliance, camera_available=False, timeout=SHORT
    )
    try:
        result = await registry.call("set_relay", {"name": "lamp", "state": "on"})
        assert result == {"error": f"set_relay took longer than {SHORT:g} s and was abandoned"}
        assert (await registry.call("get_time", {}))["result"], "the registry must go on"
    finally:
        StuckPin.release.set()
        factory.close()
