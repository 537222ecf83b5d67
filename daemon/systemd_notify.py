"""Tell systemd how the daemon is doing: READY, STATUS, STOPPING and watchdog pings.

The unit is `Type=notify` with `WatchdogSec=`: systemd waits for READY=1 before it
calls the service started, and restarts it when the WATCHDOG=1 pings stop. The
pings mean "the daemon still turns", not merely "the process exists": they come
from the event loop and only while a liveness check holds (the capture thread
delivered audio recently, or is retrying a missing device), so a blocked loop or
a wedged thread gets a restart. They never mean "a microphone is present": a
restart cannot plug one in, so a missing device is an error state, not a death.

Pure Python (one datagram per message, as sd_notify(3) does), so it needs no
libsystemd binding and is a silent no-op outside systemd.

    notifier = Notifier.from_env()
    notifier.ready()
    notifier.status("idle: waiting for the wake word")
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable

log = logging.getLogger(__name__)


class Notifier:
    """Sends sd_notify messages to $NOTIFY_SOCKET; does nothing when there is none."""

    def __init__(self, address: str | None) -> None:
        # "@name" is a Linux abstract socket: the leading "@" becomes a NUL byte.
        self._address: str | bytes | None
        if address and address.startswith("@"):
            self._address = b"\0" + address[1:].encode()
        else:
            self._address = address or None

    @classmethod
    def from_env(cls) -> Notifier:
        """The notifier systemd asked for (a no-op one when not run by systemd)."""
        return cls(os.environ.get("NOTIFY_SOCKET"))

    @property
    def enabled(self) -> bool:
        return self._address is not None

    def notify(self, *fields: str) -> bool:
        """Send `KEY=value` lines as one datagram; False (and a debug log) if undelivered."""
        if self._address is None:
            return False
        message = "\n".join(fields).encode()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                # Never wait: a reader that stopped reading must not freeze the event loop.
                sock.sendto(message, socket.MSG_DONTWAIT, self._address)
        except OSError as error:
            # systemd gone (e.g. during shutdown) must never crash the daemon.
            log.debug("sd_notify %s failed: %s", fields[0].split("=")[0], error)
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        """Start-up is complete: systemd now reports the unit as active."""
        fields = ["READY=1"] + ([_status_field(status)] if status else [])
        return self.notify(*fields)

    def status(self, text: str) -> bool:
        """Free-form one-line state shown by `systemctl status speakerd`."""
        return self.notify(_status_field(text))

    def stopping(self) -> bool:
        """A clean shutdown has begun (so a slow stop is not mistaken for a hang)."""
        return self.notify("STOPPING=1")

    def watchdog(self) -> bool:
        """Proof of life for WatchdogSec=."""
        return self.notify("WATCHDOG=1")

    def watchdog_interval(self) -> float | None:
        """WatchdogSec= in seconds when systemd watches this process, else None."""
        return watchdog_interval() if self.enabled else None


def _status_field(text: str) -> str:
    # A newline would start a new KEY=value field and could forge READY=1 or similar.
    return "STATUS=" + " ".join(text.splitlines())


def watchdog_interval(environ: dict[str, str] | None = None) -> float | None:
    """WatchdogSec= in seconds when the watchdog is on for this process, else None."""
    env = os.environ if environ is None else environ
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    pid = env.get("WATCHDOG_PID")
    if usec <= 0 or (pid and pid.isdigit() and int(pid) != os.getpid()):
        return None
    return usec / 1_000_000


class WatchdogPinger:
    """Pings the watchdog every interval/2 while `is_alive()` is true; stops when it is not.

    Runs on the event loop, so a blocked loop stops the pings too. When the check
    fails it logs the reason once and lets systemd's timeout restart the service;
    if the check recovers before that, pinging resumes.

        pinger = WatchdogPinger(notifier, capture.delivered_recently)
        pinger.start()
    """

    def __init__(
        self,
        notifier: Notifier,
        is_alive: Callable[[], bool],
        interval: float | None = None,
        reason: str = "the liveness check failed",
    ) -> None:
        self._notifier = notifier
        self._is_alive = is_alive
        self._interval = interval if interval is not None else notifier.watchdog_interval()
        self._reason = reason
        self._task: asyncio.Task[None] | None = None
        self.pings_sent = 0

    @property
    def active(self) -> bool:
        """True when systemd asked for a watchdog and there is somewhere to ping."""
        return self._interval is not None and self._notifier.enabled

    def start(self) -> None:
        """Begin pinging on the running loop (no-op when the watchdog is off)."""
        if self.active and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run(), name="watchdog")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run(self) -> None:
        if not self.active:
            return
        assert self._interval is not None
        period = self._interval / 2
        healthy = True
        while True:
            alive = self._check()
            if alive:
                if not healthy:
                    log.warning("watchdog: liveness restored, pinging systemd again")
                self._notifier.watchdog()
                self.pings_sent += 1
            elif healthy:
                log.error(
                    "watchdog: %s; no longer pinging systemd, which restarts the service "
                    "within %.0f s unless it recovers", self._reason, self._interval,
                )
            healthy = alive
            await asyncio.sleep(period)

    def _check(self) -> bool:
        try:
            return bool(self._is_alive())
        except Exception:
            log.exception("watchdog: liveness check raised; treating it as not alive")
            return False
