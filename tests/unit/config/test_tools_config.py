"""The `tools:` section: each mistake an owner can make is named with file, line and key."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from daemon.config import ConfigError
from daemon.config.loader import parse_config
from daemon.config.tools import BUILTIN_TOOL_NAMES, TOOLS_EXAMPLE
from daemon.tools import StandaloneContext, ToolRegistry

REPO = Path(__file__).resolve().parents[3]


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(textwrap.dedent(text), "config.yaml")
    return [str(p) for p in caught.value.problems]


def test_a_full_tools_section_loads():
    config = parse_config(
        textwrap.dedent("""\
        tools:
          - name: garage
            description: Open or close the garage door.
            parameters:
              action: {type: string, enum: [open, close], description: what}
              code: {type: string, pattern: "[0-9]{4}", max_length: 4, description: pin code,
                     required: false, default: "0000"}
            timeout: 30
            command:
              argv: [/usr/local/bin/garage, "--action={action}", "{code}"]
              working_directory: /var/lib/speakerd
              environment: {GARAGE_HOST: 192.168.1.30}
        """)
    )
    (garage,) = config.tools
    assert garage.kind == "command" and garage.timeout == 30
    assert garage.parameters["code"].default == "0000"


def test_the_documented_examples_are_valid_and_become_tools():
    """The commented examples in config/speakerd.yaml, uncommented, are a working section."""
    text = "tools:\n" + "\n".join(
        line.replace("  # ", "  ", 1) for line in TOOLS_EXAMPLE.splitlines() if line.strip() != "#"
    )
    config = parse_config(text)
    assert [(t.name, t.kind) for t in config.tools] == [
        ("garage", "command"),
        ("hall_light", "http"),
        ("back_door", "gpio_input"),
    ]
    assert TOOLS_EXAMPLE in (REPO / "config" / "speakerd.yaml").read_text()


def test_builtin_names_cover_every_built_in_tool():
    """A built-in tool added later without reserving its name here fails this test."""
    from daemon.config.schema import Config

    config = Config.model_validate({"relays": [{"name": "lamp", "pin": 17}], "camera": {"enabled": True}})
    registry = ToolRegistry.from_config(
        config, relays=None, context=StandaloneContext(), camera_available=True
    )
    assert set(registry.names) <= set(BUILTIN_TOOL_NAMES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            """\
            tools:
              - name: garage
                description: Garage.
                parameters:
                  action: {type: string, description: what}
                command:
                  argv: [/usr/local/bin/garage, "{acton}"]
            """,
            "config.yaml:6: tools[0].command: argv[1]: placeholder {acton} names no parameter; "
            "parameters: action",
        ),
        (
            """\
            tools:
              - name: run_anything
                description: Runs what the model says.
                parameters:
                  program: {type: string, description: a program}
                command: {argv: ["{program}", --help]}
            """,
            "config.yaml:6: tools[0].command.argv: argv[0] '{program}' is the program and cannot "
            "hold a placeholder; pass the value as a later argument",
        ),
        (
            """\
            tools:
              - name: set_volume
                description: My own volume.
                command: {argv: [/usr/bin/amixer]}
            """,
            "config.yaml:2: tools[0].name: 'set_volume' is a built-in tool; choose another name "
            f"(built-in: {', '.join(BUILTIN_TOOL_NAMES)})",
        ),
        (
            """\
            tools:
              - name: light
                description: Light.
                parameters:
                  host: {type: string, description: which}
                http: {url: "http://{host}.local/on"}
            """,
            "config.yaml:6: tools[0].http.url: 'http://{host}.local/on': a placeholder cannot "
            "choose the host; use the path or query",
        ),
        (
            """\
            tools:
              - name: light
                description: Light.
                http: {url: "file:///etc/passwd"}
            """,
            "config.yaml:4: tools[0].http.url: 'file:///etc/passwd' is not an http:// or https:// URL",
        ),
        (
            """\
            tools:
              - name: light
                description: Light.
                parameters:
                  level: {type: integer, description: level}
                http:
                  url: http://192.168.1.40/
                  body: {brightness: "{levle}"}
            """,
            "config.yaml:6: tools[0].http: body.brightness: placeholder {levle} names no "
            "parameter; parameters: level",
        ),
        (
            """\
            tools:
              - name: light
                description: Light.
                http: {url: "http://admin:hunter2@192.168.1.40/on"}
            """,
            "config.yaml:4: tools[0].http.url: the URL holds a user or password; put "
            "credentials in a header read from a file",
        ),
        (
            """\
            tools:
              - name: garage
                description: Garage.
                command: {argv: [/usr/local/bin/garage], environment: {DOOR: "{door}"}}
            """,
            "config.yaml:4: tools[0].command: environment.DOOR: placeholder {door} names no "
            "parameter; parameters: none declared",
        ),
        (
            """\
            tools:
              - name: both
                description: Two actions.
                command: {argv: [/bin/true]}
                http: {url: "http://192.168.1.40/"}
            """,
            "config.yaml:2: tools[0]: tool 'both' needs exactly one action: command, http or "
            "gpio_input (found: command, http)",
        ),
        (
            """\
            tools:
              - name: nothing
                description: No action.
            """,
            "config.yaml:2: tools[0]: tool 'nothing' needs exactly one action: command, http or "
            "gpio_input (found: none)",
        ),
        (
            """\
            tools:
              - name: level
                description: A level.
                parameters:
                  value: {type: integer, description: v, enum: ["1", "2"]}
                command: {argv: [/bin/echo, "{value}"]}
            """,
            "config.yaml:5: tools[0].parameters.value: enum applies to string parameters only",
        ),
        (
            """\
            tools:
              - name: level
                description: A level.
                parameters:
                  value: {type: integer, description: v, required: false}
                command: {argv: [/bin/echo, "{value}"]}
            """,
            "config.yaml:5: tools[0].parameters.value: an optional parameter needs a default "
            "(the value used when left out)",
        ),
        (
            """\
            tools:
              - name: level
                description: A level.
                parameters:
                  value: {type: integer, description: v, maximum: 10, required: false, default: 11}
                command: {argv: [/bin/echo, "{value}"]}
            """,
            "config.yaml:5: tools[0].parameters.value: default 11 is out of range",
        ),
        (
            """\
            tools:
              - name: code
                description: A code.
                parameters:
                  value: {type: string, description: v, pattern: "[0-9"}
                command: {argv: [/bin/echo, "{value}"]}
            """,
            "config.yaml:5: tools[0].parameters.value.pattern: pattern '[0-9' is not a regular "
            "expression: unterminated character set at position 0",
        ),
        (
            """\
            tools:
              - name: door
                description: Door.
                parameters:
                  which: {type: string, description: v}
                gpio_input: {pin: 5}
            """,
            "config.yaml:6: tools[0].gpio_input: a gpio_input tool takes no parameters; "
            "remove `parameters`",
        ),
        (
            """\
            tools:
              - name: door
                description: Door.
                gpio_input: {pin: 5, pul: up}
            """,
            "config.yaml:4: tools[0].gpio_input.pul: unknown key 'pul'; did you mean 'pull'? "
            "allowed: pin, pull, low, high",
        ),
        (
            """\
            tools:
              - name: Garage Door
                description: Door.
                gpio_input: {pin: 5}
            """,
            "config.yaml:2: tools[0].name: tool name 'Garage Door' is not a simple identifier "
            "(lowercase letter first, then letters, digits or _; at most 64)",
        ),
    ],
)
def test_each_mistake_is_named_with_line_and_key(text, expected):
    assert problems(text) == [expected]


@pytest.mark.parametrize(
    ("others", "expected"),
    [
        ("relays: [{name: lamp, pin: 5}]\n", "config.yaml:5: tools[0].gpio_input.pin: "
         "pin 5 is already used by relays[0] (lamp)"),
        ("button: {pin: 5}\n", "config.yaml:5: tools[0].gpio_input.pin: "
         "pin 5 is already used by button.pin"),
        ("leds: {pins: {led: 5}}\n", "config.yaml:5: tools[0].gpio_input.pin: "
         "pin 5 is already used by leds.pins.led"),
        ("", "config.yaml:8: tools[1].gpio_input.pin: "
         "pin 5 is already used by tools[0] (back_door)"),
    ],
)  # fmt: skip
def test_a_pin_used_twice_is_refused(others, expected):
    text = others + textwrap.dedent("""\
        tools:
          - name: back_door
            description: Back door.
            gpio_input: {pin: 5}
          - name: front_door
            description: Front door.
            gpio_input:
              pin: 5
        """)
    assert expected in problems(text)


def test_two_tools_with_one_name_are_refused():
    assert problems("""\
        tools:
          - name: door
            description: Back door.
            gpio_input: {pin: 5}
          - name: door
            description: Front door.
            gpio_input: {pin: 6}
        """) == ["config.yaml:5: tools[1].name: tool name 'door' is already used by tools[0]"]


def test_check_config_exits_78_and_names_the_line(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(
        textwrap.dedent("""\
        tools:
          - name: garage
            description: Garage.
            command: {argv: ["{door}"]}
        """)
    )
    run = subprocess.run(
        [sys.executable, "-m", "daemon", "check-config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 78
    assert f"{path}:4: tools[0].command.argv: argv[0] '{{door}}' is the program" in run.stderr


def test_the_documented_example_is_valid():
    readme = (REPO / "docs" / "tools.md").read_text()
    blocks = [b.split("```")[0] for b in readme.split("```yaml\n")[1:]]
    (example,) = [b for b in blocks if b.startswith("tools:")]
    config = parse_config(example)
    assert [(t.name, t.kind) for t in config.tools] == [
        ("garage", "command"),
        ("hall_light", "http"),
        ("back_door", "gpio_input"),
    ]
