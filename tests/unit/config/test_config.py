"""The YAML file an owner edits: defaults, full files, and every kind of mistake."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from daemon.config import Config, ConfigError, load_config, resolve_api_key
from daemon.config.document import render
from daemon.config.secrets import ApiKeyError

REPO = Path(__file__).resolve().parents[3]
DEFAULT_FILE = REPO / "config" / "speakerd.yaml"

FULL = """\
gemini:
  model: models/gemini-2.5-flash-native-audio-preview-12-2025
  voice: Puck
  system_instruction: You are the kitchen speaker.
  api_key_env: KITCHEN_KEY
  base_url: https://127.0.0.1:8443
  transcription: false
  silence_duration_ms: 800
  session_resumption: true
  compression: {enabled: true, trigger_tokens: 30000, target_tokens: 10000}
wake_word:
  models: [hey_jarvis, alexa]
  threshold: 0.6
  thresholds: {alexa: 0.8}
  refractory_seconds: 3
audio:
  input_device: USB
  output_device: 1
  chunk_ms: 20
  volume: 55
  barge_in: true
  wake_sound: null
  error_sound: buzz
camera: {enabled: true, fps: 0.5, resolution: [320, 240], jpeg_quality: 70, continuous: false}
button: {pin: 5, pull_up: false, hold_seconds: 3, bounce_ms: 20}
leds:
  kind: rgb
  pins: {red: 12, green: 13, blue: 19}
  active_high: false
  states:
    listening: {effect: pulse, color: "#00ff80"}
relays:
  - {name: lamp, pin: 17, active_high: false, initial: "on", safe_state: "off",
     description: the floor lamp}
  - {name: fan, pin: 27}
conversation: {follow_up_seconds: 5, max_seconds: 120}
control: {socket: /tmp/speakerd.sock}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def check_config(path: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "daemon", "check-config", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=REPO,
    )


def test_default_file_loads_and_prints_a_summary() -> None:
    result = check_config(DEFAULT_FILE, env={"GEMINI_API_KEY": "x"})
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout
    assert "hey_jarvis" in result.stdout
    assert "your tools: none" in result.stdout
    assert "Home Assistant over MQTT: off" in result.stdout
    assert "household memory kept in /var/lib/speakerd/memory.json, up to 200 facts" in result.stdout
    assert load_config(DEFAULT_FILE) == Config()


def test_the_summary_names_the_owners_tools_and_the_broker(tmp_path: Path) -> None:
    secret = tmp_path / "mqtt.password"
    secret.write_text("pw\n")
    path = write(
        tmp_path,
        f"""\
tools:
  - name: garage
    description: Open or close the garage door.
    command:
      argv: [/bin/true]
mqtt:
  enabled: true
  host: broker.lan
  username: speaker
  password_file: {secret}
""",
    )
    result = check_config(path, env={"GEMINI_API_KEY": "x"})
    assert result.returncode == 0, result.stderr
    assert "your tools: garage (command)" in result.stdout
    assert "Home Assistant over MQTT: broker.lan:1883 as speaker" in result.stdout


def test_default_file_is_the_rendered_model() -> None:
    """No key missing, none extra, every default as the model has it."""
    assert DEFAULT_FILE.read_text() == render(), (
        "run: python -m daemon.config.document > config/speakerd.yaml"
    )


def _keys(node: object, prefix: str = "") -> set[str]:
    if isinstance(node, dict):
        out = set()
        for key, value in node.items():
            out |= {f"{prefix}{key}"} | _keys(value, f"{prefix}{key}.")
        return out
    return set()


def test_default_file_has_exactly_the_models_keys() -> None:
    in_file = _keys(YAML(typ="safe").load(DEFAULT_FILE.read_text()))
    in_model = _keys(Config().model_dump(mode="json"))
    assert in_file == in_model


def test_a_file_with_every_section_filled_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL))
    assert config.gemini.voice == "Puck"
    assert config.wake_word.thresholds == {"alexa": 0.8}
    assert config.audio.input_device == "USB" and config.audio.output_device == 1
    assert config.leds.used_pins() == {"red": 12, "green": 13, "blue": 19}
    assert config.leds.states.listening.color == "#00ff80"
    assert config.leds.states.idle.effect == "off"  # untouched states keep defaults
    assert [r.name for r in config.relays] == ["lamp", "fan"]
    assert config.relays[0].initial == "on" and not config.relays[0].active_high
    assert config.camera.resolution == (320, 240)


