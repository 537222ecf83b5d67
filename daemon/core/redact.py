"""Keep the API key out of every log line, error message and control-socket reply.

The key travels in a request header, and websockets logs request headers at
DEBUG; servers may also echo bits of a request in a close reason or even in a
transcript, whole, cut short (`SECRETKEY-12...`) or URL-encoded
(`SECRETKEY%2D1234567890`). So the session scrubs all text it produces, the
control socket scrubs its replies, and a log filter scrubs every log record.

What counts as the key: the whole key; for a key of at least 2 * PARTIAL
characters (a real Gemini key has 39), also any run of PARTIAL or more
consecutive characters of it, percent-encoded or not. Shorter secrets (test
keys like "k") are matched whole only, and only in library logs and scrub()
calls: hunting three letters through every log line would garble the log.
"""

from __future__ import annotations

import functools
import logging
import re
import threading

REDACTED = "[redacted]"
PARTIAL = 8  # a key fragment this long is as good as a leak (and never ordinary text)

# Loggers of libraries that see the key. A logger's filter only sees records
# logged on that very logger (not its children), hence the exact names.
_LIBRARY_LOGGERS = ("websockets.client", "google_genai.live", "google_genai._api_client")

_secrets: dict[str, int] = {}  # secret -> number of live users
_lock = threading.Lock()
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")


def scrub(text: object, *extra: str) -> str:
    """str(text) with every registered secret (and extra ones) replaced."""
    return _apply(str(text), _current(long_only=False) + [s for s in extra if s])


def scrub_free_text(text: object) -> str:
    """For text anyone may have written (transcripts, socket replies): only secrets long
    enough to be unmistakable are hunted, so a test key "k" leaves "speaking" alone."""
    return _apply(str(text), _current(long_only=True))


def _current(long_only: bool) -> list[str]:
    with _lock:
        return [s for s in _secrets if not long_only or len(s) >= PARTIAL]


def _apply(text: str, secrets: list[str]) -> str:
    for secret in sorted(set(secrets), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
        if len(secret) >= 2 * PARTIAL:
            text = _scrub_fragments(text, secret)
    return text


@functools.lru_cache(maxsize=8)
def _fragment_finder(secret: str) -> re.Pattern[str]:
    """Finds, overlapping, every start of a PARTIAL-long piece of `secret`."""
    grams = sorted({secret[i : i + PARTIAL] for i in range(len(secret) - PARTIAL + 1)})
    return re.compile("(?=(?:" + "|".join(re.escape(g) for g in grams) + "))")


def _scrub_fragments(text: str, secret: str) -> str:
    """Replace runs of >= PARTIAL characters of `secret`, also where %XX-encoded."""
    decoded, origin = _percent_decoded(text)
    covered = bytearray(len(decoded))
    found = False
    for match in _fragment_finder(secret).finditer(decoded):
        start = match.start()
        covered[start : start + PARTIAL] = b"\x01" * PARTIAL
        found = True
    if not found:
        return text
    out: list[str] = []
    position = 0  # in `text`
    i = 0
    while i < len(decoded):
        if not covered[i]:
            i += 1
            continue
        j = i
        while j < len(decoded) and covered[j]:
            j += 1
        start, end = origin[i], origin[j - 1] + _width(text, origin[j - 1])
        out += [text[position:start], REDACTED]
        position = end
        i = j
    out.append(text[position:])
    return "".join(out)


def _percent_decoded(text: str) -> tuple[str, list[int]]:
    """`text` with ASCII %XX escapes decoded, and where each character came from."""
    if "%" not in text:
        return text, list(range(len(text)))
    chars: list[str] = []
    origin: list[int] = []
    i = 0
    while i < len(text):
        match = _PERCENT.match(text, i) if text[i] == "%" else None
        if match and int(match.group(1), 16) < 0x80:
            chars.append(chr(int(match.group(1), 16)))
            origin.append(i)
            i += 3
        else:
            chars.append(text[i])
            origin.append(i)
            i += 1
    return "".join(chars), origin


def _width(text: str, index: int) -> int:
    """How many characters of `text` the decoded character at `index` came from."""
    return 3 if text[index] == "%" and _PERCENT.match(text, index) else 1


class _ScrubFilter(logging.Filter):
    """Rewrites a record whose text contains a secret, before any handler sees it."""

    def __init__(self, long_secrets_only: bool) -> None:
        super().__init__()
        self._long_only = long_secrets_only

    def filter(self, record: logging.LogRecord) -> bool:
        active = _current(self._long_only)
        if not active:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the caller's bug, not ours
            return True
        cleaned = _apply(message, active)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = _apply(text, active)
        elif record.exc_text:
            record.exc_text = _apply(record.exc_text, active)
        return True


_LIBRARY_FILTER = _ScrubFilter(long_secrets_only=False)
_HANDLER_FILTER = _ScrubFilter(long_secrets_only=True)


def register_secret(secret: str) -> None:
    """Start scrubbing secret from text, from the library loggers and from every handler
    of the root logger (transcripts and errors are logged by our own loggers too)."""
    if not secret:
        return
    with _lock:
        _secrets[secret] = _secrets.get(secret, 0) + 1
    for name in _LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if _LIBRARY_FILTER not in logger.filters:
            logger.addFilter(_LIBRARY_FILTER)
    for handler in logging.getLogger().handlers:
        if _HANDLER_FILTER not in handler.filters:
            handler.addFilter(_HANDLER_FILTER)


def forget_secret(secret: str) -> None:
    """One user of secret is done; scrubbing stops when the last one is."""
    with _lock:
        users = _secrets.pop(secret, 0) - 1
        if users > 0:
            _secrets[secret] = users
