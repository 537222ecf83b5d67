"""Where each microphone chunk goes while a conversation is open, and when it is idle.

Idle, only the wake word hears it. In a conversation it goes to the session,
except while the model's own voice could come back through the microphone:
without echo cancellation the wake word only records (half duplex is the
session's business); with it, the chunk is sent and the wake word is scored
over the answer, unless the canceller is still learning the room, when the
model's voice is neither sent nor scored.

With echo cancellation the detectors hear each chunk's `detector_audio`: the
microphone with the speaker's sound linearly filtered out but not suppressed
(AEC3's suppressor damps a voice said over a loud answer), once that filter is
shown to work; the session always gets AEC3's output. The stop word hears it
always; the wake word only from when AEC3's output rises above its own floor
(someone talks: even damped, a voice stands out where the echo is gone) until
VOICE_HOLD_SECONDS after: what is left of the echo in the linear version looks
like speech to the wake word's gate, which would then score the whole answer.

The stop word listens only while something can be stopped: a ring, or the
model's voice when the echo canceller vouches that it is removed. In half
duplex the model's own voice reaches it at full level, and an answer that
says "stop by the shop" stopped itself (score 0.79 in an offline room).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from daemon.wakeword.detector import Detection
from daemon.wakeword.stop_word import StopDetection
from hardware.audio.captured_chunk import detector_audio

if TYPE_CHECKING:
    from daemon.appliance.conversation import Conversation
    from daemon.appliance.devices import Devices

timeline = logging.getLogger("speakerd.timeline")

QUIET_HANDOVER_CHUNKS = 4
"""Microphone chunks handed to the loop at once while the speech gate is shut (320 ms:
3 loop wake-ups a second instead of 12.5). Speech opens the gate within the first
hand-over, long before openWakeWord can score the end of a wake word (see
Microphone.handover_chunks); conversations get every chunk at once."""


VOICE_OVER_FLOOR = 3.0
"""AEC3's output this many times its floor (RMS): someone may be talking over the speaker."""
VOICE_MIN_RMS = 40.0
"""...and at least this loud (-58 dBFS): the floor of a silent room is near zero."""
FLOOR_RISE_PER_CHUNK = 1.05
FLOOR_STEP_PER_CHUNK = 1.0
"""How fast the floor follows a louder room, times and plus (minimum statistics: it
follows a quieter one at once); the step lets it leave digital silence."""
VOICE_HOLD_SECONDS = 1.5
"""How long the wake word hears the linear version after AEC3's output last stood out:
past the end of a wake word, and its score comes up to 0.5 s after it."""


class WakeWordFeed:
    """Which version of each chunk the wake word hears (the module docstring says why)."""

    def __init__(self) -> None:
        # Of AEC3's output (RMS); until a chunk has been heard, a silent room's: a voice
        # in the very first chunk the canceller works on stands out too.
        self._floor = VOICE_MIN_RMS / VOICE_OVER_FLOOR
        self._voice_samples_left = 0  # the linear version is heard this much longer

    def __call__(self, chunk: bytes, heard: bytes) -> bytes:
        """The linear version `heard` while someone may be talking over the speaker, else
        AEC3's `chunk` (quiet where the echo was: the gate stays shut, the model idle)."""
        if heard is chunk:
            return chunk
        samples = np.frombuffer(chunk, np.int16).astype(np.float32)
        level = float(np.sqrt(np.mean(samples**2))) if len(samples) else 0.0
        self._floor = min(level, self._floor * FLOOR_RISE_PER_CHUNK + FLOOR_STEP_PER_CHUNK)
        if level >= max(VOICE_OVER_FLOOR * self._floor, VOICE_MIN_RMS):
            self._voice_samples_left = round(VOICE_HOLD_SECONDS * 16000)
        if self._voice_samples_left <= 0:
            return chunk
        self._voice_samples_left -= len(samples)
        return heard


@dataclass(frozen=True)
class Heard:
    """What one chunk brought that the owner acts on."""

    wake: Detection | None = None
    stop: StopDetection | None = None


