"""The model's side of one turn: tool calls, spoken reply, barge-in, faults.

Order on the wire (docs/live-protocol.md, Order of frames in a turn):
inputTranscription, toolCall (waiting for blocking responses), audio chunks
interleaved with outputTranscription, generationComplete, turnComplete +
usageMetadata, sessionResumptionUpdate.
An interrupted turn ends with toolCallCancellation (if calls were pending),
interrupted, turnComplete.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from . import protocol as p
from .records import ModelTurnRecord, ToolResponseRecord
from .speech import OUTPUT_MIME, OUTPUT_RATE, synthesize

if TYPE_CHECKING:
    from .session import Session, UserInput

log = logging.getLogger(__name__)

CHUNK_SECONDS = 0.04
CHUNK_BYTES = int(OUTPUT_RATE * CHUNK_SECONDS) * 2
AUDIO_TOKENS_PER_SECOND = 25


class Interrupted(Exception):
    """The user barged in: stop the turn where it is."""


class ModelTurn:
    def __init__(self, session: Session, user_input: UserInput) -> None:
        self.session = session
        self.input = user_input
        self.record = ModelTurnRecord(reply="")
        self._interrupt = asyncio.Event()
        self._spoken_words = 0
        self._audio_seconds = 0.0

    def interrupt(self) -> None:
        self._interrupt.set()

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

    async def _faults(self, when: str) -> None:
        session = self.session
        for fault in session.emulator.faults.take(when):
            if fault.kind == "stall":
                log.info("stalling the turn (%s)", fault.seconds or "until the client goes")
                await self._wait(fault.seconds)
            elif fault.kind == "interrupted":
                self.interrupt()
            elif fault.kind == "delay_setup":
                session.emulator.faults.arm(fault)
            else:
                await session.apply_fault(fault)
            if session.closing:
                raise asyncio.CancelledError

    async def run(self) -> None:
        session = self.session
        session.record.model_turns.append(self.record)
        try:
            await self._faults("next_turn")
            await self._speak_turn()
        except Interrupted:
            await self._end_interrupted()
        except asyncio.CancelledError:
            if not session.closing:
                raise
            return
        finally:
            session.pending_calls.clear()
            session.tool_results.clear()
        session.history.append(("user", self.input.record.transcription))
        session.history.append(("model", self.record.reply))
        await self._resumption_update()

    async def _speak_turn(self) -> None:
        session = self.session
        user = self.input.record
        if user.source == "audio" and p.has(session.setup, "input_audio_transcription"):
            await session.send({"serverContent": {"inputTranscription": {"text": user.transcription}}})
        plan = session.emulator.brain.plan(
            user.transcription, session.functions, list(session.history),
            self.input.scripted, audio_only=self.input.audio_only,
        )
        responses: list[ToolResponseRecord] = []
        if plan.calls:
            self.record.tool_calls = [call.wire() for call in plan.calls]
            blocking = {call.id: call for call in plan.calls if call.blocking}
            session.pending_calls.update(blocking)
            await session.send({"toolCall": {"functionCalls": self.record.tool_calls}})
            while any(call_id not in session.tool_results for call_id in blocking):
                session.tool_results_changed.clear()
                waiter = asyncio.ensure_future(session.tool_results_changed.wait())
                interrupt = asyncio.ensure_future(self._interrupt.wait())
                await asyncio.wait({waiter, interrupt}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                interrupt.cancel()
                if self._interrupt.is_set():
                    raise Interrupted
            responses = [session.tool_results[call_id] for call_id in blocking]
            session.pending_calls.clear()
        reply = plan.reply(responses)
        self.record.reply = reply
        await self._say(reply)
        await session.send({"serverContent": {"generationComplete": True}})
        await session.send(self._turn_complete())

    def _modalities(self) -> list[str]:
        generation = p.get(self.session.setup, "generation_config") or {}
        return [str(m).upper() for m in p.get(generation, "response_modalities") or ["AUDIO"]]

    async def _say(self, reply: str) -> None:
        session = self.session
        if "AUDIO" not in self._modalities():
            await self._faults("mid_turn")
            await session.send({"serverContent": {"modelTurn": {"parts": [{"text": reply}]}}})
            return
        pcm = await synthesize(reply, session.emulator.speech)
        await self._wait(0)
        chunks = [pcm[i : i + CHUNK_BYTES] for i in range(0, len(pcm), CHUNK_BYTES)]
        words = reply.split()
        transcribe = p.has(session.setup, "output_audio_transcription")
        pace = session.emulator.speech_pace
        loop = asyncio.get_running_loop()
        start = loop.time()
        for index, chunk in enumerate(chunks):
            if index == len(chunks) // 2:
                await self._faults("mid_turn")
            await self._wait(0)
            await session.send({"serverContent": {"modelTurn": {"parts": [
                {"inlineData": {"mimeType": OUTPUT_MIME, "data": p.encode_b64(chunk)}}
            ]}}})
            self.record.audio_bytes_sent += len(chunk)
            self._audio_seconds += len(chunk) / 2 / OUTPUT_RATE
            if transcribe:
                due = round(len(words) * (index + 1) / len(chunks))
                await self._transcribe(words, due)
            if pace:
                await self._wait(start + self._audio_seconds / pace - loop.time())
        if transcribe:
            await self._transcribe(words, len(words))

    async def _transcribe(self, words: list[str], upto: int) -> None:
        if upto <= self._spoken_words:
            return
        piece = " ".join(words[self._spoken_words : upto])
        if self._spoken_words:
            piece = " " + piece
        self._spoken_words = upto
        await self.session.send({"serverContent": {"outputTranscription": {"text": piece}}})

    def _turn_complete(self) -> dict[str, object]:
        user = self.input.record
        prompt = int(user.audio_seconds * AUDIO_TOKENS_PER_SECOND) + len(user.transcription) // 4
        prompt += sum(len(text) // 4 for _, text in self.session.history) + 1
        response = int(self._audio_seconds * AUDIO_TOKENS_PER_SECOND) + len(self.record.reply) // 4
        return {
            "serverContent": {"turnComplete": True},
            "usageMetadata": {
                "promptTokenCount": prompt,
                "responseTokenCount": response,
                "totalTokenCount": prompt + response,
            },
        }

    async def _end_interrupted(self) -> None:
        session = self.session
        self.record.interrupted = True
        log.info("model turn interrupted")
        pending = [cid for cid in session.pending_calls if cid not in session.tool_results]
        if pending:
            await session.send({"toolCallCancellation": {"ids": pending}})
        await session.send({"serverContent": {"interrupted": True}})
        await session.send(self._turn_complete())

    async def _resumption_update(self) -> None:
        session = self.session
        if not p.has(session.setup, "session_resumption") or session.closing:
            return
        handle = session.emulator.issue_handle(session.history)
        session.record.handles_issued.append(handle)
        await session.send({"sessionResumptionUpdate": {"newHandle": handle, "resumable": True}})

