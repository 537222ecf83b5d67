"""One open conversation: from the wake word (or button, or `ctl say`) back to idle.

It owns the Live session for its lifetime, decides which microphone audio is
sent (half duplex unless barge-in is on), drives the speaker, and moves the
state machine through listening, thinking and speaking. It ends on silence
for the whole follow-up window, end_conversation(), the button, the maximum
length, or a failure the session client could not recover from.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from daemon.appliance.state import State, StateMachine
from daemon.config.schema import Config
from daemon.live.errors import FatalSessionError, SessionError
from daemon.live.events import (
    GenerationComplete,
    InputTranscript,
    Interrupted,
    ModelAudio,
    OutputTranscript,
    SessionFailed,
    SessionStateChanged,
    ToolCall,
    ToolCancelled,
    ToolResult,
    TurnComplete,
)

log = logging.getLogger(__name__)
timeline = logging.getLogger("speakerd.timeline")

# Microphone level (RMS of int16 samples) that counts as the user speaking
# during the follow-up window: about -40 dBFS, well above a quiet room.
SPEECH_RMS = 330.0


class Session(Protocol):
    """The part of daemon.live.LiveSession a conversation uses."""

    async def start(self) -> None: ...
    async def send_audio(self, pcm: bytes) -> None: ...
    async def send_frame(self, jpeg: bytes, mime_type: str = "image/jpeg") -> None: ...
    async def send_text(self, text: str) -> None: ...
    def events(self) -> Any: ...
    async def close(self) -> None: ...


class Speaker(Protocol):
    def play(self, pcm: bytes, rate: int = 24000) -> None: ...
    def flush(self) -> None: ...
    async def wait_drained(self) -> None: ...
    @property
    def is_playing(self) -> bool: ...


@dataclass
class Transcript:
    role: str  # "user" or "model"
    text: str
    at: float = field(default_factory=time.time)


class Conversation:
    """Runs until it ends; `run()` returns the reason it ended, for the log."""

    def __init__(
        self,
        config: Config,
        session: Session,
        speaker: Speaker,
        machine: StateMachine,
        *,
        first_audio: bytes = b"",
        first_text: str | None = None,
        on_transcript: Callable[[Transcript], None] = lambda t: None,
        on_fault: Callable[[str, bool], Awaitable[None]] | None = None,
    ) -> None:
        self._config = config
        self._session = session
        self._speaker = speaker
        self._machine = machine
        self._first_audio = first_audio
        self._first_text = first_text
        self._on_transcript = on_transcript
        self._on_fault = on_fault
        self._ready = asyncio.Event()
        # Mic audio in order; it waits here while the session opens, so nothing is lost.
        self._outbox: asyncio.Queue[bytes] = asyncio.Queue()
        self._end = asyncio.get_running_loop().create_future()
        self._speaking_until = 0.0  # monotonic end of the half-duplex tail
        self._discarding = False  # the user stopped the model: drop the rest of its turn
        self._follow_up: asyncio.TimerHandle | None = None
        self._model_text: list[str] = []
        self._user_text: list[str] = []
        self.started_at = time.monotonic()
        self.failure: SessionFailed | None = None
        self._flush_on_end = False
        self._after_answer: asyncio.Task[None] | None = None
        self._reconnecting = False

    # -- what the appliance calls -------------------------------------------------------

    def feed_mic(self, chunk: bytes) -> None:
        """Microphone audio; sent unless the speaker is talking (half duplex)."""
        if self._end.done():
            return
        if not self._ready.is_set():
            self._outbox.put_nowait(chunk)
            return
        if not self._config.audio.barge_in and self._model_audible():
            return
        if self._follow_up is not None and _rms(chunk) >= SPEECH_RMS:
            self._restart_follow_up()  # the user is talking: the window starts again after
        self._outbox.put_nowait(chunk)

    async def say(self, text: str) -> None:
        await self._ready.wait()
        self._cancel_follow_up()
        self._machine.set(State.THINKING, "text from the control socket")
        timeline.info("user (typed): %s", text)
        self._on_transcript(Transcript("user", text))
        await self._session.send_text(text)

    async def send_frame(self, jpeg: bytes) -> None:
        """A camera frame; dropped (not queued) while the session is still opening."""
        if self._ready.is_set() and self.is_open:
            await self._session.send_frame(jpeg)

    def stop_talking(self) -> bool:
        """The button while the model talks: silence now, keep the conversation open."""
        if self._machine.state is not State.SPEAKING:
            return False
        self._speaker.flush()
        self._discarding = True
        self._speaking_until = 0.0
        timeline.info("stopped talking (button)")
        self._machine.set(State.LISTENING, "stopped by the user")
        self._restart_follow_up()
        return True

    def end(self, reason: str, *, flush: bool = False) -> None:
        """Close the conversation; flush=True also silences the speaker (button, ctl stop)."""
        if not self._end.done():
            self._flush_on_end = flush
            self._end.set_result(reason)

    @property
    def is_open(self) -> bool:
        return not self._end.done()

    # -- the conversation itself -------------------------------------------------------

    async def run(self) -> str:
        limit = asyncio.get_running_loop().call_later(
            self._config.conversation.max_seconds, self.end, "maximum conversation length"
        )
        events = asyncio.create_task(self._pump_events(), name="conversation-events")
        sender = asyncio.create_task(self._send_mic(), name="conversation-mic")
        opener = asyncio.create_task(self._open(), name="conversation-open")
        try:
            # The button or SIGTERM may end the conversation while it is still connecting.
            await asyncio.wait({opener, self._end}, return_when=asyncio.FIRST_COMPLETED)
            if opener.done():
                opener.result()  # raises when the session could not be opened
            reason = await self._end
        except SessionError as exc:
            self.failure = SessionFailed(str(exc), fatal=isinstance(exc, FatalSessionError))
            timeline.info("could not open the session: %s", exc)
            reason = f"could not open the session: {exc}"
        except Exception as exc:
            log.exception("conversation failed")
            reason = f"failed: {exc}"
        finally:
            limit.cancel()
            self._cancel_follow_up()
            self._cancel_after_answer()
            for task in (opener, events, sender):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            if self._flush_on_end:
                self._speaker.flush()
            with contextlib.suppress(Exception):
                await self._session.close()
        return reason

    async def _open(self) -> None:
        await self._session.start()
        waiting = self._outbox.qsize()
        first = self._first_audio + b"".join(self._outbox.get_nowait() for _ in range(waiting))
        timeline.info(
            "session open; sending %.2f s of audio from the wake word on", len(first) / 32000
        )
        await self._send_pieces(first)
        self._ready.set()
        self._machine.set(State.LISTENING, "session open")
        if self._first_text:
            await self.say(self._first_text)
        else:
            self._restart_follow_up()  # woken but nothing said: do not hold the line open

    async def _send_mic(self) -> None:
        await self._ready.wait()
        while True:
            await self._send_pieces(await self._outbox.get())

    async def _send_pieces(self, pcm: bytes) -> None:
        """Send in chunk_ms pieces, the size the Live API recommends (20-40 ms)."""
        step = self._config.audio.chunk_ms * 32  # bytes of 16 kHz 16-bit mono
        for start in range(0, len(pcm), step):
            await self._send_audio(pcm[start : start + step])

    async def _send_audio(self, pcm: bytes) -> None:
        try:
            await self._session.send_audio(pcm)
        except Exception as exc:  # the session reports failures as events
            log.debug("audio not sent: %s", exc)

    async def _pump_events(self) -> None:
        async for event in self._session.events():
            try:
                await self._handle(event)
            except Exception:
                log.exception("could not handle %s", type(event).__name__)
            if isinstance(event, SessionFailed):
                return

    async def _handle(self, event: object) -> None:
        if isinstance(event, ModelAudio):
            if self._discarding:
                return
            self._cancel_after_answer()
            self._cancel_follow_up()
            self._machine.set(State.SPEAKING, "model audio")
            self._speaker.play(event.pcm, event.rate)
            self._speaking_until = float("inf")
        elif isinstance(event, InputTranscript):
            self._user_text.append(event.text)
            self._cancel_follow_up()
            if self._machine.state is State.LISTENING:
                self._machine.set(State.THINKING, "user finished")
        elif isinstance(event, OutputTranscript):
            self._flush_user_text()
            self._model_text.append(event.text)
        elif isinstance(event, ToolCall):
            self._flush_user_text()
            timeline.info("tool call %s(%s)", event.name, _args(event.args))
            if self._machine.state is State.LISTENING:
                self._machine.set(State.THINKING, "tool call")
        elif isinstance(event, ToolResult):
            timeline.info("tool result %s -> %s", event.name, _args(event.response))
        elif isinstance(event, ToolCancelled):
            timeline.info("tool calls cancelled: %s", ", ".join(event.ids))
        elif isinstance(event, Interrupted):
            self._speaker.flush()
            self._speaking_until = 0.0
            timeline.info("interrupted: playback flushed")
            self._machine.set(State.LISTENING, "interrupted")
        elif isinstance(event, GenerationComplete):
            self._answer_finished()  # a late turnComplete must not keep the mic shut
        elif isinstance(event, TurnComplete):
            self._turn_complete()
        elif isinstance(event, SessionStateChanged):
            await self._session_state(event)
        elif isinstance(event, SessionFailed):
            self.failure = event
            timeline.info("session failed%s: %s", " (fatal)" if event.fatal else "", event.message)
            self.end(f"session failed: {event.message}")

    def _turn_complete(self) -> None:
        self._flush_user_text()
        if self._model_text:
            text = "".join(self._model_text).strip()
            timeline.info("model said: %s", text)
            self._on_transcript(Transcript("model", text))
            self._model_text.clear()
        self._discarding = False
        self._answer_finished()

    def _answer_finished(self) -> None:
        """The server is done; listen again once the speaker is (in its own task, so
        an `interrupted` or the next turn is handled while the last words still play)."""
        if self._after_answer is None or self._after_answer.done():
            self._after_answer = asyncio.create_task(self._listen_after_answer())

    async def _listen_after_answer(self) -> None:
        await self._speaker.wait_drained()
        if not self.is_open:
            return
        self._speaking_until = time.monotonic() + self._config.audio.half_duplex_tail_ms / 1000
        if self._machine.state in (State.SPEAKING, State.THINKING):
            self._machine.set(State.LISTENING, "answer played")
        self._restart_follow_up()

    async def _session_state(self, event: SessionStateChanged) -> None:
        if event.state == "reconnecting" and event.planned:
            self._reconnecting = True
            timeline.info("moving to a new connection (%s)", event.detail)
        elif event.state == "reconnecting":
            self._reconnecting = True
            timeline.info("connection lost (%s); reconnecting", event.detail)
            self._machine.set(State.ERROR, f"reconnecting: {event.detail}")
            if self._on_fault:
                await self._on_fault(event.detail, False)
        elif event.state == "open" and self._reconnecting:
            # The answer in flight went with the old connection (its turnComplete may
            # never come): listen again, with the follow-up window, once the speaker
            # has played what did arrive; otherwise the conversation never ends.
            self._reconnecting = False
            timeline.info("connection resumed")
            if self._machine.state is State.ERROR:
                self._machine.set(State.LISTENING, "resumed")
            self._answer_finished()

    # -- helpers -------------------------------------------------------------------------

    def _model_audible(self) -> bool:
        """The model's voice is playing (or just stopped): local chimes do not count,
        or the wake chime would swallow the words said right after the wake word."""
        return time.monotonic() < self._speaking_until

    def _flush_user_text(self) -> None:
        if self._user_text:
            text = "".join(self._user_text).strip()
            self._user_text.clear()
            timeline.info("user said: %s", text)
            self._on_transcript(Transcript("user", text))

    def _restart_follow_up(self) -> None:
        self._cancel_follow_up()
        seconds = self._config.conversation.follow_up_seconds
        self._follow_up = asyncio.get_running_loop().call_later(
            seconds, self.end, f"no follow-up within {seconds:g} s"
        )

    def _cancel_after_answer(self) -> None:
        if self._after_answer is not None and not self._after_answer.done():
            self._after_answer.cancel()

    def _cancel_follow_up(self) -> None:
        if self._follow_up is not None:
            self._follow_up.cancel()
            self._follow_up = None


def _rms(chunk: bytes) -> float:
    samples = np.frombuffer(chunk[: len(chunk) // 2 * 2], dtype=np.int16)
    if samples.size == 0:
        return 0.0
    return float(np.sqrt(np.mean(samples.astype(np.float32) ** 2)))


def _args(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in values.items())
