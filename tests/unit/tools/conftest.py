"""Shared pieces for the tool tests: a config, mock pins, a recording appliance context."""

from __future__ import annotations

import asyncio
import textwrap
import threading

import pytest
from gpiozero.pins.mock import MockPin

from daemon.config.schema import Config
from daemon.tools import ToolRegistry, close_relays, open_relays

SHORT = 0.3  # seconds: the per-tool timeout in these tests

CONFIG = Config.model_validate(
    {
        "relays": [
            {"name": "lamp", "pin": 17, "description": "the floor lamp in the living room"},
            {"name": "fan", "pin": 27, "active_high": False, "initial": "on"},
        ],
        "camera": {"enabled": True},
    }
)


class StuckPin(MockPin):
    """A mock pin whose writes hang until released, like a wedged GPIO driver."""

    release = threading.Event()

    def _set_state(self, value):
        StuckPin.release.wait(30)
        super()._set_state(value)


class Appliance:
    """Stands in for daemon.appliance.Appliance's side of ToolContext, recording calls."""

    def __init__(self, *, fail: bool = False, hang: bool = False) -> None:
        self.calls: list[tuple] = []
        self.fail, self.hang = fail, hang

    async def _act(self, *call) -> None:
        self.calls.append(call)
        if self.fail:
            raise RuntimeError(f"{call[0]} broke")
        if self.hang:
            await asyncio.Event().wait()

    def set_volume(self, percent: int):
        return self._act("set_volume", percent)

    def end_conversation(self):
        return self._act("end_conversation")

    async def look(self) -> str:
        await self._act("look")
        return "sent one 640x480 frame"

    def relay_changed(self, name: str, is_on: bool) -> None:
        self.calls.append(("relay_changed", name, is_on))


@pytest.fixture
def relays(pins):
    opened = open_relays(CONFIG.relays, pin_factory=pins)
    yield opened
    close_relays(opened, CONFIG.relays)


@pytest.fixture
def appliance():
    return Appliance()


@pytest.fixture
def registry(relays, appliance):
    return ToolRegistry.from_config(
        CONFIG, relays=relays, context=appliance, camera_available=True, timeout=SHORT
    )


def owner_registry(tools_yaml: str, **kwargs) -> ToolRegistry:
    """A registry from a `tools:` section, read through the real loader like an owner's file."""
    from daemon.config.loader import parse_config

    config = parse_config("tools:\n" + textwrap.indent(textwrap.dedent(tools_yaml), "  "))
    kwargs.setdefault("relays", {})
    kwargs.setdefault("context", Appliance())
    kwargs.setdefault("camera_available", False)
    return ToolRegistry.from_config(config, **kwargs)
