"""The owner's tools from the `tools:` section, as registry Tools.

Each declared parameter becomes a Param, so the model's arguments are checked
against the declared type, range, allowed values, pattern and length before
any program, request or pin is touched. Values that are well-typed but unsafe
where they land are refused the same way: a value that would begin an
argument with '-', or a `.`/`..` path segment in a URL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from daemon.config.tools import DEFAULT_MAX_LENGTH, ParameterConfig, ToolConfig
from daemon.tools.command import command_handler, leading_placeholders, refuse_option_like
from daemon.tools.gpio_input import GpioInput, describe, gpio_handler
from daemon.tools.http_request import http_handler, path_placeholders, refuse_dot_segment
from daemon.tools.spec import Param, Tool

# The registry's limit sits past the tool's own: a command gets its SIGTERM grace
# and reports its own timeout (with its output) before the registry gives up.
BACKSTOP = 3.0


@dataclass
class OwnerTools:
    """The Tools, and the input pins they hold open (closed with close())."""

    tools: list[Tool] = field(default_factory=list)
    inputs: list[GpioInput] = field(default_factory=list)

    def close(self) -> None:
        for gpio in self.inputs:
            gpio.close()


def owner_tools(
    configs: Iterable[ToolConfig], *, pin_factory: Any = None, open_inputs: bool = False
) -> OwnerTools:
    """Tools for every `tools:` entry; with open_inputs, GPIO inputs claim their pins now."""
    owned = OwnerTools()
    for config in configs:
        if config.gpio_input is not None:
            gpio = GpioInput(config.name, config.gpio_input, pin_factory)
            if open_inputs:
                gpio.open()
            owned.inputs.append(gpio)
            owned.tools.append(
                Tool(
                    config.name,
                    describe(config.description, config.gpio_input),
                    gpio_handler(gpio),
                    timeout=config.timeout,
                    **_result_behavior(config, default="blocking"),
                )
            )
            continue
        owned.tools.append(_action_tool(config))
    return owned


def _action_tool(config: ToolConfig) -> Tool:
    refusals: dict[str, Any] = {}
    if config.command is not None:
        handler = command_handler(config.name, config.command, config.timeout)
        refusals = dict.fromkeys(leading_placeholders(config.command), refuse_option_like)
    else:
        assert config.http is not None
        handler = http_handler(config.name, config.http, config.timeout)
        refusals = dict.fromkeys(path_placeholders(config.http), refuse_dot_segment)
    params = {
        name: to_param(param, refusals.get(name)) for name, param in config.parameters.items()
    }
    defaults = {n: p.default for n, p in config.parameters.items() if not p.required}

    async def with_defaults(**values: Any) -> Any:
        return await handler(**{**defaults, **values})

    return Tool(
        config.name,
        config.description,
        with_defaults,
        params,
        timeout=config.timeout + BACKSTOP,
        **_result_behavior(config, default="when_idle"),
    )


def _result_behavior(config: ToolConfig, default: str) -> dict[str, Any]:
    """Tool's blocking and scheduling from `result:`. A pin reads in a millisecond and
    its value is the answer, so it blocks; a command or HTTP call may take seconds,
    so the model goes on talking and tells the result when it comes."""
    result = config.result or default
    if result == "blocking":
        return {"blocking": True}
    return {"blocking": False, "scheduling": result.upper()}


def to_param(config: ParameterConfig, refuse: Any = None) -> Param:
    description = config.description
    if not config.required:
        description += f" (default: {_shown(config.default)})"
    is_string = config.type == "string"
    return Param(
        config.type.upper(),  # type: ignore[arg-type]
        description,
        enum=tuple(config.enum) if config.enum is not None else None,
        minimum=_number(config.minimum, config.type),
        maximum=_number(config.maximum, config.type),
        required=config.required,
        pattern=config.pattern,
        max_length=(config.max_length or DEFAULT_MAX_LENGTH)
        if is_string and config.enum is None
        else None,
        refuse=refuse,
    )


def _number(value: float | None, kind: str) -> float | None:
    """Integer bounds stay integers in the declaration the model reads (0, not 0.0)."""
    if value is not None and kind == "integer" and float(value).is_integer():
        return int(value)
    return value


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
