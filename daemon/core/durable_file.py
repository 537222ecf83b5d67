"""State files that survive a power cut or `kill -9`, and what to do with one that cannot be read.

The timers and the household memory are both kept this way: a whole new file is
written beside the old one, flushed to the disk and renamed over it, and the
directory entry is flushed too, so a reader finds the old file or the new one,
never half of either. An unreadable file is moved aside, never deleted.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path


def write_atomically(path: Path, text: str, mode: int | None = None) -> None:
    """Replace `path` with `text`; OSError (with nothing half-written left) on failure.

    `mode`: the file's permissions, whatever the umask; None leaves them to the umask."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666 if mode is None else mode)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            if mode is not None:
                os.fchmod(file.fileno(), mode)  # an old temporary file may have had another mode
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
        _fsync_directory(path.parent)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def move_aside(path: Path) -> tuple[bool, str]:
    """Move an unreadable state file to `NAME.corrupt-TIME`: whether it moved, and where
    it went in words (for the one log line)."""
    aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}")
    try:
        os.replace(path, aside)
    except OSError as exc:
        return False, f"could not be moved aside ({exc.strerror or exc}); left in place"
    return True, f"moved to {aside}"


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (the directory entry is what a power cut loses)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
