"""set_volume and end_conversation: the appliance does the work through the context."""

from __future__ import annotations

import pytest

from daemon.tools import ToolRegistry

from .conftest import CONFIG, SHORT, Appliance


def registry_for(appliance: Appliance) -> ToolRegistry:
    return ToolRegistry.from_config(
        CONFIG, relays={}, context=appliance, camera_available=False, timeout=SHORT
    )


@pytest.mark.parametrize(("given", "applied"), [(0, 0), (35, 35), (100, 100), (50.0, 50)])
async def test_set_volume(given, applied):
    appliance = Appliance()
    result = await registry_for(appliance).call("set_volume", {"percent": given})
    assert result == {"result": {"volume": applied}}
    assert appliance.calls == [("set_volume", applied)]
    assert type(appliance.calls[0][1]) is int


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ({"percent": "loud"}, "percent must be an integer from 0 to 100, not 'loud'"),
        ({"percent": 150}, "percent must be an integer from 0 to 100, not 150"),
        ({"percent": -5}, "percent must be an integer from 0 to 100, not -5"),
        ({"percent": 42.5}, "percent must be an integer from 0 to 100, not 42.5"),
        ({"percent": True}, "percent must be an integer from 0 to 100, not True"),
        ({}, "missing argument 'percent' (an integer from 0 to 100)"),
        ({"percent": 5, "level": 5}, "no argument 'level'; allowed: percent"),
    ],
)
async def test_bad_set_volume_calls(args, error):
    appliance = Appliance()
    result = await registry_for(appliance).call("set_volume", args)
    assert result["error"].startswith(f"set_volume: {error}")
    assert appliance.calls == [], "a bad call must not reach the appliance"


async def test_end_conversation():
    appliance = Appliance()
    result = await registry_for(appliance).call("end_conversation", {})
    assert "ends after this reply" in result["result"]
    assert appliance.calls == [("end_conversation",)]


async def test_end_conversation_with_arguments_is_refused():
    appliance = Appliance()
    result = await registry_for(appliance).call("end_conversation", {"reason": "bye"})
    assert result == {"error": "end_conversation: no argument 'reason'; allowed: no arguments"}
    assert appliance.calls == []


@pytest.mark.parametrize(
    ("name", "args"), [("set_volume", {"percent": 10}), ("end_conversation", {})]
)
async def test_raising_appliance_gives_an_error(name, args):
    result = await registry_for(Appliance(fail=True)).call(name, args)
    assert result == {"error": f"{name} failed: {name} broke"}


@pytest.mark.parametrize(
    ("name", "args"), [("set_volume", {"percent": 10}), ("end_conversation", {})]
)
async def test_hanging_appliance_times_out(name, args):
    registry = registry_for(Appliance(hang=True))
    result = await registry.call(name, args)
    assert result == {"error": f"{name} took longer than {SHORT:g} s and was abandoned"}


async def test_plain_functions_work_as_context_too():
    class Plain:
        def __init__(self) -> None:
            self.volume = None

        def set_volume(self, percent: int) -> None:
            self.volume = percent

        def end_conversation(self) -> None: ...

        async def look(self) -> str:
            return ""

    plain = Plain()
    registry = ToolRegistry.from_config(CONFIG, relays={}, context=plain, camera_available=False)
    assert await registry.call("set_volume", {"percent": 20}) == {"result": {"volume": 20}}
    assert plain.volume == 20
