"""Command payloads: exactly what the discovery message announces, and small.

Through a real Mosquitto and the real bridge: a 10 MiB payload never reaches
the process (MQTT 5 Maximum Packet Size), "ON" padded with a megabyte of
spaces switches nothing, and the volume takes plain ASCII numbers only. And
one rule for typed text, whichever door it comes in by (ctl say, MQTT).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from daemon.control.client import request
from daemon.control.server import ControlServer, RequestError, parse_request
from daemon.core.safe_text import MAX_USER_TEXT, user_text_problem
from daemon.mqtt import commands
from daemon.mqtt.commands import BadPayload
from tests.support.mosquitto import recording
from tests.unit.mqtt.conftest import running_speaker
from tests.unit.mqtt.test_bridge import wait_until

BASE = "speakerd/test"
MIB = 1024 * 1024


@pytest.mark.parametrize("payload", [b"ON", b"OFF"])
def test_switches_take_exactly_on_and_off(payload: bytes) -> None:
    assert commands.switch(payload) is (payload == b"ON")


@pytest.mark.parametrize(
    "payload", [b"on", b"On", b"ON ", b" ON", b"ON\n", b"ON" + b" " * MIB, b"ONN", b"", b"1"]
)
def test_anything_else_is_not_a_switch(payload: bytes) -> None:
    with pytest.raises(BadPayload):
        commands.switch(payload)


@pytest.mark.parametrize(("payload", "value"), [(b"0", 0), (b"42", 42), (b"42.0", 42), (b"100", 100)])
def test_the_volume_is_a_plain_number(payload: bytes, value: int) -> None:
    assert commands.volume(payload) == value


@pytest.mark.parametrize(
    "payload",
    [b"1_0", "５０".encode(), b" 50", b"50 ", b"+50", b"-0", b"5e1", b"nan", b"inf",
     b"0x10", b"50.", b".5", b"101", b"1000", b"\xd9\xa5"],
)  # fmt: skip
def test_a_volume_float_would_take_is_refused(payload: bytes) -> None:
    with pytest.raises(BadPayload):
        commands.volume(payload)


def test_press_is_exactly_press() -> None:
    commands.press(b"PRESS")
    for payload in (b"press", b"PRESS ", b"PRESS" + b" " * MIB):
        with pytest.raises(BadPayload):
            commands.press(payload)


def test_a_payload_over_the_limit_is_refused_before_it_is_decoded() -> None:
    class Huge(bytes):
        def decode(self, *args: object, **kwargs: object) -> str:
            raise AssertionError("decoded before it was refused")

    payload = Huge(b"x" * (commands.MAX_PAYLOAD + 1))
    with pytest.raises(BadPayload, match="at most"):
        commands.announcement(payload)


TEXTS = [
    "turn on the lamp",
    "two\nlines\tand a tab",
    "\x00",
    "hello\x1b[2Jworld",
    "bell\x07",
    "c1 \x85 control",
    "\ud800",
    "   ",
    "x" * MAX_USER_TEXT,
    "x" * (MAX_USER_TEXT + 1),
    "Grüße, 東京",
]


@pytest.mark.parametrize("text", TEXTS)
def test_ctl_say_and_an_announcement_take_the_same_texts(text: str) -> None:
    try:
        parse_request(json.dumps({"cmd": "say", "text": text}).encode())
        by_ctl = True
    except RequestError:
        by_ctl = False
    try:
        commands.announcement(text.encode("utf-8", "surrogatepass"))
        by_mqtt = True
    except BadPayload:
        by_mqtt = False
    assert by_ctl == by_mqtt == (user_text_problem(text) is None), text


async def test_the_control_socket_refuses_a_nul_say(tmp_path: Path) -> None:
    said: list[str] = []

    class Controls:
        def status(self) -> dict:
            return {"state": "idle"}

        async def say(self, text: str) -> dict:
            said.append(text)
            return {"message": "sent"}

    control = ControlServer(tmp_path / "ctl.sock", Controls())  # type: ignore[arg-type]
    await control.start()
    try:
        reply = await request(control.path, {"cmd": "say", "text": "\u0000"})
    finally:
        await control.stop()
    assert reply["ok"] is False
    assert "control character U+0000" in reply["error"]
    assert said == []


async def test_through_the_broker_only_the_announced_payloads_count(broker, mqtt_log) -> None:
    async with running_speaker(broker.section()) as speaker:
        await asyncio.wait_for(speaker.bridge.connected.wait(), 10)
        async with recording(broker, f"{BASE}/#") as ha:
            await ha.wait_for(f"{BASE}/state", "idle")
            await ha.publish(f"{BASE}/announce", b"x" * (10 * MIB))
            await ha.publish(f"{BASE}/relay/lamp/set", b"ON" + b" " * MIB)
            await ha.publish(f"{BASE}/mute/set", b"ON" + b" " * MIB)
            for payload in (b"1_0", "５０".encode(), b"on"):
                await ha.publish(f"{BASE}/volume/set", payload)
            await ha.publish(f"{BASE}/relay/fan/set", b"on")
            # The connection is whole: a good command after them all still works.
            await ha.publish(f"{BASE}/relay/fan/set", b"ON")
            await ha.wait_for(f"{BASE}/relay/fan/state", "ON", timeout=10)
            await wait_until(
                lambda: len([r for r in mqtt_log.records if "refused" in r.getMessage()]) >= 4,
                what="the small bad payloads refused",
            )
        assert not speaker.pin(17)  # the lamp stayed off
        assert not speaker.appliance.muted
        assert speaker.devices.speaker.volume == 100  # the scripted speaker's start value
        assert speaker.sessions == []  # nothing was announced
    # The broker dropped the big ones (larger than Maximum Packet Size) unsent: the
    # bridge never saw them (the daemon's RSS under one is measured by scripts/abuse).
    messages = [r.getMessage() for r in mqtt_log.records]
    assert not any("command on speakerd/test/announce" in m for m in messages), messages
    assert not any("command on speakerd/test/relay/lamp" in m for m in messages), messages
