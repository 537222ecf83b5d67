"""The client side of the control socket: what `speakerd ctl`, the demo and the tests use."""

from __future__ import annotations

import asyncio
import errno
import json
import socket
import time
from pathlib import Path
from typing import Any

from daemon.control.server import MAX_REQUEST

RETRIES_AFTER_A_RESET = 2
"""A flood of connections can get ours closed before the daemon reads it: try again. The
server only closes a connection whose request it has not read, so nothing runs twice."""


async def request(path: Path, payload: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
    """One request, one reply: what `speakerd ctl` and the tests use.

    Raises TimeoutError when the daemon's queue of new connections stays full.
    """
    for attempt in range(RETRIES_AFTER_A_RESET + 1):
        try:
            return await _request_once(path, payload, timeout)
        except (ConnectionResetError, BrokenPipeError, _ClosedUnread):
            if attempt == RETRIES_AFTER_A_RESET:
                raise
            await asyncio.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


class _ClosedUnread(ConnectionError):
    """The daemon closed the connection without a reply (it made room for others)."""


async def _request_once(path: Path, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
    sock = await _connect(path, timeout)
    reader, writer = await asyncio.open_unix_connection(sock=sock, limit=MAX_REQUEST * 16)
    try:
        writer.write(json.dumps(payload).encode() + b"\n")
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout)
        if not line:
            raise _ClosedUnread("the daemon closed the control socket without replying")
        reply: dict[str, Any] = json.loads(line)
        return reply
    finally:
        writer.close()


async def _connect(path: Path, timeout: float) -> socket.socket:
    """Connect, retrying while the listen queue is full (EAGAIN on a Unix socket)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.setblocking(False)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                sock.connect(str(path))
                return sock
            except BlockingIOError as exc:
                if exc.errno != errno.EAGAIN or time.monotonic() > deadline:
                    raise TimeoutError(
                        "its queue of new connections stayed full; try again"
                    ) from None
                await asyncio.sleep(0.05)
    except BaseException:
        sock.close()
        raise
