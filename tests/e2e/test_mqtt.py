"""`speakerd run` on a real Mosquitto: Home Assistant's view, an announcement, the last will."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Any

from daemon.emulator import EmulatorThread
from daemon.mqtt.identity import speaker_id
from daemon.sim.pulse import PulseAudioHarness
from tests.e2e.conftest import appliance_config, running_daemon, wait_until
from tests.support.mosquitto import PASSWORD, Mosquitto, recording

BASE = "speakerd/test"


def test_home_assistant_announces_switches_and_sees_the_speaker_die(
    workdir: Path, pulse: PulseAudioHarness, emu: EmulatorThread, broker: Mosquitto
) -> None:
    config = appliance_config(workdir, emu, mqtt=broker.section())
    with running_daemon(workdir, pulse, config) as daemon:

        async def home_assistant() -> dict[str, Any]:
            async with recording(broker, f"{BASE}/#", "homeassistant/#") as ha:
                await ha.wait_for(f"{BASE}/availability", "online", timeout=20)
                discovery = await ha.wait_for(
                    f"homeassistant/device/speakerd_{speaker_id()}/config"
                )

                await ha.publish(f"{BASE}/relay/lamp/set", "ON")
                await ha.wait_for(f"{BASE}/relay/lamp/state", "ON")

                before = len(emu.sessions)
                await ha.publish(f"{BASE}/announce", "Someone is at the front door")
                await ha.wait_for(f"{BASE}/state", "speaking", timeout=30)
                model = await ha.wait_for(f"{BASE}/transcript/model", timeout=30)
                await asyncio.to_thread(daemon.wait_state, "idle", 30)

                daemon.proc.send_signal(signal.SIGKILL)  # no chance to say goodbye
                ha.clear()
                await ha.wait_for(f"{BASE}/availability", "offline", timeout=20)

            # A Home Assistant that starts later still finds the device: the broker
            # kept the discovery payload (a live subscriber sees retain=False).
            async with recording(broker, discovery.topic.value) as late:
                kept = await late.wait_for(discovery.topic.value, timeout=10)
            return {"discovery": kept, "model": model, "sessions": before}

        seen = asyncio.run(home_assistant())
        daemon.proc.wait(10)
        log = daemon.log()

    discovery = seen["discovery"]
    assert discovery.retain
    components = json.loads(discovery.payload)["components"]
    assert components["relay_lamp"]["command_topic"] == f"{BASE}/relay/lamp/set"
    assert components["announce"]["platform"] == "notify"
    assert daemon.status_at_ready is not None
    # The announcement went to the model through a Live session, which answered aloud.
    texts = emu.sessions[-1].texts
    assert any("Someone is at the front door" in text for text in texts), texts
    assert json.loads(seen["model"].payload)["text"]
    assert "relay lamp switched on" in log
    assert "MQTT: connected to 127.0.0.1" in log
    assert PASSWORD not in log


def test_a_broker_that_refuses_the_login_leaves_the_speaker_working(
    workdir: Path, pulse: PulseAudioHarness, emu: EmulatorThread, broker: Mosquitto
) -> None:
    wrong = workdir / "wrong.password"
    wrong.write_text("not-the-password\n")
    config = appliance_config(workdir, emu, mqtt=broker.section(password_file=str(wrong)))
    with running_daemon(workdir, pulse, config) as daemon:
        said = daemon.ctl("say", "turn", "on", "the", "lamp")
        assert said.returncode == 0, said.stderr
        daemon.wait_state("idle")
        assert daemon.status()["relays"]["lamp"] is True
        wait_until(lambda: broker.log().count("not authorised") >= 2, 15, "a second login")
        log = daemon.log()
    refused = [line for line in log.splitlines() if "refused the login" in line]
    assert len(refused) == 1, refused
    assert "not-the-password" not in log and PASSWORD not in log
