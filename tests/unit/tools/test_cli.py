"""`speakerd tools list|call`, run as an owner would, on gpiozero's mock pins."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from google.genai import types

CONFIG_YAML = """\
relays:
  - name: lamp
    pin: 17
    description: the floor lamp in the living room
  - name: fan
    pin: 27
    active_high: false
    initial: "on"
"""


@pytest.fixture
def config(tmp_path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG_YAML)
    return path


def speakerd(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GPIOZERO_PIN_FACTORY": "mock"}
    return subprocess.run(
        [sys.executable, "-m", "daemon", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_list_prints_the_declarations(config):
    run = speakerd(config, "tools", "list")
    assert run.returncode == 0, run.stderr
    declarations = json.loads(run.stdout)
    types.Tool(function_declarations=declarations)  # the SDK accepts them as they are
    names = [d["name"] for d in declarations]
    assert names == [
        "set_relay", "get_relays", "get_time", "set_volume", "end_conversation",
        "set_timer", "set_alarm", "list_timers", "cancel_timer",
        "remember_fact", "forget_fact", "list_facts",
        "play_url", "pause_music", "resume_music", "stop_music", "next_track", "now_playing",
    ]  # fmt: skip
    assert "lamp (the floor lamp in the living room)" in declarations[0]["description"]


def test_call_set_relay(config):
    run = speakerd(config, "tools", "call", "set_relay", '{"name": "lamp", "state": "on"}')
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"result": {"name": "lamp", "state": "on"}}


def test_call_get_relays_shows_initial_states(config):
    run = speakerd(config, "tools", "call", "get_relays")
    assert run.returncode == 0, run.stderr
    states = {r["name"]: r["state"] for r in json.loads(run.stdout)["result"]}
    assert states == {"lamp": "off", "fan": "on"}


def test_call_get_time(config):
    run = speakerd(config, "tools", "call", "get_time", "{}")
    assert run.returncode == 0, run.stderr
    assert set(json.loads(run.stdout)["result"]) == {
        "date", "weekday", "time", "time_zone", "utc_offset",
    }  # fmt: skip


def test_call_set_volume_reports_what_the_daemon_would_do(config):
    run = speakerd(config, "tools", "call", "set_volume", '{"percent": 30}')
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"result": {"volume": 30}}
    assert "volume would be 30%" in run.stderr


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["set_relay", '{"name": "garage", "state": "on"}'],
            "unknown relay 'garage'; allowed: lamp, fan",
        ),
        (["set_relay", '{"name": "lamp"}'], "missing argument 'state'"),
        (["set_volume", '{"percent": "loud"}'], "percent must be an integer from 0 to 100"),
        (["set_relay", "{name: lamp}"], "arguments are not JSON"),
        (["open_garage"], "unknown tool 'open_garage'; allowed: set_relay, get_relays"),
        (["look"], "look is offered only with camera.enabled: true"),
    ],
)
def test_bad_calls_print_the_error_and_exit_2(config, args, error):
    run = speakerd(config, "tools", "call", *args)
    assert run.returncode == 2, run.stderr
    assert error in json.loads(run.stdout)["error"]


def test_timers_are_listed_and_a_call_points_to_the_running_daemon(config):
    run = speakerd(config, "tools", "call", "set_timer", '{"seconds": 60, "label": "tea"}')
    assert run.returncode == 1
    assert "kept by the running daemon: use `speakerd ctl timers`" in json.loads(run.stdout)["error"]


def test_music_tools_are_listed_and_a_call_points_to_the_running_daemon(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(f"media:\n  stations: [{{name: Jazz, url: 'http://jazz.example/'}}]\n"
                    f"  library: {tmp_path}\n")  # fmt: skip
    names = [d["name"] for d in json.loads(speakerd(path, "tools", "list").stdout)]
    assert {"play_radio", "play_music", "play_url", "stop_music"} <= set(names)
    run = speakerd(path, "tools", "call", "play_radio", '{"station": "Jazz"}')
    assert run.returncode == 1
    assert "played by the running daemon: use `speakerd ctl play" in json.loads(run.stdout)["error"]


def test_look_without_a_camera_fails_clearly(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("camera:\n  enabled: true\n")
    run = speakerd(path, "tools", "call", "look")
    assert run.returncode == 1
    assert "no camera could be opened" in json.loads(run.stdout)["error"]
    assert "picamera2 is not installed" in run.stderr


def test_bad_config_exits_78(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("relays:\n  - name: Lamp!\n    pin: 17\n")
    run = speakerd(path, "tools", "list")
    assert run.returncode == 78
    assert "Lamp!" in run.stderr
