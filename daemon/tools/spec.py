"""What a tool is: a name, a description, typed parameters and an async handler.

Parameters use the Live API's schema types (STRING, INTEGER, NUMBER, BOOLEAN),
and the same description is used twice: as the declaration the model reads
and as the rules that arguments are checked against before the handler runs.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

DEFAULT_TIMEOUT = 5.0  # seconds; a tool that takes longer gets an error result

ParamType = Literal["STRING", "INTEGER", "NUMBER", "BOOLEAN"]
_TYPE_WORDS = {"STRING": "a string", "INTEGER": "an integer", "NUMBER": "a number",
               "BOOLEAN": "true or false"}  # fmt: skip


class ArgumentError(ValueError):
    """The model's arguments do not fit the declaration; the message says what would."""


@dataclass(frozen=True)
class Param:
    type: ParamType
    description: str
    enum: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    required: bool = True
    noun: str | None = None
    """What a value names, for errors: "unknown relay 'x'" reads better than "bad name"."""

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": self.type, "description": self.description}
        if self.enum is not None:
            schema["enum"] = list(self.enum)
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return schema

    def allowed(self) -> str:
        """The allowed values in words, for error messages."""
        if self.enum is not None:
            return "one of " + ", ".join(self.enum)
        text = _TYPE_WORDS[self.type]
        if self.minimum is not None and self.maximum is not None:
            text += f" from {self.minimum:g} to {self.maximum:g}"
        elif self.minimum is not None:
            text += f" of at least {self.minimum:g}"
        elif self.maximum is not None:
            text += f" of at most {self.maximum:g}"
        return text

    def check(self, name: str, value: Any) -> Any:
        """The value, converted where JSON is loose (50.0 for an integer), or ArgumentError."""
        if self.type == "BOOLEAN":
            ok = isinstance(value, bool)
        elif self.type == "STRING":
            ok = isinstance(value, str)
        elif isinstance(value, bool) or not isinstance(value, int | float):
            ok = False
        elif self.type == "INTEGER":
            ok = math.isfinite(value) and float(value).is_integer()
            value = int(value) if ok else value
        else:
            ok = math.isfinite(value)
        if not ok:
            raise ArgumentError(f"{name} must be {self.allowed()}, not {value!r}")
        if self.enum is not None and value not in self.enum:
            what = f"unknown {self.noun} {value!r}" if self.noun else f"{name} {value!r}"
            raise ArgumentError(f"{what}; allowed: {', '.join(self.enum)}")
        too_low = self.minimum is not None and value < self.minimum
        too_high = self.maximum is not None and value > self.maximum
        if too_low or too_high:
            raise ArgumentError(f"{name} must be {self.allowed()}, not {value!r}")
        return value


Handler = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    handler: Handler
    """Called with the checked arguments as keywords; returns a JSON-able result."""
    params: Mapping[str, Param] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT

    def declaration(self) -> dict[str, Any]:
        """A google.genai FunctionDeclaration as a plain dict."""
        declaration: dict[str, Any] = {"name": self.name, "description": self.description}
        if self.params:
            declaration["parameters"] = {
                "type": "OBJECT",
                "properties": {name: p.schema() for name, p in self.params.items()},
                "required": [name for name, p in self.params.items() if p.required],
            }
        return declaration

    def signature(self) -> str:
        """name(arg: allowed, ...), for error messages that show a correct call."""
        args = "; ".join(f"{n}: {p.allowed()}" for n, p in self.params.items())
        return f"{self.name}({args})"

    def check_args(self, args: Any) -> dict[str, Any]:
        if args is None:
            args = {}
        if not isinstance(args, Mapping):
            raise ArgumentError(
                f"arguments must be an object, not {type(args).__name__}; "
                f"allowed: {self.signature()}"
            )
        unknown = sorted(set(args) - set(self.params))
        if unknown:
            allowed = ", ".join(self.params) or "no arguments"
            raise ArgumentError(f"no argument {', '.join(map(repr, unknown))}; allowed: {allowed}")
        checked: dict[str, Any] = {}
        for name, param in self.params.items():
            if name not in args:
                if param.required:
                    raise ArgumentError(
                        f"missing argument {name!r} ({param.allowed()}); "
                        f"allowed: {self.signature()}"
                    )
                continue
            checked[name] = param.check(name, args[name])
        return checked
