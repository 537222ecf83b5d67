"""One open conversation: from the wake word (or button, or `ctl say`) to its end.

It owns the Live session for its lifetime, decides which microphone audio is
sent (half duplex unless barge-in is on) and drives the speaker. It does not
set the appliance state: it reports its phase (opening, listening, thinking,
speaking, reconnecting, ended) and the appliance, the one owner of the state,
decides what that means. Once ended it never reports again, so a conversation
that is winding down cannot overwrite what a newer one shows.

It ends on silence for the whole follow-up window, end_conversation(), the
button, the maximum length, or a failure the session client could not recover
from (including a session that never opened: it ends at once, so the wake
word is heard again while the error is shown).

A speak-only conversation (an announcement from outside) is the model reading
something out: no microphone audio is ever sent, it never listens, and it ends
as soon as the model's turn has played, without a follow-up window. Whoever
sent the text gets no answer back, so there is nothing to wait for.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from daemon.config.schema import Config
from daemon.core.clock import Clock, Scheduled
from daemon.core.events import Role
from daemon.live.errors import FatalSessionError, SessionError
from daemon.live.events import (
    GenerationComplete,
    Grounding,
    InputTranscript,
    InteractionStatus,
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
from hardware.audio.convert import BYTES_PER_SECOND_16K, pcm_bytes

log = logging.getLogger(__name__)
timeline = logging.getLogger("speakerd.timeline")

# Microphone level (RMS of int16 samples) that counts as the user speaking
# during the follow-up window: about -40 dBFS, well above a quiet room.
SPEECH_RMS = 330.0
USER_SPEECH_HOLD_S = 1.0
USER_TURN_GRACE_S = 3.0
"""After the user's last speech the server waits for its end-of-speech silence and a
round trip before its transcript arrives: a shorter follow-up window must not end the
conversation under a command that was said (with 0.5 s it cut wake-word commands)."""


class Phase(enum.Enum):
    """Where a conversation is; the appliance maps it to what the user is shown."""

    OPENING = "opening"
    LISTENING = "listening"
    THINKING = "thinking"
    SPEAKING = "speaking"
    RECONNECTING = "reconnecting"
    ENDED = "ended"


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


@dataclass
class Transcript:
    role: Role
    text: str
    at: float = field(default_factory=time.time)


class Conversation:
    """Runs until it ends; `run()` returns the reason it ended, for the log."""

    def __init__(
        self,
        config: Config,
        session: Session,
        speaker: Speaker,
        clock: Clock,
        *,
        first_audio: bytes = b"",
        first_text: str | None = None,
        on_phase: Callable[[Conversation], None] = lambda c: None,
        on_transcript: Callable[[Transcript], None] = lambda t: None,
        on_fault: Callable[[str], None] = lambda detail: None,
        speak_only: bool = False,
        first_shown: str | None = None,
    ) -> None:
        """`first_shown`: what the transcripts show for `first_text` (the announced words,
        not the prompt that frames them)."""
        self._config = config
        self._session = session
        self._speaker = speaker
        self._clock = clock
        self._first_audio = first_audio
        self._first_text = first_text
        self._first_shown = first_shown
        self.speak_only = speak_only
        self._on_phase = on_phase
        self._on_transcript = on_transcript
        self._on_fault = on_fault
        loop = asyncio.get_running_loop()
        # True once the session is open, False if the conversation ended first.
        self._opened: asyncio.Future[bool] = loop.create_future()
        self._end: asyncio.Future[str] = loop.create_future()
        # Mic audio in order; it waits here while the session opens, so nothing is lost.
        self._outbox: asyncio.Queue[bytes] = asyncio.Queue()
        self._speaking_until = 0.0  # clock time the half-duplex tail ends
        self._last_speech_at = float("-inf")
        # Tool calls the model made and the daemon has not answered: a non-blocking one
        # may outlast the follow-up window, and its result is still to be told.
        self._calls_running: set[str] = set()
        self._discarding = False  # the user stopped the model: drop the rest of its turn
        # The model is still working on the request (interactionStatus IN_PROGRESS: an
        # extended-thinking model between its filler and its answer).
        self._model_working = False
        self._follow_up: Scheduled | None = None
        self._limit: Scheduled | None = None
        self._model_text: list[str] = []
        self._user_text: list[str] = []
        self._after_answer: asyncio.Task[None] | None = None
        self._flush_on_end = False
        self.phase = Phase.OPENING
        self.started_at = clock.now()
        self.failure: SessionFailed | None = None
        self.end_reason: str | None = None

    # -- what the appliance calls -------------------------------------------------------

    def feed_mic(self, chunk: bytes) -> None:
        """Microphone audio; sent unless the speaker is talking (half duplex)."""
        if not self.is_open or self.speak_only:
            return
        if not self._opened.done():
            self._outbox.put_nowait(chunk)
            return
        if not self._config.audio.barge_in and self.model_audible:
            return
        if _rms(chunk) >= SPEECH_RMS:
            self._last_speech_at = self._clock.now()
            if self._follow_up is not None:
                # The user is talking: the window starts again after, long enough for
                # the server to hear the end of it.
                self._restart_follow_up(at_least=USER_TURN_GRACE_S)
        self._outbox.put_nowait(chunk)

    def user_speaking(self) -> bool:
        """The microphone heard speech within the last second (the camera's cue on 3.8)."""
        return self._clock.now() - self._last_speech_at < USER_SPEECH_HOLD_S

    async def opened(self) -> bool:
        """True once the session is open; False if the conversation ended first."""
        return await asyncio.shield(self._opened)

    async def say(self, text: str, *, shown: str | None = None) -> bool:
        """Typed text to the model; False when the conversation ended before it opened.

        `shown`: what the transcript and the timeline show instead of `text`."""
        if not await self.opened() or not self.is_open:
            return False
        self._cancel_follow_up()
        self._set_phase(Phase.THINKING)
        if shown is None:
            timeline.info("user (typed): %s", text)
            self._on_transcript(Transcript("user", text))
        else:
            timeline.info("announcing: %s", shown)
            self._on_transcript(Transcript("announcement", shown))
        await self._session.send_text(text)
        return True

    async def send_frame(self, jpeg: bytes) -> None:
        """A camera frame; dropped (not queued) while the session is still opening."""
        if self._opened.done() and self._opened.result() and self.is_open:
            await self._session.send_frame(jpeg)

    def stop_talking(self, how: str = "button") -> bool:
        """The button (or the wake word, or "stop") while the model talks: silence now,
        keep the conversation open and listening.

        An announcement has nothing to stay open for: it ends."""
        if self.speak_only and self.is_open:
            timeline.info("announcement stopped (%s)", how)
            self.end("announcement stopped", flush=True)
            return True
        # Also while the rest of an answer still plays after a typed question
        # (thinking): the voice is what the user wants silent, and the reply in the
        # works goes with it.
        if not (self.phase is Phase.SPEAKING or self.answer_playing):
            return False
        self._speaker.flush()
        self._discarding = True
        self._speaking_until = 0.0
        self._cancel_after_answer()
        timeline.info("stopped talking (%s)", how)
        self._set_phase(Phase.LISTENING)
        self._restart_follow_up()
        return True

    def end(self, reason: str, *, flush: bool = False) -> None:
        """Close the conversation; flush=True also silences the speaker (button, ctl stop)."""
        if self._end.done():
            return
        self._flush_on_end = flush
        self.end_reason = reason
        self._flush_user_text()
        self._flush_model_text(cut_off=True)
        self._end.set_result(reason)
        if not self._opened.done():
            self._opened.set_result(False)
        self._cancel_timers()
        self._set_phase(Phase.ENDED)

    @property
    def is_open(self) -> bool:
        return not self._end.done()

    @property
    def model_audible(self) -> bool:
        """The model's voice is playing (or just stopped): local chimes do not count,
        or the wake chime would swallow the words said right after the wake word."""
        return self._clock.now() < self._speaking_until

    @property
    def answer_playing(self) -> bool:
        """The model's voice is still queued or sounding (not just its half-duplex tail)."""
        return self._speaking_until == float("inf")

    @property
    def mic_is_sent(self) -> bool:
        """Microphone audio fed now would reach the session (or wait for it to open)."""
        return self.is_open and not self.speak_only and (self._config.audio.barge_in or not self.model_audible)

    # -- the conversation itself -------------------------------------------------------

    async def run(self) -> str:
        self._limit = self._clock.call_later(
            self._config.conversation.max_seconds, self.end, "maximum conversation length"
        )
        tasks = [
            asyncio.create_task(self._open(), name="conversation-open"),
            asyncio.create_task(self._pump_events(), name="conversation-events"),
            asyncio.create_task(self._send_mic(), name="conversation-mic"),
        ]
        try:
            return await asyncio.shield(self._end)
        finally:
            self.end("the daemon is stopping")  # a no-op unless run() itself was cancelled
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            self._cancel_after_answer()
            if self._flush_on_end:
                self._speaker.flush()
            with contextlib.suppress(Exception):
                await self._session.close()

    async def _open(self) -> None:
        try:
            await self._session.start()
        except SessionError as exc:
            self.failure = SessionFailed(str(exc), fatal=isinstance(exc, FatalSessionError))
            timeline.info("could not open the session: %s", exc)
            self.end(f"could not open the session: {exc}")
            return
        except Exception as exc:
            log.exception("opening the session failed")
            self.failure = SessionFailed(f"internal error: {exc}", fatal=False)
            self.end(f"could not open the session: {exc}")
            return
        if not self.is_open:
            return
        waiting = self._outbox.qsize()
        first = self._first_audio + b"".join(self._outbox.get_nowait() for _ in range(waiting))
        timeline.info(
            "session open; sending %.2f s of audio from the wake word on",
            len(first) / BYTES_PER_SECOND_16K,
        )
        await self._send_pieces(first)
        self._opened.set_result(True)
        if self.speak_only:
            if self._first_text:
                await self.say(self._first_text, shown=self._first_shown)
            else:
                self.end("nothing to announce")
            return
        self._set_phase(Phase.LISTENING)
        if self._first_text:
            await self.say(self._first_text)
        elif _rms(first[-BYTES_PER_SECOND_16K // 2 :]) >= SPEECH_RMS:
            # Still talking after the wake word ("hey jarvis, turn on the lamp").
            self._last_speech_at = self._clock.now()
            self._restart_follow_up(at_least=USER_TURN_GRACE_S)
        else:
            self._restart_follow_up()  # woken but nothing said: do not hold the line open

    async def _send_mic(self) -> None:
        if not await self.opened():
            return
        while True:
            await self._send_pieces(await self._outbox.get())

    async def _send_pieces(self, pcm: bytes) -> None:
        """Send in chunk_ms pieces, the size the Live API recommends (20-40 ms)."""
        step = pcm_bytes(self._config.audio.chunk_ms, 16000)
        for start in range(0, len(pcm), step):
            if not self.is_open:
                return  # muted or ended: nothing more leaves the device
            try:
                await self._session.send_audio(pcm[start : start + step])
            except Exception as exc:  # the session reports failures as events
                log.debug("audio not sent: %s", exc)

    async def _pump_events(self) -> None:
        async for event in self._session.events():
            if not self.is_open:
                return
            try:
                self._handle(event)
            except Exception:
                log.exception("could not handle %s", type(event).__name__)
            if isinstance(event, SessionFailed):
                return
        self.end("the session closed")

    def _handle(self, event: object) -> None:
        if isinstance(event, ModelAudio):
            if self._discarding:
                return
            self._cancel_after_answer()
            self._cancel_follow_up()
            self._set_phase(Phase.SPEAKING)
            self._speaker.play(event.pcm, event.rate)
            self._speaking_until = float("inf")
        elif isinstance(event, InputTranscript):
            self._user_text.append(event.text)
            self._cancel_follow_up()
            if self.phase is Phase.LISTENING:
                self._set_phase(Phase.THINKING)
        elif isinstance(event, OutputTranscript):
            self._flush_user_text()
            if not self._discarding:
                self._model_text.append(event.text)
        elif isinstance(event, ToolCall):
            self._flush_user_text()
            timeline.info("tool call %s(%s)", event.name, _args(event.args))
            self._calls_running.add(event.id)
            if self.phase is Phase.LISTENING:
                self._set_phase(Phase.THINKING)
        elif isinstance(event, ToolResult):
            timeline.info("tool result %s -> %s", event.name, _args(event.response))
            self._call_done(event.id)
        elif isinstance(event, ToolCancelled):
            timeline.info("tool calls cancelled: %s", ", ".join(event.ids))
            for call_id in event.ids:
                self._call_done(call_id)
        elif isinstance(event, Grounding):
            self._grounded(event)
        elif isinstance(event, Interrupted) and self.speak_only:
            self.end("announcement interrupted", flush=True)
        elif isinstance(event, Interrupted):
            self._speaker.flush()
            self._speaking_until = 0.0
            self._cancel_after_answer()
            timeline.info("interrupted: playback flushed")
            self._flush_model_text(cut_off=True)
            self._set_phase(Phase.LISTENING)
            self._restart_follow_up()
        elif isinstance(event, GenerationComplete):
            self._answer_finished()  # a late turnComplete must not keep the mic shut
        elif isinstance(event, TurnComplete):
            self._flush_user_text()
            self._flush_model_text(cut_off=self._discarding)
            self._discarding = False
            self._answer_finished()
        elif isinstance(event, InteractionStatus):
            self._interaction(event)
        elif isinstance(event, SessionStateChanged):
            self._session_state(event)
        elif isinstance(event, SessionFailed):
            self.failure = event
            timeline.info("session failed%s: %s", " (fatal)" if event.fatal else "", event.message)
            self.end(f"session failed: {event.message}")

    def _call_done(self, call_id: str) -> None:
        """The last running call is answered: the follow-up window counts from now."""
        if call_id in self._calls_running:
            self._calls_running.discard(call_id)
            if not self._calls_running and self._follow_up is not None:
                self._restart_follow_up()

    def _interaction(self, event: InteractionStatus) -> None:
        """IN_PROGRESS: the model works on (its filler said): show thinking, hold the
        window open. IDLE: the whole request is done; the window counts from now
        (docs/live-protocol.md, "Extended thinking")."""
        self._model_working = event.in_progress
        if event.in_progress:
            if self.phase is Phase.LISTENING:
                self._set_phase(Phase.THINKING)
        else:
            self._answer_finished()

    def _follow_up_over(self, seconds: float) -> None:
        if self._calls_running or self._model_working:  # still working for the user
            self._restart_follow_up()
            return
        self.end(f"no follow-up within {seconds:g} s")

    def _grounded(self, event: Grounding) -> None:
        """The model searched Google: the queries and sources go to the timeline and,
        as a "sources" transcript, to `ctl status`."""
        queries = "; ".join(event.queries) or "(no query given)"
        sources = "; ".join(f"{s.title} <{s.uri}>" if s.uri else s.title for s in event.sources)
        timeline.info("searched Google for: %s", queries)
        for source in event.sources:
            timeline.info("  source: %s %s", source.title, source.uri)
        self._on_transcript(Transcript("sources", f"searched: {queries} | {sources or 'no pages'}"))

    def _answer_finished(self) -> None:
        """The server is done; listen again once the speaker is (in its own task, so
        an `interrupted` or the next turn is handled while the last words still play)."""
        if self._after_answer is None or self._after_answer.done():
            self._after_answer = asyncio.create_task(self._listen_after_answer())

    async def _listen_after_answer(self) -> None:
        await self._speaker.wait_drained()
        if not self.is_open:
            return
        if self.speak_only:
            self.end("announced")  # no follow-up window: nobody was asked anything
            return
        self._speaking_until = self._clock.now() + self._config.audio.half_duplex_tail_ms / 1000
        if self.phase in (Phase.SPEAKING, Phase.THINKING):
            self._set_phase(Phase.THINKING if self._model_working else Phase.LISTENING)
        self._restart_follow_up()

    def _session_state(self, event: SessionStateChanged) -> None:
        if event.state == "reconnecting" and event.planned:
            # goAway: the old connection finishes the answer in flight; nothing to show.
            timeline.info("moving to a new connection (%s)", event.detail)
        elif event.state == "reconnecting":
            # The turn in flight is lost with the connection: what was heard of it
            # is logged now, so it cannot be glued to the next turn's words.
            timeline.info("connection lost (%s); reconnecting", event.detail)
            self._flush_user_text()
            self._flush_model_text(cut_off=True)
            self._discarding = False
            self._calls_running.clear()  # their results cannot reach the server any more
            self._model_working = False
            self._set_phase(Phase.RECONNECTING)
            self._on_fault(event.detail)
        elif event.state == "open" and self.phase is Phase.RECONNECTING:
            # The answer in flight went with the old connection (its turnComplete may
            # never come): listen again, with the follow-up window, once the speaker
            # has played what did arrive; otherwise the conversation never ends.
            timeline.info("connection resumed")
            self._set_phase(Phase.SPEAKING if self.model_audible else Phase.LISTENING)
            self._answer_finished()

    # -- helpers -------------------------------------------------------------------------

    def _set_phase(self, phase: Phase) -> None:
        if self.phase is Phase.ENDED or phase is self.phase:
            return
        self.phase = phase
        self._on_phase(self)

    def _flush_user_text(self) -> None:
        if self._user_text:
            text = "".join(self._user_text).strip()
            self._user_text.clear()
            if text:
                timeline.info("user said: %s", text)
                self._on_transcript(Transcript("user", text))

    def _flush_model_text(self, *, cut_off: bool = False) -> None:
        if self._model_text:
            text = "".join(self._model_text).strip()
            self._model_text.clear()
            if text:
                timeline.info("model said%s: %s", " (cut off)" if cut_off else "", text)
                self._on_transcript(Transcript("model", text))

    @property
    def follow_up_pending(self) -> bool:
        """The window for answering again without the wake word is running."""
        return self._follow_up is not None

    def _restart_follow_up(self, *, at_least: float = 0.0) -> None:
        self._cancel_follow_up()
        if not self.is_open:
            return
        if self.speak_only:
            self.end("announced")  # it never listens, so it has no window to wait out
            return
        seconds = max(self._config.conversation.follow_up_seconds, at_least)
        self._follow_up = self._clock.call_later(seconds, self._follow_up_over, seconds)

    def _cancel_after_answer(self) -> None:
        if self._after_answer is not None and not self._after_answer.done():
            self._after_answer.cancel()

    def _cancel_follow_up(self) -> None:
        if self._follow_up is not None:
            self._follow_up.cancel()
            self._follow_up = None

    def _cancel_timers(self) -> None:
        self._cancel_follow_up()
        if self._limit is not None:
            self._limit.cancel()
            self._limit = None


def _rms(chunk: bytes) -> float:
    samples = np.frombuffer(chunk[: len(chunk) // 2 * 2], dtype=np.int16)
    if samples.size == 0:
        return 0.0
    return float(np.sqrt(np.mean(samples.astype(np.float32) ** 2)))


def _args(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in values.items())
