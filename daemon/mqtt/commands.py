"""What a command topic's payload means, or why it is refused.

Payloads are Home Assistant's defaults (ON/OFF for switches, PRESS for the
button, a number for the volume, plain text for the announcement). Anything
else is refused with a reason that the bridge logs; nothing is changed.
"""

from __future__ import annotations

import math

MAX_ANNOUNCEMENT = 1000  # characters: a sentence or two, not a document

ANNOUNCE_PROMPT = (
    "Announce this to the people in the room, word for word, then stop "
    "(do not add anything, do not ask a question): {text}"
)


class BadPayload(ValueError):
    """The payload cannot be used; str() says what is allowed."""


def text_of(payload: bytes) -> str:
    try:
        return payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise BadPayload("not UTF-8 text") from None


def switch(payload: bytes) -> bool:
    text = text_of(payload).upper()
    if text not in ("ON", "OFF"):
        raise BadPayload(f"{_shown(payload)} is not ON or OFF")
    return text == "ON"


def volume(payload: bytes) -> int:
    text = text_of(payload)
    try:
        value = float(text)
    except ValueError:
        raise BadPayload(f"{_shown(payload)} is not a number from 0 to 100") from None
    if not math.isfinite(value):
        raise BadPayload(f"{_shown(payload)} is not a number from 0 to 100")
    if not 0 <= value <= 100:
        raise BadPayload(f"{_shown(payload)} is out of range: 0 to 100")
    return round(value)


def press(payload: bytes) -> None:
    if text_of(payload).upper() != "PRESS":
        raise BadPayload(f"{_shown(payload)} is not PRESS")


def announcement(payload: bytes) -> str:
    text = text_of(payload)
    if not text:
        raise BadPayload("an announcement needs some text")
    if len(text) > MAX_ANNOUNCEMENT:
        raise BadPayload(
            f"an announcement is at most {MAX_ANNOUNCEMENT} characters, not {len(text)}"
        )
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise BadPayload("an announcement must not contain control characters")
    return text


def _shown(payload: bytes) -> str:
    """The payload as a log line may show it: short, one line."""
    text = payload[:40].decode("utf-8", "replace")
    return repr(text + ("…" if len(payload) > 40 else ""))
