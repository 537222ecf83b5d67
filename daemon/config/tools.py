"""The `tools:` section: commands, HTTP calls and GPIO inputs the owner offers the model.

Each entry is checked here as far as it can see itself: its parameters, that
every `{placeholder}` names one of them, that a placeholder never chooses the
program or the host, and that its name is not a built-in tool's. Rules that
need the rest of the file (a pin used twice, two tools with one name) are in
daemon/config/loader.py.

This module stands alone (daemon/config/schema.py imports it), so it repeats
the two-line section base rather than import it back.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

# Names the appliance's own tools use, now or planned (timers: issue 13); an owner
# tool may not take one. tests/unit/tools checks the registry against this list.
BUILTIN_TOOL_NAMES: tuple[str, ...] = (
    "set_relay", "get_relays", "get_time", "set_volume", "end_conversation", "look",
    "set_timer", "set_alarm", "list_timers", "cancel_timer",
    "remember_fact", "forget_fact", "list_facts",
    "play_radio", "play_music", "play_url", "pause_music", "resume_music", "stop_music",
    "next_track", "now_playing",
)  # fmt: skip

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
"""`{name}` is a placeholder; any other brace is literal text."""

DEFAULT_MAX_LENGTH = 200
OUTPUT_CAP = 4096  # bytes of a command's output or an HTTP body given to the model
_TOOL_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_PARAM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
GpioPin = Annotated[int, Field(ge=0, le=27)]  # BCM, as schema.GpioPin


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


def placeholders(text: str) -> list[str]:
    """The parameter names a template string refers to, in order."""
    return PLACEHOLDER.findall(text)


class ParameterConfig(_Section):
    type: Literal["string", "integer", "number", "boolean"]
    """string, integer, number or boolean."""
    description: str = Field(min_length=1)
    """What the value means, told to the model."""
    required: bool = True
    """false: the model may leave it out, and `default` is used."""
    default: str | int | float | bool | None = None
    """The value used when an optional parameter is left out."""
    enum: list[str] | None = Field(None, min_length=1)
    """string only: the allowed values."""
    pattern: str | None = None
    """string only: a regular expression the whole value must match."""
    max_length: int | None = Field(None, ge=1, le=10000)
    """string only: the longest value accepted (default 200 characters)."""
    minimum: float | None = None
    """integer and number only: the smallest value accepted."""
    maximum: float | None = None
    """integer and number only: the largest value accepted."""

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"pattern {value!r} is not a regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _keys_fit_the_type(self) -> ParameterConfig:
        string_only = [k for k in ("enum", "pattern", "max_length") if getattr(self, k) is not None]
        numeric_only = [k for k in ("minimum", "maximum") if getattr(self, k) is not None]
        if self.type != "string" and string_only:
            raise ValueError(f"{', '.join(string_only)} applies to string parameters only")
        if self.type not in ("integer", "number") and numeric_only:
            raise ValueError(f"{', '.join(numeric_only)} applies to integer and number only")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"minimum ({self.minimum:g}) is above maximum ({self.maximum:g})")
        if self.required and self.default is not None:
            raise ValueError("a default is used only with required: false")
        if not self.required and self.default is None:
            raise ValueError("an optional parameter needs a default (the value used when left out)")
        if self.default is not None:
            problem = self.refusal(self.default)
            if problem:
                raise ValueError(f"default {self.default!r} {problem}")
        return self

    def refusal(self, value: Any) -> str | None:
        """Why a value does not fit (for defaults; the model's values go through tools.spec)."""
        if self.type == "string":
            if not isinstance(value, str):
                return "is not a string"
            if self.enum is not None and value not in self.enum:
                return f"is not one of {', '.join(self.enum)}"
            if self.pattern is not None and not re.fullmatch(self.pattern, value):
                return f"does not match the pattern {self.pattern!r}"
            return None
        if self.type == "boolean":
            return None if isinstance(value, bool) else "is not true or false"
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"is not {'an integer' if self.type == 'integer' else 'a number'}"
        if self.type == "integer" and not float(value).is_integer():
            return "is not an integer"
        if (self.minimum is not None and value < self.minimum) or (
            self.maximum is not None and value > self.maximum
        ):
            return "is out of range"
        return None


class CommandAction(_Section):
    argv: list[str] = Field(min_length=1)
    """Program and arguments, run without a shell; `{param}` fills in a value as one argument."""
    working_directory: Path | None = None
    """Directory the program runs in; unset: the daemon's own (/var/lib/speakerd as a service)."""
    environment: dict[str, str] = Field(default_factory=dict)
    """Extra environment variables, `{param}` allowed (besides PATH, LANG and HOME, nothing)."""

    @field_validator("argv")
    @classmethod
    def _program_is_fixed(cls, argv: list[str]) -> list[str]:
        if not argv[0].strip():
            raise ValueError("argv[0] (the program) is empty")
        if placeholders(argv[0]):
            raise ValueError(
                f"argv[0] {argv[0]!r} is the program and cannot hold a placeholder; "
                "pass the value as a later argument"
            )
        return argv

    @field_validator("environment")
    @classmethod
    def _env_names(cls, env: dict[str, str]) -> dict[str, str]:
        for name in env:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise ValueError(f"{name!r} is not an environment variable name")
        return env

    def placeholders(self) -> list[tuple[str, str]]:
        found = [(f"argv[{i}]", n) for i, arg in enumerate(self.argv) for n in placeholders(arg)]
        return found + [
            (f"environment.{key}", n) for key, text in self.environment.items()
            for n in placeholders(text)
        ]  # fmt: skip


class HeaderFromFile(_Section):
    file: Path
    """File whose content (one line, trailing newline dropped) is the value; read at each call."""
    prefix: str = ""
    """Text put before the file's content, e.g. "Bearer "."""


class HttpAction(_Section):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    """GET, POST, PUT, PATCH or DELETE."""
    url: str
    """http:// or https:// URL; `{param}` in the path or query is URL-encoded."""
    headers: dict[str, str | HeaderFromFile] = Field(default_factory=dict)
    """Request headers: a value, or {file: PATH, prefix: "Bearer "} for a token kept in a file."""
    body: Any = None
    """JSON body (any YAML value); a string that is just "{param}" becomes the typed value."""

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"{url!r} is not an http:// or https:// URL")
        if not parts.netloc:
            raise ValueError(f"{url!r} has no host")
        if placeholders(f"{parts.scheme}://{parts.netloc}"):
            raise ValueError(
                f"{url!r}: a placeholder cannot choose the host; use the path or query"
            )
        if any(c.isspace() for c in url):
            raise ValueError(f"{url!r} contains white space")
        if parts.username is not None or parts.password is not None:
            raise ValueError(
                "the URL holds a user or password; put credentials in a header read from a file"
            )
        return url

    @field_validator("headers")
    @classmethod
    def _header_names(cls, headers: dict[str, Any]) -> dict[str, Any]:
        for name, value in headers.items():
            if not _HEADER_NAME.match(name):
                raise ValueError(f"{name!r} is not a header name")
            text = value if isinstance(value, str) else value.prefix
            if "\n" in text or "\r" in text:
                raise ValueError(f"header {name} spans lines")
            if placeholders(text):
                raise ValueError(f"header {name}: placeholders are allowed in url and body only")
        return headers

    def placeholders(self) -> list[tuple[str, str]]:
        found = [("url", n) for n in placeholders(self.url)]
        return found + [(f"body{where}", n) for where, n in _body_placeholders(self.body, "")]


