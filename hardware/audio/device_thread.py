"""One thread that keeps a PortAudio stream open for the microphone or the speaker.

PortAudio reads and writes block, so each device does them on a thread of its
own and hands results to the event loop. What both devices need around that is
the same, and lives here: find and open the device at a format it takes, tell
the owner about its health (AudioStatus, once when it fails and again when it
opens), reopen a missing or failed device with growing delays forever, close
it while paused, and stop cleanly. The device supplies only what to do with
an open stream.

    thread = DeviceThread("microphone", "USB", "input", rate=16000, period_ms=40,
                          opened=on_open, work=read_one_chunk)
    await thread.start()
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pyaudio

from hardware.audio import host
from hardware.audio.convert import StreamFormat, choose_format
from hardware.audio.status import AudioStatus, RetryDelay, StatusCallback

# A retrying thread tries again at least this often beyond its longest delay.
RETRY_GRACE_SECONDS = 10.0

_WORDS = {
    "input": ("capturing", "stopped delivering audio"),
    "output": ("open", "stopped accepting audio"),
}
"""What the status messages say of an open and of a failed stream, by direction."""

OpenedCallback = Callable[[pyaudio.Stream, host.DeviceInfo, StreamFormat], None]


class DeviceThread:
    """Opens `device` for `direction`, then calls `work(stream)` until stop, pause or failure.

    `work` does one step of blocking I/O; an OSError or ValueError from it means the
    device failed: the stream is closed, `lost()` is called and the device reopened
    after a delay. `opened(stream, info, format)` runs on the thread after each open.
    """

    def __init__(
        self,
        role: str,
        device: host.DeviceSpec,
        direction: host.Direction,
        *,
        rate: int,
        period_ms: int,
        opened: OpenedCallback,
        work: Callable[[pyaudio.Stream], None],
        lost: Callable[[], None] | None = None,
        on_status: StatusCallback | None = None,
        forced: tuple[int | None, int | None] = (None, None),
        start_running: bool = True,
        retry: RetryDelay | None = None,
    ) -> None:
        """`role` names the device in messages and the thread ("microphone"); `rate` is
        the rate wanted first; `period_ms` the PortAudio buffer period; `forced` pins
        (rate, channels); `start_running=False` opens the stream stopped."""
        self.role = role
        self.device = device
        self.direction = direction
        self.rate = rate
        self.period_ms = period_ms
        self.on_status = on_status
        self.retry = retry or RetryDelay()
        self.stopping = False
        """Set by stop() (or when the loop is gone); work() should return soon after."""
        self.paused = False
        self.device_name: str | None = None
        """The name of the device last opened."""
        self._opened = opened
        self._work = work
        self._lost = lost
        self._forced = forced
        self._start_running = start_running
        self._wake = threading.Event()
        self._first_attempt_done = threading.Event()
        self._in_error = False
        self._last_attempt_at = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._log = logging.getLogger(f"{__package__}.{role}")  # as the device's own module

    async def start(self) -> None:
        """Start the thread; returns once the first attempt to open the device is done."""
        if self._thread is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name=self.role, daemon=True)
        self._thread.start()
        await asyncio.to_thread(self._first_attempt_done.wait, 10.0)

    def request_stop(self) -> None:
        """Ask the thread to close the device and end (a retry delay ends at once)."""
        self.stopping = True
        self._wake.set()

    async def join(self) -> None:
        """Wait (up to 5 s) for the thread to end after request_stop()."""
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 5.0)

    def pause(self) -> None:
        """Close the device until resume()."""
        self.paused = True
        self._wake.set()

    def resume(self) -> None:
        self.paused = False
        self._wake.set()

    @property
    def retrying(self) -> bool:
        """The device is missing or failed and the thread is alive and trying it again
        (its last attempt is no older than the longest delay): an error state, not a hang."""
        thread = self._thread
        if not self._in_error or thread is None or not thread.is_alive():
            return False
        return time.monotonic() - self._last_attempt_at < self.retry.maximum + RETRY_GRACE_SECONDS

    def call_on_loop(self, callback: Callable[..., Any], *args: Any) -> bool:
        """Run `callback(*args)` on the owner's loop; False (and stopping) once it is gone."""
        if self._loop is None:
            return False
        try:
            self._loop.call_soon_threadsafe(callback, *args)
            return True
        except RuntimeError:  # loop closed: the owner is gone
            self.stopping = True
            return False

    # -- the thread -------------------------------------------------------

    def _run(self) -> None:
        stream: pyaudio.Stream | None = None
        try:
            while not self.stopping:
                self._wake.clear()
                if self.paused:
                    if stream is not None:
                        host.close_stream(stream)
                        stream = None
                        self._log.info("%s closed (paused)", self.role)
                    self._first_attempt_done.set()
                    self._wake.wait(1.0)
                    continue
                if stream is None:
                    stream = self._open()
                    self._first_attempt_done.set()
                    if stream is None:
                        self._give_up_for_now()
                        continue
                try:
                    self._work(stream)
                except (OSError, ValueError) as exc:
                    self._last_attempt_at = time.monotonic()
                    _, failed = _WORDS[self.direction]
                    self._failed(f"{self.role} {self.device_name!r} {failed} ({exc})")
                    host.close_stream(stream)
                    stream = None
                    self._give_up_for_now()
        finally:
            if stream is not None:
                host.close_stream(stream)
            self._first_attempt_done.set()

    def _give_up_for_now(self) -> None:
        if self._lost is not None:
            self._lost()
        self.retry.wait(self._wake)

    def _open(self) -> pyaudio.Stream | None:
        self._last_attempt_at = time.monotonic()
        try:
            if self._in_error:
                host.rescan()  # a device plugged in since PortAudio started
            info = host.find_device(self.device, self.direction)
            fmt = choose_format(
                self.rate,
                info.default_rate,
                info.channels(self.direction),
                lambda r, c: host.supports(info, self.direction, r, c),
                rate=self._forced[0],
                channels=self._forced[1],
            )
            stream = host.open_stream(
                format=pyaudio.paInt16,
                channels=fmt.channels,
                rate=fmt.rate,
                frames_per_buffer=fmt.rate * self.period_ms // 1000,
                start=self._start_running,
                **{self.direction: True, f"{self.direction}_device_index": info.index},
            )
        except host.DeviceNotFound as exc:
            self._failed(f"{self.role} unavailable: {exc}")
            return None
        except (OSError, ValueError) as exc:
            self._failed(f"{self.role} {self.device!r} did not open ({exc})")
            return None
        self.device_name = info.name
        self._opened(stream, info, fmt)
        if self._in_error:
            self._log.info("%s %r is back", self.role, info.name)
        self._in_error = False
        self.retry.reset()
        opened, _ = _WORDS[self.direction]
        self._report("ok", f"{self.role} {info.name!r} {opened}")
        return stream

    def _failed(self, message: str) -> None:
        """Log and report a failure once; repeats while it lasts go to debug."""
        if self._in_error:
            self._log.debug("%s; next try in %.1f s", message, self.retry.next_delay)
            return
        self._log.warning(
            "%s; retrying in %.1f s, then at growing intervals up to %.0f s",
            message,
            self.retry.next_delay,
            self.retry.maximum,
        )
        self._in_error = True
        self._report("error", message)

    def _report(self, state: str, message: str) -> None:
        if self.on_status is not None:
            label = "default" if self.device is None else str(self.device)
            self.call_on_loop(self.on_status, AudioStatus(label, state, message))  # type: ignore[arg-type]
