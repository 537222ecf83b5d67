"""Where each microphone chunk goes while a conversation is open, and when it is idle.

Idle, only the wake word hears it. In a conversation it goes to the session,
except while the model's own voice could come back through the microphone:
without echo cancellation the wake word only records (half duplex is the
session's business); with it, the chunk is sent and the wake word is scored
over the answer, unless the canceller is still learning the room, when the
model's voice is neither sent nor scored.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from daemon.wakeword.detector import Detection

if TYPE_CHECKING:
    from daemon.appliance.conversation import Conversation
    from daemon.appliance.devices import Devices

timeline = logging.getLogger("speakerd.timeline")

QUIET_HANDOVER_CHUNKS = 4
"""Microphone chunks handed to the loop at once while the speech gate is shut (320 ms:
3 loop wake-ups a second instead of 12.5). Speech opens the gate within the first
hand-over, long before openWakeWord can score the end of a wake word (see
Microphone.handover_chunks); conversations get every chunk at once."""


class MicRouter:
    """The echo and half-duplex policy, apart from who owns the state."""

    def __init__(self, devices: Devices) -> None:
        self._devices = devices

    async def idle(self, chunk: bytes) -> Detection | None:
        """No conversation takes the microphone: the wake word alone hears it."""
        wake_word = self._devices.wake_word
        detection = await wake_word.process(chunk)
        self._devices.microphone.handover_chunks = QUIET_HANDOVER_CHUNKS if wake_word.quiet else 1
        return detection

    def conversation_opened(self) -> None:
        """A conversation hears every chunk as it comes."""
        self._devices.microphone.handover_chunks = 1

    async def while_ringing(self, chunk: bytes, conversation: Conversation) -> Detection | None:
        """A ring during a conversation: it goes on, and the wake word may stop the ring."""
        conversation.feed_mic(chunk)
        return await self._devices.wake_word.process(chunk)

    async def conversing(self, chunk: bytes, conversation: Conversation) -> None:
        """The chunk to the conversation when it may go; the wake word over an answer stops it."""
        wake_word = self._devices.wake_word
        canceller = self._devices.echo_canceller
        if canceller is None:
            wake_word.record(chunk)
            conversation.feed_mic(chunk)
            return
        # Echo cancelled: scored only while the model's voice plays, with
        # wake_word.threshold_over_answer (the canceller damps a voice said over it);
        # else passed over, kept warm for when the model starts (a reset would leave
        # it deaf for 1.4 s).
        if not conversation.model_audible:
            wake_word.pass_over(chunk)
            conversation.feed_mic(chunk)
            return
        if not canceller.removes_echo:
            # Still learning the room (the first answer after start-up, a new speaker
            # stream, the speaker fell behind): the model's voice may come through.
            wake_word.pass_over(chunk)
            return
        detection = await wake_word.process(chunk, over_answer=True)
        if detection is not None and conversation.model_audible and conversation.stop_talking():
            timeline.info(
                "wake word %s (score %.2f) over the answer: stopped talking",
                detection.model, detection.score,
            )  # fmt: skip
        conversation.feed_mic(chunk)
