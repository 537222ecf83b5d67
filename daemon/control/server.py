"""The local control socket: JSON lines over a Unix socket for `speakerd ctl`.

Each request is one JSON object on a line, each reply one JSON object on a
line: {"ok": true, ...} or {"ok": false, "error": "..."}. A bad request gets an
error reply and the connection stays usable; nothing here can stop the daemon.

Whoever can reach the socket can also hold it open, or open and close it
thousands of times a second: connections are capped, idle ones are closed, and
floods are logged once, not per connection. At the cap, room is made first
from connections whose client has already hung up (a connect-and-close flood
leaves many the loop has not read yet), then from those that had their chance
(no request after FIRST_LINE_GRACE_S, then the longest idle). A connection in
its grace whose request is waiting is never closed, so a `ctl status` that
connects in the middle of a flood is read. New ones may fill
NEW_CONNECTIONS_PER_SLOT times the cap; past that the oldest silent one goes,
and if every one has a request waiting the newest is turned away (the client
retries once or twice: daemon.control.client).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import stat
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol, SupportsIndex

from daemon.core.redact import scrub_free_text
from daemon.core.safe_text import user_text_problem

log = logging.getLogger(__name__)

MAX_REQUEST = 64 * 1024
MAX_CONNECTIONS = 16
IDLE_SECONDS = 30.0
FIRST_LINE_GRACE_S = 2.0
"""A new connection is not closed to make room before this: time to send its request."""
NEW_CONNECTIONS_PER_SLOT = 4
"""Connections still in their grace may number this many times max_connections."""
FLOOD_LOG_INTERVAL_S = 60.0
"""A flood that comes and goes is logged again at most this often."""
# An internal error is logged with its traceback at most this often per kind.
TRACEBACK_EVERY_SECONDS = 300.0


class Controls(Protocol):
    """What the appliance offers the socket; every method returns the reply's fields."""

    def status(self) -> dict[str, Any]: ...
    async def wake(self) -> dict[str, Any]: ...
    async def say(self, text: str) -> dict[str, Any]: ...
    async def mute(self, on: bool) -> dict[str, Any]: ...
    async def stop(self) -> dict[str, Any]: ...
    async def list_timers(self) -> dict[str, Any]: ...
    async def cancel_timer(self, which: str) -> dict[str, Any]: ...
    async def memory(self, action: str, what: str | None = None) -> dict[str, Any]: ...
    async def media(self, action: str, what: str = "") -> dict[str, Any]: ...


MEDIA_COMMANDS = ("play", "pause", "resume", "next", "now")
COMMANDS = ("status", "wake", "say", "mute", "stop", "timers", "cancel", "memory", *MEDIA_COMMANDS)
MEMORY_ACTIONS = ("list", "forget", "clear")


class RequestError(ValueError):
    """The request is malformed; the message tells the caller what is allowed."""


class ControlSocketError(Exception):
    """No control socket can be made; the message says why and what to do (exit 78)."""


