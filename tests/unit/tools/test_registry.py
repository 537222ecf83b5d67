"""The registry: declarations the real SDK accepts, and calls that never raise."""

from __future__ import annotations

import asyncio

import pytest
from google.genai import types

from daemon.config.schema import Config
from daemon.tools import Param, Tool, ToolRegistry

from .conftest import CONFIG


def test_declarations_are_valid_sdk_function_declarations(registry):
    declarations = registry.declarations()
    tool = types.Tool(function_declarations=declarations)
    assert [d.name for d in tool.function_declarations] == [
        "set_relay", "get_relays", "get_time", "set_volume", "end_conversation", "look",
    ]  # fmt: skip
    set_relay = tool.function_declarations[0]
    assert set_relay.parameters.type == types.Type.OBJECT
    assert set_relay.parameters.properties["name"].enum == ["lamp", "fan"]
    assert set_relay.parameters.required == ["name", "state"]


def test_declarations_tell_the_model_which_relays_exist(registry):
    (set_relay, get_relays) = registry.declarations()[:2]
    for declaration in (set_relay, get_relays):
        assert "lamp (the floor lamp in the living room)" in declaration["description"]
        assert "fan" in declaration["description"]


def test_no_relays_no_relay_tools_and_no_camera_no_look(appliance):
    registry = ToolRegistry.from_config(
        Config(), relays={}, context=appliance, camera_available=False
    )
    assert registry.names == ["get_time", "set_volume", "end_conversation"]


def test_look_needs_the_camera_enabled_and_present(relays, appliance):
    def names(config, available):
        return ToolRegistry.from_config(
            config, relays=relays, context=appliance, camera_available=available
        ).names

    assert "look" in names(CONFIG, True)
    assert "look" not in names(CONFIG, False), "camera enabled but not found"
    disabled = CONFIG.model_copy(
        update={"camera": CONFIG.camera.model_copy(update={"enabled": False})}
    )
    assert "look" not in names(disabled, True)


def test_relays_not_opened_are_not_offered(pins, appliance, caplog):
    from hardware.gpio.relays import Relay

    only_lamp = {"lamp": Relay("lamp", 17, pin_factory=pins)}
    registry = ToolRegistry.from_config(
        CONFIG, relays=only_lamp, context=appliance, camera_available=False
    )
    assert registry.declarations()[0]["parameters"]["properties"]["name"]["enum"] == ["lamp"]
    assert "fan" in caplog.text


def test_listing_without_opening_relays(appliance):
    registry = ToolRegistry.from_config(
        CONFIG, relays=None, context=appliance, camera_available=False
    )
    assert registry.declarations()[0]["parameters"]["properties"]["name"]["enum"] == ["lamp", "fan"]


async def test_listing_registry_reports_unopened_relays_as_an_error(appliance):
    registry = ToolRegistry.from_config(
        CONFIG, relays=None, context=appliance, camera_available=False
    )
    result = await registry.call("set_relay", {"name": "lamp", "state": "on"})
    assert "not open" in result["error"]


async def test_unknown_tool_names_the_allowed_ones(registry):
    result = await registry.call("open_garage", {})
    assert result == {
        "error": "unknown tool 'open_garage'; allowed: set_relay, get_relays, get_time, "
        "set_volume, end_conversation, look"
    }


@pytest.mark.parametrize("args", [[1, 2], "lamp on", 3])
async def test_arguments_that_are_not_an_object(registry, args):
    result = await registry.call("set_relay", args)
    assert "must be an object" in result["error"]
    assert "set_relay(name: one of lamp, fan; state: one of on, off, toggle)" in result["error"]


async def test_validate_reports_without_running(registry, relays):
    assert registry.validate("set_relay", {"name": "lamp", "state": "on"}) is None
    assert "unknown relay" in registry.validate("set_relay", {"name": "x", "state": "on"})
    assert not relays["lamp"].is_on


async def test_any_exception_becomes_an_error_result():
    async def explode() -> None:
        raise KeyError("boom")

    registry = ToolRegistry([Tool("explode", "d", explode)])
    assert registry.validate("explode", {}) is None
    result = await registry.call("explode", {})
    assert result == {"error": "explode failed: 'boom'"}


async def test_slow_tool_times_out_and_the_next_call_works():
    async def slow(seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "done"

    registry = ToolRegistry(
        [Tool("slow", "d", slow, {"seconds": Param("NUMBER", "how long")}, timeout=0.1)]
    )
    assert await registry.call("slow", {"seconds": 30}) == {
        "error": "slow took longer than 0.1 s and was abandoned"
    }
    assert await registry.call("slow", {"seconds": 0}) == {"result": "done"}


async def test_cancelling_the_caller_still_cancels():
    """Never-raises must not swallow the session's own shutdown."""
    registry = ToolRegistry([Tool("wait", "d", lambda: asyncio.Event().wait())])
    task = asyncio.ensure_future(registry.call("wait", {}))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_results_that_are_not_json_become_text():
    async def odd() -> object:
        return {1, 2}

    result = await ToolRegistry([Tool("odd", "d", odd)]).call("odd", {})
    assert result == {"result": "{1, 2}"}


def test_duplicate_tool_names_are_refused():
    async def noop() -> None: ...

    with pytest.raises(ValueError, match="already registered"):
        ToolRegistry([Tool("a", "d", noop), Tool("a", "d", noop)])
