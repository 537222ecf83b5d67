"""The emulated model's grasp of timers: enough words to drive the timer tools by voice.

"set a timer for 3 seconds called tea", "cancel the tea timer", "what timers do
I have", "wake me at 7", "remind me at 18:00 to call mom"; and the appliance's
own announcement prompt ("Say briefly, ...: your tea timer is done"), which it
simply says.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .records import ToolResponseRecord

Reply = Callable[[list[ToolResponseRecord]], str]
Call = tuple[str, dict[str, Any]]

_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30,
    "forty": 40, "forty-five": 45, "sixty": 60, "ninety": 90,
}  # fmt: skip
_UNITS = {"second": 1, "sec": 1, "minute": 60, "min": 60, "hour": 3600}
_AMOUNT = r"(\d+(?:\.\d+)?|" + "|".join(sorted(_NUMBERS, key=len, reverse=True)) + ")"
_ANNOUNCE = re.compile(r"^say briefly[^:]*:\s*(.+?)\.?$", re.IGNORECASE | re.DOTALL)


def plan(utterance: str, functions: set[str]) -> tuple[Call | None, Reply] | None:
    """A timer tool call and its reply for the utterance, or None when it is not about timers."""
    text = " ".join(utterance.lower().replace("’", "'").split()).strip(" .!?")
    announced = _ANNOUNCE.match(utterance.strip())
    if announced:
        said = announced.group(1).strip()
        return None, lambda _r: said[:1].upper() + said[1:] + "."
    if "set_timer" in functions:
        match = re.search(
            rf"\btimer for {_AMOUNT} (second|sec|minute|min|hour)s?\b(?: (?:called|named|for) (.+))?",
            text,
        )
        if match:
            seconds = _number(match.group(1)) * _UNITS[match.group(2)]
            args: dict[str, Any] = {"seconds": seconds}
            if match.group(3):
                args["label"] = match.group(3).strip()
            return ("set_timer", args), _set_reply
    if "cancel_timer" in functions:
        match = re.search(
            r"\b(?:cancel|stop|delete) (?:the |my )?(.+?) (?:timer|alarm|reminder)s?$", text
        )
        if match or re.search(r"\bcancel (?:all|every)", text):
            which = (
                "all"
                if not match or match.group(1) in ("all", "all the", "all my")
                else (match.group(1))
            )
            return ("cancel_timer", {"which": which}), _cancel_reply
    if "list_timers" in functions and re.search(
        r"\b(what|which|any|list)\b.*\b(timers?|alarms?|reminders?)\b", text
    ):
        return ("list_timers", {}), _list_reply
    if "set_alarm" in functions:
        match = re.search(r"\b(?:wake me|alarm for|alarm at)(?: up)? at? ?(\d{1,2})(?:[:.](\d{2}))?"
                          r"(?: ?(am|pm|a\.m|p\.m))?", text)  # fmt: skip
        remind = re.search(r"\bremind me at (\d{1,2})(?:[:.](\d{2}))?(?: ?(am|pm))? to (.+)", text)
        found = remind or match
        if found:
            hour = int(found.group(1)) % 24
            if found.group(3) and found.group(3).startswith("p") and hour < 12:
                hour += 12
            args = {"time": f"{hour:02d}:{int(found.group(2) or 0):02d}"}
            if remind:
                args["label"] = remind.group(4).strip()
            return ("set_alarm", args), _set_reply
    return None


def _number(word: str) -> float:
    return _NUMBERS[word] if word in _NUMBERS else float(word)


def _result(responses: list[ToolResponseRecord]) -> tuple[Any, str | None]:
    for record in responses:
        response = record.response if isinstance(record.response, dict) else {}
        error = response.get("error")
        if error:
            message = error.get("message") if isinstance(error, dict) else error
            return None, f"Sorry, that did not work: {message}"
        return response.get("result", response), None
    return None, "Sorry, no answer from the device."


def _set_reply(responses: list[ToolResponseRecord]) -> str:
    result, error = _result(responses)
    if error:
        return error
    what = result.get("label") or result.get("kind", "timer")
    return f"Okay, {what} set; it rings in {result.get('left')}, at {result.get('rings_at')}."


def _cancel_reply(responses: list[ToolResponseRecord]) -> str:
    result, error = _result(responses)
    return error or "Cancelled " + ", ".join(result.get("cancelled") or ["nothing"]) + "."


def _list_reply(responses: list[ToolResponseRecord]) -> str:
    result, error = _result(responses)
    if error:
        return error
    timers = result.get("timers") or []
    if not timers:
        return "You have no timers or alarms."
    return (
        "You have "
        + "; ".join(f"{t.get('label') or t.get('kind')} in {t.get('left')}" for t in timers)
        + "."
    )
