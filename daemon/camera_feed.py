"""Camera frames into the Live session, rate-limited, only while a conversation is open.

>>> feed = CameraFeed(camera, fps=1.0, send=session.send_jpeg)
>>> feed.start()            # conversation opened: frames flow (if continuous,
...                         # or while while_speaking() says the user speaks)
>>> await feed.grab_now()   # the look() tool: one fresh frame, now
>>> await feed.stop()       # conversation closed: no more frames, camera idle

The Live API takes at most one frame per second; the feed never sends more
than that, nor more than ``fps``, whether the frames come from the continuous
loop or from look(). Capture blocks (~a frame time), so it runs in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

log = logging.getLogger(__name__)

MAX_FPS = 1.0
SPEECH_POLL_S = 0.1  # how soon a frame follows the start of the user's speech


class JpegCamera(Protocol):
    def capture_jpeg(self) -> bytes: ...
    def stop(self) -> None: ...


class FeedClosed(RuntimeError):
    """A frame was asked for while no conversation is open."""


class CameraFeed:
    def __init__(
        self,
        camera: JpegCamera,
        fps: float,
        send: Callable[[bytes], Awaitable[None]],
        *,
        continuous: bool = True,
        while_speaking: Callable[[], bool] | None = None,
    ) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be above 0, not {fps}")
        self.camera = camera
        self.fps = min(fps, MAX_FPS)
        self.interval = 1.0 / self.fps
        self.continuous = continuous
        # Live 3.8 bills every frame sent as context (docs/live-protocol.md, "Model
        # generations"): given this, the stream sends only while it says the user speaks.
        self.while_speaking = while_speaking
        self._send = send
        self._open = False
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()  # one frame in flight; slots are shared with grab_now
        self._last_sent: float | None = None
        self._failures = 0
        self.frames_sent = 0

    @property
    def is_open(self) -> bool:
        return self._open

    def start(self) -> None:
        """A conversation opened: allow frames, and stream them if continuous."""
        if self._open:
            return
        self._open = True
        if self.continuous or self.while_speaking is not None:
            self._task = asyncio.get_running_loop().create_task(self._stream(), name="camera-feed")

    async def stop(self) -> None:
        """The conversation closed: no frame is sent after this returns; camera goes idle."""
        self._open = False
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        async with self._lock:  # wait out a look() in flight
            pass
        try:
            await asyncio.to_thread(self.camera.stop)
        except Exception:
            log.exception("camera did not stop cleanly")

    async def grab_now(self) -> bytes:
        """Send one fresh frame as soon as the rate limit allows; returns the JPEG."""
        if not self._open:
            raise FeedClosed("no conversation is open, so no frame was sent")
        jpeg = await self._send_one()
        if jpeg is None:
            raise FeedClosed("the conversation closed before the frame was sent")
        return jpeg

    async def _stream(self) -> None:
        while self._open:
            if self.while_speaking is not None and not self.while_speaking():
                await asyncio.sleep(min(self.interval, SPEECH_POLL_S))
                continue
            try:
                await self._send_one(streaming=True)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # A camera or session hiccup must not end the conversation; try next slot.
                self._failures += 1
                level = logging.WARNING if self._failures == 1 else logging.DEBUG
                log.log(level, "camera frame failed (%d so far): %s", self._failures, exc)
                await asyncio.sleep(self.interval)

    async def _send_one(self, *, streaming: bool = False) -> bytes | None:
        loop = asyncio.get_running_loop()
        async with self._lock:
            if self._last_sent is not None:
                wait = self._last_sent + self.interval - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
            if not self._open:
                return None
            if streaming and self.while_speaking is not None and not self.while_speaking():
                return None  # the user stopped while the rate limit held the frame
            jpeg = await asyncio.to_thread(self.camera.capture_jpeg)
            if not self._open:
                return None
            self._last_sent = loop.time()
            await self._send(jpeg)
            self.frames_sent += 1
            return jpeg
