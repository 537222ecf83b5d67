"""The speaker: the model's 24 kHz voice and short local sounds, stoppable at once.

play() only queues; a writer thread converts (soxr, stateful across chunks),
mixes sounds over the voice, applies the volume and writes small blocks to
PortAudio. Because only one small block is ever in flight, flush() silences
the speaker within the device's own buffer plus one block: that is what makes
an interruption feel immediate.

    speaker = Speaker("Headphones", volume=70)
    await speaker.start()
    speaker.play(pcm_24k)
    speaker.flush()              # the user interrupted
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
import time
from collections.abc import Callable

import numpy as np
import pyaudio

from hardware.audio import host
from hardware.audio.convert import (
    PlaybackResampler,
    StreamFormat,
    float_to_int16,
    int16_to_float,
    upmix,
)
from hardware.audio.device_thread import DeviceThread
from hardware.audio.sounds import load_sound
from hardware.audio.status import RetryDelay, StatusCallback
from hardware.audio.wav import WavError

log = logging.getLogger(__name__)

MODEL_RATE = 24000
KEEP_RUNNING_SECONDS = 1.0
"""How long the stream keeps running on silence after the queue runs dry."""


def volume_gain(percent: float) -> float:
    """Amplitude factor for a volume percentage: square law, so 50 % sounds about half as loud."""
    return (max(0.0, min(100.0, percent)) / 100.0) ** 2


class Speaker:
    """Play 16-bit mono PCM and sounds on a PortAudio device, with flush and volume."""

    def __init__(
        self,
        device: host.DeviceSpec = None,
        *,
        volume: float = 80,
        rate: int = MODEL_RATE,
        block_ms: int = 20,
        buffer_ms: int = 50,
        on_status: StatusCallback | None = None,
        on_playout_start: Callable[[float], None] | None = None,
        device_rate: int | None = None,
        device_channels: int | None = None,
        retry_initial: float = 0.5,
        retry_max: float = 30.0,
    ) -> None:
        """`rate` is the rate play() assumes and the one the device is asked for first.
        Blocks of `block_ms` are written into a device buffer of periods of `buffer_ms`
        (shorter periods underrun on a loaded machine; longer ones delay a flush).
        `on_playout_start(t)` is called on the loop with the time.monotonic() at which
        the first block after silence went to the device."""
        self.device = device
        self.rate = rate
        self.block_ms = block_ms
        self.buffer_ms = buffer_ms
        self.on_status = on_status
        self.on_playout_start = on_playout_start
        self._gain = volume_gain(volume)
        self._volume = float(volume)
        self.format: StreamFormat | None = None
        """The format the device is opened with, once open."""
        self.device_name: str | None = None
        self.output_latency: float = 0.0
        """PortAudio's reported output latency of the open stream, in seconds."""
        self.playout_started_at: float | None = None
        """time.monotonic() when the first samples after silence were written."""
        self._cond = threading.Condition()
        self._voice: collections.deque[tuple[bytes, int]] = collections.deque()
        self._sounds: collections.deque[str] = collections.deque()
        self._flush_requested = False
        self._submitted = 0
        self._completed = 0
        self._drained = asyncio.Event()
        self._drained.set()
        self._sound_cache: dict[str, np.ndarray] = {}
        self._device = DeviceThread(
            "speaker",
            device,
            "output",
            rate=rate,
            period_ms=buffer_ms,
            opened=self._opened,
            work=self._play_until_idle,
            lost=self._discard_queued,
            on_status=on_status,
            forced=(device_rate, device_channels),
            start_running=False,
            retry=RetryDelay(retry_initial, retry_max),
        )

    # -- the asyncio face -------------------------------------------------

    async def start(self) -> None:
        """Open the device; returns once the first attempt is done (errors are retried)."""
        await self._device.start()

    def play(self, pcm: bytes, rate: int | None = None) -> None:
        """Queue 16-bit mono PCM (default rate: the model's 24 kHz); returns at once."""
        if not pcm:
            return
        self._submit(lambda: self._voice.append((pcm, rate or self.rate)))

    def play_sound(self, name_or_path: str) -> None:
        """Queue a built-in sound (`chime`, `buzz`) or a WAV file, mixed over any voice."""
        self._submit(lambda: self._sounds.append(name_or_path))

    def flush(self) -> None:
        """Drop everything queued: only what the device already holds still sounds."""
        with self._cond:
            self._voice.clear()
            self._sounds.clear()
            self._flush_requested = True
            self._cond.notify()

    def set_volume(self, percent: float) -> None:
        """Change the volume (0-100) for the next block written."""
        self._volume = float(max(0.0, min(100.0, percent)))
        self._gain = volume_gain(self._volume)

    @property
    def volume(self) -> float:
        return self._volume

    @property
    def is_playing(self) -> bool:
        """True from play() until the audio has left the device."""
        return not self._drained.is_set()

    async def wait_drained(self) -> None:
        """Wait until everything queued so far has been played (or flushed)."""
        await self._drained.wait()

    async def stop(self) -> None:
        """Stop at once (queued audio is dropped) and close the device."""
        self._device.request_stop()
        with self._cond:
            self._cond.notify()
        await self._device.join()
        self._drained.set()

    async def __aenter__(self) -> Speaker:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _submit(self, add: Callable[[], None]) -> None:
        with self._cond:
            add()
            self._submitted += 1
            self._cond.notify()
        self._drained.clear()

    # -- on the loop, called from the thread ------------------------------

    def _mark_drained(self, upto: int) -> None:
        if upto == self._submitted:
            self._drained.set()

    # -- the writer thread -----------------------------------------------

    def _play_until_idle(self, stream: pyaudio.Stream) -> None:
        """Write blocks while there is audio; when idle, wait for more; returns on stop."""
        assert self.format is not None
        fmt = self.format
        block = fmt.rate * self.block_ms // 1000
        voice = _Buffer()
        sounds = _Buffer()
        resampler: PlaybackResampler | None = None
        writing = False  # blocks went out since the last silence
        idle_since: float | None = None  # when the queue last ran dry while writing
        while not self._device.stopping:
            with self._cond:
                if self._flush_requested:
                    self._flush_requested = False
                    voice.clear()
                    sounds.clear()
                    resampler = None
                # Convert just enough incoming voice for the next block (keeps flush cheap).
                while len(voice) < block and self._voice:
                    pcm, rate = self._voice.popleft()
                    if resampler is None or resampler.in_rate != rate:
                        resampler = PlaybackResampler(rate, fmt.rate)
                    voice.push(resampler.convert(int16_to_float(pcm)))
                if len(voice) < block and not self._voice and resampler is not None:
                    # The reply ran out: let the resampler's last few samples out too.
                    voice.push(resampler.convert(np.zeros(0, np.float32), last=True))
                    resampler = None
                names = list(self._sounds)
                self._sounds.clear()
                submitted = self._submitted
            for name in names:
                clip = self._sound(name, fmt.rate)
                if clip is not None:
                    sounds.push(clip)
            if not len(voice) and not len(sounds):
                with self._cond:
                    if self._voice or self._sounds or self._flush_requested or self._device.stopping:
                        continue
                    if submitted == self._submitted and self._completed != submitted:
                        self._completed = submitted
                        self._device.call_on_loop(self._mark_drained, submitted)
                if writing:
                    # A reply arrives in chunks with gaps between them. Stopping the
                    # stream at every gap loses what PulseAudio/PipeWire still holds,
                    # so keep it running through short gaps (an underrun there is just
                    # silence) and stop only after a real pause.
                    idle_since = idle_since or time.monotonic()
                    idle = time.monotonic() - idle_since
                    if idle < KEEP_RUNNING_SECONDS:
                        with self._cond:
                            if not (self._voice or self._sounds or self._flush_requested):
                                self._cond.wait(min(0.05, KEEP_RUNNING_SECONDS - idle))
                        continue
                    # Pa_StopStream returns once the device buffer has played out, and
                    # a stopped stream cannot underrun while nothing is said.
                    writing = False
                    idle_since = None
                    stream.stop_stream()
                with self._cond:
                    if not (self._voice or self._sounds or self._flush_requested or self._device.stopping):
                        self._cond.wait(0.5)
                continue
            idle_since = None
            mix = np.zeros(max(min(len(voice), block), min(len(sounds), block)), np.float32)
            v = voice.take(block)
            s = sounds.take(block)
            mix[: len(v)] += v
            mix[: len(s)] += s
            samples = float_to_int16(mix * self._gain)
            if stream.is_stopped():
                stream.start_stream()
            stream.write(upmix(samples, fmt.channels).tobytes())
            if not writing:
                writing = True
                self.playout_started_at = time.monotonic()
                if self.on_playout_start is not None:
                    self._device.call_on_loop(self.on_playout_start, self.playout_started_at)

    def _sound(self, name: str, rate: int) -> np.ndarray | None:
        key = f"{name}@{rate}"
        if key not in self._sound_cache:
            try:
                self._sound_cache[key] = load_sound(name, rate)
            except WavError as exc:
                log.warning("sound not played: %s", exc)
                return None
            if len(self._sound_cache) > 16:
                self._sound_cache.pop(next(iter(self._sound_cache)))
        return self._sound_cache[key]

    def _discard_queued(self) -> None:
        with self._cond:
            dropped = len(self._voice) + len(self._sounds)
            self._voice.clear()
            self._sounds.clear()
            submitted = self._submitted
        if dropped:
            log.debug("speaker unavailable: dropped %d queued item(s)", dropped)
        self._device.call_on_loop(self._mark_drained, submitted)

    def _opened(self, stream: pyaudio.Stream, info: host.DeviceInfo, fmt: StreamFormat) -> None:
        if (self.device_name, self.format) != (info.name, fmt):
            how = "directly" if fmt.rate == self.rate and fmt.channels == 1 else "via soxr"
            log.info("speaker %r: playing %d Hz %d ch (%s)", info.name, fmt.rate, fmt.channels, how)
        self.format, self.device_name = fmt, info.name
        self.output_latency = float(stream.get_output_latency())

class _Buffer:
    """A FIFO of float32 samples fed in arbitrary pieces and read in blocks."""

    def __init__(self) -> None:
        self._parts: collections.deque[np.ndarray] = collections.deque()
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def push(self, samples: np.ndarray) -> None:
        if len(samples):
            self._parts.append(samples)
            self._size += len(samples)

    def take(self, count: int) -> np.ndarray:
        out: list[np.ndarray] = []
        while count > 0 and self._parts:
            head = self._parts[0]
            if len(head) <= count:
                out.append(self._parts.popleft())
            else:
                out.append(head[:count])
                self._parts[0] = head[count:]
            count -= len(out[-1])
            self._size -= len(out[-1])
        return np.concatenate(out) if out else np.zeros(0, np.float32)

    def clear(self) -> None:
        self._parts.clear()
        self._size = 0
