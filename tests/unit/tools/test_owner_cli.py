"""`speakerd tools list|call` with the owner's own tools, run as an owner would."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from google.genai import types

from .test_cli import speakerd


@pytest.fixture
def config(tmp_path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"""\
relays:
  - name: lamp
    pin: 17
tools:
  - name: garage
    description: Open or close the garage door.
    parameters:
      action: {{type: string, enum: [open, close], description: what to do}}
    command:
      argv: [{sys.executable}, -c, "import sys; open('{tmp_path}/garage', 'w').write(sys.argv[1]); print('done')", "{{action}}"]
  - name: jammed
    description: A door that does not move.
    command: {{argv: [/bin/sh, -c, "echo motor stalled >&2; exit 4"]}}
  - name: stuck
    description: Never finishes.
    timeout: 0.5
    command: {{argv: [/bin/sleep, "60"]}}
  - name: back_door
    description: Whether the back door is open or closed.
    gpio_input: {{pin: 5, low: closed, high: open}}
""")
    return path


def test_list_shows_the_owners_tools(config):
    run = speakerd(config, "tools", "list")
    assert run.returncode == 0, run.stderr
    declarations = json.loads(run.stdout)
    types.Tool(function_declarations=declarations)  # the SDK accepts them as they are
    by_name = {d["name"]: d for d in declarations}
    assert list(by_name)[-4:] == ["garage", "jammed", "stuck", "back_door"]
    assert by_name["garage"]["parameters"]["properties"]["action"]["enum"] == ["open", "close"]


def test_call_runs_a_command(config, tmp_path):
    run = speakerd(config, "tools", "call", "garage", '{"action": "open"}')
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"result": {"exit_status": 0, "output": "done"}}
    assert (tmp_path / "garage").read_text() == "open"


def test_a_bad_call_runs_nothing_and_exits_2(config, tmp_path):
    run = speakerd(config, "tools", "call", "garage", '{"action": "open; rm -rf /"}')
    assert run.returncode == 2
    assert json.loads(run.stdout) == {
        "error": "garage: action 'open; rm -rf /'; allowed: open, close"
    }
    assert not (tmp_path / "garage").exists()


def test_a_failing_or_hanging_command_exits_1(config):
    run = speakerd(config, "tools", "call", "jammed")
    assert run.returncode == 1
    assert json.loads(run.stdout) == {
        "error": "jammed failed: exit status 4; output: motor stalled"
    }
    started = time.monotonic()
    run = speakerd(config, "tools", "call", "stuck")
    assert time.monotonic() - started < 20
    assert run.returncode == 1
    assert json.loads(run.stdout) == {"error": "stuck failed: stopped after its 0.5 s timeout; no output"}


def test_call_reads_a_gpio_input(config):
    run = speakerd(config, "tools", "call", "back_door")
    assert run.returncode == 0, run.stderr
    # The mock pin floats high under the pull-up: the contact is apart, the door open.
    assert json.loads(run.stdout) == {"result": {"state": "open", "pin": 5, "level": "high"}}
