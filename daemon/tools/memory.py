"""Memory tools: remember_fact, forget_fact, list_facts (daemon.memory keeps the facts).

The household tells the model a fact ("my daughter is called Mia", "the bins go
out on Tuesday night"), asks what it remembers, or asks it to forget. What cannot
be done (a fact too long, nothing that matches) goes back as an error whose text
is a sentence the model can say.
"""

from __future__ import annotations

from typing import Any

from daemon.memory import Memory, MemoryRefused
from daemon.tools.spec import ArgumentError, Param, Tool

KEPT_BY_THE_DAEMON = (
    "the memory is kept by the running daemon: use `speakerd ctl memory list` "
    "or `speakerd ctl memory forget ID`"
)
MAX_ARGUMENT_CHARS = 2000
"""Checked before the memory sees it; the memory's own, shorter limit says a sentence."""


def memory_tools(memory: Memory | None, *, kept_elsewhere: bool = False) -> list[Tool]:
    """The memory tools on `memory`; with `kept_elsewhere` (`speakerd tools`, outside
    the daemon) they are listed as the model sees them, and a call says where it is."""
    if memory is None and not kept_elsewhere:
        return []

    def on_memory() -> Memory:
        if memory is None:
            raise ArgumentError(KEPT_BY_THE_DAEMON)
        return memory

    async def remember_fact(fact: str) -> dict[str, Any]:
        kept = on_memory()
        try:
            remembered = kept.remember(fact)
        except MemoryRefused as exc:
            raise ArgumentError(str(exc)) from None
        return {"remembered": remembered.text, "id": remembered.id, "facts": len(kept)}

    async def forget_fact(which: str) -> dict[str, Any]:
        kept = on_memory()
        try:
            gone = kept.forget(which)
        except MemoryRefused as exc:
            raise ArgumentError(str(exc)) from None
        return {"forgotten": [fact.text for fact in gone], "facts": len(kept)}

    async def list_facts() -> dict[str, Any]:
        facts = on_memory().summary()
        return {"facts": facts} if facts else {"facts": [], "message": "nothing is remembered"}

    return [
        Tool(
            "remember_fact",
            "Remember a fact the household tells you to keep, in their words, one short "
            "sentence (e.g. my daughter is called Mia). Kept on this device and given to "
            "you in every later conversation.",
            remember_fact,
            {"fact": Param("STRING", "The fact, one short sentence.",
                           max_length=MAX_ARGUMENT_CHARS)},
            blocking=False,
            scheduling="SILENT",
        ),
        Tool(
            "forget_fact",
            "Forget a remembered fact: by its id (e.g. m3), by words it contains, or all.",
            forget_fact,
            {"which": Param("STRING", "The id (m3), words of the fact, or all.", max_length=200)},
            blocking=False,
            scheduling="SILENT",
        ),
        Tool("list_facts", "The facts you were asked to remember, with their ids.", list_facts),
    ]