def _body_placeholders(node: Any, where: str) -> list[tuple[str, str]]:
    if isinstance(node, str):
        return [(where, n) for n in placeholders(node)]
    if isinstance(node, dict):
        found = []
        for key, value in node.items():
            if placeholders(str(key)):
                raise ValueError(f"body{where}: the key {key!r} cannot hold a placeholder")
            found += _body_placeholders(value, f"{where}.{key}")
        return found
    if isinstance(node, list):
        return [p for i, item in enumerate(node) for p in _body_placeholders(item, f"{where}[{i}]")]
    return []


class GpioInputAction(_Section):
    pin: GpioPin
    """BCM pin the contact is wired to."""
    pull: Literal["up", "down", "none"] = "up"
    """up: the contact connects the pin to ground; down: to 3.3 V; none: an external resistor."""
    low: str = Field("low", min_length=1)
    """What a low pin means, told to the model (e.g. closed)."""
    high: str = Field("high", min_length=1)
    """What a high pin means (e.g. open)."""


class ToolConfig(_Section):
    name: str
    """Function name the model calls (lowercase letters, digits, underscores)."""
    description: str = Field(min_length=1)
    """What the tool does and when to use it, told to the model."""
    parameters: dict[str, ParameterConfig] = Field(default_factory=dict)
    """Arguments the model passes, by name."""
    timeout: float = Field(10.0, gt=0.0, le=600.0)
    """Seconds before the call is stopped (a command is killed) and the model told."""
    result: Literal["blocking", "when_idle", "interrupt", "silent"] | None = None
    """blocking: the model waits for the result; when_idle: it talks on and tells the result after its sentence; interrupt: at once; silent: keeps it in mind. null: gpio inputs block, commands and HTTP calls are when_idle."""
    command: CommandAction | None = None
    """Run a program: {argv: [...], working_directory, environment}."""
    http: HttpAction | None = None
    """Make an HTTP request: {method, url, headers, body}."""
    gpio_input: GpioInputAction | None = None
    """Read a GPIO input: {pin, pull, low, high}."""

    @field_validator("name")
    @classmethod
    def _tool_name(cls, value: str) -> str:
        if not _TOOL_NAME.match(value):
            raise ValueError(
                f"tool name {value!r} is not a simple identifier "
                "(lowercase letter first, then letters, digits or _; at most 64)"
            )
        if value in BUILTIN_TOOL_NAMES:
            raise ValueError(
                f"{value!r} is a built-in tool; choose another name "
                f"(built-in: {', '.join(BUILTIN_TOOL_NAMES)})"
            )
        return value

    @field_validator("parameters")
    @classmethod
    def _param_names(cls, params: dict[str, ParameterConfig]) -> dict[str, ParameterConfig]:
        for name in params:
            if not _PARAM_NAME.match(name):
                raise ValueError(
                    f"parameter name {name!r} is not a simple identifier "
                    "(lowercase letter first, then letters, digits or _; at most 32)"
                )
        return params

    @field_validator("command", "http")
    @classmethod
    def _known_placeholders(cls, action: Any, info: ValidationInfo) -> Any:
        if action is None or "parameters" not in info.data:
            return action  # a broken parameters section is reported on its own
        declared = info.data["parameters"]
        for where, name in action.placeholders():
            if name not in declared:
                allowed = ", ".join(declared) or "none declared"
                raise ValueError(
                    f"{where}: placeholder {{{name}}} names no parameter; parameters: {allowed}"
                )
        return action

    @field_validator("gpio_input")
    @classmethod
    def _no_parameters(cls, action: Any, info: ValidationInfo) -> Any:
        if action is not None and info.data.get("parameters"):
            raise ValueError("a gpio_input tool takes no parameters; remove `parameters`")
        return action

    @model_validator(mode="after")
    def _one_action(self) -> ToolConfig:
        actions = [k for k in ("command", "http", "gpio_input") if getattr(self, k) is not None]
        if len(actions) != 1:
            found = ", ".join(actions) or "none"
            raise ValueError(
                f"tool {self.name!r} needs exactly one action: command, http or gpio_input "
                f"(found: {found})"
            )
        return self

    @property
    def kind(self) -> str:
        return "command" if self.command else "http" if self.http else "gpio_input"


