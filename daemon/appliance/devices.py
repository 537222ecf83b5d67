"""Everything physical the appliance drives, as one bundle the composition root builds.

Shutdown order matters to an owner: every relay goes back to its safe state
and the LEDs go off first, even when something else fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from daemon.camera_feed import CameraFeed, FeedClosed
from daemon.config.schema import Config
from daemon.core.models import profile_for
from daemon.tools import close_relays
from daemon.wakeword.listener import WakeWordListener
from daemon.wakeword.stop_word import StopWordDetector
from hardware.audio.echo_canceller import EchoCanceller
from hardware.audio.microphone import Microphone
from hardware.audio.speaker import Speaker
from hardware.camera import Camera
from hardware.gpio.relays import Relay

log = logging.getLogger(__name__)


class Devices:
    """Microphone, speaker, wake word, relays, camera and echo canceller of one appliance."""

    def __init__(
        self,
        config: Config,
        *,
        microphone: Microphone,
        speaker: Speaker,
        wake_word: WakeWordListener,
        relays: dict[str, Relay],
        camera: Camera | None,
        echo_canceller: EchoCanceller | None = None,
        stop_word: StopWordDetector | None = None,
    ) -> None:
        self.config = config
        self.microphone = microphone
        self.speaker = speaker
        self.wake_word = wake_word
        self.relays = relays
        self.camera = camera
        self.echo_canceller = echo_canceller
        """Removes the speaker's sound from the microphone, when it runs."""
        self.stop_word = stop_word
        """Hears "stop" without the wake word, when its model loaded."""
        self._feed: CameraFeed | None = None

    # -- sounds ------------------------------------------------------------------------

    def play_wake_sound(self) -> None:
        if self.config.audio.wake_sound:
            self.speaker.play_sound(self.config.audio.wake_sound)

    def play_error_sound(self) -> None:
        if self.config.audio.error_sound:
            self.speaker.play_sound(self.config.audio.error_sound)

    # -- camera ------------------------------------------------------------------------

    def camera_started(self, conversation: Any) -> None:
        """Frames flow only while a conversation is open."""
        if self.camera is None:
            return
        continuous = self.config.camera.continuous
        # Unset: 2.5 streams all along; on 3.8 every frame is billed context, so
        # frames go only while the user speaks (and on look()).
        every_frame_counts = profile_for(self.config.gemini.model).every_frame_counts
        gated = continuous is None and every_frame_counts
        self._feed = CameraFeed(
            self.camera,
            self.config.camera.fps,
            conversation.send_frame,
            continuous=bool(continuous) if continuous is not None else not every_frame_counts,
            while_speaking=conversation.user_speaking if gated else None,
        )
        self._feed.start()

    def camera_stopped(self) -> None:
        feed, self._feed = self._feed, None
        if feed is not None:
            task = asyncio.ensure_future(feed.stop())
            task.add_done_callback(_log_failure)

    async def grab_frame(self) -> str:
        if self._feed is None:
            return "no camera frame: the camera is off or no conversation is open"
        try:
            jpeg = await self._feed.grab_now()
        except FeedClosed:
            return "no camera frame: the conversation is closing"
        return f"sent one {len(jpeg) // 1024} kB camera frame"

    # -- shutdown ----------------------------------------------------------------------

    async def close(self) -> None:
        """Relays to their safe state first, whatever else fails."""
        close_relays(self.relays, self.config.relays)
        if self._feed is not None:
            with contextlib.suppress(Exception):
                await self._feed.stop()
        if self.camera is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.camera.close)
        with contextlib.suppress(Exception):
            await self.microphone.stop()
        with contextlib.suppress(Exception):
            await self.speaker.stop()
        await asyncio.to_thread(self.wake_word.close)
        if self.stop_word is not None:
            self.stop_word.close()




def _log_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("camera feed did not stop cleanly: %s", task.exception())
