"""Keep the API key out of every log line and error message.

The key travels in a request header, and websockets logs request headers at
DEBUG; servers may also echo bits of a request in a close reason. So the
session scrubs all text it produces, and a log filter scrubs the loggers of
the libraries that see the key.
"""

from __future__ import annotations

import logging
import threading

REDACTED = "[redacted]"

# Loggers of libraries that see the key. A logger's filter only sees records
# logged on that very logger (not its children), hence the exact names.
_LIBRARY_LOGGERS = ("websockets.client", "google_genai.live", "google_genai._api_client")

_secrets: dict[str, int] = {}  # secret -> number of live users
_lock = threading.Lock()


def scrub(text: object, *extra: str) -> str:
    """str(text) with every registered secret (and extra ones) replaced."""
    result = str(text)
    with _lock:
        secrets = set(_secrets) | {s for s in extra if s}
    for secret in sorted(secrets, key=len, reverse=True):
        result = result.replace(secret, REDACTED)
    return result


class _ScrubFilter(logging.Filter):
    """Rewrites a record whose text contains a secret, before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the caller's bug, not ours
            return True
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True


_FILTER = _ScrubFilter()


def register_secret(secret: str) -> None:
    """Start scrubbing secret from text and from the library loggers."""
    if not secret:
        return
    with _lock:
        _secrets[secret] = _secrets.get(secret, 0) + 1
    for name in _LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def forget_secret(secret: str) -> None:
    """One user of secret is done; scrubbing stops when the last one is."""
    with _lock:
        users = _secrets.pop(secret, 0) - 1
        if users > 0:
            _secrets[secret] = users
