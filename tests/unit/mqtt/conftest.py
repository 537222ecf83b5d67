"""A real Mosquitto broker, and the appliance core with its MQTT bridge on the test's loop.

The appliance, its relays (gpiozero mock pins), its tool registry and the
bridge are the real ones; only the Live session, speaker, microphone and wake
word are the core's scripted seams (tests/unit/appliance/rig.py), so a test
runs in well under a second of broker time. tests/e2e/test_mqtt.py proves the
same with `speakerd run` in a process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from gpiozero.pins.mock import MockFactory

from daemon.appliance.appliance import Appliance
from daemon.config.schema import Config
from daemon.core.clock import LoopClock
from daemon.memory import Memory
from daemon.mqtt import MqttBridge
from daemon.mqtt.identity import Identity
from daemon.timers import Timers
from daemon.tools import ToolRegistry, close_relays, open_relays
from tests.support.mosquitto import Mosquitto
from tests.unit.appliance.rig import (
    STATIONS,
    ScriptedDevices,
    ScriptedPlayer,
    ScriptedSession,
    VirtualClock,
)

RELAYS = [
    {"name": "lamp", "pin": 17, "description": "the floor lamp"},
    {"name": "fan", "pin": 27},
]


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    server = Mosquitto(tmp_path / "broker")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    server = Mosquitto(tmp_path / "tls-broker", tls=True)
    server.start()
    yield server
    server.stop()


@dataclass
class Speaker:
    """One appliance with its bridge; `sessions` are the Live sessions it opened."""

    appliance: Appliance
    bridge: MqttBridge
    tools: ToolRegistry
    """What the model may call, acting on the same appliance."""
    devices: ScriptedDevices
    pins: MockFactory
    sessions: list[ScriptedSession]

    @property
    def topics(self) -> Any:
        return self.bridge.identity.topics

    def pin(self, number: int) -> bool:
        return bool(self.pins.pin(number).state)


BERLIN = ZoneInfo("Europe/Berlin")


@contextlib.asynccontextmanager
async def running_speaker(
    mqtt: dict[str, Any],
    *,
    timers_dir: Path | None = None,
    memory_dir: Path | None = None,
    music: bool = False,
    **sections: Any,
) -> AsyncIterator[Speaker]:
    """`timers_dir`: give the appliance real timers kept there (on the wall clock, in Berlin);
    `memory_dir`: a household memory kept there; `music`: a scripted music player with the
    rig's stations."""
    if music:
        sections.setdefault("media", {"stations": STATIONS})
    config = Config.model_validate({"relays": RELAYS, "mqtt": mqtt, **sections})
    pins = MockFactory()
    devices = ScriptedDevices(config)
    devices.relays = open_relays(config.relays, pin_factory=pins)
    sessions: list[ScriptedSession] = []
    session_clock = VirtualClock()  # the scripted sessions never time out on their own

    def new_session(*, tools: bool = True) -> ScriptedSession:
        sessions.append(ScriptedSession(session_clock, tools=tools))
        return sessions[-1]

    clock = LoopClock()
    timers = None if timers_dir is None else Timers(clock, timers_dir, zone=BERLIN)
    memory = None if memory_dir is None else Memory(memory_dir)
    player = ScriptedPlayer(config.media, devices.speaker, rate=lambda: 24000) if music else None
    appliance = Appliance(  # type: ignore[arg-type]
        config, devices, new_session, clock=clock, timers=timers, memory=memory, media=player
    )
    tools = ToolRegistry.from_config(
        config, relays=devices.relays, context=appliance, camera_available=False, pin_factory=pins
    )
    bridge = MqttBridge(
        config.mqtt,
        appliance,
        {relay.name: relay.description for relay in config.relays},
        identity=Identity.of(config.mqtt, "0123abcd4567"),
        stations=[station.name for station in config.media.stations],
    )
    running = asyncio.create_task(appliance.run())
    bridge.start()
    try:
        yield Speaker(appliance, bridge, tools, devices, pins, sessions)
    finally:
        await bridge.stop()
        appliance.shutdown()
        await asyncio.wait_for(running, 10)
        close_relays(devices.relays, config.relays)
        pins.close()


@pytest.fixture
def mqtt_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    # set_level also sets the capturing handler's level: the lowest goes last.
    caplog.set_level(logging.INFO, logger="speakerd.timeline")
    caplog.set_level(logging.DEBUG, logger="daemon.mqtt")
    return caplog
