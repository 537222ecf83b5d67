"""The emulated model's side of the household memory: remember, forget, list.

"remember that my daughter is called Mia" calls remember_fact, "forget the
coffee" forget_fact, "what do you remember" list_facts, when the setup declares
them; the reply says what the tool answered (an error, such as a fact too long,
is said as it came).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .protocol import get
from .records import ToolResponseRecord

Call = tuple[str, dict[str, Any]]
Reply = Callable[[list[ToolResponseRecord]], str]

_REMEMBER = re.compile(r"^(?:please )?remember (?:that )?(.+)$")
_FORGET = re.compile(r"^(?:please )?forget (?:about |that )?(.+)$")
_LIST = re.compile(r"^what do you (?:remember|know)\b")


def plan(utterance: str, functions: set[str]) -> tuple[Call, Reply] | None:
    """A memory tool call and its reply, or None when the utterance is not about memory."""
    text = " ".join(utterance.replace("’", "'").split()).strip(" .!?")
    lowered = text.lower()
    if "remember_fact" in functions and (match := _REMEMBER.match(lowered)):
        fact = text[match.start(1):]
        return ("remember_fact", {"fact": fact}), _said("Okay, I will remember that.")
    if "forget_fact" in functions and (match := _FORGET.match(lowered)):
        return ("forget_fact", {"which": match.group(1)}), _said("Okay, I have forgotten it.")
    if "list_facts" in functions and _LIST.match(lowered):
        return ("list_facts", {}), _listed
    return None


def _error(responses: list[ToolResponseRecord]) -> str | None:
    for record in responses:
        error = get(record.response, "error")
        if isinstance(error, str) and error:
            return error.split(": ", 1)[-1]  # the registry puts the tool's name first
    return None


def _said(done: str) -> Reply:
    return lambda responses: _error(responses) or done


def _listed(responses: list[ToolResponseRecord]) -> str:
    error = _error(responses)
    if error:
        return error
    result = get(responses[0].response, "result") if responses else None
    facts = [get(f, "text") for f in get(result, "facts") or []]
    facts = [f for f in facts if isinstance(f, str)]
    return "I remember: " + "; ".join(facts) + "." if facts else "I do not remember anything yet."
