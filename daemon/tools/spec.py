"""What a tool is: a name, a description, typed parameters and an async handler.

Parameters use the Live API's schema types (STRING, INTEGER, NUMBER, BOOLEAN),
and the same description is used twice: as the declaration the model reads
and as the rules that arguments are checked against before the handler runs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

DEFAULT_TIMEOUT = 5.0  # seconds; a tool that takes longer gets an error result

Scheduling = Literal["INTERRUPT", "WHEN_IDLE", "SILENT"]
"""When the model uses a non-blocking tool's result: at once, after its current
sentence, or never aloud (docs/live-protocol.md, "Blocking and non-blocking functions")."""

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
    pattern: str | None = None
    """STRING: a regular expression the whole value must match."""
    max_length: int | None = None
    """STRING: the most characters accepted."""
    refuse: Callable[[Any], str | None] | None = None
    """Last word on a well-typed value: why it is refused (e.g. "starts with '-'"), or None."""

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": self.type, "description": self.description}
        if self.enum is not None:
            schema["enum"] = list(self.enum)
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.pattern is not None:
            schema["pattern"] = self.pattern
        if self.max_length is not None:
            schema["max_length"] = self.max_length
        return schema

    def allowed(self) -> str:
        """The allowed values in words, for error messages."""
        if self.enum is not None:
            return "one of " + ", ".join(self.enum)
        text = _TYPE_WORDS[self.type]
        if self.pattern is not None:
            text += f" matching {self.pattern}"
        if self.max_length is not None:
            text += f" of at most {self.max_length} characters"
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
            raise ArgumentError(f"{name} must be {self.allowed()}, not {_shown(value)}")
        if self.enum is not None and value not in self.enum:
            shown = _shown(value)
            what = f"unknown {self.noun} {shown}" if self.noun else f"{name} {shown}"
            raise ArgumentError(f"{what}; allowed: {', '.join(self.enum)}")
        too_low = self.minimum is not None and value < self.minimum
        too_high = self.maximum is not None and value > self.maximum
        if too_low or too_high:
            raise ArgumentError(f"{name} must be {self.allowed()}, not {_shown(value)}")
        if isinstance(value, str):
            self._check_text(name, value)
        if self.refuse is not None and (reason := self.refuse(value)):
            raise ArgumentError(f"{name} {_shown(value)} {reason}")
        return value

    def _check_text(self, name: str, value: str) -> None:
        if self.max_length is not None and len(value) > self.max_length:
            raise ArgumentError(
                f"{name} is {len(value)} characters long; at most {self.max_length} are accepted"
            )
        if "\x00" in value:
            raise ArgumentError(f"{name} contains a NUL character")
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            raise ArgumentError(f"{name} {_shown(value)} does not match the pattern {self.pattern}")


def _shown(value: Any, limit: int = 60) -> str:
    """The value for an error message, shortened: a 10 kB argument must not echo back whole."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 5]}...{text[-3:]}"


Handler = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    handler: Handler
    """Called with the checked arguments as keywords; returns a JSON-able result."""
    params: Mapping[str, Param] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT
    blocking: bool = True
    """The model waits for the result before it says more. Stated in every
    declaration, because the models' defaults differ (2.5 blocks, 3.8 does not)."""
    scheduling: Scheduling = "WHEN_IDLE"
    """Non-blocking tools: when the model uses a successful result. An error is
    always WHEN_IDLE, so the user hears that something did not work."""

    def declaration(self) -> dict[str, Any]:
        """A google.genai FunctionDeclaration as a plain dict."""
        declaration: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "behavior": "BLOCKING" if self.blocking else "NON_BLOCKING",
        }
        if self.params:
            declaration["parameters"] = {
                "type": "OBJECT",
                "properties": {name: p.schema() for name, p in self.params.items()},
                "required": [name for name, p in self.params.items() if p.required],
            }
        return declaration

    def response_scheduling(self, response: Mapping[str, Any]) -> Scheduling | None:
        """The `scheduling` to send with this response; None for a blocking tool."""
        if self.blocking:
            return None
        return "WHEN_IDLE" if "error" in response else self.scheduling

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
