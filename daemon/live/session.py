"""One conversation's connection to the Gemini Live API, kept alive across drops.

The SDK gives one WebSocket per `connect()`; a conversation outlives many of
them (goAway every ~10 minutes, dropped Wi-Fi, 1011s). LiveSession hides the
swaps: input sent while reconnecting waits in an Outbox and goes out first on
the new connection, the resumption handle carries the context over, and the
consumer sees one stream of events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import websockets
from google.genai import types

from daemon.config.schema import GeminiConfig
from daemon.core.models import profile_for
from daemon.core.redact import forget_secret, register_secret, scrub
from daemon.live import events as ev
from daemon.live.backoff import Backoff
from daemon.live.bad_frames import describe_bad_frame, one_line
from daemon.live.carry_over import CarriedTurns
from daemon.live.connect_config import (
    CLOSE_TIMEOUT_S,
    INPUT_AUDIO_MIME,
    NO_EXTRAS,
    PING_INTERVAL_S,
    PING_TIMEOUT_S,
    SetupExtras,
    build_connect_config,
    function_declarations,
    make_client,
)
from daemon.live.connection import Connection, seconds_of
from daemon.live.errors import (
    Diagnosis,
    Recovery,
    SessionError,
    connection_ended,
    diagnose,
)
from daemon.live.messages import clean_text, clean_value, content_events
from daemon.live.outbox import Outbox, Outgoing
from daemon.live.tool_calls import ToolHandler, run_tool
from hardware.audio.convert import pcm_seconds

log = logging.getLogger(__name__)

_END = object()  # ends the event stream
_GO_AWAY = Diagnosis(Recovery.RESUME, "the server asked us to move (goAway)")
_MAX_BAD_FRAMES_IN_A_ROW = 50
_BAD_FRAMES_LOGGED = 10  # per connection; the rest go to debug
DRAIN_GRACE_S = 5.0
"""After a goAway the old connection closes at most this long after its timeLeft."""
DRAIN_DEFAULT_S = 60.0
"""The timeLeft assumed when the goAway gave none that could be read."""


class LiveSession:
    """A conversation with the model: start, stream input, read events, close."""

    def __init__(
        self,
        config: GeminiConfig,
        api_key: str,
        *,
        tools: Sequence[dict[str, Any]] = (),
        tool_handler: ToolHandler | None = None,
        scheduling: Callable[[str, dict[str, Any]], str | None] | None = None,
        extras: SetupExtras = NO_EXTRAS,
        instruction_note: Callable[[], str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        client: Any = None,
        setup_timeout_s: float = 10.0,
        reconnect_timeout_s: float = 30.0,
        max_buffered_audio_s: float = 60.0,
        ping_interval_s: float = PING_INTERVAL_S,
        ping_timeout_s: float = PING_TIMEOUT_S,
        close_timeout_s: float = CLOSE_TIMEOUT_S,
    ) -> None:
        self._config = config
        self._api_key = api_key
        self._declarations = function_declarations(tools)
        self._tool_handler = tool_handler
        # When a non-blocking tool's result is used (docs/live-protocol.md, "Blocking
        # and non-blocking functions"); None: the server's default, WHEN_IDLE.
        self._scheduling = scheduling if profile_for(config.model).response_scheduling else None
        self._extras = extras
        self._ssl_context = ssl_context
        self._keepalive = {
            "ping_interval_s": ping_interval_s,
            "ping_timeout_s": ping_timeout_s,
            "close_timeout_s": close_timeout_s,
        }
        self._setup_timeout_s = setup_timeout_s
        # A client built once by the caller (make_client) saves ~170 ms of CA-store
        # loading per conversation; without one, start() builds its own.
        self._client: Any = client
        self._state: ev.SessionStateName = "idle"
        self._handle: str | None = None
        self._conn: Connection | None = None
        self._connections_opened = 0
        self._events: asyncio.Queue[Any] = asyncio.Queue()
        self._outcomes: asyncio.Queue[tuple[Connection, Diagnosis]] = asyncio.Queue()
        self._send_lock = asyncio.Lock()
        self._outbox = Outbox(max_buffered_audio_s)
        self._tool_tasks: dict[str, asyncio.Task[None]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._draining: set[Connection] = set()  # replaced after a goAway, still finishing a turn
        self._supervisor: asyncio.Task[None] | None = None
        self._backoff = Backoff(reconnect_timeout_s)
        # What was said, for a fresh session when the service refuses to resume.
        self._carried = CarriedTurns()
        self._instruction_note = instruction_note
        register_secret(api_key)

    # -- public API ---------------------------------------------------------

    @property
    def state(self) -> ev.SessionStateName:
        return self._state

    @property
    def resumption_handle(self) -> str | None:
        """The newest handle the server offered (None before the first one)."""
        return self._handle

    async def start(self) -> None:
        """Open the first connection; raises FatalSessionError or SessionError."""
        if self._state != "idle":
            raise SessionError(f"the session was already started (state {self._state})")
        self._set_state("connecting", "opening the Live session")
        try:
            if self._client is None:
                self._client = make_client(
                    self._config, self._api_key, self._ssl_context, **self._keepalive
                )
            conn = await self._open(self._handle)
        except SessionError as exc:
            log.error("cannot open the Live session: %s", exc.message)
            await self._shutdown(exc.message)
            raise
        except asyncio.CancelledError:
            await self._shutdown("start cancelled")
            raise
        self._supervisor = asyncio.create_task(self._supervise(), name="live-supervisor")
        await self._go_live(conn, "session started")

    async def send_audio(self, pcm: bytes) -> None:
        """Send 16 kHz s16le mono PCM; kept and sent later while reconnecting."""
        if len(pcm) % 2:
            raise ValueError(f"audio chunk of {len(pcm)} bytes is not whole 16-bit samples")
        if pcm:
            await self._send(Outgoing("audio", bytes(pcm), INPUT_AUDIO_MIME))

    async def send_frame(self, jpeg: bytes, mime_type: str = "image/jpeg") -> None:
        """Send a camera frame (JPEG or PNG, at most one per second)."""
        if not mime_type.startswith("image/"):
            raise ValueError(f"a frame must be an image, not {mime_type!r}")
        await self._send(Outgoing("frame", bytes(jpeg), mime_type))

    async def send_text(self, text: str) -> None:
        """Send typed text as realtime input (the model answers it like speech)."""
        if text:
            await self._send(Outgoing("text", text))

    @property
    def carried_turns(self) -> list[tuple[str, str]]:
        """The conversation so far as (role, text): what a fresh session would be given."""
        return list(self._carried.turns())

    async def events(self) -> AsyncIterator[ev.SessionEvent]:
        """Everything the session has to say, in order; ends after the session closes."""
        while True:
            event = await self._events.get()
            if event is _END:
                self._events.put_nowait(_END)  # a second reader ends too
                return
            yield event

    async def close(self) -> None:
        """End the conversation: cancel running tools, close the WebSocket (1000)."""
        if self._state == "closed":
            return
        await self._shutdown("closed by the daemon")

    # -- connections ----------------------------------------------------------

    async def _open(self, handle: str | None) -> Connection:
        """Connect and complete the setup handshake, or raise a classified SessionError."""
        self._connections_opened += 1
        number = self._connections_opened
        note = self._instruction_note() if self._instruction_note is not None else ""
        config = build_connect_config(
            self._config,
            self._declarations,
            resumption_handle=handle,
            extras=self._extras,
            instruction_note=note,
        )
        manager = self._client.aio.live.connect(model=self._config.model, config=config)
        log.info("connection %d: opening%s", number, " (resuming)" if handle else "")
        try:
            async with asyncio.timeout(self._setup_timeout_s):
                sdk_session = await manager.__aenter__()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            diagnosis = diagnose(exc, resuming=handle is not None)
            log.warning("connection %d failed: %s", number, diagnosis.message)
            raise diagnosis.error() from None
        if sdk_session.setup_complete is None:
            log.warning("connection %d: the server's first frame was not setupComplete", number)
        return Connection(number, manager, sdk_session, resumed=handle is not None)

    def _adopt(self, conn: Connection) -> None:
        self._conn = conn
        conn.pump = asyncio.create_task(self._pump(conn), name=f"live-pump-{conn.number}")

    def _retire(self, conn: Connection | None) -> None:
        """Close an old connection in the background (its close may take a moment)."""
        if conn is None or conn.retired:
            return
        self._draining.discard(conn)
        conn.retired = True
        conn.usable = False
        task = asyncio.create_task(conn.close(), name=f"live-close-{conn.number}")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _hand_over(self, old: Connection) -> None:
        """After a goAway: the old connection still works for its timeLeft, so the
        answer it is giving is heard to the end; it closes once that turn completes
        (or the server closes it)."""
        if old.in_turn and old.usable:
            old.draining = True
            self._draining.add(old)
            log.info("connection %d: finishing the answer in flight before closing", old.number)
            # A server that neither completes the turn nor closes at timeLeft does not
            # keep the connection open for good.
            limit = DRAIN_GRACE_S + (old.time_left_s if old.time_left_s is not None else DRAIN_DEFAULT_S)
            asyncio.get_running_loop().call_later(limit, self._drain_over, old, limit)
        else:
            self._retire(old)

    def _drain_over(self, old: Connection, limit: float) -> None:
        if old.retired:
            return
        log.warning(
            "connection %d: its answer did not complete within %.0f s of the goAway; closing it",
            old.number, limit,
        )  # fmt: skip
        self._retire(old)

    # -- receiving ------------------------------------------------------------

    async def _pump(self, conn: Connection) -> None:
        """Read frames until the connection ends, then report why to the supervisor.

        A frame the SDK cannot read is skipped with one logged line; the loop
        goes on reading (receive() ends at the exception, a new one starts).
        """
        bad_in_a_row = 0
        bad_logged = 0
        while True:
            try:
                async for message in conn.sdk.receive():
                    bad_in_a_row = 0
                    self._dispatch_safely(conn, message)
                # receive() stops after every turnComplete: go round for the next turn.
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if connection_ended(exc):
                    conn.usable = False
                    self._outcomes.put_nowait((conn, diagnose(exc, mid_session=True)))
                    return
                bad_in_a_row += 1
                bad_logged += 1
                self._report_bad_frame(conn, describe_bad_frame(exc), bad_logged)
                if bad_in_a_row >= _MAX_BAD_FRAMES_IN_A_ROW:
                    conn.usable = False
                    self._outcomes.put_nowait(
                        (conn, Diagnosis(Recovery.RESUME, "the server sent only malformed frames"))
                    )
                    return

    @staticmethod
    def _report_bad_frame(conn: Connection, problem: str, count: int) -> None:
        """One error line per bad frame, up to a limit per connection: a server
        sending garbage fills the log with a few lines, not thousands."""
        if count <= _BAD_FRAMES_LOGGED:
            log.error("connection %d: skipped a malformed server frame: %s", conn.number, problem)
            if count == _BAD_FRAMES_LOGGED:
                log.error("connection %d: further malformed frames are logged at debug level only",
                          conn.number)  # fmt: skip
        else:
            log.debug("connection %d: skipped a malformed server frame: %s", conn.number, problem)

    def _dispatch_safely(self, conn: Connection, message: types.LiveServerMessage) -> None:
        """Dispatch a frame the SDK could read; if acting on it fails, skip it (logged)
        rather than lose the connection's pump."""
        try:
            self._dispatch(conn, message)
        except RecursionError as exc:  # Python 3.13's json reads deeper than we can walk
            log.error("connection %d: skipped a malformed server frame: %s",
                      conn.number, describe_bad_frame(exc))  # fmt: skip
        except Exception as exc:
            log.error("connection %d: could not act on a server frame (%s: %s)",
                      conn.number, type(exc).__name__, one_line(exc))  # fmt: skip
            log.debug("the server frame that could not be handled", exc_info=True)

    def _dispatch(self, conn: Connection, message: types.LiveServerMessage) -> None:
        update = message.session_resumption_update
        if update is not None and update.resumable and update.new_handle and conn is self._conn:
            self._handle = update.new_handle
        content = message.server_content
        if content is not None:
            for event in content_events(content, message.usage_metadata):
                self._emit(event)
                self._remember(event)
                conn.in_turn = not isinstance(event, ev.TurnComplete)
                if isinstance(event, ev.InteractionStatus):
                    conn.in_turn = event.in_progress
            if conn.draining and not conn.in_turn:
                log.info("connection %d: its last answer is complete; closing it", conn.number)
                self._retire(conn)
        if message.tool_call is not None:
            conn.in_turn = True
            for call in message.tool_call.function_calls or []:
                self._start_tool(conn, call)
        if message.tool_call_cancellation is not None:
            self._cancel_tools([clean_text(i) for i in message.tool_call_cancellation.ids or []])
        if message.go_away is not None and not conn.moving and conn is self._conn:
            conn.moving = True
            left = one_line(message.go_away.time_left, limit=40)
            conn.time_left_s = seconds_of(message.go_away.time_left)
            log.info("connection %d: goAway (time left %s)", conn.number, left)
            self._outcomes.put_nowait((conn, _GO_AWAY))

    def _remember(self, event: ev.SessionEvent) -> None:
        """Keep the transcripts as the turns a fresh session would be given."""
        if isinstance(event, ev.InputTranscript):
            self._carried.heard("user", event.text)
        elif isinstance(event, ev.OutputTranscript):
            self._carried.heard("model", event.text)
        elif isinstance(event, ev.TurnComplete | ev.Interrupted):
            self._carried.end_turn()

    # -- tools ----------------------------------------------------------------

    def _start_tool(self, conn: Connection, call: types.FunctionCall) -> None:
        call_id, name = clean_text(call.id or ""), clean_text(call.name or "")
        args = clean_value(dict(call.args or {}))
        self._emit(ev.ToolCall(call_id, name, args))
        if not call_id:
            log.error("tool call %r came without an id: it cannot be answered", name)
            return
        task = asyncio.create_task(self._answer_tool(conn, call_id, name, args))
        self._tool_tasks[call_id] = task
        task.add_done_callback(lambda t: self._tool_tasks.pop(call_id, None) if
                               self._tool_tasks.get(call_id) is t else None)  # fmt: skip

    async def _answer_tool(
        self, conn: Connection, call_id: str, name: str, args: dict[str, Any]
    ) -> None:
        """Run the tool off the receive loop, then send its result on the asking connection."""
        response = await run_tool(self._tool_handler, name, args)
        async with self._send_lock:
            if not conn.usable:
                log.warning("result of %s (%s) not sent: its connection is gone", name, call_id)
                return
            try:
                scheduling = self._scheduling(name, response) if self._scheduling else None
                await conn.sdk.send_tool_response(
                    function_responses=[
                        types.FunctionResponse(
                            id=call_id, name=name, response=response, scheduling=scheduling
                        )
                    ]
                )
            except (websockets.ConnectionClosed, OSError):
                log.warning("result of %s (%s) not sent: the connection closed", name, call_id)
                return
        self._emit(ev.ToolResult(call_id, name, response))

    def _cancel_tools(self, ids: Sequence[str]) -> None:
        for call_id in ids:
            task = self._tool_tasks.pop(call_id, None)
            if task is not None:
                task.cancel()
        log.info("server cancelled tool call(s) %s", one_line(", ".join(ids)))
        self._emit(ev.ToolCancelled(tuple(ids)))

    # -- sending ----------------------------------------------------------------

    async def _send(self, item: Outgoing) -> None:
        if self._state == "idle":
            raise SessionError("send before start()")
        async with self._send_lock:
            if self._state == "closed":
                log.debug("%s dropped: the session is closed", item.kind)
                return
            conn = self._conn
            if self._state == "open" and conn is not None and conn.usable and not self._outbox:
                try:
                    await conn.transmit(item)
                    self._sent(item)
                    return
                except (websockets.ConnectionClosed, OSError) as exc:
                    conn.usable = False  # the pump reports the close; we keep the input
                    log.info("connection %d: send failed (%s); buffering", conn.number,
                             type(exc).__name__)  # fmt: skip
            self._outbox.put(item)

    def _sent(self, item: Outgoing) -> None:
        """Typed text reached the server: a user turn (it sends no transcript of it)."""
        if item.kind == "text":
            self._carried.typed(str(item.data))

    async def _flush(self, conn: Connection) -> None:
        """Send what waited in the outbox, oldest first (caller holds the send lock)."""
        sent = 0
        while (item := self._outbox.peek()) is not None:
            await conn.transmit(item)
            self._outbox.pop()
            self._sent(item)
            sent += len(item.data) if item.kind == "audio" else 0
        if sent:
            log.info("connection %d: sent %.2f s of audio held during the reconnect",
                     conn.number, pcm_seconds(sent, 16000))  # fmt: skip

    # -- supervision ------------------------------------------------------------

    async def _supervise(self) -> None:
        """React to each connection ending: move, resume, start fresh, or give up."""
        try:
            while self._state != "closed":
                conn, diagnosis = await self._outcomes.get()
                if conn is not self._conn:
                    self._retire(conn)  # an old connection (after a goAway) has closed
                    continue
                if diagnosis is _GO_AWAY:
                    await self._reconnect(conn, diagnosis, keep_old=True)
                    continue
                log.warning("connection %d ended: %s", conn.number, diagnosis.message)
                if diagnosis.recovery in (Recovery.FATAL, Recovery.END):
                    await self._fail(diagnosis.message, fatal=diagnosis.fatal)
                    return
                await self._reconnect(conn, diagnosis, keep_old=False)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug here must still end the session visibly
            log.exception("Live session supervisor crashed")
            await self._fail(f"internal error: {scrub(exc)}", fatal=False)

    async def _reconnect(self, old: Connection, why: Diagnosis, *, keep_old: bool) -> None:
        """Open a successor to old (which keeps delivering when it is still alive)."""
        self._set_state("reconnecting", why.message, planned=why is _GO_AWAY)
        if not keep_old:
            self._retire(old)
        fresh = why.recovery is Recovery.FRESH or not self._config.session_resumption
        delay = 0.0
        if why is not _GO_AWAY:
            lived = asyncio.get_running_loop().time() - old.opened_at
            self._backoff.failed(why.recovery, lived)
            delay = 0.0 if fresh else self._backoff.next_delay()
        while True:
            if delay:
                await asyncio.sleep(delay)
            if fresh:
                self._handle = None
            try:
                conn = await self._open(self._handle)
                break
            except SessionError as exc:
                if exc.recovery is Recovery.FATAL:
                    await self._fail(exc.message, fatal=True)
                    return
                self._backoff.failed(exc.recovery)
                if self._backoff.exhausted():
                    limit = self._backoff.give_up_after_s
                    await self._fail(
                        f"gave up reconnecting after {limit:.0f} s: {exc.message}", fatal=False
                    )
                    return
                fresh = fresh or exc.recovery is Recovery.FRESH
                delay = 0.0 if exc.recovery is Recovery.FRESH else self._backoff.next_delay()
        if keep_old:
            self._hand_over(old)
        detail = "resumed the conversation" if conn.resumed else "started a new session"
        await self._go_live(conn, detail)

    async def _go_live(self, conn: Connection, detail: str) -> None:
        """Make conn the current connection and send it what waited in the outbox."""
        async with self._send_lock:
            if self._state == "closed":  # close() ran while we connected
                self._retire(conn)
                return
            self._adopt(conn)
            try:
                if not conn.resumed and conn.number > 1:
                    await self._carry_over(conn)
                await self._flush(conn)
            except (websockets.ConnectionClosed, OSError):
                conn.usable = False  # its pump reports the close; the outbox keeps the rest
                return
            self._set_state("open", detail)

    async def _carry_over(self, conn: Connection) -> None:
        """A fresh session in the middle of a conversation: give it the turns so far,
        without turn_complete, so it waits for the user's next words and answers them
        knowing what was said (docs/live-protocol.md, "Carrying a conversation over").
        Sent before the outbox, which holds those next words. The caller holds the lock."""
        contents = self._carried.contents()
        if not contents:
            return
        await conn.sdk.send_client_content(turns=contents, turn_complete=False)
        log.info("connection %d: carried %d turn(s) of the conversation over to a fresh"
                 " session", conn.number, len(contents))  # fmt: skip

    async def _fail(self, message: str, *, fatal: bool) -> None:
        message = scrub(message)
        log.error("Live session failed%s: %s", " (fatal)" if fatal else "", message)
        self._emit(ev.SessionFailed(message, fatal))
        await self._shutdown(message)

    async def _shutdown(self, detail: str) -> None:
        if self._state == "closed":
            return
        previous = self._state
        self._state = "closed"  # from here on sends are dropped and outcomes ignored
        if self._supervisor is not None and self._supervisor is not asyncio.current_task():
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        for task in list(self._tool_tasks.values()):
            task.cancel()
        self._tool_tasks.clear()
        conn, self._conn = self._conn, None
        for old in list(self._draining):  # its answer is moot now: closing ends it too
            self._retire(old)
        if conn is not None:
            await conn.close()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        if previous != "idle":
            self._emit(ev.SessionStateChanged("closed", scrub(detail)))
        self._events.put_nowait(_END)
        forget_secret(self._api_key)

    # -- helpers ------------------------------------------------------------------

    def _set_state(self, state: ev.SessionStateName, detail: str, *, planned: bool = False) -> None:
        if self._state == "closed":
            return
        self._state = state
        log.info("Live session %s: %s", state, scrub(detail))
        self._emit(ev.SessionStateChanged(state, scrub(detail), planned=planned))

    def _emit(self, event: ev.SessionEvent) -> None:
        self._events.put_nowait(event)
