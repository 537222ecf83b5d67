"""The speaker: the model's 24 kHz voice and short local sounds, stoppable at once.

play() only queues; a writer thread converts (soxr, stateful across chunks),
mixes sounds over the voice and the background channel (music, radio: fed by
feed_background(), with its own gain for ducking) under both, applies the
volume and writes small blocks to PortAudio. Because only one small block is ever in flight, flush() silences
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
from hardware.audio.background import BackgroundChannel
from hardware.audio.convert import StreamFormat, upmix
from hardware.audio.device_thread import DeviceThread
from hardware.audio.mixer import Mixer
from hardware.audio.sounds import load_sound
from hardware.audio.status import RetryDelay, StatusCallback
from hardware.audio.wav import WavError

log = logging.getLogger(__name__)

MODEL_RATE = 24000
KEEP_RUNNING_SECONDS = 1.0
"""How long the stream keeps running on silence after the queue runs dry."""
KEEP_RUNNING_ECHO_CANCELLED_SECONDS = 60.0
"""The same with an echo canceller listening: a restarted stream plays with another
delay, and the canceller leaks the start of the next reply while it finds it again."""
SILENCE_AHEAD_S = 0.25
"""Filler written ahead of the clock beyond this waits (more than any device buffer)."""


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
        far_end: Callable[[np.ndarray, int], None] | None = None,
        device_rate: int | None = None,
        device_channels: int | None = None,
        keep_running: float | None = None,
        retry_initial: float = 0.5,
        retry_max: float = 30.0,
    ) -> None:
        """`rate` is the rate play() assumes and the one the device is asked for first.
        Blocks of `block_ms` are written into a device buffer of periods of `buffer_ms`
        (shorter periods underrun on a loaded machine; longer ones delay a flush;
        `device_underruns` counts the device running dry).
        `on_playout_start(t)` is called on the loop with the time.monotonic() at which
        the first block after silence went to the device. `far_end(samples, rate)` is
        called on the writer thread with every mono block written, after the volume:
        the echo canceller's reference. `keep_running`: seconds the stream runs on written
        silence after the audio runs out (default: 1 s, a minute with `far_end`)."""
        self.device = device
        self.rate = rate
        self.block_ms = block_ms
        self.buffer_ms = buffer_ms
        self.on_status = on_status
        self.on_playout_start = on_playout_start
        self.far_end = far_end
        if keep_running is None:
            keep_running = KEEP_RUNNING_SECONDS if far_end is None else KEEP_RUNNING_ECHO_CANCELLED_SECONDS
        self.keep_running = keep_running
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
        self._background = BackgroundChannel()
        self._output: _Output | None = None
        self._underruns_before = 0  # of streams closed since (a reopened device)
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

    # -- the background channel (music) ------------------------------------

    def feed_background(self, pcm: bytes, rate: int) -> bool:
        """Queue 16-bit mono PCM at `rate` for the background channel; False when its
        bounded queue has no room for it (nothing queued: try again once it played)."""
        with self._cond:
            taken = self._background.push(pcm, rate)
            if taken:
                self._cond.notify()
        return taken

    def background_queued(self) -> float:
        """Seconds of background audio queued and not yet written."""
        with self._cond:
            return self._background.queued_seconds()

    def background_room(self) -> float:
        """Seconds of background audio that would still fit."""
        with self._cond:
            return self._background.room_seconds()

    def set_background_gain(self, gain: float, ramp_s: float = 0.05) -> None:
        """The background's amplitude factor (under the volume), reached over `ramp_s`
        from the next block written: ducking is heard within a block plus the device buffer."""
        with self._cond:
            self._background.set_gain(gain, ramp_s)

    def pause_background(self, paused: bool) -> None:
        """Hold the background where it is (its queue keeps what it has) or go on."""
        with self._cond:
            self._background.paused = paused
            self._cond.notify()

    def clear_background(self) -> None:
        """Drop the queued background audio (stop, a new track)."""
        with self._cond:
            self._background.clear()
            self._cond.notify()

    @property
    def background_gain(self) -> float:
        """The background gain the last written block ended at (after its ramp)."""
        return self._background.gain

    @property
    def background_ramp_done_at(self) -> float | None:
        """time.monotonic() when the last gain change was fully applied in a block mixed."""
        return self._background.ramp_done_at

    @property
    def background_underruns(self) -> int:
        return self._background.underruns

    @property
    def device_underruns(self) -> int:
        """Times a block found the device's buffer empty while audio was flowing (the
        writer came too late: a gap heard), not counting pauses between replies."""
        return self._output.underruns if self._output is not None else self._underruns_before

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
        mixer = Mixer(self.format.rate, self.format.rate * self.block_ms // 1000)
        output = _Output(stream, self.format.channels, self.keep_running)
        output.underruns = self.device_underruns
        self._output = output
        try:
            self._write_blocks(mixer, output)
        finally:
            self._underruns_before = output.underruns
            self._output = None

    def _write_blocks(self, mixer: Mixer, output: _Output) -> None:
        while not self._device.stopping:
            submitted = self._take_queued(mixer)
            with self._cond:
                under = self._background.take(mixer.block, mixer.rate)
            if mixer.has_audio() or len(under):
                block = mixer.next_block(self._gain, under)
                if self.far_end is not None:
                    self.far_end(block, mixer.rate)
                if output.write(block):
                    self._playout_started()
            elif self._ran_dry(submitted):
                gap_left = output.gap_left()
                if gap_left is not None and self.far_end is not None:
                    # Echo cancelled: silence is written, not left to underrun, so a
                    # block plays the same time after it is written all reply long.
                    silent = np.zeros(mixer.block, np.int16)
                    self.far_end(silent, mixer.rate)
                    output.write(silent, silence=True)
                    output.pace_silence(mixer.block / mixer.rate)
                    continue
                output.pause()
                self._wait_for_more(0.5 if gap_left is None else min(0.05, gap_left))

    def _take_queued(self, mixer: Mixer) -> int:
        """Hand what play(), play_sound() and flush() asked for to the mixer.

        Returns how many play requests that covers, for the drained signal."""
        with self._cond:
            if self._flush_requested:
                self._flush_requested = False
                mixer.clear()
            mixer.take_voice(self._voice)
            names = list(self._sounds)
            self._sounds.clear()
            submitted = self._submitted
        for name in names:  # loading may read a file: not under the lock
            clip = self._sound(name, mixer.rate)
            if clip is not None:
                mixer.add_sound(clip)
        return submitted

    def _ran_dry(self, submitted: int) -> bool:
        """True if nothing new is waiting; then everything up to `submitted` has
        been written, which wait_drained() hears (once)."""
        with self._cond:
            if self._work_waiting():
                return False
            if submitted == self._submitted and self._completed != submitted:
                self._completed = submitted
                self._device.call_on_loop(self._mark_drained, submitted)
        return True

    def _wait_for_more(self, seconds: float) -> None:
        with self._cond:
            if not self._work_waiting():
                self._cond.wait(seconds)

    def _work_waiting(self) -> bool:
        """Under the lock: something to play, a flush or a stop."""
        return bool(
            self._voice
            or self._sounds
            or self._flush_requested
            or self._device.stopping
            or self._background.has_audio()
        )

    def _playout_started(self) -> None:
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
            self._background.clear()  # stale by the time the device is back
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


class _Output:
    """The open stream, kept running through the short gaps between reply chunks.

    A reply arrives in chunks with gaps between them. Stopping the stream at
    every gap loses what PulseAudio/PipeWire still holds, so it keeps running
    through short gaps (an underrun there is just silence) and stops only
    after a real pause: Pa_StopStream returns once the device buffer has
    played out, and a stopped stream cannot underrun while nothing is said.
    """

    def __init__(self, stream: pyaudio.Stream, channels: int, keep_running: float) -> None:
        self._stream = stream
        self._keep_running = keep_running
        self._channels = channels
        self._writing = False  # blocks went out since the last silence
        self._idle_since: float | None = None  # when the audio last ran out while writing
        self._silence_written = 0.0  # seconds of filler since then
        self._flowing = False  # the last block went out with nothing left to write after it
        self._dry = False  # the last block found the device buffer empty
        self._buffer_frames = 0  # the device buffer's size: what is writable when it is empty
        self.underruns = 0
        """Times the device buffer was found empty while audio was flowing (once a gap)."""

    def write(self, samples: np.ndarray, *, silence: bool = False) -> bool:
        """Write one block (blocks while the device buffer is full); True if it is
        the first after silence. `silence`: filler in a gap, which keeps counting."""
        if not silence:
            self._idle_since = None
            self._silence_written = 0.0
        if self._stream.is_stopped():
            self._stream.start_stream()
            self._flowing = False
            self._buffer_frames = self._stream.get_write_available()  # empty, not yet started
        else:
            # After a gap the pulse plugin reports it empty for a few writes: one underrun.
            dry = self._flowing and self._stream.get_write_available() >= self._buffer_frames > 0
            self.underruns += dry and not self._dry
            self._dry = dry
        # Not exception_on_underflow: after raising it, PyAudio's stream only says "closed".
        self._stream.write(upmix(samples, self._channels).tobytes())
        self._flowing = True
        first = not self._writing
        self._writing = True
        return first

    def pace_silence(self, seconds: float) -> None:
        """Filler goes out no faster than it plays: a device whose writes never
        block (a file, a null sink) would otherwise spin for the whole gap."""
        if self._idle_since is None:
            return
        self._silence_written += seconds
        ahead = self._silence_written - (time.monotonic() - self._idle_since)
        if ahead > SILENCE_AHEAD_S:
            time.sleep(ahead - SILENCE_AHEAD_S)

    def pause(self) -> None:
        """Nothing to write for now: the device running dry in this gap is no underrun."""
        self._flowing = False

    def gap_left(self) -> float | None:
        """With no audio to write: seconds the stream keeps running on silence, or
        None once it is stopped."""
        if not self._writing:
            return None
        now = time.monotonic()
        self._idle_since = self._idle_since or now
        left = self._keep_running - (now - self._idle_since)
        if left > 0:
            return left
        self._writing = False
        self._idle_since = None
        self._silence_written = 0.0
        self._stream.stop_stream()
        return None