class _CountingReader(asyncio.StreamReader):
    """Counts the bytes that arrived, so a request waiting in the buffer can be told
    from a client that sent nothing."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit=limit)
        self.received = 0

    def feed_data(self, data: Iterable[SupportsIndex]) -> None:
        data = bytes(data)  # the transport hands bytes; typeshed allows any iterable
        self.received += len(data)
        super().feed_data(data)


class _Connection:
    __slots__ = (
        "busy", "consumed", "last_active", "opened_at", "reader", "requests", "task", "writer",
    )  # fmt: skip

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.consumed = 0
        """Bytes read out of `reader` (lines handled)."""
        self.writer = writer
        self.opened_at = self.last_active = time.monotonic()
        self.busy = False
        self.requests = 0
        self.task = asyncio.current_task()

    def unread(self) -> str:
        """What waits from the client: "request" (the loop has not read it yet), "nothing"
        (connected, silent) or "gone" (it hung up without a request)."""
        received = self.reader.received if isinstance(self.reader, _CountingReader) else 0
        if self.busy or self.requests or received > self.consumed:
            return "request"
        transport_socket = self.writer.get_extra_info("socket")
        if transport_socket is None:
            return "gone"
        try:
            probe = socket.socket(fileno=transport_socket.fileno())
        except OSError:
            return "gone"
        try:
            return "request" if probe.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) else "gone"
        except BlockingIOError:
            return "nothing"
        except OSError:
            return "gone"
        finally:
            probe.detach()  # the transport still owns the descriptor


class ControlServer:
    def __init__(
        self,
        path: Path,
        controls: Controls,
        *,
        max_connections: int = MAX_CONNECTIONS,
        idle_timeout: float = IDLE_SECONDS,
    ) -> None:
        self.path = path
        self._controls = controls
        self._server: asyncio.AbstractServer | None = None
        self._max_connections = max_connections
        self._idle_timeout = idle_timeout
        self._connections: set[_Connection] = set()
        self._flooded = False
        self._flood_logged_at = float("-inf")
        self._error_logged_at: dict[str, float] = {}
        self.evicted = 0
        """Connections closed to make room, or turned away (for the log and the tests)."""

    @property
    def open_connections(self) -> int:
        return len(self._connections)

    async def start(self) -> None:
        """Listen at `path`; ControlSocketError when that cannot or must not be done.

        The parent directory is not created (systemd's RuntimeDirectory= makes
        /run/speakerd): making directories at a configured path, as root, is
        how a typo turns into a stray tree. A socket left by a killed daemon is
        replaced; one a live daemon answers on is not.
        """
        path = self.path
        if not path.parent.is_dir():
            raise ControlSocketError(
                f"cannot create the control socket {path}: the directory {path.parent} "
                "does not exist (under systemd, RuntimeDirectory=speakerd makes /run/speakerd); "
                "create it or set control.socket"
            )
        try:
            info = path.lstat()
        except FileNotFoundError:
            info = None
        except OSError as exc:
            raise ControlSocketError(f"cannot use {path}: {exc.strerror or exc}") from None
        if info is not None:
            if not stat.S_ISSOCK(info.st_mode):
                raise ControlSocketError(
                    f"{path} exists and is not a socket; remove it or set control.socket"
                )
            if daemon_answers(path):
                raise ControlSocketError(
                    f"another speakerd is already running and answering on {path}; "
                    "stop it first (systemctl stop speakerd)"
                )
            with contextlib.suppress(FileNotFoundError):
                path.unlink()  # left by a daemon that was killed
        try:
            loop = asyncio.get_running_loop()

            def protocol() -> asyncio.StreamReaderProtocol:
                return asyncio.StreamReaderProtocol(_CountingReader(MAX_REQUEST), self._serve)

            self._server = await loop.create_unix_server(protocol, path=str(path), backlog=64)
            os.chmod(path, 0o660)
        except (OSError, ValueError) as exc:
            await self.stop()
            reason = getattr(exc, "strerror", None) or str(exc)
            raise ControlSocketError(f"cannot create the control socket {path}: {reason}") from None
        _ACCEPT_ERRORS.install()
        log.info("control socket %s", path)

    async def stop(self) -> None:
        if self._server:
            self._server.close()
            # A request still waiting on the appliance (a `say` while the session
            # opens) is cancelled here, not left for the loop's teardown.
            handlers = [c.task for c in self._connections if c.task is not None]
            for connection in list(self._connections):
                connection.writer.close()
                if connection.task is not None:
                    connection.task.cancel()
            await asyncio.gather(*handlers, return_exceptions=True)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)
            self._server = None
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = _Connection(reader, writer)
        if not self._make_room():
            writer.close()  # new connections alone fill the table: a flood
            self._flood()
            return
        self._connections.add(connection)
        try:
            while True:
                try:
                    line = await asyncio.wait_for(reader.readline(), self._idle_timeout)
                except (ValueError, asyncio.LimitOverrunError):
                    await _reply(writer, {"ok": False, "error": "request longer than 64 KiB"})
                    break
                except TimeoutError:
                    break  # idle: the slot is worth more to the next `ctl`
                connection.consumed += len(line)
                if not line:
                    break
                if not line.strip():
                    continue
                connection.busy = True
                connection.requests += 1
                await _reply(writer, await self.handle_line(line))
                connection.busy = False
                connection.last_active = time.monotonic()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Ending normally: asyncio's stream callback (3.11) logs a traceback for
            # a cancelled connection task. Cancelled only when the server stops.
            pass
        finally:
            self._connections.discard(connection)
            if len(self._connections) < self._max_connections // 2:
                self._flooded = False
            writer.close()

    def _make_room(self) -> bool:
        """At the cap, close connections that are gone or had their chance; False when
        new ones (in their grace) fill the table with requests: turn this one away."""
        if len(self._connections) < self._max_connections:
            return True
        unread = {c: c.unread() for c in self._connections}
        gone = [c for c, waiting in unread.items() if waiting == "gone"]
        for connection in gone:
            self._evict(connection)
        if gone:
            return True
        now = time.monotonic()
        settled = [
            c for c in self._connections
            if not c.busy and now - c.opened_at >= FIRST_LINE_GRACE_S
        ]  # fmt: skip
        if settled:
            # Never spoke (holding a slot) before idle after a request; oldest first.
            self._evict(min(settled, key=lambda c: (c.requests > 0, c.last_active)))
            return True
        if len(self._connections) < self._max_connections * NEW_CONNECTIONS_PER_SLOT:
            return True
        silent = [c for c, waiting in unread.items() if waiting == "nothing"]
        if silent:  # a flood holding connections open: a request waiting is never the one
            self._evict(min(silent, key=lambda c: c.opened_at))
            return True
        return False

    def _evict(self, oldest: _Connection) -> None:
        self._connections.discard(oldest)
        oldest.writer.close()
        self._flood()

    def _flood(self) -> None:
        self.evicted += 1
        if not self._flooded and time.monotonic() - self._flood_logged_at >= FLOOD_LOG_INTERVAL_S:
            self._flooded = True
            self._flood_logged_at = time.monotonic()
            log.warning(
                "control socket: %d connections open; closing those that hung up or "
                "sent nothing, or turning new ones away (logged once per flood)",
                self._max_connections,
            )

    async def handle_line(self, line: bytes) -> dict[str, Any]:
        try:
            cmd, request = parse_request(line)
            controls = self._controls
            if cmd == "status":
                result = controls.status()
            elif cmd == "wake":
                result = await controls.wake()
            elif cmd == "say":
                result = await controls.say(request["text"])
            elif cmd == "mute":
                result = await controls.mute(request["on"])
            elif cmd == "timers":
                result = await controls.list_timers()
            elif cmd == "cancel":
                result = await controls.cancel_timer(request["what"])
            elif cmd == "memory":
                result = await controls.memory(request["action"], request.get("what"))
            elif cmd in MEDIA_COMMANDS:
                result = await controls.media(cmd, request.get("what", ""))
            else:
                result = await controls.stop()
            reply: dict[str, Any] = _scrubbed({"ok": "error" not in result, **result})
            return reply  # a refusal is not ok
        except RequestError as exc:
            return {"ok": False, "error": str(exc)}
        except Exception as exc:
            self._log_internal_error(exc)
            return {"ok": False, "error": f"internal error: {type(exc).__name__}"}

    def _log_internal_error(self, exc: Exception) -> None:
        """A traceback the first time, one line after that: a client cannot flood the log."""
        kind = type(exc).__name__
        now = time.monotonic()
        if (
            now - self._error_logged_at.get(kind, -TRACEBACK_EVERY_SECONDS)
            >= TRACEBACK_EVERY_SECONDS
        ):
            self._error_logged_at[kind] = now
            log.exception("control request failed")
        else:
            log.debug("control request failed again: %s", kind)


def parse_request(line: bytes) -> tuple[str, dict[str, Any]]:
    try:
        request = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RequestError(f"not a JSON object: {exc}") from None
    except (ValueError, RecursionError):  # a 5000-digit number, nesting 10,000 deep
        raise RequestError(
            "not a JSON object this server reads (nested too deep or a number too long)"
        ) from None
    if not isinstance(request, dict):
        raise RequestError('a request is a JSON object like {"cmd": "status"}')
    cmd = request.get("cmd")
    if cmd not in COMMANDS:
        shown = repr(cmd)
        shown = shown if len(shown) <= 40 else shown[:40] + "..."
        raise RequestError(f"unknown cmd {shown}; allowed: {', '.join(COMMANDS)}")
    if cmd == "say":
        problem = user_text_problem(request.get("text"))
        if problem is not None:
            raise RequestError(f'say needs "text": a non-empty string; {problem}')
    if cmd == "mute" and not isinstance(request.get("on"), bool):
        raise RequestError('mute needs "on": true or false')
    if cmd == "cancel" and not (isinstance(request.get("what"), str) and request["what"].strip()):
        raise RequestError('cancel needs "what": a label, an id or "all"')
    if cmd == "memory":
        _check_memory(request)
    if cmd == "play":
        what = request.get("what")
        if not (isinstance(what, str) and what.strip() and len(what) <= 2000):
            raise RequestError('play needs "what": a station, a URL or words to search for')
        if not _is_unicode(what) or "\x00" in what:
            raise RequestError('play needs "what" in Unicode text without NUL')
    return cmd, request


def _check_memory(request: dict[str, Any]) -> None:
    if request.get("action") not in MEMORY_ACTIONS:
        raise RequestError(f'memory needs "action": one of {", ".join(MEMORY_ACTIONS)}')
    what = request.get("what")
    if request["action"] == "forget" and not (isinstance(what, str) and what.strip()):
        raise RequestError('memory forget needs "what": a fact\'s id or words of it')
    if what is not None and not (isinstance(what, str) and _is_unicode(what)):
        raise RequestError('memory "what" must be Unicode text')


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _scrubbed(value: Any) -> Any:
    """The reply with any secret removed from its strings (transcripts, errors)."""
    if isinstance(value, str):
        return scrub_free_text(value)
    if isinstance(value, dict):
        return {k: _scrubbed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrubbed(v) for v in value]
    return value


async def _reply(writer: asyncio.StreamWriter, reply: dict[str, Any]) -> None:
    writer.write(json.dumps(reply, default=str).encode("utf-8", "backslashreplace") + b"\n")
    await writer.drain()


class _AcceptErrorFilter(logging.Filter):
    """asyncio logs "socket.accept() out of system resource" with a traceback each time
    accept() fails for want of file descriptors; say it once a minute instead."""

    def __init__(self) -> None:
        super().__init__()
        self._last = -60.0
        self.suppressed = 0

    def install(self) -> None:
        logger = logging.getLogger("asyncio")
        if self not in logger.filters:
            logger.addFilter(self)

    def filter(self, record: logging.LogRecord) -> bool:
        if "out of system resource" not in str(record.msg):
            return True
        now = time.monotonic()
        if now - self._last < 60.0:
            self.suppressed += 1
            return False
        self._last = now
        record.msg = (
            "control socket: accept() failed, out of file descriptors "
            "(%d similar messages suppressed; logged at most once a minute)"
        )
        record.args = (self.suppressed,)
        record.exc_info = None
        self.suppressed = 0
        return True


_ACCEPT_ERRORS = _AcceptErrorFilter()


def daemon_answers(path: Path, timeout: float = 1.0) -> bool:
    """True when a process accepts connections at `path` (a full queue counts: it lives)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(timeout)
        try:
            probe.connect(str(path))
        except (BlockingIOError, TimeoutError):
            return True
        except OSError:
            return False  # refused: a stale file; missing; not a socket
    return True
