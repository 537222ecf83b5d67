"""Everything physical the appliance drives, built from the config in one place.

Start-up order matters to an owner reading the journal: a missing model file
or a busy GPIO pin is reported before anything is switched, and shutdown puts
every relay back in its safe state even when something else failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from daemon.appliance.status_light import StatusLight
from daemon.camera_feed import CameraFeed, FeedClosed
from daemon.config.schema import Config
from daemon.live.models import profile_for
from daemon.tools import ToolRegistry, close_relays, open_relays
from daemon.wakeword.listener import WakeWordListener
from hardware.audio import host
from hardware.audio.echo_canceller import EchoCanceller, EchoCancellerUnavailable
from hardware.audio.microphone import Microphone
from hardware.audio.speaker import Speaker
from hardware.audio.status import AudioStatus
from hardware.camera import Camera, open_camera
from hardware.gpio.button import TalkButton
from hardware.gpio.leds import StatusLed
from hardware.gpio.relays import Relay

if TYPE_CHECKING:
    from daemon.appliance.appliance import Appliance

log = logging.getLogger(__name__)

WAKE_FRAME_MS = 80  # openWakeWord scores 80 ms frames
QUIET_HANDOVER_CHUNKS = 4
"""Microphone chunks handed to the loop at once while the speech gate is shut (320 ms:
3 loop wake-ups a second instead of 12.5). Speech opens the gate within the first
hand-over, long before openWakeWord can score the end of a wake word (see
Microphone.handover_chunks); conversations get every chunk at once."""


class Devices:
    """Microphone, speaker, wake word, LEDs, button, relays and camera of one appliance."""

    def __init__(
        self,
        config: Config,
        *,
        microphone: Microphone,
        speaker: Speaker,
        wake_word: WakeWordListener,
        status_light: StatusLight | None,
        relays: dict[str, Relay],
        camera: Camera | None,
        pin_factory: Any = None,
    ) -> None:
        self.config = config
        self.microphone = microphone
        self.speaker = speaker
        self.wake_word = wake_word
        self.relays = relays
        self.camera = camera
        self._status_light = status_light
        self._pin_factory = pin_factory
        self._button: TalkButton | None = None
        self._feed: CameraFeed | None = None
        self._audio_health = _AudioHealth()
        self.echo_canceller: EchoCanceller | None = None
        """Removes the speaker's sound from the microphone, when it runs."""

    @classmethod
    async def open(cls, config: Config, *, pin_factory: Any = None) -> Devices:
        """Open everything; the wake-word models are loaded before this returns."""
        # PortAudio's device scan first: its transient (ALSA plugins, ~11 MB here)
        # then peaks below the wake-word models instead of on top of them.
        await asyncio.to_thread(host.scan_early)
        wake = WakeWordListener(config.wake_word)
        # The WebRTC library loads (~0.2 s) on a thread while the wake-word models do.
        canceller_ready = asyncio.ensure_future(asyncio.to_thread(open_echo_canceller, config))
        relays: dict[str, Relay] = {}
        try:
            await wake.ready()
            relays = dict(open_relays(config.relays, pin_factory=pin_factory))
            status_light = _status_light(config, pin_factory)
            camera = None
            if config.camera.enabled:
                camera = await asyncio.to_thread(
                    open_camera, config.camera.resolution, config.camera.jpeg_quality
                )
            canceller = await canceller_ready
        except BaseException:
            close_relays(relays, config.relays)
            wake.close()
            await asyncio.gather(canceller_ready, return_exceptions=True)
            raise
        audio = config.audio
        health = _AudioHealth()
        config = with_barge_in(config, canceller is not None)
        microphone = Microphone(
            audio.input_device,
            chunk_ms=capture_ms(audio.chunk_ms),
            on_status=health.reporter("microphone"),
            processor=canceller.process_capture if canceller is not None else None,
        )
        speaker = Speaker(
            audio.output_device,
            volume=audio.volume,
            on_status=health.reporter("speaker"),
            far_end=canceller.far_end if canceller is not None else None,
        )
        await speaker.start()
        if canceller is not None:  # where the delay estimator starts looking
            canceller.set_delay_ms(round(1000 * speaker.output_latency) + microphone.chunk_ms)
        devices = cls(
            config,
            microphone=microphone,
            speaker=speaker,
            wake_word=wake,
            status_light=status_light,
            relays=relays,
            camera=camera,
            pin_factory=pin_factory,
        )
        devices._audio_health = health
        devices.echo_canceller = canceller
        return devices

    def attach(self, appliance: Appliance) -> ToolRegistry:
        """Wire the button to the appliance and build the tools it offers the model."""
        loop = asyncio.get_running_loop()
        self._audio_health.report_to(appliance.audio_status)
        button = self.config.button
        if button.pin is not None:
            self._button = TalkButton(
                button.pin,
                pull_up=button.pull_up,
                hold_seconds=button.hold_seconds,
                bounce_ms=button.bounce_ms,
                on_press=lambda: loop.call_soon_threadsafe(appliance.button_pressed),
                on_hold=lambda: loop.call_soon_threadsafe(appliance.button_held),
                pin_factory=self._pin_factory,
            )
        return ToolRegistry.from_config(
            self.config,
            relays=self.relays,
            context=appliance,
            camera_available=self.camera is not None,
            pin_factory=self._pin_factory,
        )

    def status_light(self, change: Any) -> None:
        if self._status_light is not None:
            self._status_light(change)

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
        """Relays to their safe state and LEDs off first, whatever else fails."""
        close_relays(self.relays, self.config.relays)
        if self._status_light is not None:
            with contextlib.suppress(Exception):
                self._status_light.close()
        if self._button is not None:
            self._button.close()
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


