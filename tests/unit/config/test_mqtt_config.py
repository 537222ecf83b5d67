"""The `mqtt:` section: off by default, every mistake named by line and key."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from daemon.config import ConfigError, load_config
from daemon.config.mqtt import MqttConfig
from daemon.mqtt.identity import Identity, speaker_id

REPO = Path(__file__).resolve().parents[3]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_off_by_default(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "{}\n")).mqtt.enabled is False


def test_a_full_section_loads(tmp_path: Path) -> None:
    for name in ("ca.pem", "client.pem", "client.key", "password"):
        (tmp_path / name).write_text("x\n")
    config = load_config(
        write(
            tmp_path,
            f"""\
            mqtt:
              enabled: true
              host: broker.lan
              port: 8883
              tls: {{enabled: true, ca_file: {tmp_path}/ca.pem,
                    cert_file: {tmp_path}/client.pem, key_file: {tmp_path}/client.key}}
              username: kitchen
              password_file: {tmp_path}/password
              client_id: kitchen-speaker
              discovery_prefix: ha
              base_topic: house/kitchen/speaker
              device_name: Kitchen speaker
            """,
        )
    )
    identity = Identity.of(config.mqtt, "abc123abc123")
    assert identity.discovery_topic == "ha/device/speakerd_abc123abc123/config"
    assert identity.topics.relay("lamp", "set") == "house/kitchen/speaker/relay/lamp/set"
    assert identity.client_id == "kitchen-speaker"
    assert identity.name == "Kitchen speaker"


def test_defaults_name_the_speaker_by_its_machine(tmp_path: Path) -> None:
    machine_id = tmp_path / "machine-id"
    machine_id.write_text("4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e\n")
    short = speaker_id([tmp_path / "missing", machine_id])
    assert short == speaker_id([machine_id]) and len(short) == 12
    assert "4f1c2d3e" not in short  # the machine id itself is not published
    assert speaker_id([tmp_path / "missing"]) != short  # the host-name fallback
    identity = Identity.of(MqttConfig(enabled=True), short)
    assert identity.topics.base == f"speakerd/{short}"
    assert identity.client_id == f"speakerd-{short}"
    assert identity.name  # the host name


BAD = [
    ("wildcard in base topic", "mqtt:\n  base_topic: speakerd/#\n", 2, "mqtt.base_topic", "is not a topic"),
    ("empty topic level", "mqtt:\n  discovery_prefix: ha//x\n", 2, "mqtt.discovery_prefix", "is not a topic"),
    ("port out of range", "mqtt:\n  port: 70000\n", 2, "mqtt.port", "out of range"),
    ("password without user", "mqtt:\n  password_file: /etc/hostname\n", 1, "mqtt", "username is not"),
    ("password in the yaml", "mqtt:\n  password: hunter2\n", 2, "mqtt.password", "did you mean 'password_file'"),
    ("cert without key", "mqtt:\n  tls:\n    enabled: true\n    cert_file: /etc/hostname\n", 2, "mqtt.tls", "cert_file and key_file go together"),
    ("ca file with tls off", "mqtt:\n  tls:\n    ca_file: /etc/hostname\n", 2, "mqtt.tls", "add `enabled: true`"),
    ("bad client id", "mqtt:\n  client_id: my speaker\n", 2, "mqtt.client_id", "letters, digits"),
    ("missing password file", "mqtt:\n  enabled: true\n  username: u\n  password_file: /nonexistent/pw\n", 4, "mqtt.password_file", "does not exist"),
    ("missing ca file", "mqtt:\n  enabled: true\n  tls:\n    enabled: true\n    ca_file: /nonexistent/ca.pem\n", 5, "mqtt.tls.ca_file", "does not exist"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "line", "key", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_sections_are_named_by_line_and_key(
    tmp_path: Path, name: str, text: str, line: int, key: str, words: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    problems = [str(p) for p in caught.value.problems]
    expected = f"{path}:{line}: {key}: "
    found = [p for p in problems if p.startswith(expected)]
    assert found, f"no problem starting {expected!r} in {problems}"
    assert words in found[0], found[0]
    assert "hunter2" not in "\n".join(problems)


def test_check_config_refuses_a_bad_mqtt_section(tmp_path: Path) -> None:
    path = write(tmp_path, "mqtt:\n  enabled: true\n  port: 0\n")
    result = subprocess.run(
        [sys.executable, "-m", "daemon", "check-config", str(path)],
        capture_output=True, text=True, cwd=REPO, env={**os.environ, "GEMINI_API_KEY": "k"},
    )  # fmt: skip
    assert result.returncode == 78
    assert f"{path}:3: mqtt.port: 0 is out of range" in result.stderr
