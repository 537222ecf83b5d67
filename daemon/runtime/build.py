"""Devices from the config: opened in an order an owner reading the journal can follow.

A missing model file or a busy GPIO pin is reported before anything is
switched; whatever fails half way, the relays already opened go back to their
safe state.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from daemon.appliance.devices import Devices
from daemon.config.schema import Config
from daemon.tools import close_relays, open_relays
from daemon.wakeword.listener import WakeWordListener
from daemon.wakeword.stop_word import StopWordDetector, StopWordModelError
from hardware.audio import host
from hardware.audio.echo_canceller import EchoCanceller, EchoCancellerUnavailable
from hardware.audio.microphone import Microphone
from hardware.audio.speaker import Speaker
from hardware.audio.status import AudioStatus
from hardware.camera import open_camera

log = logging.getLogger(__name__)

WAKE_FRAME_MS = 80  # openWakeWord scores 80 ms frames


async def open_echo_canceller_and_wake_word(
    config: Config,
) -> tuple[EchoCanceller | None, WakeWordListener]:
    """Load both at once: the WebRTC library (~0.2 s) on a thread while the models load.

    PortAudio's device scan runs first: its transient (ALSA plugins, ~11 MB
    here) then peaks below the wake-word models instead of on top of them.
    """
    await asyncio.to_thread(host.scan_early)
    wake = WakeWordListener(config.wake_word)
    canceller_ready = asyncio.ensure_future(asyncio.to_thread(open_echo_canceller, config))
    try:
        await wake.ready()
        canceller = await canceller_ready
    except BaseException:
        wake.close()
        await asyncio.gather(canceller_ready, return_exceptions=True)
        raise
    return canceller, wake


async def open_devices(
    config: Config,
    wake: WakeWordListener,
    canceller: EchoCanceller | None,
    *,
    stop_word: StopWordDetector | None = None,
    on_audio_status: Callable[[AudioStatus, str], None],
    pin_factory: Any = None,
) -> Devices:
    """Relays, camera, microphone and speaker; the speaker's stream is started."""
    relays = {}
    try:
        relays = dict(open_relays(config.relays, pin_factory=pin_factory))
        camera = None
        if config.camera.enabled:
            camera = await asyncio.to_thread(
                open_camera, config.camera.resolution, config.camera.jpeg_quality
            )
    except BaseException:
        close_relays(relays, config.relays)
        raise
    audio = config.audio
    microphone = Microphone(
        audio.input_device,
        chunk_ms=capture_ms(audio.chunk_ms),
        on_status=lambda status: on_audio_status(status, "microphone"),
        processor=canceller.process_capture if canceller is not None else None,
    )
    speaker = Speaker(
        audio.output_device,
        volume=audio.volume,
        on_status=lambda status: on_audio_status(status, "speaker"),
        far_end=canceller.far_end if canceller is not None else None,
    )
    await speaker.start()
    if canceller is not None:  # where the delay estimator starts looking
        canceller.set_delay_ms(round(1000 * speaker.output_latency) + microphone.chunk_ms)
    return Devices(
        config,
        microphone=microphone,
        speaker=speaker,
        wake_word=wake,
        relays=relays,
        camera=camera,
        echo_canceller=canceller,
        stop_word=stop_word,
    )


def open_stop_word(config: Config) -> StopWordDetector | None:
    """The stop-word detector `stop_word` asks for, or None: a missing or damaged model
    is one warning, and the button, the wake word and `ctl stop` still stop."""
    if not config.stop_word.enabled:
        return None
    try:
        detector = StopWordDetector(config.stop_word, config.wake_word.models_dir)
    except StopWordModelError as exc:
        log.warning("%s; carrying on without the stop word", exc)
        return None
    log.info("stop word on (threshold %.2f): heard while a ring, or an answer with its "
             "echo removed, can be stopped", config.stop_word.threshold)
    return detector


def open_echo_canceller(config: Config) -> EchoCanceller | None:
    """The echo canceller `audio.echo_cancellation` asks for, or None (half duplex)."""
    audio = config.audio
    if audio.echo_cancellation == "off":
        return None
    try:
        canceller = EchoCanceller(noise_suppression=audio.noise_suppression,
                                  load_at_first_sound=True)
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


class AudioHealth:
    """Microphone and speaker health, kept until the appliance exists and then forwarded.

    The devices open (and may already fail) before the appliance is built;
    the last report of each is replayed so no error goes unseen. They are told
    apart by role: both are called "default" unless the config names them.
    """

    def __init__(self) -> None:
        self._target: Callable[[AudioStatus, str], None] | None = None
        self._last: dict[str, AudioStatus] = {}

    def report(self, status: AudioStatus, role: str) -> None:
        self._last[role] = status
        if self._target is not None:
            self._target(status, role)

    def forward_to(self, target: Callable[[AudioStatus, str], None]) -> None:
        self._target = target
        for role, status in self._last.items():
            if status.state == "error":
                target(status, role)
