"""The control socket: JSON lines in and out, errors that say what is allowed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from daemon.control.client import request
from daemon.control.server import NEW_CONNECTIONS_PER_SLOT, ControlServer, ControlSocketError
from daemon.core.redact import PARTIAL, forget_secret, register_secret


class RecordingControls:
    """Answers like the appliance does and remembers what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def status(self) -> dict[str, Any]:
        return {"state": "idle", "muted": False}

    async def wake(self) -> dict[str, Any]:
        self.calls.append(("wake", None))
        return {"message": "ok"}

    async def say(self, text: str) -> dict[str, Any]:
        self.calls.append(("say", text))
        return {"message": "sent"}

    async def mute(self, on: bool) -> dict[str, Any]:
        self.calls.append(("mute", on))
        return {"muted": on}

    async def stop(self) -> dict[str, Any]:
        raise RuntimeError("boom")

    async def list_timers(self) -> dict[str, Any]:
        self.calls.append(("timers", None))
        return {"message": "1  tea  in 2 min 00 s", "timers": []}

    async def cancel_timer(self, which: str) -> dict[str, Any]:
        self.calls.append(("cancel", which))
        return {"message": f"cancelled the {which} timer"}


@pytest.fixture
async def server(tmp_path: Path):
    controls = RecordingControls()
    (tmp_path / "run").mkdir()
    control = ControlServer(tmp_path / "run" / "control.sock", controls)
    await control.start()
    yield control, controls
    await control.stop()


async def test_socket_is_group_only_and_answers_status(server) -> None:
    control, _ = server
    mode = stat.S_IMODE(os.stat(control.path).st_mode)
    assert mode == 0o660
    assert await request(control.path, {"cmd": "status"}) == {
        "ok": True,
        "state": "idle",
        "muted": False,
    }