class MicRouter:
    """The echo and half-duplex policy, apart from who owns the state."""

    def __init__(self, devices: Devices) -> None:
        self._devices = devices
        self._stop_listening = False
        self._for_wake_word = WakeWordFeed()

    @property
    def stop_word_listening(self) -> bool:
        """The stop word heard the last chunk."""
        return self._stop_listening

    async def idle(self, chunk: bytes, *, stoppable: bool) -> Heard:
        """No conversation takes the microphone: the wake word hears it, and the stop
        word too while something can be stopped (a ring)."""
        wake_word = self._devices.wake_word
        for_wake_word, heard = self._versions(chunk)
        detection = await wake_word.process(for_wake_word)
        self._devices.microphone.handover_chunks = QUIET_HANDOVER_CHUNKS if wake_word.quiet else 1
        if not stoppable:
            self._stop_listening = False
            return Heard(detection)
        return Heard(detection, self._stop(heard))

    def voice_stoppable(self, conversation: Conversation) -> bool:
        """The model's voice plays and the canceller vouches that none of it reaches the
        microphone: "stop" may be listened for over it (in half duplex, or while the
        canceller learns, a voice saying "stop" would stop itself)."""
        canceller = self._devices.echo_canceller
        return canceller is not None and canceller.removes_echo and conversation.model_audible

    def conversation_opened(self) -> None:
        """A conversation hears every chunk as it comes."""
        self._devices.microphone.handover_chunks = 1

    async def while_ringing(self, chunk: bytes, conversation: Conversation) -> Heard:
        """A ring during a conversation: it goes on, and the wake word or "stop" may stop
        the ring."""
        self.conversation_opened()
        conversation.feed_mic(chunk)
        for_wake_word, heard = self._versions(chunk)
        detection = await self._devices.wake_word.process(for_wake_word)
        return Heard(detection, self._stop(heard))

    async def conversing(self, chunk: bytes, conversation: Conversation) -> Heard:
        """The chunk to the conversation when it may go; the wake word over an answer
        stops it here, "stop" is handed back."""
        # Again on every chunk: an idle chunk whose scoring was awaited while `ctl say`
        # opened the conversation sets the quiet hand-over after conversation_opened(),
        # and 320 ms hand-overs delayed "stop" over an answer by up to 240 ms.
        self.conversation_opened()
        wake_word = self._devices.wake_word
        canceller = self._devices.echo_canceller
        if canceller is None:
            wake_word.record(chunk)
            conversation.feed_mic(chunk)
            self._stop_listening = False
            return Heard()
        # Echo cancelled: scored only while the model's voice plays, with
        # wake_word.threshold_over_answer (the canceller damps a voice said over it);
        # else passed over, kept warm for when the model starts (a reset would leave
        # it deaf for 1.4 s).
        if not conversation.model_audible:
            wake_word.pass_over(chunk)
            conversation.feed_mic(chunk)
            self._stop_listening = False
            return Heard()
        if not canceller.removes_echo:
            # Still learning the room (the first answer after start-up, a new speaker
            # stream, the speaker fell behind), or the first moments of a sound after a
            # silence: the model's voice may come through.
            wake_word.pass_over(chunk)
            self._stop_listening = False
            return Heard()
        for_wake_word, heard = self._versions(chunk)
        detection = await wake_word.process(for_wake_word, over_answer=True)
        stop = self._stop(heard)
        if (
            detection is not None
            and conversation.model_audible
            and conversation.stop_talking("wake word")
        ):
            timeline.info(
                "wake word %s (score %.2f) over the answer: stopped talking",
                detection.model, detection.score,
            )  # fmt: skip
        conversation.feed_mic(chunk)
        return Heard(stop=stop)

    def _versions(self, chunk: bytes) -> tuple[bytes, bytes]:
        """What the wake word and what the stop word hear of `chunk` (the module
        docstring says why they differ)."""
        heard = detector_audio(chunk)
        return self._for_wake_word(chunk, heard), heard

    def _stop(self, chunk: bytes) -> StopDetection | None:
        stop_word = self._devices.stop_word
        if stop_word is None:
            return None
        if not self._stop_listening:
            stop_word.reset()  # audio from before the gap must not complete a word
            self._stop_listening = True
        return stop_word.feed(chunk)
