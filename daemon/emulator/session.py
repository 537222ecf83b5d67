"""One emulated Live connection: handshake, client input, turn detection.

The model's side of each turn lives in `speaking.py`; this file decides when a
user turn starts and ends and what it said. All it uses of the emulator is a
`SessionContext`; what faults do to it is decided in `faults.py`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from daemon.core.models import profile_for

from . import protocol as p
from .activity import DEFAULT_SILENCE_MS, EnergyDetector
from .brain import FunctionSpec, functions_from_setup
from .client_frames import read_client_frame
from .context import REVOKED, History, SessionContext
from .faults import fire
from .records import (
    ClientContentRecord,
    FrameRecord,
    SessionRecord,
    ToolResponseRecord,
    UserTurnRecord,
)
from .speaking import ModelTurn, TurnOptions, TurnView, UserInput
from .tool_calls import BackgroundCalls, PendingCalls, Running

log = logging.getLogger(__name__)


class SessionEnded(Exception):
    """A fault closed or dropped the connection: stop serving it."""


class Session:
    """Serves one websocket for its whole life."""

    def __init__(
        self, context: SessionContext, ws: ServerConnection, version: str, index: int
    ) -> None:
        self.context = context
        self.ws = ws
        self.version = version
        self.index = index
        """Position in the emulator's `sessions`, for the log."""
        self.record = SessionRecord(path=ws.request.path if ws.request else "")
        self.loop = asyncio.get_running_loop()
        self.history: History = []
        self.functions: list[FunctionSpec] = []
        self.turns: asyncio.Queue[UserInput] = asyncio.Queue()
        self.model_turn: ModelTurn | None = None
        self.calls = PendingCalls()
        self.background = BackgroundCalls()
        self.search = False
        self.detector: EnergyDetector | None = None
        self.interrupts_allowed = True
        self.manual_speech_seconds: float | None = None
        self.setup_done = False
        self.speech_barged_in = False
        self.closing = False
        self.origin = time.monotonic()
        """When the session (not this connection: resuming keeps it) began."""
        self.interaction_status = False
        self._tasks: set[asyncio.Task[None]] = set()

    # ---- sending and closing -------------------------------------------------
    @property
    def setup(self) -> dict[str, Any]:
        return self.record.setup

    async def send(self, message: dict[str, Any]) -> None:
        if not self.closing:
            await self.ws.send(json.dumps(message))

    async def send_raw(self, data: str | bytes) -> None:
        if not self.closing:
            await self.ws.send(data)

    async def close(self, code: int, reason: str) -> None:
        if self.closing:
            return
        self.closing = True
        reason = p.truncate_reason(reason)
        self.record.close_code, self.record.close_reason = code, reason
        self.record.closed_by = "server"
        log.info("closing session %d: %d %s", self.index, code, reason)
        await self.ws.close(code, reason)

    def drop(self) -> None:
        """Abort TCP without a close frame: the client sees 1006."""
        if self.closing:
            return
        self.closing = True
        self.record.close_code, self.record.close_reason = 1006, "connection dropped"
        self.record.closed_by = "drop"
        log.info("dropping session %d without a close frame", self.index)
        self.ws.transport.abort()

    async def go_away(self, seconds: float, then_close: bool,
                      reason: str = "The connection was closed after goAway.") -> None:
        """Warn the client; the connection keeps working (a turn goes on) for `seconds`."""
        await self.send({"goAway": {"timeLeft": p.duration(seconds)}})
        if then_close:
            self.spawn(self._close_after(seconds, reason))

    async def _close_after(self, seconds: float, reason: str) -> None:
        await asyncio.sleep(seconds)
        await self.close(p.CLOSE_NORMAL, reason)

    async def interrupt(self) -> None:
        """`interrupted` with no user audio: ends the model's turn, or comes on its own."""
        if self.model_turn is not None:
            self.model_turn.interrupt()
        else:
            await self.send({"serverContent": {"interrupted": True}})
            await self.send({"serverContent": {"turnComplete": True}})

    async def pause(self, seconds: float | None) -> None:
        """Hold the model's turn (a barge-in still ends it), or the handshake."""
        if self.model_turn is not None:
            await self.model_turn.hold(seconds)
        else:
            await asyncio.sleep(seconds or 0)

    async def reach(self, moment: str) -> None:
        """Fire the faults armed for `moment`; SessionEnded if one ended the connection."""
        for fault in self.context.faults.take(moment):
            await fire(fault, self, self.index)
            if self.closing:
                raise SessionEnded

    def spawn(self, coro: Any) -> asyncio.Task[None]:
        task = self.loop.create_task(self._guarded(coro))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        # A task cancelled before it ran never awaits coro: close it, no warning.
        task.add_done_callback(lambda _task: coro.close())
        return task

    async def _guarded(self, coro: Any) -> None:
        """Run a session task; a bug in it closes 1011 like the service, never hangs."""
        try:
            await coro
        except (ConnectionClosed, SessionEnded):
            pass
        except Exception:
            log.exception("emulator session task failed")
            await self.close(p.CLOSE_INTERNAL, "Internal error encountered.")

    # ---- lifecycle -----------------------------------------------------------
    async def run(self) -> None:
        settings = self.context.settings
        try:
            if await self._handshake():
                self.spawn(self._respond())
                if settings.connection_lifetime is not None:
                    self.spawn(self._lifetime(settings.connection_lifetime))
                if settings.session_max_age is not None:
                    self.spawn(self._age_limit())
                await self.reach("now")
                async for raw in self.ws:
                    self.record.messages += 1
                    await self._handle(*read_client_frame(raw))
        except p.ProtocolError as error:
            log.warning("session refused: %d %s", error.code, error.reason)
            await self.close(error.code, error.reason)
        except (ConnectionClosed, SessionEnded):
            pass
        finally:
            for task in list(self._tasks):
                task.cancel()
            if self.record.close_code is None:
                self.record.close_code = self.ws.close_code
                self.record.close_reason = self.ws.close_reason
                self.record.closed_by = "client"

    async def _handshake(self) -> bool:
        # Read the first frame before refusing anything: the SDK sends setup
        # right after the upgrade and must see the close code, not a failed send.
        settings = self.context.settings
        try:
            first = await asyncio.wait_for(self.ws.recv(), settings.setup_timeout)
        except TimeoutError:
            # A client that upgrades and stays silent would hold its socket forever.
            raise p.ProtocolError(p.CLOSE_POLICY, "No setup message received within"
                                  f" {settings.setup_timeout:g} s of connecting.") from None
        self.record.messages += 1
        key = p.api_key(self.ws.request)
        if key is None:
            raise p.ProtocolError(p.CLOSE_POLICY, p.NO_CREDENTIALS)
        if settings.api_key is not None and key != settings.api_key:
            raise p.ProtocolError(p.CLOSE_INVALID, p.API_KEY_INVALID)
        kind, body = read_client_frame(first)
        if kind != "setup":
            raise p.ProtocolError(p.CLOSE_INVALID, "setup must be the first message")
        p.validate_setup(body, settings.models, self.version)
        self.record.setup = body
        self.record.model = p.model_name(body)
        self.record.voice = p.voice_name(body)
        profile = profile_for(self.record.model)
        self.interaction_status = profile.interaction_status
        self.functions = functions_from_setup(body, profile.tools_block_by_default)
        self.search = p.uses_google_search(body)
        self._configure_activity(p.get(body, "realtime_input_config") or {})
        handle = p.get(p.get(body, "session_resumption") or {}, "handle")
        if handle:
            self._resume(handle)
        try:
            await self.reach("setup")
        except SessionEnded:
            return False
        await self.send({"setupComplete": {}})
        self.setup_done = True
        return True

    def _resume(self, handle: str) -> None:
        """Take over the history of `handle`'s session, or refuse as the service does:
        1008 `session not found` for an unknown or expired handle, a bare 1007 for one
        whose session the service ended (docs/live-protocol.md, "Known field problems")."""
        handles = self.context.handles
        if handles.refusals:
            code = handles.refusals.popleft()
            self.record.resumed_from = handle
            reason = p.SESSION_NOT_FOUND if code == p.CLOSE_POLICY else p.INVALID_ARGUMENT
            raise p.ProtocolError(code, reason)
        resumed = handles.resume(handle)
        if resumed is None:
            raise p.ProtocolError(p.CLOSE_POLICY, p.SESSION_NOT_FOUND)
        self.record.resumed_from = handle
        if resumed == REVOKED:
            raise p.ProtocolError(p.CLOSE_INVALID, p.INVALID_ARGUMENT)
        assert not isinstance(resumed, str)
        self.history = resumed.history
        self.origin = resumed.origin

    def age(self) -> float:
        """The session's age in emulated seconds (across its resumed connections)."""
        settings = self.context.settings
        skipped = self.context.handles.skipped.get(self.origin, 0.0)
        return (time.monotonic() - self.origin) * settings.clock_rate + skipped

    async def _age_limit(self) -> None:
        """Close the session with 1011 once it is `session_max_age` emulated seconds
        old; its handles are then refused. Checked often, so a test may fast-forward."""
        while True:
            limit = self.context.settings.session_max_age
            if limit is not None and self.age() >= limit:
                break
            await asyncio.sleep(0.05)
        self.context.handles.revoke(self.origin)
        self.record.aged_out = True
        log.info("session %d: closing at its age limit", self.index)
        await self.close(p.CLOSE_INTERNAL, p.DEADLINE_EXPIRED)

    def _configure_activity(self, config: dict[str, Any]) -> None:
        detection = p.get(config, "automatic_activity_detection") or {}
        handling = str(p.get(config, "activity_handling") or "")
        self.interrupts_allowed = handling.upper() != "NO_INTERRUPTION"
        if not p.get(detection, "disabled", False):
            silence = int(p.get(detection, "silence_duration_ms") or DEFAULT_SILENCE_MS)
            self.detector = EnergyDetector(
                silence_ms=silence, threshold_rms=self.context.settings.vad_threshold
            )

    async def _lifetime(self, seconds: float) -> None:
        notice = min(self.context.settings.go_away_notice, seconds / 2)
        await asyncio.sleep(seconds - notice)
        await self.go_away(round(notice, 3), then_close=True,
                           reason="The connection reached its maximum lifetime.")

    async def _respond(self) -> None:
        options = TurnOptions.from_setup(self.setup)
        while True:
            user_input = await self.turns.get()
            turn = ModelTurn(self._turn_view(options), user_input)
            self.record.model_turns.append(turn.record)
            self.model_turn = turn
            try:
                await turn.run()
            finally:
                self.model_turn = None
            if user_input.follow_up is None:
                self.history.append(("user", user_input.record.transcription))
            self.history.append(("model", turn.record.reply))
            await self._offer_handle()

    def _turn_view(self, options: TurnOptions) -> TurnView:
        return TurnView(
            send=self.send, reach=self.reach, calls=self.calls, background=self.background,
            search=self.search, history=self._memory_lines() + list(self.history),
            interaction_status=self.interaction_status,
            functions=self.functions, options=options, brain=self.context.brain,
            settings=self.context.settings,
        )

    def _memory_lines(self) -> History:
        """Facts the setup's system instruction lists ("- ..." lines), for the brain's
        recall: what the session was told at the start, as the service would know it."""
        instruction = p.get(self.setup, "system_instruction") or {}
        texts = [p.get(part, "text") for part in p.get(instruction, "parts") or []]
        lines = "\n".join(t for t in texts if isinstance(t, str)).splitlines()
        return [("system", line[2:].strip()) for line in lines if line.startswith("- ")]

    async def _offer_handle(self) -> None:
        """A resumption handle for the conversation so far, if the client asked for them."""
        if not p.has(self.setup, "session_resumption") or self.closing:
            return
        handle = self.context.handles.issue(self.history, self.origin)
        self.record.handles_issued.append(handle)
        await self.send({"sessionResumptionUpdate": {"newHandle": handle, "resumable": True}})

    # ---- input -----------------------------------------------------------------
    async def _handle(self, kind: str, body: dict[str, Any]) -> None:
        """A frame after the setup, its shape already checked (`client_frames.py`)."""
        if kind == "setup":
            raise p.ProtocolError(p.CLOSE_INVALID, "setup must be sent only once, first")
        if kind == "realtime_input":
            await self._realtime_input(body)
        elif kind == "client_content":
            await self._client_content(body)
        elif kind == "tool_response":
            self._tool_response(body)

    async def _realtime_input(self, body: dict[str, Any]) -> None:
        for blob in p.get(body, "media_chunks") or []:
            mime = str(p.get(blob, "mime_type") or "")
            if mime.startswith("image/"):
                self._video(blob)
            else:
                await self._audio(blob)
        if p.has(body, "audio"):
            await self._audio(p.get(body, "audio"))
        if p.has(body, "video"):
            self._video(p.get(body, "video"))
        text = p.get(body, "text")
        if isinstance(text, str) and text:
            self.record.texts.append(text)
            await self.user_turn(text, "text")
        if p.get(body, "audio_stream_end"):
            self.record.audio_stream_ends += 1
            if self.detector is not None:
                event = self.detector.finish()
                if event is not None:
                    await self.user_turn(None, "audio", event.speech_seconds)
        if p.has(body, "activity_start"):
            self._manual_activity_check("activityStart")
            self.record.activity_starts += 1
            self.manual_speech_seconds = 0.0
            self.speech_barged_in = self.barge_in()
        if p.has(body, "activity_end"):
            self._manual_activity_check("activityEnd")
            self.record.activity_ends += 1
            if self.manual_speech_seconds is not None:
                seconds, self.manual_speech_seconds = self.manual_speech_seconds, None
                await self.user_turn(None, "audio", seconds)

    def _manual_activity_check(self, what: str) -> None:
        if self.detector is not None:
            raise p.ProtocolError(
                p.CLOSE_INVALID,
                f"{what} is only allowed when automatic activity detection is disabled",
            )

    async def _audio(self, blob: Any) -> None:
        rate = p.check_audio_mime(p.get(blob, "mime_type"))
        data = p.decode_b64(p.get(blob, "data"), "realtime_input.audio.data")
        if len(data) % 2:
            raise p.ProtocolError(
                p.CLOSE_INVALID, "Invalid audio: 16-bit PCM needs an even number of bytes"
            )
        self.record.keep_audio(data, self.context.settings.kept_audio_seconds)
        self.record.audio_mime_types.append(str(p.get(blob, "mime_type")))
        if self.detector is None:
            if self.manual_speech_seconds is not None:
                self.manual_speech_seconds += len(data) / 2 / rate
            return
        if self.detector.rate != rate:
            self.detector = EnergyDetector(
                silence_ms=self.detector.silence_frames_needed * 20,
                threshold_rms=self.detector.threshold, rate=rate,
            )
        for event in self.detector.feed(data):
            if event.kind == "start":
                self.speech_barged_in = self.barge_in()
            else:
                await self.user_turn(None, "audio", event.speech_seconds)

    def _video(self, blob: Any) -> None:
        data = p.decode_b64(p.get(blob, "data"), "realtime_input.video.data")
        kind = p.check_image(data, p.get(blob, "mime_type"))
        now = self.loop.time()
        gap = now - self.record.frames[-1].at if self.record.frames else None
        too_fast = gap is not None and gap < 1.0
        self.record.frames.append(FrameRecord(now, kind, len(data), gap, too_fast))
        if too_fast:
            log.info("video frame %.3f s after the previous one (limit 1 fps)", gap)

    async def _client_content(self, body: dict[str, Any]) -> None:
        """Turns for the context; with turn_complete the model answers the user's at
        once, without it they wait for more input (a conversation carried over)."""
        texts: list[str] = []
        carried: list[tuple[str | None, str]] = []
        complete = bool(p.get(body, "turn_complete", False))
        for turn in p.get(body, "turns") or []:
            given = p.get(turn, "role")
            if given is not None and given not in ("user", "model"):
                raise p.ProtocolError(
                    p.CLOSE_INVALID,
                    f"{p.INVALID_ARGUMENT} Please use a valid role: user, model.",
                )
            role = str(given or "user")
            parts = [p.get(part, "text") for part in p.get(turn, "parts") or []]
            joined = " ".join(t for t in parts if isinstance(t, str) and t)
            if not joined:
                continue
            carried.append((given, joined))
            if role == "user" and complete:
                texts.append(joined)
                self.record.texts.append(joined)  # what the user said; carried turns are context
            else:
                self.history.append((role, joined))
        self.record.client_contents.append(ClientContentRecord(carried, complete))
        if complete:
            await self.user_turn(" ".join(texts), "text")

    def _tool_response(self, body: dict[str, Any]) -> None:
        for item in p.get(body, "function_responses") or []:
            call_id = p.get(item, "id")
            if not isinstance(call_id, str) or not call_id:
                raise p.ProtocolError(p.CLOSE_INVALID, "FunctionResponse must have an id")
            scheduling = p.get(item, "scheduling") or p.get(p.get(item, "response"), "scheduling")
            record = ToolResponseRecord(
                id=call_id, name=str(p.get(item, "name") or ""),
                response=p.get(item, "response"), scheduling=scheduling,
            )
            self.record.tool_responses.append(record)
            running = self.background.take(call_id)
            if running is not None:
                self._background_result(running, record)
            else:
                self.calls.answer(record)

    def _background_result(self, running: Running, record: ToolResponseRecord) -> None:
        """A non-blocking call's result: kept silently, said after the current speech
        (WHEN_IDLE, the default), or said now, cutting the model off (INTERRUPT)."""
        scheduling = str(record.scheduling or "WHEN_IDLE").upper()
        log.info("session %d: result of %s, scheduling %s", self.index, record.name, scheduling)
        if scheduling == "SILENT":
            self.record.silent_results.append(record.id)
            self.history.append(("tool", f"{record.name}: {record.response}"))
            return
        if scheduling == "INTERRUPT" and self.model_turn is not None:
            self.model_turn.interrupt()
        told = UserTurnRecord(f"(result of {record.name})", "tool")
        self.turns.put_nowait(UserInput(told, None, False, [record], running.follow_up))

    # ---- turns -----------------------------------------------------------------
    def barge_in(self) -> bool:
        """User activity while the model talks interrupts it (unless NO_INTERRUPTION)."""
        if self.model_turn is not None and self.interrupts_allowed:
            self.model_turn.interrupt()
            return True
        return False

    async def user_turn(self, text: str | None, source: str, seconds: float = 0.0) -> None:
        if source == "text":
            barged_in = self.barge_in()
        else:
            barged_in, self.speech_barged_in = self.speech_barged_in, False
        scripted = self.context.script.next()
        if text is None and scripted is not None and scripted.said:
            text = scripted.said
        audio_only = text is None
        transcription = text if text is not None else f"({seconds:.1f} s of speech)"
        record = UserTurnRecord(transcription, source, round(seconds, 3), barged_in)
        self.record.user_turns.append(record)
        log.info("session %d: user turn %r", self.index, transcription)
        await self.turns.put(UserInput(record, scripted, audio_only))