def test_an_empty_mapping_takes_every_default(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "{}\n")) == Config()


# (name, yaml, expected line, expected key path, words the message must contain)
BAD = [
    (
        "unknown key with suggestion",
        "gemini:\n  voise: Puck\n",
        2,
        "gemini.voise",
        ["did you mean 'voice'"],
    ),
    (
        "unknown section",
        "wakeword:\n  threshold: 0.4\n",
        1,
        "wakeword",
        ["did you mean 'wake_word'"],
    ),
    ("bad type", "audio:\n  volume: loud\n", 2, "audio.volume", ["'loud'", "wrong type"]),
    (
        "threshold above 1",
        "wake_word:\n  threshold: 1.5\n",
        2,
        "wake_word.threshold",
        ["1.5", "out of range"],
    ),
    ("pin a Pi lacks", "button:\n  pin: 40\n", 2, "button.pin", ["40", "out of range"]),
    (
        "pin reused across sections",
        "leds:\n  pins:\n    led: 17\nrelays:\n  - name: lamp\n    pin: 17\n",
        6,
        "relays[0].pin",
        ["pin 17 is already used by leds.pins.led"],
    ),
    (
        "rgb pin reused by a relay",
        "relays:\n  - name: lamp\n    pin: 17\nleds:\n  kind: rgb\n  pins:\n    red: 17\n    green: 5\n    blue: 6\n",
        3,
        "relays[0].pin",
        ["pin 17 is already used by leds.pins.red"],
    ),
    (
        "duplicate relay",
        "relays:\n  - {name: lamp, pin: 5}\n  - {name: lamp, pin: 6}\n",
        3,
        "relays[1].name",
        ["'lamp' is already used by relays[0]"],
    ),
    (
        "relay name not identifier",
        "relays:\n  - {name: Floor Lamp, pin: 5}\n",
        2,
        "relays[0].name",
        ["simple identifier"],
    ),
    ("relay without pin", "relays:\n  - name: lamp\n", 2, "relays[0].pin", ["missing"]),
    (
        "camera fps 2",
        "camera:\n  enabled: true\n  fps: 2\n",
        3,
        "camera.fps",
        ["2", "out of range"],
    ),
    (
        "unknown voice",
        "gemini:\n  voice: Bob\n",
        2,
        "gemini.voice",
        ["unknown voice 'Bob'", "Kore"],
    ),
    (
        "unknown wake word",
        "wake_word:\n  models: [hey_siri]\n",
        2,
        "wake_word.models",
        ["hey_siri", "hey_jarvis"],
    ),
    (
        "api key file missing",
        "gemini:\n  api_key_file: /nonexistent/key\n",
        2,
        "gemini.api_key_file",
        ["/nonexistent/key", "does not exist"],
    ),
    (
        "led effect unknown",
        "leds:\n  states:\n    idle:\n      effect: strobe\n",
        4,
        "leds.states.idle.effect",
        ["'strobe'", "'blink'"],
    ),
    (
        "led colour unknown",
        "leds:\n  states:\n    error:\n      color: pink\n",
        4,
        "leds.states.error.color",
        ["pink", "#rrggbb"],
    ),
    ("rgb without pins", "leds:\n  kind: rgb\n", 1, "leds", ["kind rgb needs pins.red"]),
    ("chunk too long", "audio:\n  chunk_ms: 500\n", 2, "audio.chunk_ms", ["500", "out of range"]),
    (
        "negative follow-up",
        "conversation:\n  follow_up_seconds: -1\n",
        2,
        "conversation.follow_up_seconds",
        ["-1"],
    ),
    (
        "threshold for absent model",
        "wake_word:\n  thresholds: {alexa: 0.7}\n",
        1,
        "wake_word",
        ["'alexa'", "not in models"],
    ),
    ("section not a mapping", "audio: [1, 2]\n", 1, "audio", ["wrong type"]),
    (
        "yaml syntax error",
        "audio:\n  volume: 50\n   barge_in: true\n",
        3,
        "",
        ["YAML syntax error"],
    ),
    ("empty file", "", 1, "", ["empty"]),
    ("top level a list", "- gemini\n", 1, "", ["top level must be a mapping"]),
    ("bad base url", "gemini:\n  base_url: localhost\n", 2, "gemini.base_url", ["not a URL"]),
]


