"""Who this speaker is on the broker: a stable id, its name and its topics.

The id is derived from /etc/machine-id (hashed with an application key, as
machine-id(5) asks: the raw id is confidential) so that Home Assistant keeps
the same device, with its areas and automations, across restarts, renames and
reinstalls of speakerd. Without a machine id the host name stands in.
"""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from daemon.config.mqtt import MqttConfig

MACHINE_ID_FILES = (Path("/etc/machine-id"), Path("/var/lib/dbus/machine-id"))
ONLINE, OFFLINE = "online", "offline"
ON, OFF, PRESS = "ON", "OFF", "PRESS"
"""The command payloads discovery announces (and the only ones the commands accept)."""


def speaker_id(machine_id_files: Iterable[Path] = MACHINE_ID_FILES) -> str:
    """12 hex digits that stay the same for this machine."""
    source = ""
    for path in machine_id_files:
        try:
            source = path.read_text().strip()
        except OSError:
            continue
        if source:
            break
    if not source:
        source = "host:" + socket.gethostname()
    return hashlib.sha256(f"speakerd-mqtt:{source}".encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Topics:
    """Every topic under the speaker's base topic."""

    base: str

    @property
    def availability(self) -> str:
        return f"{self.base}/availability"

    @property
    def state(self) -> str:
        return f"{self.base}/state"

    def relay(self, name: str, leaf: str) -> str:
        return f"{self.base}/relay/{name}/{leaf}"

    def control(self, name: str, leaf: str) -> str:
        """mute/volume: `state` and `set`."""
        return f"{self.base}/{name}/{leaf}"

    def transcript(self, role: str) -> str:
        return f"{self.base}/transcript/{role}"

    @property
    def start(self) -> str:
        return f"{self.base}/conversation/start"

    @property
    def announce(self) -> str:
        return f"{self.base}/announce"

    def event(self, kind: str) -> str:
        return f"{self.base}/event/{kind}"

    @property
    def last_error(self) -> str:
        return f"{self.base}/last_error"

    @property
    def next_timer(self) -> str:
        return f"{self.base}/next_timer"

    @property
    def memory(self) -> str:
        return f"{self.base}/memory"

    @property
    def commands(self) -> str:
        """One subscription for every command topic: they all end in set, start or announce."""
        return f"{self.base}/#"


@dataclass(frozen=True)
class Identity:
    node_id: str
    """speakerd_<id>: the device identifier and the prefix of every unique_id."""
    name: str
    client_id: str
    topics: Topics
    discovery_topic: str

    @classmethod
    def of(cls, config: MqttConfig, short_id: str | None = None) -> Identity:
        short_id = short_id or speaker_id()
        node_id = f"speakerd_{short_id}"
        base = config.base_topic or f"speakerd/{short_id}"
        return cls(
            node_id=node_id,
            name=config.device_name or socket.gethostname(),
            client_id=config.client_id or f"speakerd-{short_id}",
            topics=Topics(base),
            discovery_topic=f"{config.discovery_prefix}/device/{node_id}/config",
        )
