"""The appliance: the one owner of its state; routes the microphone, opens conversations.

Idle, the microphone feeds only the wake-word detector (and its pre-roll):
nothing leaves the device. A wake word, the button or `ctl say` opens a
Conversation, which then receives the audio from the end of the wake word on.

Everything that happens (a wake word, the button, a `ctl` request, a
conversation's phase, a failure, a device error, a timer) is reported here,
and the state the user sees is derived in one place, `_show()`, from what is
true now: muted, the open conversation's phase, an error on display. Nothing
else writes the state machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from daemon.appliance.clock import Clock, LoopClock, Timer
from daemon.appliance.conversation import Conversation, Phase, Transcript
from daemon.appliance.devices import Devices
from daemon.appliance.state import Change, State, StateMachine
from daemon.config.schema import Config
from hardware.audio.status import AudioStatus

log = logging.getLogger(__name__)
timeline = logging.getLogger("speakerd.timeline")

FATAL_RETRY_SECONDS = 300.0  # after a fatal error, a wake tries again this much later
ERROR_SHOWN_SECONDS = 2.0  # how long the error LED stays after a recovered fault
# After conversations that failed one after another, a wake waits this long
# (doubling per further failure) so a broken service is not hammered.
FAILURE_BACKOFF_SECONDS = (0.0, 5.0, 15.0, 60.0)
CLOSE_WAIT_SECONDS = 5.0

SessionFactory = Callable[[], Any]  # () -> daemon.live.LiveSession

_PHASE_STATE = {
    Phase.OPENING: State.WAKE,
    Phase.LISTENING: State.LISTENING,
    Phase.THINKING: State.THINKING,
    Phase.SPEAKING: State.SPEAKING,
    Phase.RECONNECTING: State.ERROR,
}


class Appliance:
    """The running daemon minus process concerns (signals, systemd, CLI)."""

    def __init__(
        self,
        config: Config,
        devices: Devices,
        new_session: SessionFactory,
        *,
        clock: Clock | None = None,
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
        self.last_error: str | None = None
        self._fatal: str | None = None
        self._fatal_until = 0.0
        self._failures_in_a_row = 0
        self._retry_after = 0.0
        self._error_shown: Timer | None = None
        self._audio_errors: dict[str, str] = {}
        self._stopping = asyncio.Event()
        self._background: set[asyncio.Future[Any]] = set()
        self.machine.observe(self._log_state)

    @property
    def conversation(self) -> Conversation | None:
        """The latest conversation (open or not); None before the first."""
        return self._conversation

    # -- lifecycle ---------------------------------------------------------------------

    async def run(self) -> None:
        """Route microphone audio until shutdown(); returns after a clean shutdown."""
        audio = asyncio.create_task(self._route_audio(), name="route-audio")
        await self._stopping.wait()
        audio.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await audio
        await self._close_conversation("the daemon is stopping")
        if self._error_shown is not None:
            self._error_shown.cancel()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    def shutdown(self) -> None:
        """Stop the daemon (SIGTERM); run() returns once the conversation is closed."""
        self._stopping.set()

    async def _route_audio(self) -> None:
        async for chunk in self.devices.microphone:
            await self.hear(chunk)

    async def hear(self, chunk: bytes) -> None:
        """One piece of microphone audio: to the open conversation, else the wake word."""
        if self._muted:
            return
        wake_word = self.devices.wake_word
        conversation = self._conversation
        if conversation is not None and conversation.is_open:
            if self.devices.echo_canceller is not None:
                # Echo cancelled: the wake word over the model's voice stops the answer.
                # Scored all conversation long: the detector needs 1.4 s after a reset.
                detection = await wake_word.process(chunk)
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
        if detection is not None:
            timeline.info(
                "wake word %s (score %.2f) at %.2f s",
                detection.model, detection.score, detection.time,
            )  # fmt: skip
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
        self._clear_error()
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
            on_transcript=self._transcripts.append,
            on_fault=self._conversation_fault,
        )
        self._conversation = conversation
        self._conversation_task = self._spawn(conversation.run())
        self.devices.camera_started(conversation)  # frames flow only while it is open
        self._show(f"woken ({source})")
        return conversation

    def _refusal(self) -> str | None:
        """Why a wake cannot open a conversation now, or None when it can."""
        if self._muted:
            return "muted: unmute first"
        now = self.clock.now()
        if self._fatal is not None:
            if now < self._fatal_until:
                return (
                    f"cannot talk to Gemini: {self._fatal}; "
                    f"next try in {self._fatal_until - now:.0f} s"
                )
            self._fatal = None  # a few minutes on: try once more (the key may work now)
        if now < self._retry_after:
            return (
                f"{self._failures_in_a_row} conversations failed in a row "
                f"(last: {self.last_error}); next try in {self._retry_after - now:.0f} s"
            )
        return None

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
            self._failures_in_a_row = 0
            self._show(reason)
            return
        self.last_error = failure.message
        self.devices.play_error_sound()
        now = self.clock.now()
        if failure.fatal:
            self._fatal = failure.message
            self._fatal_until = now + FATAL_RETRY_SECONDS
            log.error(
                "cannot talk to Gemini: %s. Fix the key or the config and restart speakerd "
                "(until then a wake tries again at most every %d minutes)",
                failure.message, FATAL_RETRY_SECONDS // 60,
            )  # fmt: skip
        else:
            self._failures_in_a_row += 1
            step = min(self._failures_in_a_row, len(FAILURE_BACKOFF_SECONDS)) - 1
            self._retry_after = now + FAILURE_BACKOFF_SECONDS[step]
            self._display_error()
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
        if self._muted:
            state = State.MUTED
        elif conversation is not None and conversation.is_open:
            state = _PHASE_STATE[conversation.phase]
        elif self._fatal is not None or self._error_shown is not None or self._audio_errors:
            state = State.ERROR
        else:
            state = State.IDLE
        self.machine.set(state, reason)

    def _display_error(self) -> None:
        """Show the error state for a moment after a recovered fault."""
        if self._error_shown is not None:
            self._error_shown.cancel()
        self._error_shown = self.clock.call_later(ERROR_SHOWN_SECONDS, self._error_display_over)

    def _error_display_over(self) -> None:
        self._error_shown = None
        self._show("error shown")

    def _clear_error(self) -> None:
        if self._error_shown is not None:
            self._error_shown.cancel()
            self._error_shown = None

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

        Returns why a wake was refused, or None."""
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
        self._spawn(self.mute(not self._muted))

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    # -- the tools' context (daemon.tools.ToolContext) ---------------------------------

    def relay_changed(self, name: str, is_on: bool) -> None:
        timeline.info("relay %s switched %s", name, "on" if is_on else "off")

    def set_volume(self, percent: int) -> None:
        self.devices.speaker.set_volume(percent)

    def end_conversation(self) -> None:
        if self._conversation is not None:
            self._conversation.end("the model ended the conversation")

    async def look(self) -> str:
        return await self.devices.grab_frame()

    # -- the control socket (daemon.appliance.control.Controls) -------------------------

    def status(self) -> dict[str, Any]:
        conversation = self._conversation
        return {
            "state": str(self.machine.state),
            "muted": self._muted,
            "fatal": self._fatal is not None,
            "relays": {name: relay.is_on for name, relay in self.devices.relays.items()},
            "transcripts": [
                {"role": t.role, "text": t.text, "at": t.at} for t in self._transcripts
            ],
            "session_uptime": (
                round(self.clock.now() - conversation.started_at, 1)
                if conversation is not None and conversation.is_open
                else None
            ),
            "last_error": self.last_error,
        }

    async def wake(self) -> dict[str, Any]:
        refusal = self.button_pressed()
        if refusal is not None:
            return {"error": f"wake refused: {refusal}", "state": str(self.machine.state)}
        return {"message": "ok", "state": str(self.machine.state)}

    async def say(self, text: str) -> dict[str, Any]:
        conversation = self._conversation
        if conversation is not None and conversation.is_open:
            sent = await conversation.say(text)
        else:
            opened = self._open("ctl say", first_text=text)
            if isinstance(opened, str):
                return {"error": f"not sent: {opened}", "state": str(self.machine.state)}
            conversation = opened
            sent = await conversation.opened()  # it sends the text as soon as it is open
        if not sent:
            return {"error": f"not sent: {conversation.end_reason}"}
        return {"message": "sent", "state": str(self.machine.state)}

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

    async def stop(self) -> dict[str, Any]:
        """`ctl stop`: end the conversation (the daemon keeps running)."""
        if self._conversation is None or not self._conversation.is_open:
            return {"message": "no conversation open"}
        await self._close_conversation("stopped from the control socket")
        return {"message": "stopped"}

    # -- observers ---------------------------------------------------------------------

    def _log_state(self, change: Change) -> None:
        if change.old is not change.new:
            timeline.info("state %s -> %s", change.old, change.new)
