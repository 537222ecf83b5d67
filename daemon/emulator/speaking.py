"""The model's side of one turn: tool calls, spoken reply, barge-in, faults.

Order on the wire (docs/live-protocol.md): inputTranscription, toolCall (waiting
for blocking responses), audio chunks interleaved with outputTranscription,
generationComplete, turnComplete + usageMetadata. An interrupted turn ends
with toolCallCancellation (if calls were pending), interrupted, turnComplete.
The session remembers the turn and offers a resumption handle afterwards.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from . import protocol as p
from .brain import DefaultBrain, FunctionSpec, Turn
from .context import EmulatorSettings, History
from .records import ModelTurnRecord, ToolResponseRecord, UserTurnRecord
from .speech import OUTPUT_MIME, OUTPUT_RATE, synthesize
from .tool_calls import BackgroundCalls, PendingCalls

log = logging.getLogger(__name__)

CHUNK_SECONDS = 0.04
CHUNK_BYTES = int(OUTPUT_RATE * CHUNK_SECONDS) * 2
AUDIO_TOKENS_PER_SECOND = 25
FILLER = "I'm checking that now."
"""What an extended-thinking model says while its tool runs, instead of a generic interim."""
_GENERIC_INTERIMS = ("One moment.", "Let me check.")


@dataclass
class UserInput:
    """A user turn the model is to answer."""

    record: UserTurnRecord
    scripted: Turn | None
    audio_only: bool
    results: list[ToolResponseRecord] | None = None
    """A turn the model starts itself, to tell non-blocking results (no user input)."""
    follow_up: Callable[[list[ToolResponseRecord]], str] | None = None


@dataclass(frozen=True)
class TurnOptions:
    """What the setup asked of every answer."""

    audio: bool
    transcribe_input: bool
    transcribe_output: bool

    @classmethod
    def from_setup(cls, setup: dict[str, Any]) -> TurnOptions:
        generation = p.get(setup, "generation_config") or {}
        modalities = [str(m).upper() for m in p.get(generation, "response_modalities") or ["AUDIO"]]
        return cls(
            audio="AUDIO" in modalities,
            transcribe_input=p.has(setup, "input_audio_transcription"),
            transcribe_output=p.has(setup, "output_audio_transcription"),
        )


@dataclass(frozen=True)
class TurnView:
    """All a model turn may use of its session."""

    send: Callable[[dict[str, Any]], Awaitable[None]]
    reach: Callable[[str], Awaitable[None]]
    """Fire the faults due at a moment ("next_turn", "mid_turn"); raises if one
    ended the connection."""
    calls: PendingCalls
    background: BackgroundCalls
    search: bool
    """The setup declared Google Search."""
    history: History
    """The conversation before this turn (a copy)."""
    functions: list[FunctionSpec]
    options: TurnOptions
    brain: DefaultBrain
    settings: EmulatorSettings
    interaction_status: bool = False
    """The model reports interactionStatus (gemini-3.8-live-extended-thinking)."""


class Interrupted(Exception):
    """The user barged in: stop the turn where it is."""


class ModelTurn:
    def __init__(self, view: TurnView, user_input: UserInput) -> None:
        self.view = view
        self.input = user_input
        self.record = ModelTurnRecord(reply="")
        self._interrupt = asyncio.Event()
        self._spoken_words = 0
        self._audio_seconds = 0.0
        self._mid_speech_call: dict[str, Any] | None = None
        """A toolCall frame to send half-way through the speech."""

    def interrupt(self) -> None:
        self._interrupt.set()

    async def hold(self, seconds: float | None) -> None:
        """Pause the turn (None: until the client goes); the user may still barge in."""
        await self._wait(seconds)

    async def _wait(self, seconds: float | None) -> None:
        """Sleep, but wake up (raising Interrupted) the moment the user barges in."""
        if self._interrupt.is_set():
            raise Interrupted
        if seconds is not None and seconds <= 0:
            return
        try:
            await asyncio.wait_for(self._interrupt.wait(), seconds)
        except TimeoutError:
            return
        raise Interrupted

    async def run(self) -> None:
        """Answer until turnComplete, interrupted or not; the connection may end it."""
        try:
            await self.view.reach("next_turn")
            await self._speak_turn()
        except Interrupted:
            await self._end_interrupted()
        finally:
            self.view.calls.clear()

    async def _speak_turn(self) -> None:
        view = self.view
        user = self.input.record
        if self.input.follow_up is not None:
            results = self.input.results or []
            self.record.results_for = [r.id for r in results]
            if view.interaction_status:
                # It works on the result before it speaks again: IN_PROGRESS, no turn.
                await view.send({"serverContent": {"interactionStatus": "IN_PROGRESS"}})
                await self._wait(view.settings.thinking_seconds)
            reply = self.input.follow_up(results)
        else:
            if view.interaction_status:
                await view.send({"serverContent": {"interactionStatus": "IN_PROGRESS"}})
            reply = await self._answer(user)
        self.record.reply = reply
        await self._say(reply)
        await view.send({"serverContent": {"generationComplete": True}})
        await view.send(self._turn_complete())

    async def _answer(self, user: UserTurnRecord) -> str:
        """Plan, search, call tools: what to say to the user's turn. Blocking calls are
        waited for; non-blocking ones run on while the model says `interim`."""
        view = self.view
        if user.source == "audio" and view.options.transcribe_input:
            await view.send({"serverContent": {"inputTranscription": {"text": user.transcription}}})
        plan = view.brain.plan(
            user.transcription, view.functions, list(view.history),
            self.input.scripted, audio_only=self.input.audio_only, search=view.search,
        )
        if plan.grounding is not None:
            self.record.grounding = plan.grounding
            await view.send({"serverContent": {"groundingMetadata": plan.grounding}})
        if not plan.calls:
            return plan.reply([])
        if view.interaction_status and plan.interim in _GENERIC_INTERIMS:
            plan.interim = FILLER
        self.record.tool_calls = [call.wire() for call in plan.calls]
        blocking = [call for call in plan.calls if call.blocking]
        view.calls.expect(blocking)
        view.background.start((c for c in plan.calls if not c.blocking), plan.reply)
        call_frame = {"toolCall": {"functionCalls": self.record.tool_calls}}
        if not blocking and plan.call_mid_speech and view.options.audio:
            self._mid_speech_call = call_frame
            return plan.said_first()
        await view.send(call_frame)
        if not blocking:
            return plan.said_first()
        answered = await view.calls.responses(self._interrupt)
        if answered is None:
            raise Interrupted
        view.calls.clear()
        return plan.reply(answered)

    async def _say(self, reply: str) -> None:
        view = self.view
        if not view.options.audio:
            await view.reach("mid_turn")
            await view.send({"serverContent": {"modelTurn": {"parts": [{"text": reply}]}}})
            return
        pcm = await synthesize(reply, view.settings.speech)
        await self._wait(0)
        chunks = [pcm[i : i + CHUNK_BYTES] for i in range(0, len(pcm), CHUNK_BYTES)]
        words = reply.split()
        pace = view.settings.speech_pace
        loop = asyncio.get_running_loop()
        start = loop.time()
        for index, chunk in enumerate(chunks):
            if index == len(chunks) // 2:
                await view.reach("mid_turn")
                if self._mid_speech_call is not None:
                    await view.send(self._mid_speech_call)
                    self._mid_speech_call = None
            await self._wait(0)
            await view.send({"serverContent": {"modelTurn": {"parts": [
                {"inlineData": {"mimeType": OUTPUT_MIME, "data": p.encode_b64(chunk)}}
            ]}}})
            self.record.audio_bytes_sent += len(chunk)
            self._audio_seconds += len(chunk) / 2 / OUTPUT_RATE
            if view.options.transcribe_output:
                due = round(len(words) * (index + 1) / len(chunks))
                await self._transcribe(words, due)
            if pace:
                await self._wait(start + self._audio_seconds / pace - loop.time())
        if view.options.transcribe_output:
            await self._transcribe(words, len(words))

    async def _transcribe(self, words: list[str], upto: int) -> None:
        if upto <= self._spoken_words:
            return
        piece = " ".join(words[self._spoken_words : upto])
        if self._spoken_words:
            piece = " " + piece
        self._spoken_words = upto
        await self.view.send({"serverContent": {"outputTranscription": {"text": piece}}})

    def _turn_complete(self) -> dict[str, object]:
        user = self.input.record
        prompt = int(user.audio_seconds * AUDIO_TOKENS_PER_SECOND) + len(user.transcription) // 4
        prompt += sum(len(text) // 4 for _, text in self.view.history) + 1
        response = int(self._audio_seconds * AUDIO_TOKENS_PER_SECOND) + len(self.record.reply) // 4
        content: dict[str, object] = {"turnComplete": True}
        if self.view.interaction_status:
            # A filler said while a tool runs ends its turn, not the request.
            content["interactionStatus"] = "IN_PROGRESS" if self.view.background.ids else "IDLE"
        return {
            "serverContent": content,
            "usageMetadata": {
                "promptTokenCount": prompt,
                "responseTokenCount": response,
                "totalTokenCount": prompt + response,
            },
        }

    async def _end_interrupted(self) -> None:
        self.record.interrupted = True
        log.info("model turn interrupted")
        pending = self.view.calls.unanswered()
        if pending:
            await self.view.send({"toolCallCancellation": {"ids": pending}})
        await self.view.send({"serverContent": {"interrupted": True}})
        await self.view.send(self._turn_complete())
