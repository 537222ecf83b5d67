"""The timers' state file: written whole and atomically at every change, read at start.

A power cut during a write leaves either the old file or the new one, never a
half: the new text goes to a temporary file in the same directory, is fsynced,
renamed over the old one, and the directory is fsynced. A file that cannot be
read is moved aside (never deleted: the owner may want it) with one log line,
and the appliance starts with no timers.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from daemon.core.durable_file import move_aside, write_atomically
from daemon.timers.model import Entry, TimerError

log = logging.getLogger(__name__)

FILE_NAME = "timers.json"
VERSION = 1


class TimerStore:
    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / FILE_NAME
        self._keep: str | None = None  # a bad file that could not be moved aside: never overwrite

    def load(self) -> tuple[list[Entry], int]:
        """The stored entries and the next id; nothing stored (or unreadable): ([], 1)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return [], 1
        except (OSError, UnicodeDecodeError) as exc:
            self._move_aside(f"cannot be read ({exc})")
            return [], 1
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("version") != VERSION:
                raise TimerError(f"not a version {VERSION} timers file")
            entries = [Entry.from_json(item) for item in data.get("entries") or []]
            next_id = int(data.get("next_id") or 1)
        except (ValueError, TypeError) as exc:  # JSONDecodeError and TimerError are ValueErrors
            self._move_aside(f"is not a valid timers file ({exc})")
            return [], 1
        return entries, next_id

    def save(self, entries: list[Entry], next_id: int) -> str | None:
        """Write the whole state; the reason it could not be saved, or None."""
        if self._keep is not None:
            return f"not saved: {self._keep}"
        data = {"version": VERSION, "next_id": next_id, "entries": [e.to_json() for e in entries]}
        try:
            write_atomically(self.path, json.dumps(data, indent=1))
        except OSError as exc:
            log.error("timers not saved to %s: %s (they ring unless speakerd restarts)",
                      self.path, exc)  # fmt: skip
            return f"not saved: {exc.strerror or exc}"
        return None

    def _move_aside(self, problem: str) -> None:
        moved, where = move_aside(self.path)
        if not moved:
            self._keep = f"{self.path} is unreadable and was kept"
        log.error("timers file %s %s: %s; starting with no timers", self.path, problem, where)
