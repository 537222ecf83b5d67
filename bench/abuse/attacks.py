"""The 19 kinds of abuse of the control socket, each a function of the running target.

Whoever can reach /run/speakerd/control.sock (group speakerd) can do all of
these. Each function does one thing to the live daemon and returns what it saw
(the replies, how many connections got in or were closed); socket_abuse.py
measures the daemon around it (log, tracebacks, `ctl status` afterwards).
"""

from __future__ import annotations

import contextlib
import json
import random
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.abuse.daemon_proc import DaemonProcess
from bench.abuse.measure import measure
from bench.abuse.restarts import status_roundtrip

REPLY_TIMEOUT = 15.0  # a `say` waits for the session to open; the daemon answers in well under
FLOOD = 1100  # idle connections: past the 1024 descriptors systemd gives a service


@dataclass
class Target:
    daemon: DaemonProcess
    socket: Path
    config: Path
    env: dict[str, str]
    workdir: Path
    rng: random.Random


# -- client pieces ---------------------------------------------------------------------------


def _connect(path: Path, timeout: float = 5.0) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.connect(str(path))
    return sock


def exchange(path: Path, data: bytes, *, expect: int = 1, shut: bool = False,
             timeout: float = REPLY_TIMEOUT) -> dict[str, Any]:
    """Send `data`, read up to `expect` reply lines (or the close): the replies, parsed."""
    replies: list[Any] = []
    closed = False
    with _connect(path) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
            if shut:
                sock.shutdown(socket.SHUT_WR)
        sock.settimeout(timeout)
        buffer = b""
        try:
            while len(replies) < expect:
                piece = sock.recv(65536)
                if not piece:
                    closed = True
                    break
                buffer += piece
                while b"\n" in buffer and len(replies) < expect:
                    line, buffer = buffer.split(b"\n", 1)
                    replies.append(_parsed(line))
        except (TimeoutError, ConnectionResetError) as exc:
            replies.append({"client saw": type(exc).__name__})
    return {"replies": replies, "closed": closed}


def _parsed(line: bytes) -> Any:
    try:
        reply = json.loads(line)
    except ValueError:
        return {"not JSON": line[:120].decode("utf-8", "backslashreplace")}
    if isinstance(reply, dict) and isinstance(reply.get("error"), str):
        reply["error"] = reply["error"][:160]
    return reply


def _short(result: dict[str, Any]) -> dict[str, Any]:
    """Replies reduced to ok/error, for the report."""
    return {"replies": [r.get("error", "ok") if isinstance(r, dict) and "ok" in r else r
                        for r in result["replies"]], "closed": result["closed"]}


