"""Where log lines go: the journal with structured fields under systemd, else stderr.

Under systemd, journald adds the timestamps and keeps each line's priority,
logger and code location as fields (`journalctl -u speakerd -p err`,
`journalctl LOGGER=speakerd.timeline`); anywhere else, plain text on stderr.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from daemon.core.safe_text import printable

JOURNAL_SOCKET = Path("/run/systemd/journal/socket")
PLAIN_FORMAT = "%(levelname)s %(name)s: %(message)s"
MAX_MESSAGE = 4000  # characters of one log message; a megabyte `say` is not a log line


class OneLineFormatter(logging.Formatter):
    """Each message one visible line: text from outside (`ctl say`, transcripts, server
    errors) can neither forge a log line with a newline nor hide in escape codes.
    Tracebacks keep their lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = printable(record.message, MAX_MESSAGE)
        return super().formatMessage(record)


def setup_logging(verbose: bool = False) -> logging.Handler:
    handler = journal_handler()
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(OneLineFormatter(PLAIN_FORMAT))
    else:
        handler.setFormatter(OneLineFormatter("%(message)s"))  # the rest are fields
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
    return handler


def journal_handler() -> logging.Handler | None:
    """A JournalHandler when our stderr *is* systemd's journal stream.

    systemd puts the stream's device:inode in JOURNAL_STREAM; a child whose stderr
    was redirected (a pipe in a test, a file) inherits the variable but not the
    stream, and must keep writing to its stderr.
    """
    if not _stderr_is_journal() or not JOURNAL_SOCKET.is_socket():
        return None
    try:
        from systemd.journal import JournalHandler
    except ImportError:
        return None
    handler: logging.Handler = JournalHandler(SYSLOG_IDENTIFIER="speakerd")
    return handler


def _stderr_is_journal() -> bool:
    expected = os.environ.get("JOURNAL_STREAM", "")
    try:
        stat = os.fstat(sys.stderr.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return bool(expected) and expected == f"{stat.st_dev}:{stat.st_ino}"
