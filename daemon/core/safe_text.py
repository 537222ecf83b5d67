"""Text from outside made safe to print or log: one line, visible, bounded.

Config values, socket requests and transcripts come from people and servers we
do not control. Echoed raw, an escape sequence clears the owner's terminal, a
right-to-left override hides what follows, a newline forges a log line and a
megabyte value floods the journal. So anything echoed goes through printable().
"""

from __future__ import annotations

import re

# Python's idea of "not printable": control and format characters (bidi overrides,
# zero-width), surrogates, private use, unassigned, and separators other than space.
_HIDDEN = re.compile(r"[^ -~]")  # fast path: anything outside printable ASCII is checked


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: object, limit: int = 200) -> str:
    """str(text) with invisible or line-breaking characters escaped, cut after `limit` chars."""
    value = text if isinstance(text, str) else str(text)
    cut = ""
    if len(value) > limit:
        cut = f"... ({len(value) - limit} more characters)"
        value = value[:limit]
    return _HIDDEN.sub(_escape, value) + cut


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char.isprintable():
        return char
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


MAX_USER_TEXT = 1000
"""Characters of typed text one request may carry: a sentence or two, not a document."""

_ALLOWED_CONTROLS = frozenset("\n\t")


def user_text_problem(text: object, limit: int = MAX_USER_TEXT) -> str | None:
    """Why text from outside (`ctl say`, an MQTT announcement) cannot go to the model, or None.

    One rule for every path: the model, the transcripts and the log see the
    same text whichever door it came in by. Control characters (a NUL, an
    escape sequence) and lone surrogates are refused rather than cleaned: the
    sender learns the text was not sent, instead of hearing something else.
    """
    if not isinstance(text, str) or not text.strip():
        return "the text is empty"
    if len(text) > limit:
        return f"the text is at most {limit} characters, not {len(text)}"
    for char in text:
        code = ord(char)
        if (code < 32 and char not in _ALLOWED_CONTROLS) or 0x7F <= code < 0xA0:
            return f"the text holds the control character U+{code:04X}"
        if 0xD800 <= code < 0xE000:
            return f"the text holds a lone surrogate U+{code:04X}, which is not Unicode"
    return None
