"""Log lines reach journald with their fields under systemd, stderr otherwise."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from daemon import logs

REPO = Path(__file__).resolve().parents[3]

SNIPPET = """
import logging, os, sys
from daemon.logs import setup_logging
st = os.fstat(2)
if os.environ.get("JOURNAL_STREAM") == "ours":
    os.environ["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
handler = setup_logging()
logging.getLogger("speakerd.timeline").error("wake word hey_jarvis")
print(type(handler).__name__)
"""


def run_snippet(journal_stream: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}
    if journal_stream is not None:
        env["JOURNAL_STREAM"] = journal_stream
    return subprocess.run(
        [sys.executable, "-c", SNIPPET], capture_output=True, text=True, env=env, cwd=REPO
    )


def test_plain_text_on_stderr_outside_systemd() -> None:
    result = run_snippet(None)
    assert result.stdout.strip() == "StreamHandler"
    assert "ERROR speakerd.timeline: wake word hey_jarvis" in result.stderr


def test_an_inherited_journal_stream_that_is_not_our_stderr_is_ignored() -> None:
    result = run_snippet("8:12345")  # e.g. a test piping the daemon's stderr
    assert result.stdout.strip() == "StreamHandler"
    assert "wake word hey_jarvis" in result.stderr


def test_under_systemd_lines_go_to_the_journal_with_fields() -> None:
    """Our stderr is the journal stream: the real systemd-python handler sends each
    line to journald's socket with its priority and logger as fields."""
    path = logs.JOURNAL_SOCKET
    if path.exists():  # a real journald listens here: we cannot read what it gets
        result = run_snippet("ours")
        assert result.stdout.strip() == "JournalHandler", result.stderr
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    journald = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    journald.bind(str(path))
    journald.settimeout(10)
    try:
        result = run_snippet("ours")
        datagram = journald.recv(65536).decode()
    finally:
        journald.close()
        path.unlink()
    assert result.stdout.strip() == "JournalHandler", result.stderr
    fields = dict(line.split("=", 1) for line in datagram.splitlines() if "=" in line)
    assert fields["MESSAGE"] == "wake word hey_jarvis"
    assert fields["PRIORITY"] == "3"  # error
    assert fields["LOGGER"] == "speakerd.timeline"
    assert fields["SYSLOG_IDENTIFIER"] == "speakerd"
    assert "wake word" not in result.stderr  # not twice