async def test_commands_reach_the_appliance(server) -> None:
    control, controls = server
    assert (await request(control.path, {"cmd": "say", "text": "turn on the lamp"}))["ok"]
    assert (await request(control.path, {"cmd": "mute", "on": True}))["muted"] is True
    assert (await request(control.path, {"cmd": "wake"}))["ok"]
    assert (await request(control.path, {"cmd": "timers"}))["message"].startswith("1  tea")
    assert (await request(control.path, {"cmd": "cancel", "what": "tea"}))["ok"]
    assert controls.calls == [
        ("say", "turn on the lamp"), ("mute", True), ("wake", None),
        ("timers", None), ("cancel", "tea"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("line", "words"),
    [
        (b"not json\n", "not a JSON object"),
        (b"[1, 2]\n", '{"cmd": "status"}'),
        (b'{"cmd": "reboot"}\n', "unknown cmd 'reboot'; allowed: status, wake, say, mute, stop"),
        (b'{"cmd": "say"}\n', 'say needs "text"'),
        (b'{"cmd": "say", "text": "  "}\n', 'say needs "text"'),
        (b'{"cmd": "mute", "on": "yes"}\n', 'mute needs "on": true or false'),
        (b'{"cmd": "stop"}\n', "internal error: RuntimeError"),
        (b'{"cmd": "cancel"}\n', 'cancel needs "what": a label, an id or "all"'),
    ],
)
async def test_bad_requests_get_an_error_and_the_connection_stays_usable(
    server, line: bytes, words: str
) -> None:
    control, controls = server
    reader, writer = await asyncio.open_unix_connection(str(control.path))
    writer.write(line)
    await writer.drain()
    reply = json.loads(await reader.readline())
    assert reply["ok"] is False and words in reply["error"]
    writer.write(b'{"cmd": "status"}\n')
    await writer.drain()
    assert json.loads(await reader.readline())["ok"] is True
    writer.close()
    assert controls.calls == []


async def test_a_stale_socket_file_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "control.sock"
    with socket.socket(socket.AF_UNIX) as killed:  # a daemon killed while it listened
        killed.bind(str(path))
        killed.listen()
    assert path.exists()
    second = ControlServer(path, RecordingControls())
    await second.start()
    assert (await request(path, {"cmd": "status"}))["ok"]
    await second.stop()
    assert not path.exists()


async def _ctl(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "daemon", "ctl", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(), err.decode()


async def test_ctl_command_line(server, tmp_path: Path) -> None:
    control, controls = server
    code, out, _ = await _ctl("--socket", str(control.path), "status")
    assert code == 0 and json.loads(out)["state"] == "idle"
    code, out, _ = await _ctl("--socket", str(control.path), "say", "turn", "on", "the", "lamp")
    assert code == 0 and out.strip() == "sent"
    code, _, err = await _ctl("--socket", str(control.path), "stop")
    assert code == 2 and "internal error" in err
    assert controls.calls == [("say", "turn on the lamp")]
    code, _, err = await _ctl("--socket", str(tmp_path / "absent.sock"), "status")
    assert code == 1 and "speakerd is not running" in err


# -- abuse: what anyone in group speakerd could do to the socket -------------------------


async def test_a_second_server_refuses_a_path_a_live_daemon_answers_on(server) -> None:
    control, _ = server
    second = ControlServer(control.path, RecordingControls())
    with pytest.raises(ControlSocketError, match="another speakerd is already running"):
        await second.start()
    await second.stop()  # must not remove the first daemon's socket
    assert (await request(control.path, {"cmd": "status"}))["ok"]


@pytest.mark.parametrize("kind", ["file", "directory", "dangling symlink"])
async def test_something_else_at_the_path_is_refused_and_left_alone(
    tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "control.sock"
    if kind == "file":
        path.write_text("precious")
    elif kind == "directory":
        path.mkdir()
    else:
        path.symlink_to(tmp_path / "nowhere")
    with pytest.raises(ControlSocketError, match="is not a socket"):
        await ControlServer(path, RecordingControls()).start()
    assert path.is_symlink() or path.exists()
    if kind == "file":
        assert path.read_text() == "precious"


async def test_no_parent_directories_are_created(tmp_path: Path) -> None:
    path = tmp_path / "typo" / "deeper" / "control.sock"
    with pytest.raises(ControlSocketError, match="does not exist"):
        await ControlServer(path, RecordingControls()).start()
    assert not (tmp_path / "typo").exists()


async def test_idle_connections_are_closed(tmp_path: Path) -> None:
    control = ControlServer(tmp_path / "c.sock", RecordingControls(), idle_timeout=0.2)
    await control.start()
    try:
        reader, writer = await asyncio.open_unix_connection(str(control.path))
        assert await asyncio.wait_for(reader.read(), 5) == b""  # closed by the server
        writer.close()
        assert control.open_connections == 0
    finally:
        await control.stop()


async def test_a_flood_of_idle_connections_neither_locks_out_ctl_nor_floods_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    control = ControlServer(tmp_path / "c.sock", RecordingControls(), max_connections=8)
    await control.start()
    idle = []
    try:
        for _ in range(200):
            idle.append(await asyncio.open_unix_connection(str(control.path)))
        reply = await request(control.path, {"cmd": "status"}, timeout=5)
        assert reply["ok"] and reply["state"] == "idle"
        # New connections have a grace to send a request: up to 4 x the cap stay open.
        assert control.open_connections <= 8 * NEW_CONNECTIONS_PER_SLOT
        assert control.evicted >= 200 - 8 * NEW_CONNECTIONS_PER_SLOT
        floods = [r for r in caplog.records if "connections open" in r.getMessage()]
        assert len(floods) == 1 and not any(r.exc_info for r in caplog.records)
    finally:
        for _, writer in idle:
            writer.close()
        await control.stop()


async def test_floods_that_come_and_go_are_logged_once_a_minute(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Rapid connect-and-close (the campaign's 3000 connections) wrote the line 23 times."""
    control = ControlServer(tmp_path / "c.sock", RecordingControls(), max_connections=8)
    await control.start()
    try:
        for _ in range(5):  # five waves, each over the cap and then gone
            wave = [await asyncio.open_unix_connection(str(control.path)) for _ in range(20)]
            for _, writer in wave:
                writer.close()
            for _ in range(200):  # the server sees each close on its next read
                if control.open_connections == 0:
                    break
                await asyncio.sleep(0.01)
            assert control.open_connections == 0
        floods = [r for r in caplog.records if "connections open" in r.getMessage()]
        assert len(floods) == 1
    finally:
        await control.stop()


@pytest.mark.parametrize(
    "line",
    [
        b'{"cmd": "say", "text": "hi", "n": ' + b"9" * 5000 + b"}\n",
        b"[" * 100_000 + b"\n",
        b'{"cmd": "' + b"x" * 60_000 + b'"}\n',
        b"\xff\xfe\x00\n",
    ],
    ids=["5000 digits", "nested 100k deep", "60 kB command", "not UTF-8"],
)
async def test_hostile_requests_get_a_short_error_and_no_log(
    server, caplog: pytest.LogCaptureFixture, line: bytes
) -> None:
    control, controls = server
    reader, writer = await asyncio.open_unix_connection(str(control.path))
    writer.write(line)
    await writer.drain()
    reply = json.loads(await reader.readline())
    assert reply["ok"] is False and len(reply["error"]) < 300
    writer.close()
    assert not caplog.records  # a client's mistake is the client's, not the journal's
    assert controls.calls == []


async def test_an_internal_error_is_logged_with_its_traceback_once(
    server, caplog: pytest.LogCaptureFixture
) -> None:
    control, _ = server
    for _ in range(20):
        assert (await request(control.path, {"cmd": "stop"}))[
            "error"
        ] == "internal error: RuntimeError"
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1


async def test_replies_never_carry_the_key(tmp_path: Path) -> None:
    key = "AIzaSyFAKE-0123456789abcdefghijklmnop"

    class Echoing(RecordingControls):
        def status(self) -> dict[str, Any]:
            return {
                "state": "idle",
                "transcripts": [{"role": "model", "text": f"your key is {key[:14]}..."}],
                "last_error": "server said: " + key.replace("-", "%2D"),
            }

    control = ControlServer(tmp_path / "c.sock", Echoing())
    await control.start()
    register_secret(key)
    try:
        reply = await request(control.path, {"cmd": "status"})
    finally:
        forget_secret(key)
        await control.stop()
    text = json.dumps(reply)
    assert key[:PARTIAL] not in text and "0123456789" not in text
    assert reply["transcripts"][0]["text"].startswith("your key is [redacted]")


async def test_ctl_says_the_daemon_is_busy_when_its_queue_is_full(tmp_path: Path) -> None:
    path = tmp_path / "busy.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.listen(1)  # and never accept: a wedged daemon
    held = []
    for _ in range(8):
        client = socket.socket(socket.AF_UNIX)
        client.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            client.connect(str(path))
        held.append(client)
    try:
        with pytest.raises(TimeoutError, match="queue of new connections stayed full"):
            await request(path, {"cmd": "status"}, timeout=0.5)
        code, _, err = await _ctl("--socket", str(path), "--timeout", "0.5", "status")
        assert code == 1 and "Traceback" not in err and "queue" in err, err
    finally:
        for client in held:
            client.close()
        listener.close()


def test_stopping_with_a_request_in_flight_logs_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A `say` waits for the session to open; SIGTERM then must not log tracebacks, neither
    when the server stops nor when asyncio.run (as `speakerd run`) tears the loop down."""

    class Slow(RecordingControls):
        async def say(self, text: str) -> dict[str, Any]:
            await asyncio.Event().wait()  # the session never opens
            return {}

    async def daemon() -> bytes:
        control = ControlServer(tmp_path / "c.sock", Slow())
        await control.start()
        reader, writer = await asyncio.open_unix_connection(str(control.path))
        writer.write(b'{"cmd": "say", "text": "hello"}\n')
        await writer.drain()
        await asyncio.sleep(0.1)
        await control.stop()
        received = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        return received

    assert asyncio.run(daemon()) == b""  # closed, no reply
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
