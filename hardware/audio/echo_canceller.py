"""Acoustic echo cancellation and noise suppression for the microphone (WebRTC APM).

The speaker hands over exactly what it writes (voice and chimes, after the
volume) as the far-end reference; the microphone passes every captured chunk
through `process_capture()`. WebRTC's AEC3 (from the `livekit` package's
`rtc.AudioProcessingModule`, 10 ms frames at 16 kHz) subtracts the speaker's
sound as the room returned it; its own delay estimator finds the echo path,
starting from the playout delay we tell it.

Until the module has shown it removes the echo (`removes_echo`: about a second
of sound on each new speaker stream, and again whenever the pairing of the two
streams had to move) the daemon treats the speaker as half duplex: the model's
voice may still come through.

When nothing has been played for `idle_after` seconds the capture bypasses
the module (unless noise suppression is asked for on the idle path): there is
no echo to remove then, and the wake word works as well on the bare signal.

The first moments of a sound after a long silence are not trusted either
(`ONSET_HOLD_FRAMES`): AEC3 follows the echo path only while there is sound,
and if the path moved meanwhile it leaks there.

    canceller = EchoCanceller()       # EchoCancellerUnavailable if the library does not load
    canceller = EchoCanceller(load_at_first_sound=True)  # the daemon's: loaded when needed
    speaker = Speaker(..., far_end=canceller.far_end)
    mic = Microphone(..., processor=canceller.process_capture)
"""

from __future__ import annotations

import collections
import importlib.util
import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import soxr

from hardware.audio.captured_chunk import CapturedChunk
from hardware.audio.linear_echo_filter import LinearEchoFilter

log = logging.getLogger(__name__)

RATE = 16000
FRAME = RATE // 100  # the module takes exactly 10 ms frames
IDLE_AFTER_SECONDS = 2.0
"""How long after the speaker last played the capture stops going through the module."""
LEAD_FRAMES = 2
"""Silent far-end frames put before a new stream's first: room for either thread to
run a little late. It shortens the delay the module sees by as much, so it stays
well under the shortest echo delay (a device buffer, half a mic chunk, the air)."""
STREAM_GAP_SECONDS = 0.2
"""No far end for this long: the speaker's stream stopped, the next is a new one."""
SILENT_FRAME = np.zeros(FRAME, np.int16)
FarFrame = tuple[np.ndarray, bool]
"""A 10 ms far-end frame and whether the speaker was sounding in it."""
SILENT_FAR: FarFrame = (SILENT_FRAME, False)
LEARN_WINDOW_FRAMES = 50
"""Frames with the speaker sounding over which the canceller's work is judged (0.5 s)."""
LEARN_WINDOWS = 2
"""Windows in a row that must pass: one good half second can fall inside a leak."""
ONSET_AFTER_SILENT_FRAMES = 100
"""The speaker silent for this much of its audio (1 s): its next sound is an onset."""
ONSET_HOLD_FRAMES = 70
"""Capture frames (0.7 s from when the onset is written, about 0.5 s of it heard)
during which `removes_echo` says no. In an offline room whose echo came 5 ms later
after a pause, AEC3 let the next answer's echo through at -42 dBFS from 0.24 to
0.36 s into it (a service's eager voice detector takes 60 ms of that for speech)."""
ONSET_WINDOW_FRAMES = 25
"""Frames with the speaker sounding per judgement while an onset is held (0.25 s)."""
ONSET_HOLD_MAX_FRAMES = 120
"""Past the shortest hold it goes on while the last quarter second of sound was not
shown echo-free (in the real-time room with a 100 ms echo delay, leaks came 0.4-0.7 s
into an answer), but no longer than this (1.2 s): a voice said over the onset fails
that judgement too, and talking over the answer must not wait for the speaker to stop."""
SETTLE_SOUND_SECONDS = 8.0
"""Seconds of speaker sound a freshly loaded module must go through before its output
is trusted at all. Until AEC3 has found how much echo the room returns it damps the
near end with it: a voice said 1-5 s into a tone or a speech-like sound at the speaker
came out at 12-40 % of its level with no echo path, 46-89 % with the echo 10 dB down,
and whole after 7 s of sound (offline; docs/echo-cancellation.md, "Its first seconds").
Meanwhile the microphone goes on as it came, as with echo cancellation off, and
`removes_echo` says no: half duplex, and the wake and stop words hear the bare mic."""
LEARNED_ERLE_DB = 15.0
"""The echo is this much weaker after the module than before: it is being removed."""
QUIET_RMS = 100.0
"""Or what comes out while the speaker sounds is this quiet (-50 dBFS): no echo worth
removing reaches the microphone (a far speaker, a low volume)."""
SOUNDING_RMS = 30.0
"""A far-end frame louder than this (-60 dBFS) is the speaker making a sound."""
FAR_WAIT_SECONDS = 0.15
"""How long a capture chunk may wait for the speaker's frames that go with it: the
microphone's sound server sometimes delivers a chunk a whole chunk early (two at
once), and the speaker writes in device periods (50 ms). Seen in the room: 60 ms
was not always enough."""
LINEAR_TRUSTED_DB = 15.0
"""The linear filter's output goes to the detectors once it takes the echo this much
down (or leaves it below QUIET_RMS), judged over LEARN_WINDOW_FRAMES with the speaker
sounding and nobody talking (AEC3's output quiet)."""
LINEAR_DELAY_MARGIN_MS = 40
"""The linear filter starts looking for the echo this long before the delay it is
given (the pairing's lead and a device period of error)."""
MAX_FAR_AHEAD_FRAMES = 50
"""More far-end frames than this between two capture chunks (0.5 s; a device buffer
and a chunk are far less): the microphone is not running, so none are kept."""


