"""What a command topic's payload means, or why it is refused.

The payloads accepted are exactly the ones the discovery message announces
(daemon/mqtt/discovery.py): ON and OFF for switches, PRESS for the button, a
plain ASCII number for the volume, and plain text for the announcement.
Anything else is refused with a reason that the bridge logs; nothing is
changed. A payload longer than MAX_PAYLOAD is refused on its length alone,
before a byte of it is decoded or copied.
"""

from __future__ import annotations

import re

from daemon.core.safe_text import MAX_USER_TEXT, user_text_problem
from daemon.mqtt.identity import OFF, ON, PRESS

MAX_PAYLOAD = 4 * MAX_USER_TEXT
"""Bytes: the longest announcement, every character four bytes of UTF-8."""

_NUMBER = re.compile(rb"[0-9]{1,3}(?:\.[0-9]{1,6})?")
"""A volume as Home Assistant's number entity sends it ("42", "42.0"): ASCII digits
only, so float()'s extras (`1_0`, full-width digits, `nan`, spaces) never count."""


class BadPayload(ValueError):
    """The payload cannot be used; str() says what is allowed."""


def check_size(payload: bytes) -> None:
    if len(payload) > MAX_PAYLOAD:
        raise BadPayload(f"a payload is at most {MAX_PAYLOAD} bytes, not {len(payload)}")


def switch(payload: bytes) -> bool:
    check_size(payload)
    if payload not in (ON.encode(), OFF.encode()):
        raise BadPayload(f"{_shown(payload)} is not {ON} or {OFF}")
    return payload == ON.encode()


def volume(payload: bytes) -> int:
    check_size(payload)
    if _NUMBER.fullmatch(payload) is None:
        raise BadPayload(f"{_shown(payload)} is not a number from 0 to 100")
    value = float(payload)
    if not 0 <= value <= 100:
        raise BadPayload(f"{_shown(payload)} is out of range: 0 to 100")
    return round(value)


def press(payload: bytes) -> None:
    check_size(payload)
    if payload != PRESS.encode():
        raise BadPayload(f"{_shown(payload)} is not {PRESS}")


def text_of(payload: bytes) -> str:
    """A short text command (a station, a URL): within the size limit, UTF-8, no control
    characters (the one rule for typed text)."""
    check_size(payload)
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise BadPayload("not UTF-8 text") from None
    if text and (problem := user_text_problem(text)) is not None:
        raise BadPayload(problem)
    return text


def announcement(payload: bytes) -> str:
    """The text to announce: UTF-8, within the one rule for typed text (daemon.core.safe_text)."""
    check_size(payload)
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise BadPayload("an announcement must be UTF-8 text") from None
    problem = user_text_problem(text)
    if problem is not None:
        raise BadPayload(f"not an announcement: {problem}")
    return text


def _shown(payload: bytes) -> str:
    """The payload as a log line may show it: short, one line."""
    text = payload[:40].decode("utf-8", "replace")
    return repr(text + ("…" if len(payload) > 40 else ""))
