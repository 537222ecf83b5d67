"""Fuzz the control socket: any bytes in, a JSON reply or a clean close out.

A real ControlServer runs on its own event loop in a thread; each example
connects over the real Unix socket, sends its requests, half-closes and reads
everything back. The properties: every reply is a JSON object with a boolean
"ok"; the server closes the connection (never hangs on it); `say` text
arrives byte for byte; and afterwards the server still answers `status`.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemon.control.server import COMMANDS, MAX_REQUEST, ControlServer
from daemon.core.safe_text import user_text_problem
from tests.unit.fuzzing import fuzz

SAFETY_TIMEOUT = 20.0  # only so a hang fails the test instead of freezing CI


class Controls:
    def __init__(self) -> None:
        self.said: list[str] = []

    def status(self) -> dict[str, Any]:
        return {"state": "idle", "muted": False}

    async def wake(self) -> dict[str, Any]:
        return {"message": "ok"}

    async def say(self, text: str) -> dict[str, Any]:
        self.said.append(text)
        return {"message": "sent"}

    async def mute(self, on: bool) -> dict[str, Any]:
        return {"muted": on}

    async def stop(self) -> dict[str, Any]:
        raise RuntimeError("the appliance failed")

    async def list_timers(self) -> dict[str, Any]:
        return {"timers": []}

    async def cancel_timer(self, what: str) -> dict[str, Any]:
        return {"message": f"cancelled {what}"}

    async def memory(self, action: str, what: str | None = None) -> dict[str, Any]:
        return {"message": f"{action} {what or ''}"}
    async def media(self, action: str, what: str = "") -> dict[str, Any]:
        return {"message": f"{action} {what}".strip()}


class ServerThread:
    """A ControlServer on a private event loop, like the daemon's."""

    def __init__(self, path: Path) -> None:
        self.controls = Controls()
        self.loop = asyncio.new_event_loop()
        self.server = ControlServer(path, self.controls)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    with ServerThread(tmp_path_factory.mktemp("ctl") / "c.sock") as running:
        yield running


def exchange(path: Path, payload: bytes) -> bytes:
    """Send, half-close, read until the server closes."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(SAFETY_TIMEOUT)
        sock.connect(str(path))
        try:
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may close on an oversized line before reading it all
        received = bytearray()
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
    return bytes(received)


def check(served: ServerThread, payload: bytes) -> list[dict[str, Any]]:
    received = exchange(served.server.path, payload)
    replies = [json.loads(line) for line in received.splitlines()]
    for reply in replies:
        assert isinstance(reply, dict) and isinstance(reply["ok"], bool), reply
        if not reply["ok"]:
            assert isinstance(reply["error"], str) and len(reply["error"]) < 500
    requests = [line for line in payload.split(b"\n") if line.strip()]
    assert len(replies) <= max(len(requests), 1)
    status = json.loads(exchange(served.server.path, b'{"cmd": "status"}\n'))
    assert status == {"ok": True, "state": "idle", "muted": False}
    return replies


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=15,
)
requests = st.fixed_dictionaries(
    {"cmd": st.sampled_from(COMMANDS) | json_values},
    optional={"text": json_values | st.text(), "on": json_values, "what": json_values | st.text(),
              "action": st.sampled_from(["list", "forget", "clear"]) | json_values,
              "extra": json_values},
)


@fuzz
@given(data=st.binary(max_size=2048))
def test_fuzz_random_bytes(served: ServerThread, data: bytes) -> None:
    check(served, data)


@fuzz
@given(batch=st.lists(requests, min_size=1, max_size=5), ascii_only=st.booleans())
def test_fuzz_random_requests(served: ServerThread, batch: list[dict], ascii_only: bool) -> None:
    served.controls.said.clear()
    lines = [json.dumps(r, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass") for r in batch]
    replies = check(served, b"\n".join(lines) + b"\n")
    assert len(replies) == len(batch)  # one reply per request, in order
    for request, line, reply in zip(batch, lines, replies, strict=True):
        well_formed = request["cmd"] in COMMANDS and request["cmd"] != "stop"
        expected = well_formed and _has_arguments(request) and _is_utf8(line)
        assert reply["ok"] is expected, (request, reply)
    sent = [
        r["text"]
        for r, line in zip(batch, lines, strict=True)
        if r["cmd"] == "say" and _has_arguments(r) and _is_utf8(line)
    ]
    assert served.controls.said == sent  # newlines and tabs included, unchanged


def _has_arguments(request: dict) -> bool:
    if request["cmd"] == "say":
        return user_text_problem(request.get("text")) is None  # the one rule for typed text
    if request["cmd"] == "mute":
        return isinstance(request.get("on"), bool)
    if request["cmd"] == "cancel":
        what = request.get("what")
        return isinstance(what, str) and bool(what.strip())
    if request["cmd"] == "memory":
        action, what = request.get("action"), request.get("what")
        if action not in ("list", "forget", "clear"):
            return False
        if action == "forget" and not (isinstance(what, str) and what.strip()):
            return False
        return what is None or (isinstance(what, str) and _encodable(what))
    if request["cmd"] == "play":
        what = request.get("what")
        return (
            isinstance(what, str) and bool(what.strip()) and len(what) <= 2000
            and _encodable(what) and "\x00" not in what
        )  # fmt: skip
    return True


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True



def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True

hostile = st.sampled_from(
    [
        b'{"cmd": "say", "text": "x", "n": ' + b"9" * 5000 + b"}",
        b"[" * 50_000,
        b'{"a":' * 20_000,
        b'{"cmd": "say", "text": "' + b"\\n" * 20_000 + b'"}',
        b'{"cmd": "' + b"x" * (MAX_REQUEST - 20) + b'"}',
        b"x" * (MAX_REQUEST + 10),
        b"\x00" * 1000,
        b'{"cmd": "status"}\r',
        b'{"cmd": "say", "text": "\\ud800"}',
        b'\xef\xbb\xbf{"cmd": "status"}',
    ]
)


@fuzz
@given(pieces=st.lists(hostile | st.binary(max_size=64), min_size=1, max_size=4))
def test_fuzz_hostile_lines(served: ServerThread, pieces: list[bytes]) -> None:
    check(served, b"\n".join(pieces) + b"\n")
