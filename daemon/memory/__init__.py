"""The household memory: facts the household asked the speaker to remember, kept on
the device (facts.py: what is kept and its limits; store.py: the state file)."""

from daemon.memory.facts import Fact, Memory, MemoryRefused

__all__ = ["Fact", "Memory", "MemoryRefused"]
