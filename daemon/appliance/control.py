"""The local control socket: JSON lines over a Unix socket for `speakerd ctl`.

Each request is one JSON object on a line, each reply one JSON object on a
line: {"ok": true, ...} or {"ok": false, "error": "..."}. A bad request gets an
error reply and the connection stays usable; nothing here can stop the daemon.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import stat
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

MAX_REQUEST = 64 * 1024


class Controls(Protocol):
    """What the appliance offers the socket; every method returns the reply's fields."""

    def status(self) -> dict[str, Any]: ...
    async def wake(self) -> dict[str, Any]: ...
    async def say(self, text: str) -> dict[str, Any]: ...
    async def mute(self, on: bool) -> dict[str, Any]: ...
    async def stop(self) -> dict[str, Any]: ...
    async def list_timers(self) -> dict[str, Any]: ...
    async def cancel_timer(self, which: str) -> dict[str, Any]: ...


COMMANDS = ("status", "wake", "say", "mute", "stop", "timers", "cancel")


class RequestError(ValueError):
    """The request is malformed; the message tells the caller what is allowed."""


class ControlServer:
    def __init__(self, path: Path, controls: Controls) -> None:
        self.path = path
        self._controls = controls
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISSOCK(self.path.lstat().st_mode):
                self.path.unlink()  # left by a daemon that was killed
        self._server = await asyncio.start_unix_server(
            self._serve, path=str(self.path), limit=MAX_REQUEST
        )
        os.chmod(self.path, 0o660)
        log.info("control socket %s", self.path)

    async def stop(self) -> None:
        if self._server:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    line = await reader.readline()
                except (ValueError, asyncio.LimitOverrunError):
                    await _reply(writer, {"ok": False, "error": "request longer than 64 KiB"})
                    break
                if not line:
                    break
                if not line.strip():
                    continue
                await _reply(writer, await self.handle_line(line))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

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
            else:
                result = await controls.stop()
            return {"ok": "error" not in result, **result}  # a refusal is not ok
        except RequestError as exc:
            return {"ok": False, "error": str(exc)}
        except Exception as exc:
            log.exception("control request failed")
            return {"ok": False, "error": f"internal error: {type(exc).__name__}"}


def parse_request(line: bytes) -> tuple[str, dict[str, Any]]:
    try:
        request = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RequestError(f"not a JSON object: {exc}") from None
    if not isinstance(request, dict):
        raise RequestError('a request is a JSON object like {"cmd": "status"}')
    cmd = request.get("cmd")
    if cmd not in COMMANDS:
        raise RequestError(f"unknown cmd {cmd!r}; allowed: {', '.join(COMMANDS)}")
    if cmd == "say" and not (isinstance(request.get("text"), str) and request["text"].strip()):
        raise RequestError('say needs "text": a non-empty string')
    if cmd == "mute" and not isinstance(request.get("on"), bool):
        raise RequestError('mute needs "on": true or false')
    if cmd == "cancel" and not (isinstance(request.get("what"), str) and request["what"].strip()):
        raise RequestError('cancel needs "what": a label, an id or "all"')
    return cmd, request


async def _reply(writer: asyncio.StreamWriter, reply: dict[str, Any]) -> None:
    writer.write(json.dumps(reply).encode() + b"\n")
    await writer.drain()


async def request(path: Path, payload: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
    """One request, one reply: what `speakerd ctl` and the tests use."""
    reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(str(path)), timeout)
    try:
        writer.write(json.dumps(payload).encode() + b"\n")
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout)
        if not line:
            raise ConnectionError("the daemon closed the control socket without replying")
        return json.loads(line)
    finally:
        writer.close()
