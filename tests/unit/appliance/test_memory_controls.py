"""`speakerd ctl memory list|forget ID|clear` through the real socket and command line."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from daemon.appliance.control_desk import ControlDesk
from daemon.control.client import request
from daemon.control.server import ControlServer
from daemon.memory import Memory
from tests.unit.appliance.test_control_socket import _ctl


@pytest.fixture
async def speaker(tmp_path: Path):
    memory = Memory(tmp_path / "state")
    (tmp_path / "run").mkdir()
    appliance = SimpleNamespace(memory=memory)
    control = ControlServer(tmp_path / "run" / "control.sock", ControlDesk(appliance))  # type: ignore[arg-type]
    await control.start()
    yield control, memory
    await control.stop()


async def test_list_forget_and_clear_from_the_command_line(speaker) -> None:
    control, memory = speaker
    memory.remember("my daughter is called Mia")
    memory.remember("the bins go out on Tuesday night")
    memory.remember("I take my coffee black")
    socket = ["--socket", str(control.path)]

    code, out, _ = await _ctl(*socket, "memory", "list")
    assert code == 0
    assert [line.split("  ")[:2] for line in out.strip().splitlines()] == [
        ["m1", "my daughter is called Mia"], ["m2", "the bins go out on Tuesday night"],
        ["m3", "I take my coffee black"],
    ]
    code, out, _ = await _ctl(*socket, "memory", "forget", "m2")
    assert code == 0 and out.strip() == "forgot m2 the bins go out on Tuesday night"
    code, _, err = await _ctl(*socket, "memory", "forget", "m2")
    assert code == 2 and "nothing remembered that matches 'm2'" in err
    code, out, _ = await _ctl(*socket, "--json", "memory", "list")
    assert [f["id"] for f in json.loads(out)["facts"]] == ["m1", "m3"]
    code, out, _ = await _ctl(*socket, "memory", "clear")
    assert code == 0 and out.strip() == "forgot 2 fact(s)"
    assert Memory(memory.path.parent).facts() == []


async def test_bad_memory_requests_say_what_is_allowed(speaker) -> None:
    control, _ = speaker
    reply = await request(control.path, {"cmd": "memory", "action": "drop"})
    assert reply == {"ok": False, "error": 'memory needs "action": one of list, forget, clear'}
    reply = await request(control.path, {"cmd": "memory", "action": "forget"})
    assert reply["ok"] is False and "forget needs" in reply["error"]


async def test_with_memory_off_ctl_says_so(tmp_path: Path) -> None:
    desk = ControlDesk(SimpleNamespace(memory=None))  # type: ignore[arg-type]
    assert (await desk.memory("list"))["error"] == "the memory is off (memory.enabled: false)"