def open_echo_canceller(config: Config) -> EchoCanceller | None:
    """The echo canceller `audio.echo_cancellation` asks for, or None (half duplex)."""
    audio = config.audio
    if audio.echo_cancellation == "off":
        return None
    try:
        canceller = EchoCanceller(noise_suppression=audio.noise_suppression)
    except EchoCancellerUnavailable as exc:
        if audio.echo_cancellation == "on":
            log.error("audio.echo_cancellation is on but cannot run: %s; half duplex", exc)
        else:
            log.info("echo cancellation not available (%s): half duplex", exc)
        return None
    log.info("echo cancellation on (WebRTC AEC3)%s", ", noise suppression on" * audio.noise_suppression)
    return canceller


def with_barge_in(config: Config, echo_cancelled: bool) -> Config:
    """The config with `audio.barge_in` decided: unset, it follows echo cancellation."""
    audio = config.audio
    if audio.barge_in is not None:
        if audio.barge_in and not echo_cancelled:
            log.warning("barge_in is on without echo cancellation: the model may hear itself")
        return config
    audio = audio.model_copy(update={"barge_in": echo_cancelled})
    return config.model_copy(update={"audio": audio})


def capture_ms(chunk_ms: int) -> int:
    """How much audio one microphone read brings: a whole wake-word frame when chunk_ms
    divides it (half the hand-overs to the event loop at idle, no later detection:
    the detector waits for whole 80 ms frames anyway); conversations still send
    chunk_ms pieces."""
    return WAKE_FRAME_MS if WAKE_FRAME_MS % chunk_ms == 0 else chunk_ms


def _log_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("camera feed did not stop cleanly: %s", task.exception())


class _AudioHealth:
    """Forwards microphone/speaker health to the appliance once it exists.

    The devices open (and may already fail) before the appliance is built;
    the last report of each is kept and replayed so no error goes unseen. They
    are told apart by role: both are called "default" unless the config names them.
    """

    def __init__(self) -> None:
        self._target: Callable[[AudioStatus, str], None] | None = None
        self._last: dict[str, AudioStatus] = {}

    def reporter(self, role: str) -> Callable[[AudioStatus], None]:
        def report(status: AudioStatus) -> None:
            self._last[role] = status
            if self._target is not None:
                self._target(status, role)

        return report

    def report_to(self, target: Callable[[AudioStatus, str], None]) -> None:
        self._target = target
        for role, status in self._last.items():
            if status.state == "error":
                target(status, role)


def _status_light(config: Config, pin_factory: Any) -> StatusLight | None:
    leds = config.leds
    if leds.kind == "none":
        return None
    pins = leds.pins
    if leds.kind == "rgb":
        assert pins.red is not None and pins.green is not None and pins.blue is not None
        led = StatusLed.rgb(
            pins.red, pins.green, pins.blue, active_high=leds.active_high, pin_factory=pin_factory
        )
    else:
        assert pins.led is not None
        led = StatusLed.single(pins.led, active_high=leds.active_high, pin_factory=pin_factory)
    return StatusLight(leds, led)
