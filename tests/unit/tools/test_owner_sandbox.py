"""The hardened unit still lets an owner's command be started, timed out and killed.

systemd is not PID 1 here, so the unit cannot run; what can be checked is that
its system-call filter allows every call the command runner makes (fork/clone,
exec, setsid for the process group, kill for the timeout, wait), by expanding
the unit's own SystemCallFilter= lines with systemd-analyze.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

UNIT = Path(__file__).resolve().parents[3] / "systemd" / "speakerd.service"
NEEDED = {"execve", "clone", "clone3", "vfork", "setsid", "kill", "wait4", "pidfd_open"}


def expand(group: str) -> set[str]:
    run = subprocess.run(
        ["systemd-analyze", "syscall-filter", group], capture_output=True, text=True, check=True
    )
    names: set[str] = set()
    for line in run.stdout.splitlines():
        word = line.strip()
        if not word or word.startswith("#"):
            continue
        names |= expand(word) if word.startswith("@") and word != group else {word}
    return names - {group}


def test_the_unit_allows_what_a_command_needs():
    allowed: set[str] = set()
    denied: set[str] = set()
    for line in UNIT.read_text().splitlines():
        if not line.startswith("SystemCallFilter="):
            continue
        value = line.split("=", 1)[1]
        target = denied if value.startswith("~") else allowed
        for item in value.lstrip("~").split():
            target |= expand(item) if item.startswith("@") else {item}
    assert allowed, "the unit has no SystemCallFilter= allow-list any more"
    assert NEEDED - (allowed - denied) == set()
