"""The appliance: routes the microphone, opens conversations, and answers the socket.

Idle, the microphone feeds only the wake-word detector (and its pre-roll):
nothing leaves the device. A wake word, the button or `ctl say` opens a
Conversation, which then receives the audio from the end of the wake word on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from daemon.appliance.conversation import Conversation, Transcript
from daemon.appliance.devices import Devices
from daemon.appliance.state import Change, State, StateMachine
from daemon.config.schema import Config
from daemon.live.events import SessionFailed
from hardware.audio.status import AudioStatus

log = logging.getLogger(__name__)
timeline = logging.getLogger("speakerd.timeline")

FATAL_REPEAT_SECONDS = 300.0  # a fatal error is logged again at most this often
ERROR_SHOWN_SECONDS = 2.0  # how long the error LED stays after a recovered fault


SessionFactory = Callable[[], Any]  # () -> daemon.live.LiveSession


class Appliance:
    """The running daemon minus process concerns (signals, systemd, CLI)."""

    def __init__(self, config: Config, devices: Devices, new_session: SessionFactory) -> None:
        self.config = config
        self.devices = devices
        self.machine = StateMachine()
        self._new_session = new_session
        self._conversation: Conversation | None = None
        self._conversation_task: asyncio.Task[None] | None = None
        self._muted = False
        self._transcripts: deque[Transcript] = deque(maxlen=10)
        self.last_error: str | None = None
        self._fatal: str | None = None
        self._fatal_logged_at = -FATAL_REPEAT_SECONDS
        self._stopping = asyncio.Event()
        self._background: set[asyncio.Future[Any]] = set()
        self._loop = asyncio.get_running_loop()
        self.machine.observe(self._log_state)

    # -- lifecycle ---------------------------------------------------------------------

    async def run(self) -> None:
        """Route microphone audio until stop(); returns after a clean shutdown."""
        audio = asyncio.create_task(self._route_audio(), name="route-audio")
        await self._stopping.wait()
        audio.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await audio
        await self._close_conversation("the daemon is stopping", flush=True)

    def request_stop(self) -> None:
        self._stopping.set()

    async def _route_audio(self) -> None:
        wake = self.devices.wake
        async for chunk in self.devices.microphone:
            if self._muted:
                continue
            conversation = self._conversation
            if conversation is not None and conversation.is_open:
                wake.record(chunk)
                conversation.feed_mic(chunk)
                continue
            detection = await wake.process(chunk)
            if detection is not None:
                timeline.info(
                    "wake word %s (score %.2f) at %.2f s",
                    detection.model, detection.score, detection.time,
                )  # fmt: skip
                self._open_conversation(first_audio=wake.audio_since_wake(detection), sound=True)

    # -- conversations -----------------------------------------------------------------

    def _open_conversation(
        self, *, first_audio: bytes = b"", first_text: str | None = None, sound: bool = False
    ) -> Conversation | None:
        if self._conversation is not None and self._conversation.is_open:
            return self._conversation
        if self._fatal is not None:
            if time.monotonic() - self._fatal_logged_at < FATAL_REPEAT_SECONDS:
                self._report_fatal()
                self.devices.play_error_sound()
                return None
            # A few minutes on: try once more (the key may have been enabled since).
            self._fatal = None
        self.machine.set(State.WAKE, "woken")
        if sound:
            self.devices.play_wake_sound()
        conversation = Conversation(
            self.config,
            self._new_session(),
            self.devices.speaker,
            self.machine,
            first_audio=first_audio,
            first_text=first_text,
            on_transcript=self._transcripts.append,
            on_fault=self._on_fault,
        )
        self._conversation = conversation
        self._conversation_task = asyncio.create_task(self._converse(conversation))
        return conversation

    async def _converse(self, conversation: Conversation) -> None:
        started = time.monotonic()
        self.devices.camera_started(conversation)
        try:
            reason = await conversation.run()
        finally:
            self.devices.camera_stopped()
        timeline.info("conversation over after %.1f s: %s", time.monotonic() - started, reason)
        self.devices.wake.reset()
        failure: SessionFailed | None = conversation.failure
        if failure is not None:
            self.last_error = failure.message
            if failure.fatal:
                self._fatal = failure.message
                self._report_fatal()
            self.machine.set(State.ERROR, failure.message)
            self.devices.play_error_sound()
            if not failure.fatal:
                await asyncio.sleep(ERROR_SHOWN_SECONDS)
        if self._conversation is conversation:
            self._conversation = None
        if self._fatal is None:
            self.machine.set(State.MUTED if self._muted else State.IDLE, reason)

    async def _close_conversation(self, reason: str, *, flush: bool) -> None:
        conversation, task = self._conversation, self._conversation_task
        if conversation is None or task is None:
            return
        conversation.end(reason, flush=flush)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(task), 5.0)

    async def _on_fault(self, detail: str, fatal: bool) -> None:
        self.last_error = detail
        self.devices.play_error_sound()

    def _report_fatal(self) -> None:
        now = time.monotonic()
        if now - self._fatal_logged_at >= FATAL_REPEAT_SECONDS:
            self._fatal_logged_at = now
            log.error(
                "cannot talk to Gemini: %s. Fix the key or the config and restart speakerd "
                "(until then a wake tries again at most every %d minutes)",
                self._fatal, FATAL_REPEAT_SECONDS // 60,
            )  # fmt: skip
        self.machine.set(State.ERROR, self._fatal or "fatal")

    # -- device health -----------------------------------------------------------------

    def audio_status(self, status: AudioStatus) -> None:
        """A microphone or speaker failed (it is retried) or came back."""
        if status.state == "error":
            self.last_error = status.message
            if self._conversation is None and self.machine.state is State.IDLE:
                self.machine.set(State.ERROR, status.message)
        elif (
            self.machine.state is State.ERROR and self._fatal is None and self._conversation is None
        ):
            timeline.info("audio device back: %s", status.message)
            self.machine.set(State.MUTED if self._muted else State.IDLE, "audio device back")

    # -- the button --------------------------------------------------------------------

    def button_pressed(self) -> None:
        """Idle: start talking. Model talking: stop it. Listening: end the conversation."""
        conversation = self._conversation
        if self._muted:
            return
        if conversation is None or not conversation.is_open:
            timeline.info("button: start a conversation")
            self._open_conversation(sound=True)
        elif not conversation.stop_talking():
            timeline.info("button: end the conversation")
            conversation.end("ended with the button", flush=True)

    def button_held(self) -> None:
        self._spawn(self.mute(not self._muted))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- the tools' context (daemon.tools.ToolContext) ---------------------------------

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
                round(time.monotonic() - conversation.started_at, 1)
                if conversation is not None and conversation.is_open
                else None
            ),
            "last_error": self.last_error,
        }

    async def wake(self) -> dict[str, Any]:
        if self._muted:
            return {"message": "muted: unmute first"}
        self.button_pressed()
        return {"message": "ok", "state": str(self.machine.state)}

    async def say(self, text: str) -> dict[str, Any]:
        if self._muted:
            return {"message": "muted: unmute first"}
        conversation = self._conversation
        if conversation is not None and conversation.is_open:
            await conversation.say(text)
        elif self._open_conversation(first_text=text) is None:
            return {"message": f"cannot open a conversation: {self._fatal}"}
        return {"message": "sent", "state": str(self.machine.state)}

    async def mute(self, on: bool) -> dict[str, Any]:
        if on == self._muted:
            return {"message": "already muted" if on else "not muted", "muted": on}
        self._muted = on
        if on:
            await self._close_conversation("muted", flush=True)
            self.devices.microphone.pause()
            self.devices.wake.reset()
            timeline.info("muted: microphone closed")
            self.machine.set(State.MUTED, "muted")
        else:
            self.devices.microphone.resume()
            timeline.info("unmuted: listening for the wake word")
            self.machine.set(State.ERROR if self._fatal else State.IDLE, "unmuted")
        return {"message": "muted" if on else "unmuted", "muted": on}

    async def stop(self) -> dict[str, Any]:
        if self._conversation is None or not self._conversation.is_open:
            return {"message": "no conversation open"}
        await self._close_conversation("stopped from the control socket", flush=True)
        return {"message": "stopped"}

    # -- observers ---------------------------------------------------------------------

    def _log_state(self, change: Change) -> None:
        if change.old is not change.new:
            timeline.info("state %s -> %s", change.old, change.new)
