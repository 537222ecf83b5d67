"""The "remembered facts" sensor: Home Assistant sees how many facts the speaker keeps."""

from __future__ import annotations

import asyncio
from pathlib import Path

from daemon.appliance.control_desk import ControlDesk
from tests.support.mosquitto import recording
from tests.unit.mqtt.conftest import running_speaker
from tests.unit.mqtt.test_bridge import BASE, wait_until

MEMORY = f"{BASE}/memory"


async def test_remembering_and_forgetting_show_as_a_count(broker, tmp_path: Path) -> None:
    async with running_speaker(broker.section(), memory_dir=tmp_path) as speaker:
        await asyncio.wait_for(speaker.bridge.connected.wait(), 10)
        async with recording(broker, f"{BASE}/#") as ha:
            await wait_until(lambda: ha.payloads(MEMORY)[-1:] == ["0"], what="count 0")
            reply = await speaker.tools.call("remember_fact", {"fact": "my daughter is called Mia"})
            assert "error" not in reply, reply
            await speaker.tools.call("remember_fact", {"fact": "I take my coffee black"})
            await wait_until(lambda: ha.payloads(MEMORY)[-1:] == ["2"], what="count 2")
            forgot = await ControlDesk(speaker.appliance).memory("forget", "coffee")
            assert forgot["forgotten"] == 1
            await wait_until(lambda: ha.payloads(MEMORY)[-1:] == ["1"], what="count 1")
