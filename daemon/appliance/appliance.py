"""The appliance: the one owner of its state; routes the microphone, opens conversations.

Idle, the microphone feeds only the wake-word detector (and its pre-roll):
nothing leaves the device. A wake word, the button or `ctl say` opens a
Conversation, which then receives the audio from the end of the wake word on.

Everything that happens (a wake word, the button, a `ctl` request, a
conversation's phase, a failure, a device error, a timer) is reported here,
and the state the user sees is derived in one place, `_show()`, from what is
true now: ringing, muted, the open conversation's phase, an error on display.
Nothing else writes the state machine.

Ringing (a timer or alarm fell due) shows over everything else, because it is
what the button, the wake word and `ctl stop` act on first: each of them stops
the ring and does nothing more (the wake word is listened for while it rings,
even during a conversation). A ring does not end an open conversation.
While muted a ring still sounds (mute closes the microphone, not the speaker);
it is stopped by the button or `ctl stop`, and not announced. When online it
is announced through a Live session ("Say briefly: your tea timer is done");
while it rings that announcement only speaks: the microphone feeds the wake
word (to stop the ring), not the session. Offline the sound alone rings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from daemon.appliance.clock import Clock, LoopClock
from daemon.appliance.control_face import ControlFace
from daemon.appliance.conversation import Conversation, Phase, Transcript
from daemon.appliance.devices import QUIET_HANDOVER_CHUNKS, Devices
from daemon.appliance.failures import FailureBook
from daemon.appliance.ringing import Ringing
from daemon.appliance.state import Change, State, StateMachine
from daemon.config.schema import Config
from daemon.timers import Ring, Timers
from hardware.audio.status import AudioStatus

log = logging.getLogger(__name__)
timeline = logging.getLogger("speakerd.timeline")

CLOSE_WAIT_SECONDS = 5.0

SessionFactory = Callable[[], Any]  # () -> daemon.live.LiveSession
# What the state machine does not carry, told to listeners (MQTT) as (kind, fields):
# transcript (role, text, at), relay (name, is_on), volume (percent),
# wake_word (model, score), button (action: press or hold), error (message).
Listener = Callable[[str, dict[str, Any]], None]

_PHASE_STATE = {
    Phase.OPENING: State.WAKE,
    Phase.LISTENING: State.LISTENING,
    Phase.THINKING: State.THINKING,
    Phase.SPEAKING: State.SPEAKING,
    Phase.RECONNECTING: State.ERROR,
}


class Appliance(ControlFace):
    """The running daemon minus process concerns (signals, systemd, CLI)."""

    def __init__(
        self,
        config: Config,
        devices: Devices,
        new_session: SessionFactory,
        *,
        clock: Clock | None = None,
        timers: Timers | None = None,
    ) -> None:
        self.config = config
        self.devices = devices
        self.machine = StateMachine()
        self.clock = clock or LoopClock()
        self._new_session = new_session
        self._conversation: Conversation | None = None
        self._conversation_task: asyncio.Task[None] | None = None
        self._muted = False
        self._transcripts: deque[Transcript] = deque(maxlen=10)
        self._listeners: list[Listener] = []
        self._last_error: str | None = None
        self.failures = FailureBook(self.clock, self._show)
        self._audio_errors: dict[str, str] = {}
        self._stopping = asyncio.Event()
        self._background: set[asyncio.Future[Any]] = set()
        self.timers = timers
        self._announcement: Conversation | None = None
        self.ringing = Ringing(
            config.timers,
            self.clock,
            devices.speaker.play_sound,
            on_change=self._show,
            model_talking=self._model_talking,
        )
        self.machine.observe(self._log_state)

    @property
    def conversation(self) -> Conversation | None:
        """The latest conversation (open or not); None before the first."""
        return self._conversation

    # -- lifecycle ---------------------------------------------------------------------

    async def run(self) -> None:
        """Route microphone audio until shutdown(); returns after a clean shutdown."""
        audio = asyncio.create_task(self._route_audio(), name="route-audio")
        if self.timers is not None:
            self.timers.start(self._timers_due)
        await self._stopping.wait()
        if self.timers is not None:
            self.timers.close()
        self.ringing.close()
        audio.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await audio
        await self._close_conversation("the daemon is stopping")
        self.failures.hide()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    def shutdown(self) -> None:
        """Stop the daemon (SIGTERM); run() returns once the conversation is closed."""
        self._stopping.set()

    async def _route_audio(self) -> None:
        async for chunk in self.devices.microphone:
            try:
                await self.hear(chunk)
            except Exception:  # one bad chunk or a bug must not leave the mic unheard
                log.exception("could not handle a microphone chunk")

    async def hear(self, chunk: bytes) -> None:
        """One piece of microphone audio: to the open conversation, else the wake word."""
        if self._muted:
            return
        wake_word = self.devices.wake_word
        conversation = self._conversation
        announcing = self.ringing.active and conversation is self._announcement
        if conversation is not None and conversation.is_open and not announcing:
            if self.ringing.active:
                # Ringing during a conversation: it goes on, and the wake word stops the ring.
                conversation.feed_mic(chunk)
                if await wake_word.process(chunk) is not None:
                    self._stop_ringing("wake word")
                return
            canceller = self.devices.echo_canceller
            if canceller is not None:
                # Echo cancelled: the wake word over the model's voice stops the answer.
                # Scored only while that voice plays, with wake_word.threshold_over_answer
                # (the canceller damps a voice said over it); else passed over, kept warm
                # for when the model starts (a reset would leave it deaf for 1.4 s).
                if not conversation.model_audible:
                    wake_word.pass_over(chunk)
                    conversation.feed_mic(chunk)
                    return
                if not canceller.removes_echo:
                    # Still learning the room (the first answer after start-up, a new
                    # speaker stream, the speaker fell behind): the model's voice may come
                    # through, so while it talks the microphone is neither sent nor
                    # scored (half duplex).
                    wake_word.pass_over(chunk)
                    return
                detection = await wake_word.process(chunk, over_answer=True)
                if (
                    detection is not None
                    and conversation.model_audible
                    and conversation.stop_talking()
                ):
                    timeline.info(
                        "wake word %s (score %.2f) over the answer: stopped talking",
                        detection.model, detection.score,
                    )  # fmt: skip
            else:
                wake_word.record(chunk)
            conversation.feed_mic(chunk)
            return
        detection = await wake_word.process(chunk)
        self.devices.microphone.handover_chunks = QUIET_HANDOVER_CHUNKS if wake_word.quiet else 1
        if detection is not None:
            timeline.info(
                "wake word %s (score %.2f) at %.2f s",
                detection.model, detection.score, detection.time,
            )  # fmt: skip
            self._tell("wake_word", model=detection.model, score=detection.score)
            if not self._stop_ringing("wake word"):
                self._open("wake word", first_audio=wake_word.audio_since_wake(detection))

    # -- conversations -----------------------------------------------------------------

    def _open(
        self, source: str, *, first_audio: bytes = b"", first_text: str | None = None
    ) -> Conversation | str:
        """The open conversation (a new one if none is): or why a wake was refused."""
        if self._conversation is not None and self._conversation.is_open:
            return self._conversation
        refusal = self._refusal()
        if refusal is not None:
            timeline.info("wake refused (%s): %s", source, refusal)
            self.devices.play_error_sound()
            return refusal
        self.failures.hide()
        if first_text is None:
            self.devices.play_wake_sound()
        conversation = Conversation(
            self.config,
            self._new_session(),
            self.devices.speaker,
            self.clock,
            first_audio=first_audio,
            first_text=first_text,
            on_phase=self._conversation_moved,
            on_transcript=self._transcript_arrived,
            on_fault=self._conversation_fault,
        )
        self._conversation = conversation
        self.devices.microphone.handover_chunks = 1  # it hears every chunk as it comes
        self._conversation_task = self._spawn(conversation.run())
        self.devices.camera_started(conversation)  # frames flow only while it is open
        self._show(f"woken ({source})")
        return conversation

    def _refusal(self) -> str | None:
        """Why a wake cannot open a conversation now, or None when it can."""
        if self._muted:
            return "muted: unmute first"
        return self.failures.refusal()

    def _conversation_moved(self, conversation: Conversation) -> None:
        """A conversation reports a new phase; only the current one is listened to."""
        if conversation is not self._conversation:
            return
        if conversation.phase is Phase.ENDED:
            self._conversation_ended(conversation)
        else:
            self._show(conversation.phase.value)

    def _conversation_ended(self, conversation: Conversation) -> None:
        reason = conversation.end_reason or "ended"
        timeline.info(
            "conversation over after %.1f s: %s", self.clock.now() - conversation.started_at, reason
        )
        self.devices.camera_stopped()
        self.devices.wake_word.reset()
        failure = conversation.failure
        if failure is None:
            self.failures.succeeded()
            self._show(reason)
            return
        if conversation is self._announcement:
            # Offline, or the key is refused: the ring alone tells the user; a wake
            # will find out (and show) what is wrong.
            timeline.info("not announced: %s", failure.message)
            self._show(reason)
            return
        self.last_error = failure.message
        self.devices.play_error_sound()
        self.failures.failed(failure)
        self._show(f"failed: {failure.message}")

    def _conversation_fault(self, detail: str) -> None:
        """A recovered fault (the session is reconnecting): tell the user by sound."""
        self.last_error = detail
        self.devices.play_error_sound()

    async def _close_conversation(self, reason: str, *, flush: bool = True) -> None:
        conversation, task = self._conversation, self._conversation_task
        if conversation is None or task is None:
            return
        conversation.end(reason, flush=flush)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(task), CLOSE_WAIT_SECONDS)

    # -- what the user sees ------------------------------------------------------------

    def _show(self, reason: str) -> None:
        """Derive the state from what is true now; the only writer of the machine."""
        conversation = self._conversation
        if self.ringing.active:
            state = State.RINGING
        elif self._muted:
            state = State.MUTED
        elif conversation is not None and conversation.is_open:
            state = _PHASE_STATE[conversation.phase]
        elif self.failures.showing or self._audio_errors:
            state = State.ERROR
        else:
            state = State.IDLE
        self.machine.set(state, reason)

    # -- device health -----------------------------------------------------------------

    def audio_status(self, status: AudioStatus, role: str) -> None:
        """The microphone or the speaker (role) failed (it is retried) or came back."""
        if status.state == "error":
            self.last_error = status.message
            self._audio_errors[role] = status.message
            self._show(status.message)
        elif self._audio_errors.pop(role, None) is not None:
            timeline.info("audio device back: %s", status.message)
            self._show("audio device back")

    # -- the button --------------------------------------------------------------------

    def button_pressed(self) -> str | None:
        """Idle: start talking. Model talking: stop it. Listening: end the conversation.

        Ringing: stop the ring, nothing more. Returns why a wake was refused, or None."""
        self._tell("button", action="press")
        return self._press()

    def _press(self) -> str | None:
        """The button's action, also taken by `ctl wake` and MQTT's "start conversation"."""
        if self._stop_ringing("button"):
            return None
        if self._muted:
            return "muted: unmute first"
        conversation = self._conversation
        if conversation is None or not conversation.is_open:
            timeline.info("button: start a conversation")
            opened = self._open("button")
            return opened if isinstance(opened, str) else None
        if not conversation.stop_talking():
            timeline.info("button: end the conversation")
            conversation.end("ended with the button", flush=True)
        return None

    def button_held(self) -> None:
        self._tell("button", action="hold")
        self._spawn(self.mute(not self._muted))

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    # -- the tools' context (daemon.tools.ToolContext) ---------------------------------

    def relay_changed(self, name: str, is_on: bool) -> None:
        timeline.info("relay %s switched %s", name, "on" if is_on else "off")
        self._tell("relay", name=name, is_on=is_on)

    def set_volume(self, percent: int) -> None:
        self.devices.speaker.set_volume(percent)
        self._tell("volume", percent=percent)

    def end_conversation(self) -> None:
        if self._conversation is not None:
            self._conversation.end("the model ended the conversation")

    async def look(self) -> str:
        return await self.devices.grab_frame()

    # -- mute (the button held, `ctl mute`, MQTT) ----------------------------------------

    async def mute(self, on: bool) -> dict[str, Any]:
        if on == self._muted:
            return {"message": "already muted" if on else "not muted", "muted": on}
        self._muted = on
        if on:
            self.devices.microphone.pause()
            self.devices.wake_word.reset()
            timeline.info("muted: microphone closed")
            self._show("muted")
            await self._close_conversation("muted")
        else:
            self.devices.microphone.resume()
            timeline.info("unmuted: listening for the wake word")
            self._show("unmuted")
        return {"message": "muted" if on else "unmuted", "muted": on}

    # -- timers ------------------------------------------------------------------------

    def _timers_due(self, rings: list[Ring]) -> None:
        """Timers or alarms fell due: ring (once for all) and say what rang."""
        self.ringing.due(rings)
        self._announce("; ".join(ring.spoken() for ring in rings))

    def _announce(self, what: str) -> None:
        if not self.config.timers.announce or self._muted:
            return
        prompt = f"Say briefly, in one short sentence: {what}."
        conversation = self._conversation
        if conversation is not None and conversation.is_open:
            self._spawn(conversation.say(prompt))  # heard without ending the conversation
            return
        refusal = self._refusal()
        if refusal is not None:
            timeline.info("not announced (%s): the sound alone rings", refusal)
            return
        opened = self._open("timer", first_text=prompt)
        if isinstance(opened, Conversation):
            self._announcement = opened

    def _stop_ringing(self, how: str) -> bool:
        if not self.ringing.stop(how):
            return False
        conversation = self._conversation
        if conversation is None or not conversation.is_open:
            self.devices.speaker.flush()  # cut the beep now; a conversation's voice stays
        return True

    def _model_talking(self) -> bool:
        conversation = self._conversation
        return conversation is not None and conversation.is_open and (
            conversation.phase is Phase.SPEAKING
        )

    # -- observers ---------------------------------------------------------------------

    def listen(self, listener: Listener) -> None:
        """Be told what the state machine does not carry (see Listener); MQTT uses it."""
        self._listeners.append(listener)

    @property
    def last_error(self) -> str | None:
        return self._last_error

    @last_error.setter
    def last_error(self, message: str | None) -> None:
        self._last_error = message
        if message is not None:
            self._tell("error", message=message)

    def _transcript_arrived(self, transcript: Transcript) -> None:
        self._transcripts.append(transcript)
        self._tell("transcript", role=transcript.role, text=transcript.text, at=transcript.at)

    def _tell(self, kind: str, **fields: Any) -> None:
        for listener in self._listeners:
            try:
                listener(kind, fields)
            except Exception:  # a broker glitch must not stop the appliance
                log.exception("appliance listener %r failed on %s", listener, kind)

    def _log_state(self, change: Change) -> None:
        if change.old is not change.new:
            timeline.info("state %s -> %s", change.old, change.new)
