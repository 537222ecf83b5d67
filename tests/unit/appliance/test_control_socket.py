"""The control socket: JSON lines in and out, errors that say what is allowed."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from daemon.appliance.control import ControlServer, request


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
    control = ControlServer(tmp_path / "run" / "control.sock", controls)
    await control.start()
    yield control, controls
    await control.stop()


async def test_socket_is_group_only_and_answers_status(server) -> None:
    control, _ = server
    mode = stat.S_IMODE(os.stat(control.path).st_mode)
    assert mode == 0o660
    assert await request(control.path, {"cmd": "status"}) == {"ok": True, "state": "idle", "muted": False}


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
    first = ControlServer(path, RecordingControls())
    await first.start()
    first._server.close()  # the daemon was killed: the file stays behind
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
