"""The memory's state file: written whole and atomically at every change, read at start.

The same pattern as the timers' file (daemon/timers/store.py): the new text goes
to a temporary file in the same directory, is fsynced, renamed over the old one,
and the directory is fsynced, so a power cut or `kill -9` leaves the old file or
the new one, never half of one. The file is mode 0600: what a household tells its
speaker is for the daemon's user alone. A file that cannot be read is moved aside
(never deleted: the owner may want it back) with one log line, and the memory
starts empty.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from daemon.core.durable_file import move_aside, write_atomically

log = logging.getLogger(__name__)

FILE_NAME = "memory.json"
VERSION = 1
MODE = 0o600


class MemoryFile:
    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / FILE_NAME
        self._keep: str | None = None  # a bad file that could not be moved aside: never overwrite

    def load(self) -> list[dict[str, Any]]:
        """The stored facts as JSON objects (checked by the caller); none when there is
        no file or it could not be read (then it is moved aside)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            self._move_aside(f"cannot be read ({exc})")
            return []
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("version") != VERSION:
                raise ValueError(f"not a version {VERSION} memory file")
            facts = data.get("facts")
            if not isinstance(facts, list) or not all(isinstance(f, dict) for f in facts):
                raise ValueError("its facts are not a list of objects")
        except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
            self._move_aside(f"is not a valid memory file ({exc})")
            return []
        return facts

    def save(self, facts: list[dict[str, Any]]) -> str | None:
        """Write every fact; the reason they could not be saved, or None."""
        if self._keep is not None:
            return f"not saved: {self._keep}"
        text = json.dumps({"version": VERSION, "facts": facts}, indent=1, ensure_ascii=False)
        try:
            write_atomically(self.path, text, MODE)
        except OSError as exc:
            log.error("memory not saved to %s: %s (kept until speakerd restarts)", self.path, exc)
            return f"not saved: {exc.strerror or exc}"
        return None

    def _move_aside(self, problem: str) -> None:
        moved, where = move_aside(self.path)
        if not moved:
            self._keep = f"{self.path} is unreadable and was kept"
        log.error("memory file %s %s: %s; starting with no facts", self.path, problem, where)