@pytest.mark.parametrize(("name", "text", "line", "key", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_config_is_refused_with_file_line_and_key(
    tmp_path: Path, name: str, text: str, line: int, key: str, words: list[str]
) -> None:
    path = write(tmp_path, text)
    result = check_config(path)
    assert result.returncode == 78, result.stdout + result.stderr
    expected = f"{path}:{line}: {key}: " if key else f"{path}:{line}: "
    problem = next((row for row in result.stderr.splitlines() if row.startswith(expected)), None)
    assert problem, f"no line starting {expected!r} in:\n{result.stderr}"
    for word in words:
        assert word in problem, problem


def test_every_problem_is_reported_not_just_the_first(tmp_path: Path) -> None:
    path = write(tmp_path, "gemini:\n  voice: Bob\naudio:\n  volume: 300\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert [p.key for p in caught.value.problems] == ["gemini.voice", "audio.volume"]
    assert [p.line for p in caught.value.problems] == [2, 4]


def test_unreadable_and_missing_files_exit_78(tmp_path: Path) -> None:
    missing = check_config(tmp_path / "nope.yaml")
    assert missing.returncode == 78 and "nope.yaml: file not found" in missing.stderr
    directory = check_config(tmp_path)
    assert directory.returncode == 78 and "is a directory" in directory.stderr
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    result = check_config(binary)
    assert result.returncode == 78 and "not UTF-8" in result.stderr


def test_a_file_without_read_permission_exits_78(tmp_path: Path) -> None:
    path = write(tmp_path, "{}\n")
    path.chmod(0)
    tmp_path.chmod(0o755)
    # root reads every file, so run as nobody when the suite runs as root (CI does)
    drop = (
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
    )
    result = subprocess.run(
        [*drop, sys.executable, "-m", "daemon", "check-config", str(path)],
        capture_output=True, text=True, cwd=REPO,
    )  # fmt: skip
    assert result.returncode == 78 and "permission denied" in result.stderr, result.stderr


def test_missing_api_key_is_a_warning_for_check_config(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "GEMINI_API_KEY"}
    result = subprocess.run(
        [sys.executable, "-m", "daemon", "check-config", str(write(tmp_path, "{}\n"))],
        capture_output=True, text=True, env=env, cwd=REPO,
    )  # fmt: skip
    assert result.returncode == 0
    assert "warning: no API key: set GEMINI_API_KEY" in result.stderr


def test_the_key_never_appears_in_messages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "AIzaSy-very-secret-key-123"
    key_file = tmp_path / "key"
    key_file.write_text(secret + "\n")
    path = write(tmp_path, f"gemini:\n  api_key_file: {key_file}\n  voice: Nope\n")
    result = check_config(path)
    assert result.returncode == 78 and secret not in result.stdout + result.stderr
    config = load_config(write(tmp_path, f"gemini:\n  api_key_file: {key_file}\n"))
    assert resolve_api_key(config.gemini) == secret
    ok = check_config(tmp_path / "config.yaml")
    assert ok.returncode == 0 and secret not in ok.stdout + ok.stderr


def test_api_key_from_environment_and_its_absence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITCHEN_KEY", "k-123")
    gemini = Config.model_validate({"gemini": {"api_key_env": "KITCHEN_KEY"}}).gemini
    assert resolve_api_key(gemini) == "k-123"
    monkeypatch.delenv("KITCHEN_KEY")
    with pytest.raises(ApiKeyError, match="set KITCHEN_KEY"):
        resolve_api_key(gemini)


def test_config_path_from_environment(tmp_path: Path) -> None:
    path = write(tmp_path, "gemini:\n  voice: Nope\n")
    result = subprocess.run(
        [sys.executable, "-m", "daemon", "check-config"],
        capture_output=True, text=True, cwd=REPO, env={**os.environ, "SPEAKERD_CONFIG": str(path)},
    )  # fmt: skip
    assert result.returncode == 78 and f"{path}:2: gemini.voice" in result.stderr


def test_cli_help_and_version() -> None:
    help_ = subprocess.run(
        [sys.executable, "-m", "daemon", "--help"], capture_output=True, text=True
    )
    assert help_.returncode == 0 and "check-config" in help_.stdout
    version = subprocess.run(
        [sys.executable, "-m", "daemon", "--version"], capture_output=True, text=True
    )
    assert version.returncode == 0 and version.stdout.startswith("speakerd ")
