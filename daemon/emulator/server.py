"""The Live API emulator server: TLS websockets on loopback, sessions, script, faults."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
import shutil
import ssl
import tempfile
from http import HTTPStatus
from pathlib import Path
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from . import protocol as p
from .brain import DefaultBrain, Turn
from .context import HANDLE_TTL_SECONDS, EmulatorSettings, SessionContext
from .faults import Fault, FaultBook, fire
from .records import KEPT_AUDIO_SECONDS, SessionRecord
from .session import Session
from .tls import CertificateFiles, client_ssl_context, mint_certificates, server_ssl_context

log = logging.getLogger(__name__)

PATH_PATTERN = re.compile(
    r"^/+ws/google\.ai\.generativelanguage\.(v1|v1beta|v1alpha)\."
    r"GenerativeService\.BidiGenerateContent(Constrained)?$"
)
MAX_FRAME_BYTES = 32 * 1024 * 1024


class NotLoopbackError(ValueError):
    """The emulator must never be reachable from another machine."""


def check_loopback(host: str) -> None:
    """Refuse any bind address that is not a loopback address."""
    if host == "localhost":
        return
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise NotLoopbackError(
            f"refusing to listen on {host!r}: the emulator only binds loopback addresses"
            " (127.0.0.1, ::1 or localhost)"
        ) from None
    if not address.is_loopback:
        raise NotLoopbackError(
            f"refusing to listen on {host}: the emulator only binds loopback addresses"
            " (127.0.0.1, ::1 or localhost)"
        )


def _is_loopback_peer(peer: Any) -> bool:
    try:
        return ipaddress.ip_address(peer[0]).is_loopback
    except (TypeError, ValueError, IndexError):
        return False


class _Setting:
    """An emulator attribute that lives in its EmulatorSettings, so sessions see changes."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, emulator: LiveEmulator | None, owner: type | None = None) -> Any:
        if emulator is None:
            return self
        return getattr(emulator.context.settings, self.name)

    def __set__(self, emulator: LiveEmulator, value: Any) -> None:
        setattr(emulator.context.settings, self.name, value)


