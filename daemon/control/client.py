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


async def request(path: Path, payload: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
    """One request, one reply: what `speakerd ctl` and the tests use.

    Raises TimeoutError when the daemon's queue of new connections stays full.
    """
    sock = await _connect(path, timeout)
    reader, writer = await asyncio.open_unix_connection(sock=sock, limit=MAX_REQUEST * 16)
    try:
        writer.write(json.dumps(payload).encode() + b"\n")
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout)
        if not line:
            raise ConnectionError("the daemon closed the control socket without replying")
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
