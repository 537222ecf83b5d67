"""The "next timer" sensor: Home Assistant sees when the next timer or alarm rings, unasked."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from daemon.appliance.control_desk import ControlDesk
from daemon.core.clock import LoopClock
from daemon.core.state import State
from daemon.timers import Timers
from tests.support.mosquitto import Recorder, recording
from tests.unit.mqtt.conftest import BERLIN, running_speaker
from tests.unit.mqtt.test_bridge import BASE, DISCOVERY, wait_until

NEXT_TIMER = f"{BASE}/next_timer"


async def sensor_when(ha: Recorder, what: str, check: Any) -> dict[str, Any]:
    """The sensor's latest payload, once `check(payload)` holds for it."""

    def latest() -> dict[str, Any] | None:
        payloads = ha.payloads(NEXT_TIMER)
        return json.loads(payloads[-1]) if payloads else None

    await wait_until(lambda: (p := latest()) is not None and check(p), what=what)
    return latest() or {}


def rings_at(payload: dict[str, Any]) -> datetime:
    at = datetime.fromisoformat(payload["at"])
    assert at.tzinfo is not None, f"no zone in {payload['at']!r}"
    assert at.utcoffset() == at.astimezone(BERLIN).utcoffset(), "not in the speaker's zone"
    return at


async def test_set_and_cancel_show_in_the_next_timer_sensor(broker, tmp_path: Path) -> None:
    async with running_speaker(broker.section(), timers_dir=tmp_path / "timers") as speaker:
        await asyncio.wait_for(speaker.bridge.connected.wait(), 10)
        async with recording(broker, f"{BASE}/#") as ha:
            empty = await sensor_when(ha, "the empty sensor", lambda p: True)
            assert empty["at"] is None and empty["pending"] == 0

            before = time.time()
            reply = await speaker.tools.call("set_timer", {"seconds": 600, "label": "tea"})
            after = time.time()
            assert "error" not in reply, reply
            tea = await sensor_when(ha, "the tea timer", lambda p: p["label"] == "tea")
            assert before + 599 <= rings_at(tea).timestamp() <= after + 600
            assert (tea["kind"], tea["pending"]) == ("timer", 1)
            assert tea["id"] == reply["result"]["id"]

            # An alarm three hours on: pending goes up, the tea timer still rings first.
            later = (datetime.now(BERLIN) + timedelta(hours=3)).strftime("%H:%M")
            reply = await speaker.tools.call(
                "set_alarm", {"time": later, "label": "call mum"}
            )
            assert "error" not in reply, reply
            both = await sensor_when(ha, "two pending", lambda p: p["pending"] == 2)
            assert both["label"] == "tea"

            # Cancelled the way `ctl cancel tea` does it: the alarm is next.
            assert "error" not in await ControlDesk(speaker.appliance).cancel_timer("tea")
            alarm = await sensor_when(ha, "the alarm next", lambda p: p["label"] == "call mum")
            assert (alarm["kind"], alarm["pending"]) == ("alarm", 1)
            assert f"{rings_at(alarm):%H:%M}" == later

            assert "error" not in await ControlDesk(speaker.appliance).cancel_timer("all")
            gone = await sensor_when(ha, "nothing pending", lambda p: p["pending"] == 0)
            assert gone == {"at": None, "label": None, "id": None, "kind": None, "pending": 0}
        # Home Assistant connecting later (after its restart) gets the retained sensor.
        async with recording(broker, NEXT_TIMER) as late:
            message = await late.wait_for(NEXT_TIMER)
    assert message.retain
    assert json.loads(message.payload)["pending"] == 0


async def test_a_saved_timer_is_shown_at_start_and_cleared_when_it_rings(
    broker, tmp_path: Path
) -> None:
    saved = Timers(LoopClock(), tmp_path / "timers", zone=BERLIN)
    saved.start(lambda rings: None)
    saved.set_timer(3, "eggs")
    saved.close()
    async with running_speaker(broker.section(), timers_dir=tmp_path / "timers") as speaker:
        await asyncio.wait_for(speaker.bridge.connected.wait(), 10)
        async with recording(broker, f"{BASE}/#", "homeassistant/#") as ha:
            eggs = await sensor_when(ha, "the loaded timer", lambda p: p["label"] == "eggs")
            assert eggs["pending"] == 1
            rings_at(eggs)
            gone = await sensor_when(ha, "the timer rang", lambda p: p["pending"] == 0)
            assert gone["at"] is None
            await ha.wait_for(f"{BASE}/state", "ringing")
            assert speaker.appliance.machine.state is State.RINGING
            await speaker.appliance.stop()
            await ha.wait_for(f"{BASE}/state", "idle")
            discovery = json.loads((await ha.wait_for(DISCOVERY)).payload)
    sensor = discovery["components"]["next_timer"]
    assert sensor["platform"] == "sensor"
    assert sensor["device_class"] == "timestamp"
    assert sensor["state_topic"] == sensor["json_attributes_topic"] == NEXT_TIMER
    assert "ringing" in discovery["components"]["state"]["options"]