class EchoCancellerUnavailable(RuntimeError):
    """The WebRTC audio processing library is missing or does not load on this machine."""


def load_module(**features: bool) -> tuple[Any, Any]:
    """A new rtc.AudioProcessingModule and the AudioFrame class it takes; or
    EchoCancellerUnavailable, saying why not."""
    try:
        from livekit import rtc
    except Exception as exc:  # ImportError, or a shared library that does not load
        raise EchoCancellerUnavailable(
            f"the livekit package does not load ({exc}); pip install livekit"
        ) from exc
    try:
        return rtc.AudioProcessingModule(**features), rtc.AudioFrame
    except Exception as exc:
        raise EchoCancellerUnavailable(f"WebRTC audio processing failed to start: {exc}") from exc


def stop_library() -> None:
    """Stop livekit's runtime while the interpreter is whole. Left to its own atexit
    handler, a worker thread of it once called back into a Python 3.13 already
    shutting down, and aborted. livekit offers no public call for it."""
    ffi = sys.modules.get("livekit.rtc._ffi_client")
    client = getattr(getattr(ffi, "FfiClient", None), "_instance", None)
    if client is not None:
        client._dispose()


class EchoCanceller:
    """Removes the speaker's sound from the microphone; thread-safe (speaker and mic threads)."""

    def __init__(
        self,
        *,
        echo_cancellation: bool = True,
        noise_suppression: bool = False,
        high_pass_filter: bool = True,
        auto_gain_control: bool = False,
        process_when_idle: bool = False,
        idle_after: float = IDLE_AFTER_SECONDS,
        delay_ms: int = 0,
        settle_seconds: float = SETTLE_SOUND_SECONDS,
        load_at_first_sound: bool = False,
        detector_filter: bool = True,
        wrap_module: Callable[[Any], Any] | None = None,
    ) -> None:
        """`process_when_idle` keeps the module on while nothing plays (for noise
        suppression); `delay_ms` is the first guess of the echo delay; `settle_seconds`
        of the speaker's sound pass before the output is used (tests of what comes
        after give 0); `load_at_first_sound` loads the WebRTC library on a thread of its
        own when the speaker first sounds, not now (only whether it is installed is
        checked now): a speaker that is never spoken to does not carry its 13 MB, and
        until it has settled the microphone goes on as it came anyway; `detector_filter`
        also runs the linear filter whose output the detectors hear (`detector_audio`
        of each chunk returned) once it is shown to work; `wrap_module`
        stands between this class and the WebRTC module (to watch what it is given)."""
        self._features = {
            "echo_cancellation": echo_cancellation,
            "noise_suppression": noise_suppression,
            "high_pass_filter": high_pass_filter,
            "auto_gain_control": auto_gain_control,
        }
        self._wrap_module = wrap_module
        self._apm: Any = None
        self._frame_type: Any = None
        self._reused_frames: tuple[Any, Any] | None = None
        self._loader: threading.Thread | None = None
        if load_at_first_sound:
            if importlib.util.find_spec("livekit") is None:
                raise EchoCancellerUnavailable(
                    "the livekit package is not installed; pip install livekit")
        else:
            self._apm, self._frame_type = self._new_module()
        self.echo_cancellation = echo_cancellation
        self.process_when_idle = process_when_idle
        self.idle_after = idle_after
        self._lock = threading.Lock()
        self._far_arrived = threading.Condition(self._lock)
        self._far_pending = np.zeros(0, np.int16)
        self._far_frames: collections.deque[FarFrame] = collections.deque()
        """10 ms far-end frames written by the speaker, not yet paired with a capture frame."""
        self._far_written_at = -1e9  # time.monotonic() of the last far_end()
        self._far_since_capture = 0  # far-end frames handed over since the last capture
        self.far_end_late = 0
        """Capture frames that went without their far-end frame (it came too late)."""
        self._removes_echo = False
        self.settle_seconds = settle_seconds
        self._settle_frames_left = round(settle_seconds * 100) if echo_cancellation else 0
        self._learn_in = 0.0  # energy in and out over this window's sounding frames
        self._learn_out = 0.0
        self._learn_frames = 0
        self._learn_passed = 0  # windows in a row that passed
        self._far_silent_run = 0  # far-end frames in a row without sound
        self._onset_frames: int | None = None  # capture frames since an onset, while held
        self._onset_clear = False  # the last quarter second judged after it was echo-free
        self.onsets_held = 0
        """Sounds after a long silence whose start was not trusted (for the log, the tests)."""
        self.erle_db: float | None = None
        """The echo removed over the last window judged (dB), for the log."""
        self._learn_sounding = 0  # frames with the speaker sounding since learning began
        self.learned_after_s: float | None = None
        """Seconds of the speaker's sound it took to show it removes the echo (last time)."""
        self._near_pending = np.zeros(0, np.int16)
        self._out = bytearray()  # processed, not yet handed back
        self.detector_filter = echo_cancellation and detector_filter
        self._linear: LinearEchoFilter | None = None
        self._linear_out = bytearray()  # the same, through the linear filter
        self._linear_trusted = False
        self._linear_judged: list[float] = []  # this window's frames: echo reduction (dB)
        self._linear_failed = 0  # windows in a row it did not pass
        self._resampler: Any = None
        self._resampler_rate = 0
        self._last_far = -1e9  # time.monotonic() of the last far-end block
        self._delay_ms = -1
        self.set_delay_ms(delay_ms)
        self.frames_processed = 0
        """Capture frames that went through the module (the rest bypassed it)."""
        self.errors = 0
        """Frames the module refused (passed on as they were)."""

    def _new_module(self) -> tuple[Any, Any]:
        module, frame_type = load_module(**self._features)
        return (module if self._wrap_module is None else self._wrap_module(module)), frame_type

    def _load(self) -> None:
        """The loader thread: the library, then the module, handed over under the lock."""
        try:
            module, frame_type = self._new_module()
        except EchoCancellerUnavailable as exc:  # stays unloaded: half duplex
            log.error("echo cancellation cannot run: %s; half duplex", exc)
            return
        with self._lock:
            if self.echo_cancellation and self._delay_ms >= 0:
                module.set_stream_delay_ms(self._delay_ms)
            self._apm, self._frame_type = module, frame_type
        log.info("echo canceller: WebRTC module loaded at the speaker's first sound")

    def _frames(self) -> tuple[Any, Any]:
        """The near-end and far-end frames handed to the module: made once, refilled in
        place (the module changes the near one in place: that is its output)."""
        if self._reused_frames is None:
            self._reused_frames = (
                self._frame_type(bytearray(2 * FRAME), RATE, 1, FRAME),
                self._frame_type(bytearray(2 * FRAME), RATE, 1, FRAME),
            )
        return self._reused_frames

    @property
    def loaded(self) -> bool:
        """The WebRTC module is there (at once, or since the speaker first sounded)."""
        return self._apm is not None

    def set_delay_ms(self, delay_ms: int) -> None:
        """The playout plus capture delay: where the delay estimator starts looking."""
        delay_ms = int(max(0, min(500, delay_ms)))
        if self.echo_cancellation and delay_ms != self._delay_ms:
            with self._lock:
                if self._apm is not None:  # else given to it when it loads
                    self._apm.set_stream_delay_ms(delay_ms)
                self._delay_ms = delay_ms
                if self.detector_filter:
                    bulk = max(0, delay_ms - LINEAR_DELAY_MARGIN_MS) // 10
                    self._linear = LinearEchoFilter(bulk_delay_frames=bulk)
                    self._linear_trusted = False

    @property
    def removes_echo(self) -> bool:
        """The module has shown, since the speaker's stream started or the pairing
        last moved, that it removes the echo (or that none worth removing comes back). Until then the model's
        voice may come through, so the daemon does not send the microphone while it
        talks: a new stream may play with another delay, and at the first answer
        after start-up the module knows nothing of the room yet."""
        if not self.echo_cancellation:
            return True
        return self.settled and self._removes_echo and self._onset_frames is None

    @property
    def detectors_hear_linear(self) -> bool:
        """The detectors hear the linear filter's output (it has shown it takes the
        echo out) rather than AEC3's suppressed one."""
        return self._linear_trusted

    @property
    def settled(self) -> bool:
        """The module has been through SETTLE_SOUND_SECONDS of the speaker's sound since
        it was loaded: until then the capture comes out as it went in."""
        return self._settle_frames_left == 0

    @property
    def active(self) -> bool:
        """The capture goes through the module now (something played recently)."""
        return self.process_when_idle or time.monotonic() - self._last_far < self.idle_after

    def _failed(self, exc: Exception) -> None:
        self.errors += 1
        if self.errors == 1 or self.errors % 1000 == 0:
            log.warning("echo canceller failed on a frame (%d so far): %s", self.errors, exc)

    # -- the speaker's thread ----------------------------------------------------------

    def far_end(self, samples: np.ndarray, rate: int) -> None:
        """What the speaker just wrote: int16 mono at the device's rate, after the volume.

        Queued, not handed to the module yet: the capture side hands one frame over
        before each frame it processes (see `_next_far_frame`)."""
        if not self.echo_cancellation or not len(samples):
            return
        if samples.any():
            self._last_far = time.monotonic()
            if self._apm is None and self._loader is None:
                self._loader = threading.Thread(
                    target=self._load, name="echo-canceller-load", daemon=True)
                self._loader.start()
        if rate != RATE:
            if self._resampler is None or self._resampler_rate != rate:
                self._resampler = soxr.ResampleStream(rate, RATE, 1, dtype="int16", quality="LQ")
                self._resampler_rate = rate
            samples = self._resampler.resample_chunk(np.asarray(samples, np.int16))
        with self._lock:
            now = time.monotonic()
            if now - self._far_written_at > STREAM_GAP_SECONDS and not self._far_frames:
                self._far_frames.extend([SILENT_FAR] * LEAD_FRAMES)  # a new stream
                self._start_learning()
            self._far_written_at = now
            pending = np.concatenate([self._far_pending, samples])
            whole = len(pending) // FRAME * FRAME
            self._far_pending = pending[whole:]
            self._far_since_capture += whole // FRAME
            if self._far_since_capture > MAX_FAR_AHEAD_FRAMES:  # nobody captures
                self._far_frames.clear()
                return
            frames = pending[:whole].reshape(-1, FRAME)
            for frame, sounding in zip(frames, _sounding(frames), strict=True):
                self._far_frames.append((frame, sounding))
                self._note_onset(sounding)
            self._far_arrived.notify()

    def _note_onset(self, sounding: bool) -> None:
        """Under the lock: the first sound after a long silence is held a moment."""
        if not sounding:
            self._far_silent_run += 1
            return
        if self._far_silent_run >= ONSET_AFTER_SILENT_FRAMES and self._removes_echo:
            self._onset_frames = 0
            self._onset_clear = False
            self._learn_in = self._learn_out = 0.0
            self._learn_frames = 0
            self.onsets_held += 1
        self._far_silent_run = 0

    def _next_far_frame(self, deadline: float) -> FarFrame:
        """Under the lock, before a capture frame: the far end's frame that goes with it.

        One far-end frame per capture frame, in step, so the module sees the same
        distance between a sound written and its echo all reply long: both
        streams advance by their devices' clocks, sample for sample, whatever the
        threads' timing. (Handed over as the speaker wrote them, with silence put
        in whenever the capture got ahead, that distance moved by a frame each
        time the sound server delivered the microphone early, and AEC3 leaked
        the echo for seconds while it found it again.) So a capture frame whose
        far-end frame has not been written yet waits for it, until `deadline`.
        Past that it gets silence and the far end's frames move on by one: the
        speaker is behind for real (its device underran, or its clock is slower
        than the microphone's), and pairing by count would only fall further
        behind. A new stream starts `LEAD_FRAMES` ahead."""
        while not self._far_frames and self._speaker_writing():
            left = deadline - time.monotonic()
            if left <= 0:
                self.far_end_late += 1
                return SILENT_FAR
            self._far_arrived.wait(left)
        if self._far_frames:
            return self._far_frames.popleft()
        return SILENT_FAR

    def _pairing_checked(self, late_before: int) -> None:
        """After a chunk: if the pairing moved on, the echo now comes a little earlier
        to the module and leaks while AEC3 finds it again, so it must show again that
        it removes it."""
        if self.far_end_late == late_before:
            return
        log.info("echo canceller: %d speaker frames came later than %.0f ms: the pairing "
                 "moved on by as many; learning again", self.far_end_late - late_before,
                 1000 * FAR_WAIT_SECONDS)
        with self._lock:
            self._start_learning()

    def _start_learning(self) -> None:
        self._removes_echo = False
        self._onset_frames = None  # learning anew covers the onset
        self._learn_sounding = 0
        self._learn_in = self._learn_out = 0.0
        self._learn_frames = 0
        self._learn_passed = 0

    def _learn(self, sounding: bool, near: np.ndarray, out: np.ndarray) -> None:
        """Judge, over windows of frames with the speaker sounding, whether the module
        removes the echo yet (before the first window, or while someone talks over
        the speaker, it is not known to)."""
        if not sounding:
            return
        self._learn_sounding += 1
        self._learn_in += _mean_square(near)
        self._learn_out += _mean_square(out)
        self._learn_frames += 1
        if self._learn_frames < LEARN_WINDOW_FRAMES:
            return
        self.erle_db = 10 * float(np.log10((self._learn_in + 1.0) / (self._learn_out + 1.0)))
        quiet = self._learn_out / self._learn_frames < QUIET_RMS**2
        self._learn_passed = self._learn_passed + 1 if self.erle_db >= LEARNED_ERLE_DB or quiet else 0
        if self._learn_passed >= LEARN_WINDOWS:
            self._removes_echo = True
            self.learned_after_s = self._learn_sounding / 100
            log.info("echo canceller: the echo is removed (%.0f dB less) after %.1f s of "
                     "sound: talking over the model is heard", self.erle_db, self.learned_after_s)
        self._learn_in = self._learn_out = 0.0
        self._learn_frames = 0

    def _judge_onset(self, sounding: bool, near: np.ndarray, out: np.ndarray) -> None:
        """Under the lock, while an onset is held: is its sound echo-free, a quarter
        second at a time (the last judgement counts)."""
        if not sounding:
            return
        self._learn_in += _mean_square(near)
        self._learn_out += _mean_square(out)
        self._learn_frames += 1
        if self._learn_frames < ONSET_WINDOW_FRAMES:
            return
        erle = 10 * float(np.log10((self._learn_in + 1.0) / (self._learn_out + 1.0)))
        quiet = self._learn_out / self._learn_frames < QUIET_RMS**2
        self._onset_clear = erle >= LEARNED_ERLE_DB or quiet
        self._learn_in = self._learn_out = 0.0
        self._learn_frames = 0

    def _count_onset_frame(self) -> None:
        """Under the lock, once per capture frame: release a held onset when it is due."""
        if self._onset_frames is None:
            return
        self._onset_frames += 1
        if self._onset_frames >= ONSET_HOLD_MAX_FRAMES or (
            self._onset_frames >= ONSET_HOLD_FRAMES and self._onset_clear
        ):
            self._onset_frames = None

    def _speaker_writing(self) -> bool:
        return time.monotonic() - self._far_written_at < STREAM_GAP_SECONDS

    # -- the microphone's thread -------------------------------------------------------

    def process_capture(self, pcm: bytes) -> bytes:
        """16 kHz int16 mono chunk in, the same length out.

        Chunks of whole 10 ms frames come out as they went in; other lengths are
        delayed by under 10 ms (constant, zeros first) so no sample is lost."""
        if self._far_since_capture:
            with self._lock:
                if self._far_since_capture > MAX_FAR_AHEAD_FRAMES:
                    # The microphone was closed (muted) or stalled while the speaker
                    # went on: pair afresh, as for a new stream.
                    self._far_frames.clear()
                    self._far_written_at = -1e9
                    self._start_learning()
                self._far_since_capture = 0
        if not self.active or self._apm is None:
            if len(self._near_pending) or self._out:
                self._near_pending = np.zeros(0, np.int16)
                self._out.clear()
                self._linear_out.clear()
            if self._far_frames:  # bypassed, but the far end's frames keep their step
                deadline = time.monotonic() + FAR_WAIT_SECONDS
                late_before = self.far_end_late
                with self._lock:
                    for _ in range(len(pcm) // (2 * FRAME)):
                        self._next_far_frame(deadline)
                        self._count_onset_frame()
                self._pairing_checked(late_before)
            return pcm
        samples = np.concatenate([self._near_pending, np.frombuffer(pcm, np.int16)])
        whole = len(samples) // FRAME * FRAME
        deadline = time.monotonic() + FAR_WAIT_SECONDS
        late_before = self.far_end_late
        near_frame, far_frame = self._frames()
        near_view = np.frombuffer(near_frame.data, np.int16)
        far_view = np.frombuffer(far_frame.data, np.int16)
        with self._lock:
            for start in range(0, whole, FRAME):
                near = samples[start : start + FRAME]
                near_view[:] = near
                try:
                    sounding = False
                    if self.echo_cancellation:
                        far, sounding = self._next_far_frame(deadline)
                        far_view[:] = far
                        self._apm.process_reverse_stream(far_frame)
                    self._apm.process_stream(near_frame)
                    if self._linear is not None:
                        linear = self._linear.process(far, near)
                        self._judge_linear(sounding, near, linear)
                        self._linear_out += linear.tobytes()
                    if self._settle_frames_left and sounding:
                        self._settle_frames_left -= 1
                        if not self._settle_frames_left:
                            log.info("echo canceller: settled after %.0f s of sound: the "
                                     "microphone goes through it", self.settle_seconds)
                    if self.echo_cancellation and not self._removes_echo:
                        self._learn(sounding, near, near_view)
                    elif self._onset_frames is not None:
                        self._judge_onset(sounding, near, near_view)
                    self._count_onset_frame()
                    self._out += near_view.tobytes()
                except RuntimeError as exc:  # the microphone goes on, uncancelled
                    self._failed(exc)
                    self._out += near.tobytes()
                    if self._linear is not None and len(self._linear_out) < len(self._out):
                        self._linear_out += near.tobytes()
            self.frames_processed += whole // FRAME
        self._pairing_checked(late_before)
        self._near_pending = samples[whole:]
        if len(self._out) < len(pcm):
            self._out[:0] = bytes(len(pcm) - len(self._out))
        chunk = bytes(self._out[: len(pcm)])
        del self._out[: len(pcm)]
        if self._linear is None:
            return chunk if self.settled else pcm
        # Taken in step with the other, settled or not: what is left is the next chunk's.
        if len(self._linear_out) < len(pcm):
            self._linear_out[:0] = bytes(len(pcm) - len(self._linear_out))
        heard = bytes(self._linear_out[: len(pcm)])
        del self._linear_out[: len(pcm)]
        if not self.settled:
            return pcm
        return CapturedChunk.pair(chunk, heard) if self._linear_trusted else chunk

    def _judge_linear(self, sounding: bool, near: np.ndarray, linear: np.ndarray) -> None:
        """Under the lock: does the linear filter take the echo out, over windows of
        frames where the speaker sounds and nobody talks over it? (Not told by AEC3's
        output being quiet: its suppressor quiets a voice too.) A filter that does not
        know the echo path leaves frames louder than its prediction and is not judged
        on them: it is not trusted until it has shown that it does."""
        assert self._linear is not None
        if not sounding or self._linear.double_talk:
            return
        left = _mean_square(linear)
        # A frame whose remainder is below QUIET_RMS counts as passing, whatever came in.
        self._linear_judged.append(
            LINEAR_TRUSTED_DB if left < QUIET_RMS**2
            else 10 * float(np.log10((_mean_square(near) + 1.0) / (left + 1.0))))
        if len(self._linear_judged) < LEARN_WINDOW_FRAMES:
            return
        # The median frame: a voice as loud as the echo (which the double-talk rule does
        # not catch) fills the frames it is said in, not the window's judgement.
        reduction = float(np.median(self._linear_judged))
        passed = reduction >= LINEAR_TRUSTED_DB
        self._linear_failed = 0 if passed else self._linear_failed + 1
        trusted = passed or (self._linear_trusted and self._linear_failed < LEARN_WINDOWS)
        if trusted != self._linear_trusted:
            log.info("echo canceller: the detectors hear %s (the linear filter takes "
                     "the echo %.0f dB down)", "its linear output" if trusted else
                     "the suppressed output", reduction)
        self._linear_trusted = trusted
        self._linear_judged.clear()


def _mean_square(samples: np.ndarray) -> float:
    as_float = samples.astype(np.float32)
    return float(np.dot(as_float, as_float)) / len(samples)


def _sounding(frames: np.ndarray) -> list[bool]:
    """Of each row of 10 ms frames, whether the speaker makes a sound in it."""
    as_float = frames.astype(np.float32)
    energy = np.einsum("ij,ij->i", as_float, as_float)
    return (energy >= SOUNDING_RMS**2 * frames.shape[1]).tolist()  # type: ignore[no-any-return]
