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
from daemon.appliance.clock import LoopClock
from daemon.appliance.control import ControlServer
from daemon.appliance.devices import Devices
from daemon.appliance.state import Change
from daemon.config.schema import Config
from daemon.live.connect_config import make_client, setup_extras
from daemon.live.session import LiveSession
from daemon.systemd_notify import Notifier, WatchdogPinger
from daemon.timers import Timers

log = logging.getLogger(__name__)

# With the microphone open, the capture thread counts as turning while chunks
# arrived this recently.
AUDIO_ALIVE_SECONDS = 5.0


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
    try:
        devices = await Devices.open(config, pin_factory=pin_factory)
    except BaseException:
        await asyncio.gather(client_ready, return_exceptions=True)
        raise
    try:
        client = await client_ready

        def new_session() -> LiveSession:
            return LiveSession(
                config.gemini,
                api_key,
                tools=tools.declarations(),
                tool_handler=tools.call,
                scheduling=tools.scheduling,
                extras=setup_extras(config),
                client=client,
            )

        clock = LoopClock()
        timers = Timers(
            clock,
            config.timers.state_dir,
            missed_grace_seconds=config.timers.missed_grace_seconds,
        )
        # devices.config: barge_in as decided by whether echo cancellation runs
        appliance = Appliance(devices.config, devices, new_session, clock=clock, timers=timers)
        tools = devices.attach(appliance)
        appliance.machine.observe(devices.status_light)
        appliance.machine.observe(lambda change: _tell_systemd(notifier, change))
        control = ControlServer(config.control.socket, appliance)
        await control.start()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, appliance.shutdown)
        await devices.microphone.start()
        capture_started = time.monotonic()
        watchdog = WatchdogPinger(
            notifier,
            lambda: _capture_turning(appliance, devices, capture_started),
            reason="the microphone thread is stuck: no audio and no retries",
        )
        watchdog.start()
        notifier.ready(status="idle: listening for the wake word")
        log.info("ready: listening for %s", ", ".join(config.wake_word.models))
        # The broker is never waited for: the bridge connects (and retries) on its own.
        mqtt = None
        if config.mqtt.enabled:
            from daemon.mqtt import MqttBridge  # aiomqtt and paho load only when used

            mqtt = MqttBridge(config.mqtt, appliance, tools)
            mqtt.start()
        if on_ready is not None:
            on_ready(appliance)
        try:
            await appliance.run()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            notifier.stopping()
            await watchdog.stop()
            await control.stop()
            if mqtt is not None:
                await mqtt.stop()
    finally:
        await devices.close()
    log.info("stopped")
    return 0


def _capture_turning(appliance: Appliance, devices: Devices, started: float) -> bool:
    """The watchdog's question: do the loop and the capture thread still turn?

    Not "is there a microphone": a restart cannot plug one in, and systemd
    gives up after 10 restarts, leaving the speaker dead even once it is
    back. A missing or failed device is the error state, retried in-process.
    """
    microphone = devices.microphone
    if appliance.status()["muted"] or microphone.retrying:
        return True  # closed on purpose, or missing and being retried
    # Before the first chunk, the time since the capture started counts instead
    # (the watchdog's first look comes at once: that was a false alarm per start).
    last = microphone.last_chunk_at or started
    return time.monotonic() - last < AUDIO_ALIVE_SECONDS


def _tell_systemd(notifier: Notifier, change: Change) -> None:
    with contextlib.suppress(Exception):
        notifier.status(f"{change.new}: {change.reason}" if change.reason else str(change.new))