def _connect_nowait(path: Path, patience: float) -> socket.socket | None:
    """A non-blocking connect, retried while the daemon's queue is full for up to `patience` s."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.setblocking(False)
    deadline = time.monotonic() + patience
    while True:
        try:
            sock.connect(str(path))
            return sock
        except BlockingIOError:
            if time.monotonic() > deadline:
                break
            time.sleep(0.005)
        except OSError:
            break
    sock.close()
    return None


@contextlib.contextmanager
def _many(path: Path, count: int, *, patience: float = 2.0,
          then: Callable[[socket.socket], object] | None = None) -> Iterator[list[socket.socket]]:
    """Up to `count` connections held open; stops at the first that cannot get in.

    `then` is done on each right after it connects (before the next one comes).
    """
    held: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = _connect_nowait(path, patience)
            if sock is None:
                break
            held.append(sock)
            if then is not None:
                then(sock)
        yield held
    finally:
        for sock in held:
            sock.close()


def _closed_by_peer(sockets: list[socket.socket]) -> int:
    closed = 0
    for sock in sockets:
        try:
            if sock.recv(1, socket.MSG_DONTWAIT) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    return closed


def _stop_conversation(t: Target) -> None:
    """End the conversation a `say` opened, so the next kind starts idle."""
    with contextlib.suppress(OSError):
        exchange(t.socket, b'{"cmd": "stop"}\n', timeout=5)


# -- the 19 kinds ----------------------------------------------------------------------------


def idle_flood(t: Target) -> dict[str, Any]:
    with _many(t.socket, FLOOD) as held:
        time.sleep(1.0)
        during = status_roundtrip(t.socket)
        return {"opened": len(held), "closed_by_daemon": _closed_by_peer(held),
                "daemon_fds_while_held": t.daemon.fds(), "status_while_held": during}


def slow_loris(t: Target) -> dict[str, Any]:
    with _many(t.socket, 100) as held:
        for sock in held:
            with contextlib.suppress(OSError):
                sock.send(b'{"cmd": "sta')
        for _ in range(8):  # a byte each, every half second, never a newline
            time.sleep(0.5)
            for sock in held:
                with contextlib.suppress(OSError):
                    sock.send(b" ")
        during = status_roundtrip(t.socket)
        return {"opened": len(held), "closed_by_daemon": _closed_by_peer(held),
                "status_while_dripping": during}


def huge_number(t: Target) -> dict[str, Any]:
    return _short(exchange(t.socket, b'{"cmd": "say", "text": "hi", "n": ' + b"9" * 5000 + b"}\n"))


def deep_nesting(t: Target) -> dict[str, Any]:
    lists = exchange(t.socket, b"[" * 100_000 + b"\n")
    objects = exchange(t.socket, b'{"a": ' * 20_000 + b"\n")
    return {"lists": _short(lists), "objects": _short(objects)}


def _log_since(t: Target, offset: int) -> bytes:
    return t.daemon.log()[offset:]


def say_newline(t: Target) -> dict[str, Any]:
    offset = t.daemon.log_size()
    forged = "ERROR daemon.appliance: FORGED the owner unlocked the door"
    result = exchange(t.socket, json.dumps({"cmd": "say", "text": f"hi\n{forged}\r\n"}).encode()
                      + b"\n")
    time.sleep(1.0)
    _stop_conversation(t)
    lines = _log_since(t, offset).splitlines()
    return {**_short(result), "forged_lines": sum(1 for line in lines
                                                  if line.startswith(forged.encode()))}


def say_controls(t: Target) -> dict[str, Any]:
    offset = t.daemon.log_size()
    text = "lights\x00 off\x1b[2J\x1b]0;owned\x07\u202e\rdone"
    result = exchange(t.socket, json.dumps({"cmd": "say", "text": text}).encode() + b"\n")
    time.sleep(1.0)
    _stop_conversation(t)
    logged = _log_since(t, offset)
    return {**_short(result), "raw_control_bytes_in_log": sum(logged.count(c)
                                                              for c in (b"\x00", b"\x1b", b"\x07"))}


def oversized_line(t: Target) -> dict[str, Any]:
    return _short(exchange(t.socket, b'{"cmd": "say", "text": "' + b"a" * (1 << 20) + b'"}\n'))


def binary_garbage(t: Target) -> dict[str, Any]:
    data = t.rng.randbytes(256 * 1024)
    result = exchange(t.socket, data, expect=data.count(b"\n") + 1, shut=True, timeout=5)
    errors = [r for r in result["replies"] if isinstance(r, dict) and r.get("ok") is False]
    return {"sent_lines": data.count(b"\n"), "error_replies": len(errors),
            "other_replies": len(result["replies"]) - len(errors), "closed": result["closed"]}


def half_closed(t: Target) -> dict[str, Any]:
    after_request = exchange(t.socket, b'{"cmd": "status"}\n', expect=2, shut=True)
    nothing = exchange(t.socket, b"", shut=True)
    half_request = exchange(t.socket, b'{"cmd": "sta', shut=True)
    with _connect(t.socket) as sock:  # a request, then gone before the reply
        sock.sendall(b'{"cmd": "status"}\n')
    return {"request then SHUT_WR": {"replies": len(after_request["replies"]),
                                     "closed": after_request["closed"]},
            "SHUT_WR only": _short(nothing), "half a request then SHUT_WR": _short(half_request)}


def second_run(t: Target) -> dict[str, Any]:
    result = measure([sys.executable, "-m", "daemon", "run", "--config", str(t.config)],
                     env=t.env, cwd=t.workdir, timeout=60)
    return {"exit_code": result["exit_code"], "seconds": result["seconds"],
            "tracebacks": result["tracebacks"], "said": result["stderr_head"][-300:],
            "first_still_answers": status_roundtrip(t.socket)["ok"]}


def full_backlog(t: Target) -> dict[str, Any]:
    """The daemon wedged (SIGSTOP) and its queue of new connections full: `speakerd ctl`."""
    t.daemon.signal(signal.SIGSTOP)
    try:
        with _many(t.socket, 400, patience=0.0) as queued:
            ctl = measure([sys.executable, "-m", "daemon", "ctl", "--socket", str(t.socket),
                           "--timeout", "1", "status"], env=t.env, cwd=t.workdir, timeout=30)
            queued_count = len(queued)
    finally:
        t.daemon.signal(signal.SIGCONT)
    return {"queued": queued_count, "ctl_exit": ctl["exit_code"], "ctl_seconds": ctl["seconds"],
            "ctl_tracebacks": ctl["tracebacks"], "ctl_said": ctl["stderr_head"][:200]}


def unknown_cmd(t: Target) -> dict[str, Any]:
    return _short(exchange(t.socket, json.dumps({"cmd": "x" * 60_000}).encode() + b"\n"))


def not_an_object(t: Target) -> dict[str, Any]:
    lines = [b"[]", b'"status"', b"1", b"null", b"true", b"{}"]
    return _short(exchange(t.socket, b"\n".join(lines) + b"\n", expect=len(lines)))


def wrong_types(t: Target) -> dict[str, Any]:
    requests = [{"cmd": "mute", "on": "yes"}, {"cmd": "say", "text": 5},
                {"cmd": "say", "text": "   "}, {"cmd": "cancel", "what": []},
                {"cmd": ["status"]}, {"cmd": "status", "extra": {"a": [1, 2, None]}}]
    data = b"".join(json.dumps(r).encode() + b"\n" for r in requests)
    return _short(exchange(t.socket, data, expect=len(requests)))


def lone_surrogate(t: Target) -> dict[str, Any]:
    return _short(exchange(t.socket, b'{"cmd": "say", "text": "\\ud800 hi"}\n'))


def invalid_utf8(t: Target) -> dict[str, Any]:
    return _short(exchange(t.socket, b"\xff\xfe\x00\n" + b'{"cmd": "say", "text": "\xff"}\n',
                           expect=2))


def _stuff(sock: socket.socket, requests: int) -> int:
    """Write up to `requests` status requests without reading a reply; how many went."""
    line = b'{"cmd": "status"}\n'
    sent = 0
    sock.setblocking(False)
    data = line * requests
    with contextlib.suppress(BlockingIOError, OSError):
        while sent < len(data):
            sent += sock.send(data[sent:])
    return sent // len(line)


def pipelined_non_reader(t: Target) -> dict[str, Any]:
    with _connect(t.socket) as sock:
        sent = _stuff(sock, 20_000)
        time.sleep(3.0)
        during = status_roundtrip(t.socket)
        return {"requests_sent": sent, "status_while_held": during}


def non_reader_flood(t: Target) -> dict[str, Any]:
    """Connections that ask and never read: busy, so the idle eviction does not touch them."""
    sent = [0]

    def ask_and_never_read(sock: socket.socket) -> None:
        sent[0] += _stuff(sock, 2000)

    with _many(t.socket, FLOOD, then=ask_and_never_read) as held:
        time.sleep(3.0)
        during = status_roundtrip(t.socket)
        return {"opened": len(held), "requests_sent": sent[0],
                "closed_by_daemon": _closed_by_peer(held),
                "daemon_fds_while_held": t.daemon.fds(), "status_while_held": during}


def connect_churn(t: Target) -> dict[str, Any]:
    made = 0
    for _ in range(3000):
        sock = _connect_nowait(t.socket, 5.0)
        if sock is not None:
            made += 1
            sock.close()
    return {"connections": made}


ATTACKS: list[tuple[str, Callable[[Target], dict[str, Any]]]] = [
    ("1100 idle connections", idle_flood),
    ("slow loris (100 dripping connections)", slow_loris),
    ("5000-digit number", huge_number),
    ("nesting 100k deep", deep_nesting),
    ("newline in say text (forged log line)", say_newline),
    ("NUL, escapes, BEL, RTL in say text", say_controls),
    ("1 MB request line", oversized_line),
    ("256 KiB of binary garbage", binary_garbage),
    ("half-closed connections", half_closed),
    ("a second speakerd run on the socket", second_run),
    ("full backlog for speakerd ctl", full_backlog),
    ("60 kB unknown cmd", unknown_cmd),
    ("JSON that is not an object", not_an_object),
    ("wrong types", wrong_types),
    ("lone surrogate in say text", lone_surrogate),
    ("invalid UTF-8", invalid_utf8),
    ("20,000 pipelined requests, never read", pipelined_non_reader),
    ("1100 connections that never read", non_reader_flood),
    ("3000 connect/close", connect_churn),
]
