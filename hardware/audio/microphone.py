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
from collections.abc import Callable

import pyaudio

from hardware.audio import host
from hardware.audio.captured_chunk import join
from hardware.audio.convert import CaptureConverter, StreamFormat, pcm_bytes
from hardware.audio.device_thread import DeviceThread
from hardware.audio.status import RetryDelay, StatusCallback

log = logging.getLogger(__name__)


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
        processor: Callable[[bytes], bytes] | None = None,
        retry_initial: float = 0.5,
        retry_max: float = 30.0,
    ) -> None:
        """`lossless` makes the reader wait for the consumer instead of dropping chunks:
        for file-backed devices that deliver faster than real time (tests, recordings).
        `device_rate` / `device_channels` force the capture format (default: probe).
        `processor` runs on the capture thread on every chunk before it is delivered
        (echo cancellation: it must return a chunk of the same length)."""
        self.device = device
        self.rate = rate
        self.chunk_ms = chunk_ms
        self.chunk_bytes = pcm_bytes(chunk_ms, rate)
        self.on_status = on_status
        self.lossless = lossless
        self.processor = processor
        self.max_queue_chunks = max_queue_chunks
        self.last_chunk_at: float | None = None
        """time.monotonic() of the last chunk the capture thread produced (watchdog)."""
        self.format: StreamFormat | None = None
        """The format the device is opened with, once open."""
        self.device_name: str | None = None
        self.dropped_chunks = 0
        self.handover_chunks = 1
        """Chunks the capture thread joins into one hand-over to the loop. The owner
        raises it while nothing urgent listens (a quiet room: fewer loop wake-ups) and
        sets it back to 1 when every chunk matters at once; the next read then brings
        what was waiting, so the switch costs at most one chunk's time."""
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue(max_queue_chunks)
        self._credits = threading.Semaphore(max_queue_chunks)
        self._stopped = False
        self._converter: CaptureConverter | None = None
        self._pending = bytearray()
        self._waiting: list[bytes] = []  # chunks not yet handed over (handover_chunks > 1)
        self._logged_path: tuple[str, StreamFormat] | None = None
        self._device = DeviceThread(
            "microphone",
            device,
            "input",
            rate=rate,
            period_ms=chunk_ms,
            opened=self._opened,
            work=self._capture,
            on_status=on_status,
            forced=(device_rate, device_channels),
            retry=RetryDelay(retry_initial, retry_max),
        )

    # -- the asyncio face -------------------------------------------------

    async def start(self) -> None:
        """Start capturing; returns once the first attempt to open the device is done."""
        await self._device.start()

    async def read(self) -> bytes:
        """The next chunk: `chunk_bytes` times `handover_chunks` (as it was when the chunk
        was handed over); raises MicrophoneStopped after stop()."""
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

    @property
    def retrying(self) -> bool:
        """Missing or failed and being retried: the error state, not a hung daemon."""
        return self._device.retrying

    def pause(self) -> None:
        """Close the device (mute): no audio is captured until resume(), and a chunk
        still on its way from the device is dropped."""
        self._device.pause()

    def resume(self) -> None:
        """Reopen the device after pause()."""
        self._device.resume()

    @property
    def paused(self) -> bool:
        return self._device.paused

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
        self._device.request_stop()
        self._credits.release()  # a lossless reader waiting for room
        await self._device.join()
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
        if self._device.paused:  # captured as the mute began: nobody may hear it
            if self.lossless:
                self._credits.release()
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

    # -- the capture thread -----------------------------------------------

    def _capture(self, stream: pyaudio.Stream) -> None:
        """Read one chunk's worth from the device and hand whole chunks to the loop."""
        converter = self._converter
        assert converter is not None
        frames = converter.device.rate * self.chunk_ms // 1000
        self._pending += converter.convert(stream.read(frames, exception_on_overflow=False))
        while len(self._pending) >= self.chunk_bytes and not self._device.stopping:
            chunk = bytes(self._pending[: self.chunk_bytes])
            del self._pending[: self.chunk_bytes]
            self._emit(chunk)

    def _emit(self, chunk: bytes) -> None:
        self.last_chunk_at = time.monotonic()
        if self.processor is not None:
            chunk = self.processor(chunk)
        self._waiting.append(chunk)
        if len(self._waiting) < self.handover_chunks:
            return
        chunk = join(self._waiting)
        self._waiting.clear()
        if self.lossless and not self._wait_for_room():
            return
        self._device.call_on_loop(self._deliver, chunk)

    def _wait_for_room(self) -> bool:
        """Lossless: wait until the consumer has read a chunk; False (drop this one)
        on stop, or on pause, which closes the device without waiting for a reader."""
        while not self._credits.acquire(timeout=0.2):
            if self._device.stopping or self._device.paused:
                return False
        return not self._device.stopping

    def _opened(self, stream: pyaudio.Stream, info: host.DeviceInfo, fmt: StreamFormat) -> None:
        self.format, self.device_name = fmt, info.name
        self._converter = CaptureConverter(fmt, self.rate)
        self._pending.clear()
        self._waiting.clear()  # from before a pause or a failure: not glued to new audio
        if self._logged_path == (info.name, fmt):
            return
        self._logged_path = (info.name, fmt)
        if self._converter.converts:
            log.info(
                "microphone %r: capturing %d Hz %d ch, converting to %d Hz mono (soxr)",
                info.name,
                fmt.rate,
                fmt.channels,
                self.rate,
            )
        else:
            log.info("microphone %r: capturing %d Hz mono directly", info.name, fmt.rate)
