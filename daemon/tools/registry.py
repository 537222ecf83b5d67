"""The tool registry: declarations for the Live session, and calls that never raise.

>>> registry = ToolRegistry.from_config(config, relays=relays, context=appliance,
...                                    camera_available=camera is not None)
>>> setup.tools = [{"function_declarations": registry.declarations()}]
>>> await registry.call("set_relay", {"name": "lamp", "state": "on"})
{'result': {'name': 'lamp', 'state': 'on'}}

Whatever the model sends, the answer is a dict the session can return as the
function response: {"result": ...} or {"error": "... allowed: ..."}. Bad
arguments, a raising tool and a slow tool all end up as an error result, so
the conversation goes on and the model can correct itself.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from daemon.config.schema import Config
from daemon.tools.appliance import appliance_tools
from daemon.tools.camera import camera_tools
from daemon.tools.clock import Clock, local_now, time_tools
from daemon.tools.context import ToolContext
from daemon.tools.media import media_tools
from daemon.tools.memory import memory_tools
from daemon.tools.owner import OwnerTools, owner_tools
from daemon.tools.relays import relay_tools
from daemon.tools.spec import ArgumentError, Tool
from daemon.tools.timers import timer_tools
from hardware.gpio.relays import Relay

log = logging.getLogger(__name__)


class ToolRegistry:
    def __init__(self, tools: Iterable[Tool] = (), owned: OwnerTools | None = None) -> None:
        self._tools: dict[str, Tool] = {}
        self._owned = owned
        for tool in tools:
            self.add(tool)

    @classmethod
    def from_config(
        cls,
        config: Config,
        *,
        relays: Mapping[str, Relay] | None,
        context: ToolContext,
        camera_available: bool,
        clock: Clock = local_now,
        timeout: float | None = None,
        pin_factory: Any = None,
        open_inputs: bool | None = None,
    ) -> ToolRegistry:
        """The tools this device offers: its relays, clock, volume, end, look with a
        camera, timers, the household memory and music (when the context has them), and the
        owner's own tools (config.tools).

        ``relays`` are the open relays by name; None describes the configured
        relays without opening them (for listing). A configured relay missing
        from ``relays`` is not offered. ``timeout`` (seconds) replaces every
        tool's own limit. The owner's GPIO inputs claim their pins now when
        ``open_inputs`` (default: when relays are given), else at their first
        call; close() releases them.
        """
        descriptions = {r.name: r.description for r in config.relays}
        if relays is not None:
            missing = sorted(set(descriptions) - set(relays))
            if missing:
                log.warning(
                    "relays %s are configured but not open; not offered", ", ".join(missing)
                )
            descriptions = {n: d for n, d in descriptions.items() if n in relays}
        tools = [
            *relay_tools(descriptions, relays, context),
            *time_tools(clock),
            *appliance_tools(context),
            *camera_tools(context, camera_available and config.camera.enabled),
            *timer_tools(
                getattr(context, "timers", None),
                kept_elsewhere=getattr(context, "timers_kept_by_daemon", False),
            ),
            *memory_tools(
                getattr(context, "memory", None),
                kept_elsewhere=config.memory.enabled
                and getattr(context, "memory_kept_by_daemon", False),
            ),
            *media_tools(
                getattr(context, "media", None),
                config.media,
                kept_elsewhere=getattr(context, "media_kept_by_daemon", False),
            ),
        ]
        owned = owner_tools(
            config.tools,
            pin_factory=pin_factory,
            open_inputs=relays is not None if open_inputs is None else open_inputs,
        )
        tools += owned.tools
        if timeout is not None:
            tools = [dataclasses.replace(tool, timeout=timeout) for tool in tools]
        return cls(tools, owned)

    def close(self) -> None:
        """Release the pins the owner's GPIO input tools hold."""
        if self._owned is not None:
            self._owned.close()

    def add(self, tool: Tool) -> None:
        if tool.name in self._tools:
            raise ValueError(f"tool {tool.name!r} is already registered")
        self._tools[tool.name] = tool

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def declarations(self) -> list[dict[str, Any]]:
        """FunctionDeclaration-shaped dicts, in registration order."""
        return [tool.declaration() for tool in self._tools.values()]

    async def call(self, name: str, args: Any) -> dict[str, Any]:
        """Run one tool call; {"result": ...} or {"error": ...}, never an exception."""
        try:
            tool, checked = self._checked(name, args)
        except ArgumentError as exc:
            return _error(str(exc))
        try:
            result = await asyncio.wait_for(tool.handler(**checked), tool.timeout)
        except TimeoutError:
            log.warning("tool %s took longer than %g s; abandoned", name, tool.timeout)
            return _error(f"{name} took longer than {tool.timeout:g} s and was abandoned")
        except ArgumentError as exc:  # a check only the tool itself can make; nothing ran
            return _error(f"{name}: {exc}")
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # our caller is being cancelled: that is not the tool's to swallow
            return _error(f"{name} was cancelled")
        except Exception as exc:
            log.warning("tool %s failed: %s", name, exc, exc_info=log.isEnabledFor(logging.DEBUG))
            return _error(f"{name} failed: {exc or type(exc).__name__}")
        return {"result": _jsonable(result)}

    def scheduling(self, name: str, response: Mapping[str, Any]) -> str | None:
        """The `scheduling` of this tool's response (None: blocking, or no such tool)."""
        tool = self._tools.get(name)
        return tool.response_scheduling(response) if tool is not None else None

    def validate(self, name: str, args: Any) -> str | None:
        """What is wrong with this call (unknown tool, bad arguments), or None if nothing."""
        try:
            self._checked(name, args)
        except ArgumentError as exc:
            return str(exc)
        return None

    def _checked(self, name: str, args: Any) -> tuple[Tool, dict[str, Any]]:
        tool = self._tools.get(name)
        if tool is None:
            allowed = ", ".join(self._tools) or "none"
            raise ArgumentError(f"unknown tool {name!r}; allowed: {allowed}")
        try:
            return tool, tool.check_args(args)
        except ArgumentError as exc:
            raise ArgumentError(f"{name}: {exc}") from None


def _error(message: str) -> dict[str, Any]:
    return {"error": message}


def _jsonable(value: Any) -> Any:
    """The session serialises the response as JSON; anything else becomes its text."""
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
    return value