TOOLS_EXAMPLE = """\
  # - name: garage                       # the function name the model calls
  #   description: Open or close the garage door. Say what happened.
  #   parameters:
  #     action:
  #       type: string                   # string, integer, number or boolean
  #       enum: [open, close]            # strings: enum, pattern, max_length
  #       description: open or close
  #   timeout: 30                        # seconds; a command is killed after it
  #   result: when_idle                  # blocking, when_idle, interrupt or silent
  #   command:                           # a program, never a shell
  #     argv: [/usr/local/bin/garage, "--door", main, "{action}"]
  #     working_directory: /var/lib/speakerd
  #     environment: {GARAGE_HOST: 192.168.1.30}   # besides PATH, LANG, HOME
  #
  # - name: hall_light
  #   description: Set the brightness of the hall light (0 is off).
  #   parameters:
  #     level:
  #       type: integer
  #       minimum: 0                     # integer and number: minimum, maximum
  #       maximum: 100
  #       description: brightness in percent
  #     fade:
  #       type: number
  #       minimum: 0
  #       maximum: 10
  #       required: false                # an optional parameter needs a default
  #       default: 0.5
  #       description: fade time in seconds
  #   timeout: 5
  #   http:                              # redirects are not followed
  #     method: POST
  #     url: http://192.168.1.40/api/light    # {param} here is URL-encoded
  #     headers:
  #       Authorization: {file: /etc/speakerd/light-token, prefix: "Bearer "}
  #     body: {on: true, brightness: "{level}", fade: "{fade}"}  # "{level}" becomes the number
  #
  # - name: back_door
  #   description: Whether the back door is open or closed.
  #   gpio_input:
  #     pin: 5                           # BCM; not used by a relay, LED or the button
  #     pull: up                         # the contact connects the pin to ground
  #     low: closed                      # what a low pin means
  #     high: open                       # what a high pin means
"""
