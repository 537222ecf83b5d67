"""Load the YAML file into a Config, or explain every problem with file:line: key.

Owners edit the file by hand on a headless box; the message is the only help
they get, so each one names the file, the line, the key path and what is
allowed. Cross-section rules (a pin used twice, duplicate relay names) are
checked here because no single section can see them.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from daemon.config.files import file_problems
from daemon.config.model_rules import model_problems
from daemon.config.reading import ReadError, decode_utf8, parse_yaml, read_small_file
from daemon.config.schema import Config
from daemon.core.safe_text import printable

EX_CONFIG = 78
DEFAULT_PATH = Path("/etc/speakerd/config.yaml")

Loc = tuple[str | int, ...]

# Enough to fix a file by; 200k unknown keys must not print 37 MB.
MAX_PROBLEMS = 20
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file; str() is what the owner reads."""

    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        # Every part may carry the owner's (or an attacker's) text: escape, bound.
        where = printable(self.file, 300) + (f":{self.line}" if self.line else "")
        message = printable(self.message, 500)
        return (
            f"{where}: {printable(self.key, 120)}: {message}" if self.key else f"{where}: {message}"
        )


class ConfigError(Exception):
    """The file cannot be used; `problems` lists everything found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.total = len(problems)
        self.problems = problems[:MAX_PROBLEMS]
        if self.total > MAX_PROBLEMS:
            first = problems[0]
            more = self.total - MAX_PROBLEMS
            self.problems.append(
                Problem(first.file, None, "", f"... and {more} more problems (fix these first)")
            )
        super().__init__("\n".join(str(p) for p in self.problems))


def default_config_path() -> Path:
    return Path(os.environ.get("SPEAKERD_CONFIG") or DEFAULT_PATH)


def load_config(path: Path | str) -> Config:
    """Read, parse and validate the file; raise ConfigError naming every problem."""
    path = Path(path)
    name = str(path)
    try:
        text = decode_utf8(read_small_file(path))
    except ReadError as exc:
        raise ConfigError([Problem(name, exc.line, "", exc.message)]) from None
    return parse_config(text, name)


def parse_config(text: str, name: str = "config.yaml") -> Config:
    try:
        data = parse_yaml(text)
    except ReadError as exc:
        raise ConfigError([Problem(name, exc.line, "", exc.message)]) from None
    if data is None:
        raise ConfigError(
            [Problem(name, 1, "", "the file is empty; write at least `{}` to take every default")]
        )
    if not isinstance(data, dict):
        raise ConfigError(
            [
                Problem(
                    name, 1, "", f"the top level must be a mapping of sections, not a {_kind(data)}"
                )
            ]
        )
    unusable = [Problem(name, _line(data, loc), _dotted(loc), msg) for loc, msg in bad_text(data)]
    if unusable:
        raise ConfigError(unusable)
    try:
        config = Config.model_validate(_plain(data))
    except ValidationError as exc:
        problems = [_problem_from_error(err, data, name) for err in exc.errors()]
        raise ConfigError(sorted(problems, key=lambda p: (p.line or 0, p.key))) from None
    found = cross_checks(config) + model_problems(config) + file_problems(config)
    if config.mqtt.enabled:
        for key, path in config.mqtt.files().items():
            if not path.is_file():
                found.append((("mqtt", *key.split(".")), f"file {path} does not exist"))
    problems = [Problem(name, _line(data, loc), _dotted(loc), msg) for loc, msg in found]
    if problems:
        raise ConfigError(sorted(problems, key=lambda p: (p.line or 0, p.key)))
    return config


def bad_text(data: Any, loc: Loc = ()) -> list[tuple[Loc, str]]:
    """Strings no program can use: lone surrogates (not Unicode) and NUL (ends a C string)."""
    found: list[tuple[Loc, str]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str) and (reason := _unusable(key)):
                found.append(((*loc, key), f"the key {reason}"))
            else:
                found += bad_text(value, (*loc, str(key)))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += bad_text(value, (*loc, i))
    elif isinstance(data, str) and (reason := _unusable(data)):
        found.append((loc, f"the value {reason}"))
    return found[:MAX_PROBLEMS]


def _unusable(text: str) -> str | None:
    if "\0" in text:
        return "contains a NUL character (\\0)"
    if _SURROGATE.search(text):
        return "contains a lone surrogate (an escape like \\ud800 that is not a character)"
    return None


def cross_checks(config: Config) -> list[tuple[Loc, str]]:
    """Rules that span sections: each GPIO pin has one job, each relay one name."""
    found: list[tuple[Loc, str]] = []
    owners: dict[int, str] = {}

    def claim(pin: int | None, loc: Loc, owner: str) -> None:
        if pin is None:
            return
        if pin in owners:
            found.append((loc, f"pin {pin} is already used by {owners[pin]}"))
        else:
            owners[pin] = owner

    if config.button.pin is not None:
        claim(config.button.pin, ("button", "pin"), "button.pin")
    for key, pin in config.leds.used_pins().items():
        claim(pin, ("leds", "pins", key), f"leds.pins.{key}")
    names: dict[str, int] = {}
    for i, relay in enumerate(config.relays):
        claim(relay.pin, ("relays", i, "pin"), f"relays[{i}] ({relay.name})")
        if relay.name in names:
            found.append(
                (
                    ("relays", i, "name"),
                    f"relay name {relay.name!r} is already used by relays[{names[relay.name]}]",
                )
            )
        else:
            names[relay.name] = i
    tool_names: dict[str, int] = {}
    for i, tool in enumerate(config.tools):
        if tool.gpio_input is not None:
            claim(
                tool.gpio_input.pin, ("tools", i, "gpio_input", "pin"), f"tools[{i}] ({tool.name})"
            )
        if tool.name in tool_names:
            found.append(
                (
                    ("tools", i, "name"),
                    f"tool name {tool.name!r} is already used by tools[{tool_names[tool.name]}]",
                )
            )
        tool_names.setdefault(tool.name, i)
    return found


def _problem_from_error(err: Any, data: dict[str, Any], name: str) -> Problem:
    loc: Loc = tuple(
        p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))
    )
    kind = err["type"]
    if kind == "extra_forbidden":
        message = f"unknown key {printable(loc[-1], 60)!r}{_suggestion(loc)}"
    elif kind == "missing":
        message = "required key is missing"
    else:
        message = _describe(err)
    # Model-level validators report at the section; string keys like "[0]" stay ints.
    return Problem(name, _line(data, loc), _dotted(loc), message)


def _describe(err: Any) -> str:
    msg: str = err["msg"]
    msg = msg.removeprefix("Value error, ")
    value = _Short(err.get("input"))
    if err["type"] in {"less_than_equal", "greater_than_equal", "less_than", "greater_than"}:
        return f"{value!r} is out of range: {msg.lower()}"
    if err["type"].endswith("_type") or err["type"].endswith("_parsing"):
        return f"{value!r} has the wrong type: {msg.lower()}"
    if err["type"] == "literal_error":
        return f"{value!r} is not allowed: {msg.lower()}"
    return msg


class _Short:
    """A value as repr() shows it in a message: escaped and at most a line long."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        if isinstance(self.value, str):
            return repr(printable(self.value, 60))
        return printable(repr(self.value), 80)


def _suggestion(loc: Loc) -> str:
    """A "did you mean" for a misspelt key, from the fields of the section it sits in."""
    fields = _fields_at(loc[:-1])
    if not fields:
        return ""
    close = difflib.get_close_matches(str(loc[-1]), fields, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{hint} allowed: {', '.join(fields)}"


def _fields_at(loc: Loc) -> list[str]:
    model: type[BaseModel] | None = Config
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        info = model.model_fields.get(str(part))
        if info is None:
            return []
        model = _model_of(info.annotation)
    return list(model.model_fields) if model else []


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_of(arg)
        if found:
            return found
    return None


def _line(data: Any, loc: Loc) -> int | None:
    """1-based line of the deepest key of `loc` present in the YAML tree."""
    line: int | None = None
    node = data
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    if line is None and isinstance(data, CommentedMap):
        line = data.lc.line + 1
    return line


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _kind(value: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(
        type(value), type(value).__name__
    )
