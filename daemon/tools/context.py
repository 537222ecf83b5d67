"""What tools need from the appliance, and a stand-alone version for `speakerd tools call`."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable
from pathlib import Path
from typing import Protocol

from hardware.camera import Camera


class ToolContext(Protocol):
    """Implemented by the appliance (daemon.appliance.Appliance).

    set_volume and end_conversation may be plain or async.
    """

    def relay_changed(self, name: str, is_on: bool) -> None:
        """set_relay switched a relay (the timeline and, later, MQTT hear of it)."""
        ...

    def set_volume(self, percent: int) -> Awaitable[None] | None: ...

    def end_conversation(self) -> Awaitable[None] | None: ...

    async def look(self) -> str:
        """Send one fresh camera frame to the model; a note on what was sent."""
        ...


class StandaloneContext:
    """For running one tool outside the daemon: reports instead of acting on a session."""

    timers_kept_by_daemon = True  # its timer tools are listed; a call points to `ctl`
    memory_kept_by_daemon = True  # so are the memory tools
    media_kept_by_daemon = True  # so are the music tools

    def __init__(self, camera: Camera | None = None, frames_dir: Path | None = None) -> None:
        self.camera = camera
        self.frames_dir = frames_dir
        self.notes: list[str] = []
        self.volume: int | None = None

    def relay_changed(self, name: str, is_on: bool) -> None:
        self.notes.append(f"relay {name} is now {'on' if is_on else 'off'}")

    def set_volume(self, percent: int) -> None:
        self.volume = percent
        self.notes.append(f"volume would be {percent}% (the daemon applies it to its speaker)")

    def end_conversation(self) -> None:
        self.notes.append("the conversation would end after the model's reply")

    async def look(self) -> str:
        if self.camera is None:
            raise RuntimeError("no camera is available")
        jpeg = await asyncio.to_thread(self.camera.capture_jpeg)
        with tempfile.NamedTemporaryFile(
            prefix="speakerd-look-", suffix=".jpg", dir=self.frames_dir, delete=False
        ) as file:
            file.write(jpeg)
        width, height = self.camera.resolution
        return f"captured a {width}x{height} JPEG of {len(jpeg)} bytes, saved to {file.name}"
