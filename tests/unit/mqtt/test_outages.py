"""The broker is never on the audio path: down, wrong password, TLS trouble, frozen, restarted."""

from __future__ import annotations

import asyncio
import json
import logging

from daemon.emulator.tls import mint_certificates
from tests.support.mosquitto import PASSWORD, Mosquitto, recording
from tests.unit.appliance.rig import WAKE
from tests.unit.mqtt.conftest import running_speaker
from tests.unit.mqtt.test_bridge import BASE, DISCOVERY, wait_until


def warnings(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "daemon.mqtt.bridge" and r.levelno >= logging.WARNING
    ]


def retries(caplog) -> int:
    return sum("still cannot connect" in r.getMessage() for r in caplog.records)


async def the_appliance_still_works(speaker) -> None:
    """A wake word opens a conversation and a relay switches, whatever the broker does."""
    await speaker.appliance.hear(WAKE)
    assert str(speaker.appliance.machine.state) == "wake"
    assert await speaker.appliance.mute(True) is True
    assert str(speaker.appliance.machine.state) == "muted"
    await speaker.appliance.mute(False)
    reply = await speaker.tools.call("set_relay", {"name": "fan", "state": "on"})
    assert reply["result"]["state"] == "on" and speaker.pin(27)


async def test_wrong_password_one_clear_line_and_the_appliance_unaffected(
    broker: Mosquitto, tmp_path, mqtt_log
) -> None:
    wrong = tmp_path / "wrong.password"
    wrong.write_text("not-the-password\n")
    async with running_speaker(broker.section(password_file=str(wrong))) as speaker:
        await the_appliance_still_works(speaker)
        await wait_until(
            lambda: broker.log().count("not authorised") >= 3,
            timeout=15,
            what="three refused logins",
        )
        assert not speaker.bridge.connected.is_set()
        await the_appliance_still_works(speaker)
    lines = warnings(mqtt_log)
    assert len(lines) == 1, lines
    assert "refused the login (user 'speaker')" in lines[0]
    assert "check username and password_file" in lines[0]
    assert retries(mqtt_log) >= 2
    assert "not-the-password" not in mqtt_log.text
    assert PASSWORD not in mqtt_log.text


async def test_broker_down_at_start_then_up_gets_the_whole_state(tmp_path, mqtt_log) -> None:
    broker = Mosquitto(tmp_path / "late")  # not started yet
    async with running_speaker(broker.section()) as speaker:
        await the_appliance_still_works(speaker)  # fan on, while nobody listens
        await wait_until(lambda: retries(mqtt_log) >= 1, timeout=10, what="a second attempt")
        broker.start()
        try:
            await asyncio.wait_for(speaker.bridge.connected.wait(), 15)
            async with recording(broker, f"{BASE}/#", "homeassistant/#") as ha:
                await ha.wait_for(DISCOVERY)
                await ha.wait_for(f"{BASE}/relay/fan/state", "ON")
                await ha.wait_for(f"{BASE}/availability", "online")
        finally:
            broker.stop()
    lines = warnings(mqtt_log)
    assert len(lines) == 2, lines  # the outage at start, and the broker stopping at the end
    assert "cannot connect to 127.0.0.1" in lines[0] and "Connection refused" in lines[0]
    assert any("MQTT: connected to" in r.getMessage() for r in mqtt_log.records)


async def test_after_a_broker_restart_the_state_is_published_again(
    broker, mqtt_log, tmp_path
) -> None:
    """The broker keeps nothing across its restart: all HA sees afterwards was sent again."""
    async with running_speaker(broker.section(), timers_dir=tmp_path / "timers") as speaker:
        await asyncio.wait_for(speaker.bridge.connected.wait(), 10)
        broker.stop()
        await wait_until(lambda: not speaker.bridge.connected.is_set(), what="the connection lost")
        await the_appliance_still_works(speaker)  # fan on during the outage
        assert speaker.appliance.timers is not None
        speaker.appliance.timers.set_timer(900, "pizza")  # set during the outage
        broker.start()
        await asyncio.wait_for(speaker.bridge.connected.wait(), 15)
        async with recording(broker, f"{BASE}/#", "homeassistant/#") as ha:
            message = await ha.wait_for(DISCOVERY)
            assert message.retain
            await ha.wait_for(f"{BASE}/availability", "online")
            await ha.wait_for(f"{BASE}/relay/fan/state", "ON")
            await ha.wait_for(f"{BASE}/state", "idle")
            timer = json.loads((await ha.wait_for(f"{BASE}/next_timer")).payload)
            assert (timer["label"], timer["pending"]) == ("pizza", 1)
    lines = warnings(mqtt_log)
    assert len(lines) == 1 and "lost the connection" in lines[0], lines


async def test_a_frozen_broker_does_not_hold_up_the_appliance(broker) -> None:
    """SIGSTOP: the broker accepts nothing and answers nothing, yet every call returns."""
    async with running_speaker(broker.section()) as speaker:
        await asyncio.wait_for(speaker.bridge.connected.wait(), 10)
        broker.freeze()
        try:
            for _ in range(200):  # far more messages than the outbox holds
                await speaker.appliance.mute(True)
                await speaker.appliance.mute(False)
            await the_appliance_still_works(speaker)
        finally:
            broker.thaw()
        async with recording(broker, f"{BASE}/#") as ha:
            await ha.wait_for(f"{BASE}/relay/fan/state", "ON")  # changed while it was frozen
            await ha.wait_for(f"{BASE}/mute/state", "OFF")
            assert ha.payloads(f"{BASE}/state")[-1] == "idle"


async def test_tls_with_the_brokers_ca(tls_broker: Mosquitto) -> None:
    async with running_speaker(tls_broker.section()) as speaker:
        await asyncio.wait_for(speaker.bridge.connected.wait(), 10)
        async with recording(tls_broker, f"{BASE}/#", "homeassistant/#") as ha:
            await ha.wait_for(DISCOVERY)
            await ha.publish(f"{BASE}/relay/lamp/set", "ON")
            await ha.wait_for(f"{BASE}/relay/lamp/state", "ON")
            assert speaker.pin(17)


async def test_tls_with_an_untrusted_certificate_is_one_clear_line(
    tls_broker: Mosquitto, tmp_path, mqtt_log
) -> None:
    stranger = mint_certificates(tmp_path / "other-ca")
    section = tls_broker.section(tls={"enabled": True, "ca_file": str(stranger.ca_cert)})
    async with running_speaker(section) as speaker:
        await wait_until(lambda: retries(mqtt_log) >= 1, timeout=10, what="a second attempt")
        await the_appliance_still_works(speaker)
        assert not speaker.bridge.connected.is_set()
    lines = warnings(mqtt_log)
    assert len(lines) == 1, lines
    assert "TLS: the broker's certificate is not trusted" in lines[0]
    assert "check tls.ca_file" in lines[0]
