"""`speakerd run` as a process: start-up order, systemd, signals, clean shutdown.

READY=1 goes out once the wake-word models are loaded and the first attempt to
open the microphone is done, so `systemctl start` means "it is listening" (or
showing why it cannot: a missing microphone is the error state, retried until
it is plugged in). SIGTERM closes the conversation, puts every relay in its
safe state and turns the LEDs off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable
from typing import Any

from daemon.appliance.appliance import Appliance
from daemon.appliance.control_desk import ControlDesk
from daemon.appliance.devices import Devices
from daemon.config.schema import Config
from daemon.control.server import ControlServer
from daemon.core.clock import LoopClock
from daemon.core.state import Change, StateMachine
from daemon.live.connect_config import make_client
from daemon.media import Library, Player
from daemon.media.library import ffprobe_for
from daemon.memory import Memory
from daemon.runtime.build import (
    AudioHealth,
    open_devices,
    open_echo_canceller_and_wake_word,
    open_stop_word,
    with_barge_in,
)
from daemon.runtime.sessions import LiveSessions
from daemon.runtime.status_light import open_status_light
from daemon.systemd_notify import Notifier, WatchdogPinger
from daemon.timers import Timers
from daemon.tools import ToolRegistry
from hardware.gpio.button import TalkButton

log = logging.getLogger(__name__)

# With the microphone open, the capture thread counts as turning while chunks
# arrived this recently.
AUDIO_ALIVE_SECONDS = 5.0
FIRST_CHUNK_WAIT_SECONDS = 5.0


async def serve(
    config: Config,
    api_key: str,
    *,
    pin_factory: Any = None,
    on_ready: Callable[[Appliance], None] | None = None,
) -> int:
    """Run the appliance until SIGTERM/SIGINT (or appliance.shutdown()); the exit code.

    `on_ready` gets the running Appliance once READY=1 is sent: in-process tests
    use it to press mock buttons and read mock pins.
    """
    notifier = Notifier.from_env()
    loop = asyncio.get_running_loop()
    # One client for every conversation (loading the CA store takes ~170 ms), built
    # in a thread while the wake-word models load.
    client_ready = asyncio.ensure_future(asyncio.to_thread(make_client, config.gemini, api_key))
    health = AudioHealth()
    try:
        canceller, wake = await open_echo_canceller_and_wake_word(config)
        # Decided once, for every part: unset, barge-in follows echo cancellation.
        config = with_barge_in(config, canceller is not None)
        stop_word = await asyncio.to_thread(open_stop_word, config)
        try:
            devices = await open_devices(
                config, wake, canceller, stop_word=stop_word,
                on_audio_status=health.report, pin_factory=pin_factory,
            )  # fmt: skip
        except BaseException:
            await asyncio.to_thread(wake.close)
            if stop_word is not None:
                stop_word.close()
            raise
        client = await client_ready
    except BaseException:
        await asyncio.gather(client_ready, return_exceptions=True)
        raise
    button: TalkButton | None = None
    status_light = None
    try:
        status_light = open_status_light(config.leds, pin_factory)
        memory = open_memory(config)
        sessions = LiveSessions(
            config, api_key, client, instruction_note=memory.instruction if memory else None
        )
        clock = LoopClock()
        timers = Timers(
            clock,
            config.timers.state_dir,
            missed_grace_seconds=config.timers.missed_grace_seconds,
        )
        media = open_player(config, devices)
        appliance = Appliance(
            config, devices, sessions.new, clock=clock, timers=timers, memory=memory, media=media
        )
        # The tools act on the appliance, and each conversation's session offers them.
        tools = ToolRegistry.from_config(
            config,
            relays=devices.relays,
            context=appliance,
            camera_available=devices.camera is not None,
            pin_factory=pin_factory,
        )
        sessions.offer(tools)
        health.forward_to(appliance.audio_status)
        button = _open_button(config, appliance, loop, pin_factory)
        if status_light is not None:
            appliance.observe(status_light)
        control = ControlServer(config.control.socket, ControlDesk(appliance))
        await control.start()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, appliance.shutdown)
        await devices.microphone.start()
        capture_started = time.monotonic()
        await _first_chunk(devices, capture_started)
        watchdog = WatchdogPinger(
            notifier,
            lambda: _capture_turning(appliance, devices, capture_started),
            reason="the microphone thread is stuck: no audio and no retries",
        )
        watchdog.start()
        # STATUS= tells the state as it is by now (idle, or the error of a missing
        # microphone), then every change.
        appliance.machine.observe(lambda change: _tell_systemd(notifier, appliance.machine, change))
        notifier.ready()
        log.info("ready: listening for %s", ", ".join(config.wake_word.models))
        warming = asyncio.create_task(sessions.warm(), name="warm-sdk")
        # The broker is never waited for: the bridge connects (and retries) on its own.
        mqtt = None
        if config.mqtt.enabled:
            from daemon.mqtt import MqttBridge  # aiomqtt and paho load only when used

            relays = {relay.name: relay.description for relay in config.relays}
            mqtt = MqttBridge(config.mqtt, appliance, relays, stations=media.stations)
            mqtt.start()
        if on_ready is not None:
            on_ready(appliance)
        try:
            await appliance.run()
        finally:
            warming.cancel()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            notifier.stopping()
            await watchdog.stop()
            await control.stop()
            if mqtt is not None:
                await mqtt.stop()
    finally:
        if status_light is not None:
            with contextlib.suppress(Exception):
                status_light.close()
        if button is not None:
            button.close()
        await devices.close()
    log.info("stopped")
    return 0


def open_memory(config: Config) -> Memory | None:
    """The household memory, read from its state file; None when memory.enabled is off."""
    if not config.memory.enabled:
        return None
    memory = Memory(
        config.memory.state_dir or config.timers.state_dir,
        max_facts=config.memory.max_facts,
        max_bytes=config.memory.max_bytes,
    )
    log.info("household memory: %d fact(s) in %s", len(memory), memory.path)
    return memory
def open_player(config: Config, devices: Devices) -> Player:
    """The music player on the speaker's background channel; the library (if any) is
    indexed on a thread, searchable as it goes."""
    speaker = devices.speaker
    library = None
    if config.media.library is not None:
        index = config.timers.state_dir / "media-index.json"
        library = Library(config.media.library, index, ffprobe_for(config.media.ffmpeg))
        task = asyncio.ensure_future(asyncio.to_thread(library.scan))
        task.add_done_callback(_library_indexed)
    return Player(
        config.media,
        speaker,
        rate=lambda: speaker.format.rate if speaker.format is not None else speaker.rate,
        library=library,
    )


def _library_indexed(task: asyncio.Future[int]) -> None:
    if task.cancelled():
        return
    if task.exception() is not None:
        log.error("music library not indexed: %s", task.exception())
    else:
        log.info("music library: %d tracks indexed", task.result())


async def _first_chunk(devices: Devices, started: float) -> None:
    """Wait until the microphone delivers (READY=1 means it can hear), or is known missing.

    A missing or failing microphone does not hold start-up: it is the error
    state, retried in-process, and READY=1 goes out with that state.
    """
    microphone = devices.microphone
    while microphone.last_chunk_at is None and not microphone.retrying:
        if time.monotonic() - started > FIRST_CHUNK_WAIT_SECONDS:
            log.warning("no audio from the microphone after %.0f s", FIRST_CHUNK_WAIT_SECONDS)
            return
        await asyncio.sleep(0.01)


def _open_button(
    config: Config, appliance: Appliance, loop: asyncio.AbstractEventLoop, pin_factory: Any
) -> TalkButton | None:
    button = config.button
    if button.pin is None:
        return None
    return TalkButton(
        button.pin,
        pull_up=button.pull_up,
        hold_seconds=button.hold_seconds,
        bounce_ms=button.bounce_ms,
        on_press=lambda: loop.call_soon_threadsafe(appliance.button_pressed),
        on_hold=lambda: loop.call_soon_threadsafe(appliance.button_held),
        pin_factory=pin_factory,
    )


def _capture_turning(appliance: Appliance, devices: Devices, started: float) -> bool:
    """The watchdog's question: do the loop and the capture thread still turn?

    Not "is there a microphone": a restart cannot plug one in, and systemd
    gives up after 10 restarts, leaving the speaker dead even once it is
    back. A missing or failed device is the error state, retried in-process.
    """
    microphone = devices.microphone
    if appliance.muted or microphone.retrying:
        return True  # closed on purpose, or missing and being retried
    # Before the first chunk, the time since the capture started counts instead
    # (the watchdog's first look comes at once: that was a false alarm per start).
    last = microphone.last_chunk_at or started
    return time.monotonic() - last < AUDIO_ALIVE_SECONDS


def _tell_systemd(notifier: Notifier, machine: StateMachine, change: Change) -> None:
    """STATUS= is always the current state and why."""
    reason = change.reason
    if reason == "current":  # told at once on observe(): why the state is what it is
        reason = machine.history[-1].reason if machine.history else "listening for the wake word"
    with contextlib.suppress(Exception):
        notifier.status(f"{change.new}: {reason}" if reason else str(change.new))
