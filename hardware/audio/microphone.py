"""The microphone: 16 kHz 16-bit mono chunks delivered to asyncio, whatever the device.

A reader thread does the blocking PortAudio reads and hands finished chunks to
the event loop, so the loop never waits on the sound card. If the consumer
falls behind, the oldest chunks are dropped (the newest audio is what the wake
word and the model need). A device that is missing or vanishes is retried
with backoff, forever, and reported through `on_status`; nothing raises into
the daemon.

    mic = Microphone("USB", chunk_ms=40)
    await mic.start()
    async for chunk in mic: ...
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import pyaudio

from hardware.audio import host
from hardware.audio.convert import CaptureConverter, StreamFormat, choose_format
from hardware.audio.status import AudioStatus, Backoff, StatusCallback

log = logging.getLogger(__name__)


# How long an attempt to open the device may take before the thread counts as stuck.
RETRY_GRACE_SECONDS = 10.0


class MicrophoneStopped(Exception):
    """read() after stop(): no more audio will come."""


class Microphone:
    """Capture from a PortAudio device as `rate` Hz 16-bit mono chunks of `chunk_ms`."""

    def __init__(
        self,
        device: host.DeviceSpec = None,
        *,
        rate: int = 16000,
        chunk_ms: int = 40,
        on_status: StatusCallback | None = None,
        max_queue_chunks: int = 50,
        lossless: bool = False,
        device_rate: int | None = None,
        device_channels: int | None = None,
        retry_initial: float = 0.5,
        retry_max: float = 30.0,
    ) -> None:
        """`lossless` makes the reader wait for the consumer instead of dropping chunks:
        for file-backed devices that deliver faster than real time (tests, recordings).
        `device_rate` / `device_channels` force the capture format (default: probe)."""
        self.device = device
        self.rate = rate
        self.chunk_ms = chunk_ms
        self.chunk_bytes = rate * chunk_ms // 1000 * 2
        self.on_status = on_status
        self.lossless = lossless
        self.max_queue_chunks = max_queue_chunks
        self._forced = (device_rate, device_channels)
        self._backoff = Backoff(retry_initial, retry_max)
        self.last_chunk_at: float | None = None
        """time.monotonic() of the last chunk the capture thread produced (watchdog)."""
        self.format: StreamFormat | None = None
        """The format the device is opened with, once open."""
        self.device_name: str | None = None
        self.dropped_chunks = 0
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue(max_queue_chunks)
        self._credits = threading.Semaphore(max_queue_chunks)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._stopped = False
        self._paused = False
        self._wake = threading.Event()
        self._started = threading.Event()
        self._in_error = False
        self._last_attempt_at = 0.0
        self._logged_path: tuple[str, StreamFormat] | None = None

    # -- the asyncio face -------------------------------------------------

    async def start(self) -> None:
        """Start capturing; returns once the first attempt to open the device is done."""
        if self._thread is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name="microphone", daemon=True)
        self._thread.start()
        await asyncio.to_thread(self._started.wait, 10.0)

    async def read(self) -> bytes:
        """The next chunk of `chunk_bytes`; raises MicrophoneStopped after stop()."""
        if self._stopped and self._queue.empty():
            raise MicrophoneStopped
        chunk = await self._queue.get()
        if chunk is None:
            self._queue.put_nowait(None)  # later readers stop too
            raise MicrophoneStopped
        if self.lossless:
            self._credits.release()
        return chunk

    def __aiter__(self) -> Microphone:
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self.read()
        except MicrophoneStopped:
            raise StopAsyncIteration from None

    def pause(self) -> None:
        """Close the device (mute): no audio is captured until resume()."""
        self._paused = True
        self._wake.set()

    def resume(self) -> None:
        """Reopen the device after pause()."""
        self._paused = False
        self._wake.set()

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def retrying(self) -> bool:
        """The device is missing or failed, and the capture thread is alive and retrying it
        (its last attempt is no older than the longest backoff): an error state, not a hang."""
        thread = self._thread
        if not self._in_error or thread is None or not thread.is_alive():
            return False
        since = time.monotonic() - self._last_attempt_at
        return since < self._backoff.maximum + RETRY_GRACE_SECONDS

    def drain(self) -> int:
        """Throw away the chunks waiting in the queue (e.g. audio captured while muted)."""
        count = 0
        while not self._queue.empty():
            chunk = self._queue.get_nowait()
            if chunk is None:
                self._queue.put_nowait(None)
                break
            if self.lossless:
                self._credits.release()
            count += 1
        return count

    async def stop(self) -> None:
        """Stop capturing and close the device; pending and later read()s end."""
        self._stopping = True
        self._wake.set()
        self._credits.release()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 5.0)
        self._stopped = True
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    async def __aenter__(self) -> Microphone:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- on the loop, called from the thread ------------------------------

    def _deliver(self, chunk: bytes) -> None:
        if self._stopped:
            return
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped_chunks += 1
            if self.dropped_chunks == 1 or self.dropped_chunks % 100 == 0:
                log.warning(
                    "microphone consumer is lagging: dropped %d chunk(s) of old audio so far",
                    self.dropped_chunks,
                )
        self._queue.put_nowait(chunk)

    def _call_on_loop(self, callback: Any, *args: Any) -> bool:
        if self._loop is None:
            return False
        try:
            self._loop.call_soon_threadsafe(callback, *args)
            return True
        except RuntimeError:  # loop closed: the owner is gone
            self._stopping = True
            return False

    def _report(self, state: str, message: str) -> None:
        if self.on_status is not None:
            status = AudioStatus(_label(self.device), state, message)  # type: ignore[arg-type]
            self._call_on_loop(self.on_status, status)

    # -- the capture thread -----------------------------------------------

    def _run(self) -> None:
        stream: pyaudio.Stream | None = None
        converter: CaptureConverter | None = None
        pending = bytearray()
        try:
            while not self._stopping:
                self._wake.clear()
                if self._paused:
                    if stream is not None:
                        host.close_stream(stream)
                        stream = None
                        log.info("microphone closed (paused)")
                    self._started.set()
                    self._wake.wait(1.0)
                    continue
                if stream is None:
                    opened = self._open()
                    self._started.set()
                    if opened is None:
                        self._backoff.wait(self._wake)
                        continue
                    stream, converter = opened
                    pending.clear()
                assert converter is not None
                frames = converter.device.rate * self.chunk_ms // 1000
                try:
                    data = stream.read(frames, exception_on_overflow=False)
                except (OSError, ValueError) as exc:
                    self._last_attempt_at = time.monotonic()
                    self._failed(
                        f"microphone {self.device_name!r} stopped delivering audio ({exc})"
                    )
                    host.close_stream(stream)
                    stream = None
                    self._backoff.wait(self._wake)
                    continue
                pending += converter.convert(data)
                while len(pending) >= self.chunk_bytes and not self._stopping:
                    chunk = bytes(pending[: self.chunk_bytes])
                    del pending[: self.chunk_bytes]
                    self._emit(chunk)
        finally:
            if stream is not None:
                host.close_stream(stream)
            self._started.set()

    def _emit(self, chunk: bytes) -> None:
        self.last_chunk_at = time.monotonic()
        if self.lossless:
            while not self._credits.acquire(timeout=0.2):
                if self._stopping:
                    return
            if self._stopping:
                return
        self._call_on_loop(self._deliver, chunk)

    def _open(self) -> tuple[pyaudio.Stream, CaptureConverter] | None:
        self._last_attempt_at = time.monotonic()
        try:
            if self._in_error:
                host.rescan()  # a device plugged in since PortAudio started
            info = host.find_device(self.device, "input")
            fmt = choose_format(
                self.rate,
                info.default_rate,
                info.max_input_channels,
                lambda r, c: host.supports(info, "input", r, c),
                rate=self._forced[0],
                channels=self._forced[1],
            )
            frames = fmt.rate * self.chunk_ms // 1000
            stream = host.open_stream(
                format=pyaudio.paInt16,
                channels=fmt.channels,
                rate=fmt.rate,
                input=True,
                input_device_index=info.index,
                frames_per_buffer=frames,
            )
        except host.DeviceNotFound as exc:
            self._failed(f"microphone unavailable: {exc}")
            return None
        except (OSError, ValueError) as exc:
            self._failed(f"microphone {self.device!r} did not open ({exc})")
            return None
        self.format, self.device_name = fmt, info.name
        converter = CaptureConverter(fmt, self.rate)
        if self._logged_path != (info.name, fmt):
            self._logged_path = (info.name, fmt)
            if converter.converts:
                log.info(
                    "microphone %r: capturing %d Hz %d ch, converting to %d Hz mono (soxr)",
                    info.name,
                    fmt.rate,
                    fmt.channels,
                    self.rate,
                )
            else:
                log.info("microphone %r: capturing %d Hz mono directly", info.name, fmt.rate)
        if self._in_error:
            log.info("microphone %r is back", info.name)
        self._in_error = False
        self._backoff.reset()
        self._report("ok", f"microphone {info.name!r} capturing")
        return stream, converter

    def _failed(self, message: str) -> None:
        delay = self._backoff.next_delay
        if self._in_error:
            log.debug("%s; next try in %.1f s", message, delay)
            return
        log.warning(
            "%s; retrying in %.1f s, then at growing intervals up to %.0f s",
            message,
            delay,
            self._backoff.maximum,
        )
        self._in_error = True
        self._report("error", message)


def _label(device: host.DeviceSpec) -> str:
    return "default" if device is None else str(device)
