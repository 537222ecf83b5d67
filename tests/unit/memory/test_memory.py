"""The household memory and its state file: limits, bad input, what survives."""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path

import pytest

from daemon.config.schema import Config
from daemon.memory import Memory, MemoryRefused
from daemon.tools import ToolRegistry
from daemon.tools.context import StandaloneContext


def test_facts_survive_a_restart_in_a_0600_file(tmp_path: Path):
    memory = Memory(tmp_path)
    mia = memory.remember("my daughter is called  Mia\n")
    bins = memory.remember("the bins go out on Tuesday night")
    assert (mia.id, mia.text) == ("m1", "my daughter is called Mia")
    again = Memory(tmp_path)
    assert [(f.id, f.text) for f in again.facts()] == [(mia.id, mia.text), (bins.id, bins.text)]
    assert stat.S_IMODE(os.stat(tmp_path / "memory.json").st_mode) == 0o600
    assert again.remember("I take my coffee black").id == "m3"  # ids are never reused
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


def test_the_same_fact_twice_is_kept_once(tmp_path: Path):
    memory = Memory(tmp_path)
    first = memory.remember("I take my coffee black")
    assert memory.remember("i take my COFFEE black") == first
    assert len(memory) == 1


def test_forget_by_id_by_words_and_all(tmp_path: Path):
    memory = Memory(tmp_path)
    for text in ("my daughter is called Mia", "I take my coffee black", "tea for Tom"):
        memory.remember(text)
    assert [f.text for f in memory.forget("m2")] == ["I take my coffee black"]
    assert [f.text for f in memory.forget("MIA")] == ["my daughter is called Mia"]
    with pytest.raises(MemoryRefused, match="nothing remembered that matches 'coffee'"):
        memory.forget("coffee")
    assert [f.text for f in memory.forget("all")] == ["tea for Tom"]
    assert Memory(tmp_path).facts() == []


def test_the_oldest_fall_out_beyond_the_cap_and_are_logged(tmp_path: Path, caplog):
    memory = Memory(tmp_path, max_facts=3, max_bytes=1024)
    for n in range(5):
        memory.remember(f"fact number {n}")
    assert [f.text for f in memory.facts()] == [f"fact number {n}" for n in (2, 3, 4)]
    dropped = [r.getMessage() for r in caplog.records if "memory is full" in r.getMessage()]
    assert len(dropped) == 2 and "m1: fact number 0" in dropped[0]
    small = Memory(tmp_path / "bytes", max_bytes=1024)
    for n in range(10):
        small.remember(f"{n} " + "x" * 200)
    assert sum(len(f.text.encode()) for f in small.facts()) <= 1024
    assert small.facts()[-1].text.startswith("9 ")


def test_a_fact_over_the_size_limit_is_refused_with_a_sentence(tmp_path: Path):
    memory = Memory(tmp_path)
    with pytest.raises(MemoryRefused) as refused:
        memory.remember("x" * 301)
    assert str(refused.value).startswith("That is too long for me to remember")
    with pytest.raises(MemoryRefused, match="nothing to remember"):
        memory.remember(" \x00\n ")
    assert memory.facts() == [] and not (tmp_path / "memory.json").exists()


@pytest.mark.parametrize(
    "content",
    [b"{not json", b'{"version": 9, "facts": []}', b'{"version": 1, "facts": "x"}', b"\xff\xfe"],
)
def test_a_corrupt_file_is_moved_aside_with_one_line_never_deleted(
    tmp_path: Path, caplog, content: bytes
):
    (tmp_path / "memory.json").write_bytes(content)
    with caplog.at_level(logging.ERROR):
        memory = Memory(tmp_path)
    assert memory.facts() == []
    [aside] = [p for p in tmp_path.iterdir() if p.name.startswith("memory.json.corrupt-")]
    assert aside.read_bytes() == content
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 1
    memory.remember("a new start")
    assert json.loads((tmp_path / "memory.json").read_text())["facts"][0]["text"] == "a new start"


def test_the_instruction_lists_the_facts_as_facts(tmp_path: Path):
    memory = Memory(tmp_path)
    assert memory.instruction() == ""
    memory.remember("the bins go out on Tuesday night")
    lines = memory.instruction().splitlines()
    assert "not instructions" in lines[0]
    assert lines[1:] == ["- the bins go out on Tuesday night"]


class Context(StandaloneContext):
    memory_kept_by_daemon = False

    def __init__(self, memory: Memory) -> None:
        super().__init__()
        self.memory = memory


async def test_the_tools_remember_list_and_forget(tmp_path: Path):
    memory = Memory(tmp_path)
    tools = ToolRegistry.from_config(
        Config(), relays={}, context=Context(memory), camera_available=False
    )
    reply = await tools.call("remember_fact", {"fact": "my daughter is called Mia"})
    assert reply == {"result": {"remembered": "my daughter is called Mia", "id": "m1", "facts": 1}}
    assert tools.scheduling("remember_fact", reply["result"]) == "SILENT"
    listed = await tools.call("list_facts", {})
    assert listed["result"]["facts"][0]["text"] == "my daughter is called Mia"
    too_long = await tools.call("remember_fact", {"fact": "y" * 500})
    assert "too long for me to remember" in too_long["error"]
    assert tools.scheduling("remember_fact", too_long) == "WHEN_IDLE"  # a refusal is said
    gone = await tools.call("forget_fact", {"which": "Mia"})
    assert gone == {"result": {"forgotten": ["my daughter is called Mia"], "facts": 0}}
    nothing = await tools.call("forget_fact", {"which": "Mia"})
    assert "nothing remembered" in nothing["error"]


def test_the_tools_are_listed_outside_the_daemon_unless_memory_is_off():
    listed = ToolRegistry.from_config(Config(), relays=None, context=StandaloneContext(),
                                      camera_available=False).names  # fmt: skip
    assert {"remember_fact", "forget_fact", "list_facts"} <= set(listed)
    off = Config.model_validate({"memory": {"enabled": False}})
    names = ToolRegistry.from_config(off, relays=None, context=StandaloneContext(),
                                     camera_available=False).names  # fmt: skip
    assert "remember_fact" not in names


def test_check_config_refuses_a_memory_directory_that_cannot_be(tmp_path: Path):
    from daemon.config.files import file_problems

    (tmp_path / "a-file").write_text("")
    config = Config.model_validate({"memory": {"state_dir": str(tmp_path / "a-file")}})
    [(loc, problem)] = [(loc, p) for loc, p in file_problems(config) if loc[0] == "memory"]
    assert loc == ("memory", "state_dir") and "is not a directory" in problem
    off = Config.model_validate({"memory": {"enabled": False, "state_dir": str(tmp_path / "a-file")}})
    assert not [loc for loc, _ in file_problems(off) if loc[0] == "memory"]
