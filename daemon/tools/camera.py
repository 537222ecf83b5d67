"""look(): one fresh camera frame sent to the model now (declared only with a camera)."""

from __future__ import annotations

from typing import Any

from daemon.tools.spec import Tool

LOOK_TIMEOUT = 10.0  # the rate limit may hold a frame ~1 s, and a cold camera starts slowly


def camera_tools(context: Any, camera_available: bool) -> list[Tool]:
    if not camera_available:
        return []

    async def look() -> str:
        return str(await context.look())

    return [
        Tool(
            "look",
            "Take a fresh picture with this device's camera and send it to you now. Use it "
            "when the user asks about something they show or what the camera sees.",
            look,
            timeout=LOOK_TIMEOUT,
        )
    ]