class LiveEmulator:
    """A local Gemini Live API endpoint the unmodified google-genai SDK can talk to.

    speech: "auto" (espeak-ng when installed, else a tone), "espeak" or "tone".
    speech_pace: how many seconds of reply audio per second of wall time
    (1.0 = real time, so barge-in can be tested; 0 = as fast as possible).
    connection_lifetime: seconds before the server sends goAway and closes 1000.
    setup_timeout: seconds a client may stay silent after the upgrade (then 1008).
    kept_audio_seconds: how much of its newest input audio each session record keeps
    (`audio_bytes_received` counts all of it), so a long stream stays bounded.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        connection_lifetime: float | None = None,
        speech: str = "auto",
        speech_pace: float = 1.0,
        ca_out: Path | str | None = None,
        go_away_notice: float = 60.0,
        handle_ttl: float = HANDLE_TTL_SECONDS,
        vad_threshold: float = 400.0,
        setup_timeout: float = 10.0,
        kept_audio_seconds: float = KEPT_AUDIO_SECONDS,
        models: tuple[str, ...] = p.KNOWN_MODELS,
    ) -> None:
        check_loopback(host)
        if speech not in ("auto", "espeak", "tone"):
            raise ValueError(f"speech must be auto, espeak or tone, not {speech!r}")
        self.host = host
        self.requested_port = port
        self.context = SessionContext.new(EmulatorSettings(
            api_key=api_key, models=tuple(models), speech=speech, speech_pace=speech_pace,
            connection_lifetime=connection_lifetime, go_away_notice=go_away_notice,
            handle_ttl=handle_ttl, vad_threshold=vad_threshold, setup_timeout=setup_timeout,
            kept_audio_seconds=kept_audio_seconds,
        ))
        self.sessions: list[SessionRecord] = []
        self._ca_out = Path(ca_out) if ca_out else None
        self._live: list[Session] = []
        self._server: Server | None = None
        self._tmpdir: Path | None = None
        self._certs: CertificateFiles | None = None
        self._port: int | None = None

    api_key = _Setting()
    models = _Setting()
    speech = _Setting()
    speech_pace = _Setting()
    connection_lifetime = _Setting()
    go_away_notice = _Setting()
    handle_ttl = _Setting()
    vad_threshold = _Setting()
    setup_timeout = _Setting()
    kept_audio_seconds = _Setting()
    session_max_age = _Setting()
    clock_rate = _Setting()
    thinking_seconds = _Setting()

    @property
    def faults(self) -> FaultBook:
        return self.context.faults

    @property
    def brain(self) -> DefaultBrain:
        return self.context.brain

    # ---- lifecycle ---------------------------------------------------------------
    async def start(self) -> LiveEmulator:
        self._tmpdir = Path(tempfile.mkdtemp(prefix="speakerd-emulator-"))
        self._certs = mint_certificates(self._tmpdir, self._ca_out)
        self._server = await serve(
            self._serve,
            self.host,
            self.requested_port,
            ssl=server_ssl_context(self._certs),
            process_request=self._check_request,
            max_size=MAX_FRAME_BYTES,
            close_timeout=2,
            compression=None,
        )
        for sock in self._server.sockets:
            if not _is_loopback_peer(sock.getsockname()):
                await self.stop()
                raise NotLoopbackError(f"bound a non-loopback socket {sock.getsockname()}")
        self._port = self._server.sockets[0].getsockname()[1]
        log.info("Live emulator listening on %s", self.ws_url)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)
            self._server = None
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    async def __aenter__(self) -> LiveEmulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- addresses and TLS -----------------------------------------------------------
    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the emulator is not started")
        return self._port

    @property
    def _netloc(self) -> str:
        host = f"[{self.host.strip('[]')}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def url(self) -> str:
        """What to pass as HttpOptions(base_url=...); the SDK turns it into wss://."""
        return f"https://{self._netloc}"

    @property
    def ws_url(self) -> str:
        return f"wss://{self._netloc}"

    @property
    def ca_file(self) -> Path:
        if self._certs is None:
            raise RuntimeError("the emulator is not started")
        return self._certs.ca_cert

    def client_ssl_context(self) -> ssl.SSLContext:
        return client_ssl_context(self.ca_file)

    def http_options(self) -> Any:
        """google.genai HttpOptions that reach this emulator (imports the SDK lazily)."""
        from google.genai import types

        return types.HttpOptions(
            base_url=self.url, async_client_args={"ssl": self.client_ssl_context()}
        )

    # ---- connections -------------------------------------------------------------------
    def _check_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if not _is_loopback_peer(connection.remote_address):
            return connection.respond(HTTPStatus.FORBIDDEN, "loopback clients only\n")
        path = request.path.split("?", 1)[0]
        if not PATH_PATTERN.match(path):
            return connection.respond(HTTPStatus.NOT_FOUND, f"no Live API endpoint at {path}\n")
        return None

    async def _serve(self, ws: ServerConnection) -> None:
        match = PATH_PATTERN.match(ws.request.path.split("?", 1)[0]) if ws.request else None
        version = match.group(1) if match else "v1beta"
        session = Session(self.context, ws, version, index=len(self.sessions))
        self.sessions.append(session.record)
        self._live.append(session)
        try:
            await session.run()
        finally:
            self._live.remove(session)

    @property
    def live_sessions(self) -> list[SessionRecord]:
        return [s.record for s in self._live if s.setup_done and not s.closing]

    # ---- conversation state ------------------------------------------------------------
    def script(self, turns: list[Turn]) -> None:
        """Queue what the next user turns say and how the model answers (any session)."""
        self.context.script.extend(turns)

    def clear_script(self) -> None:
        self.context.script.clear()

    def expire_handles(self) -> None:
        """Forget every resumption handle (as if hours had passed)."""
        self.context.handles.expire_all()

    def fast_forward(self, seconds: float) -> None:
        """Age every live session by `seconds` of emulated time (see session_max_age)."""
        for session in self._live:
            skipped = self.context.handles.skipped
            skipped[session.origin] = skipped.get(session.origin, 0.0) + seconds

    def refuse_next_resumption(self, code: int = p.CLOSE_POLICY) -> None:
        """Refuse the next setup that resumes, whatever its handle: 1008 `session not
        found`, or 1007 with the bare reason gemini-3.8-live gives."""
        if code not in (p.CLOSE_POLICY, p.CLOSE_INVALID):
            raise ValueError(f"a refused resumption closes with 1008 or 1007, not {code}")
        self.context.handles.refusals.append(code)

    # ---- faults --------------------------------------------------------------------------
    def inject(self, fault: Fault) -> None:
        """Fire `fault` now in every live session, or arm it for its moment.

        Moments: "now" (with no live session: the next one, after setupComplete),
        "setup" (before setupComplete), "next_turn" (before the next answer starts),
        "mid_turn" (half way through the next answer's audio). An armed fault
        fires once, in the first session that reaches its moment.
        """
        if fault.when == "now":
            live = [s for s in self._live if s.setup_done and not s.closing]
            if live:
                for session in live:
                    session.spawn(fire(fault, session, session.index))
                return
        self.faults.arm(fault)

    def close_next(self, code: int = 1011, reason: str = "Internal error encountered.",
                   when: str = "now") -> None:
        """Close with `code`: now, at setup, at the start of the next turn, or mid-turn."""
        self.inject(Fault("close", when, code=code, reason=reason))

    def drop_connection(self, when: str = "now") -> None:
        """Abort the TCP connection without a close frame (the client sees 1006)."""
        self.inject(Fault("drop", when))

    def send_go_away(self, time_left: str | float = "5s", when: str = "now",
                     then_close: bool = True) -> None:
        """Announce the end of the connection; close 1000 when time_left runs out.

        Until then the connection keeps working: with when="mid_turn" the rest of
        the answer and its turnComplete still arrive (if time_left outlasts it).
        """
        self.inject(Fault("go_away", when, seconds=p.parse_duration(time_left),
                          then_close=then_close))

    def delay_setup(self, seconds: float) -> None:
        """Hold back the next setupComplete for `seconds`."""
        self.inject(Fault("delay_setup", "setup", seconds=seconds))

    def stall_turn(self, seconds: float | None = None, when: str = "mid_turn") -> None:
        """Stop sending in the next turn (for `seconds`, or until the client goes)."""
        self.inject(Fault("stall", when, seconds=seconds))

    def send_malformed(self, when: str = "now") -> None:
        """Send a frame that is not valid JSON."""
        self.inject(Fault("malformed", when))

    def send_raw(self, payload: str | bytes, when: str = "now") -> None:
        """Send one frame exactly as given (str: text frame, bytes: binary frame),
        however broken: how the client copes with what the service never should send."""
        self.inject(Fault("raw", when, payload=payload))

    def send_interrupted(self, when: str = "mid_turn") -> None:
        """A phantom `interrupted` with no user audio (seen in the field)."""
        self.inject(Fault("interrupted", when))

    # ---- waiting helpers for tests ------------------------------------------------------
    async def wait_for(self, predicate: Any, timeout: float = 10.0, what: str = "condition") -> Any:
        """Poll `predicate()` until truthy; raise TimeoutError naming `what` otherwise."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"emulator: timed out waiting for {what}")
            await asyncio.sleep(0.01)

    async def wait_closed(self, index: int = -1, timeout: float = 10.0) -> SessionRecord:
        await self.wait_for(lambda: self.sessions, timeout, "a session")
        record: SessionRecord = await self.wait_for(
            lambda: self.sessions[index] if self.sessions[index].closed else None,
            timeout, "the session to close",
        )
        return record

