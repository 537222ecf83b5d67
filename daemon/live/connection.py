"""One WebSocket of a conversation: the SDK's context manager, session and pump task.

The SDK hands out connections as `async with` blocks; a LiveSession needs to
open one, keep it across many awaits and close it from another task, so the
context manager is entered and exited by hand here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from google.genai import types

from daemon.live.outbox import Outgoing

log = logging.getLogger(__name__)

CLOSE_TIMEOUT_S = 2.0


class Connection:
    def __init__(self, number: int, manager: Any, sdk_session: Any, resumed: bool) -> None:
        self.number = number
        self.manager = manager
        self.sdk = sdk_session
        self.resumed = resumed
        self.usable = True
        self.moving = False  # a goAway was seen: a successor is being opened
        self.in_turn = False  # the server is in the middle of a turn on this connection
        self.draining = False  # replaced after a goAway: closes when its turn completes
        self.time_left_s: float | None = None  # the goAway's timeLeft, when it could be read
        self.retired = False  # being closed in the background
        self.opened_at = asyncio.get_running_loop().time()
        self.pump: asyncio.Task[None] | None = None

    async def close(self) -> None:
        """Stop reading and close the WebSocket (1000); never raises."""
        self.usable = False
        if self.pump is not None and self.pump is not asyncio.current_task():
            self.pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.pump
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await self.manager.__aexit__(None, None, None)
        except (Exception, asyncio.CancelledError) as exc:  # already dead, or slow: gone anyway
            log.debug("connection %d closed untidily: %s", self.number, type(exc).__name__)

    async def transmit(self, item: Outgoing) -> None:
        """Send one piece of realtime input (the SDK allows one field per message)."""
        if item.kind == "text":
            await self.sdk.send_realtime_input(text=str(item.data))
            return
        assert isinstance(item.data, bytes)
        blob = types.Blob(data=item.data, mime_type=item.mime_type)
        if item.kind == "audio":
            await self.sdk.send_realtime_input(audio=blob)
        else:
            await self.sdk.send_realtime_input(video=blob)


MAX_TIME_LEFT_S = 600.0


def seconds_of(time_left: object) -> float | None:
    """goAway's timeLeft (a protobuf Duration such as `"50s"`) in seconds, bounded;
    None if the server sent something else."""
    if not isinstance(time_left, str) or not time_left.endswith("s") or len(time_left) > 20:
        return None
    try:
        seconds = float(time_left[:-1])
    except ValueError:
        return None
    if seconds != seconds or seconds < 0:  # NaN or negative
        return None
    return min(seconds, MAX_TIME_LEFT_S)
