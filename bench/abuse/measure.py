"""One command in a subprocess, bounded by a wall-clock time-out: what it cost and what it said.

Peak memory is the child's ru_maxrss as wait4() returns it (the kernel's own
high-water mark, so no sampling can miss a short spike). Output goes to files
and is scanned in pieces, so a command that prints 40 MB is measured without
being held in memory. Every child runs in its own session: the time-out kills
it and anything it started.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO, Any

TRACEBACK = b"Traceback (most recent call last)"
HEAD_CHARS = 600


def limited(command: list[str], address_space_mb: int | None) -> list[str]:
    """`command` under an address-space cap (prlimit), so a regression fails with
    MemoryError instead of taking the shared machine's memory; as is without prlimit."""
    if address_space_mb is None or shutil.which("prlimit") is None:
        return command
    return ["prlimit", f"--as={address_space_mb * 1024 * 1024}", "--", *command]


def scan(stream: IO[bytes]) -> dict[str, Any]:
    """Bytes, lines, the longest line, tracebacks and the first characters of an output file."""
    stream.seek(0)
    total = lines = longest = current = tracebacks = 0
    head = b""
    tail = b""  # the end of the previous piece, so a marker split in two is still found
    while piece := stream.read(1 << 20):
        if len(head) < HEAD_CHARS:
            head += piece[: HEAD_CHARS - len(head)]
        total += len(piece)
        tracebacks += (tail + piece).count(TRACEBACK) - tail.count(TRACEBACK)
        tail = piece[-len(TRACEBACK):]
        start = 0
        while (end := piece.find(b"\n", start)) >= 0:
            longest = max(longest, current + end - start)
            current = 0
            lines += 1
            start = end + 1
        current += len(piece) - start
    if current:
        longest = max(longest, current)
        lines += 1
    return {"bytes": total, "lines": lines, "longest_line": longest, "tracebacks": tracebacks,
            "head": head.decode("utf-8", "backslashreplace")}


def measure(command: list[str], *, env: dict[str, str], cwd: Path, timeout: float,
            address_space_mb: int | None = None) -> dict[str, Any]:
    """Run `command` to its end or its time-out; exit code, seconds, peak RSS and output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        began = time.monotonic()
        proc = subprocess.Popen(limited(command, address_space_mb), env=env, cwd=cwd,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                start_new_session=True)
        timed_out = False
        pause = 0.001
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - began > timeout:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)
                _, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(pause)
            pause = min(pause * 2, 0.02)
        seconds = time.monotonic() - began
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # anything it left behind
        stdout, stderr = scan(out), scan(err)
    return {
        "exit_code": None if timed_out else proc.returncode,
        "timed_out": timed_out,
        "seconds": round(seconds, 3),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # KiB on Linux
        "output_bytes": stdout["bytes"] + stderr["bytes"],
        "output_lines": stdout["lines"] + stderr["lines"],
        "longest_line": max(stdout["longest_line"], stderr["longest_line"]),
        "tracebacks": stdout["tracebacks"] + stderr["tracebacks"],
        "stdout_head": stdout["head"],
        "stderr_head": stderr["head"],
    }

