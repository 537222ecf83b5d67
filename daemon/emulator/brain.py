"""The emulated model: scripted turns for tests, a small rule-based default for demos.

The default understands switching things on and off by calling the declared
function that fits (e.g. `set_relay(name, state)`), setting, listing and
cancelling timers and alarms (timer_words.py), waits for the tool response,
and says what it said. Anything else gets a short spoken answer.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import memory_words, timer_words
from .protocol import get
from .records import ToolResponseRecord
from .search import NO_SEARCH_REPLY, topic_of
from .search import search as search_web

Reply = str | Callable[[list[ToolResponseRecord]], str]

_STOPWORDS = frozenset(
    {
        "turn", "switch", "set", "put", "please", "the", "a", "an", "my", "on", "off", "can", "you",
        "could", "would", "will", "kindly", "now", "to", "in", "of", "and", "for"
    }
)
_NAME_PARAMS = ("name", "relay", "relay_name", "device", "target", "light", "switch", "id")
_STATE_PARAMS = ("state", "on", "power", "value", "enabled", "enable", "action", "turn_on")
_UTILITY_WORDS = frozenset({"get", "set", "do", "the", "current", "read", "fetch", "tool"})
_ids = itertools.count(1)


@dataclass
class ToolCall:
    """A function call a scripted turn makes."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass
class Turn:
    """What the Nth user turn "said" and how the model answers it.

    said: the transcription of an audio turn (text turns keep their own text);
    tool_calls: None lets the default model decide, [] makes no call;
    reply: None lets the default model answer; a callable gets the tool responses
    (for non-blocking calls: said when their results come, as the service would);
    interim: what the model says while non-blocking calls run;
    call_mid_speech: non-blocking calls go out half-way through the interim, as a
    3.8 model that decides to use a tool while it talks.
    """

    said: str | None = None
    reply: Reply | None = None
    tool_calls: list[ToolCall | dict[str, Any]] | None = None
    interim: str | None = None
    call_mid_speech: bool = False


@dataclass
class FunctionSpec:
    name: str
    description: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    required: list[str] = field(default_factory=list)
    blocking: bool = True


@dataclass
class PlannedCall:
    id: str
    name: str
    args: dict[str, Any]
    blocking: bool = True

    def wire(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "args": self.args}


@dataclass
class Plan:
    calls: list[PlannedCall]
    reply: Callable[[list[ToolResponseRecord]], str]
    """The answer once the blocking calls' responses are in (or a non-blocking
    call's, in the turn its result starts)."""
    interim: str = "One moment."
    """Said at once when every call is non-blocking; the reply follows the results."""
    grounding: dict[str, Any] | None = None
    """groundingMetadata of a searched answer."""
    call_mid_speech: bool = False
    """Non-blocking calls go out while the interim is being spoken."""
    interim_from_reply: bool = False
    """The interim is the (scripted) reply said before any result."""

    def said_first(self) -> str:
        """What the model says at once when no call blocks."""
        if self.interim_from_reply:
            return _said_without_results(self.reply, self.interim)
        return self.interim


def new_call_id() -> str:
    return f"function-call-{next(_ids)}-{random.randrange(10**12):012d}"


def functions_from_setup(setup: dict[str, Any], block_by_default: bool = True) -> list[FunctionSpec]:
    """Function declarations of a setup, in either key spelling; a declaration
    without `behavior` takes the model's default (2.5 blocks, 3.8 does not)."""
    specs: list[FunctionSpec] = []
    for tool in get(setup, "tools") or []:
        for decl in get(tool, "function_declarations") or []:
            if not isinstance(decl, dict) or not isinstance(get(decl, "name"), str):
                continue
            schema = get(decl, "parameters") or get(decl, "parameters_json_schema") or {}
            properties = get(schema, "properties")
            required = get(schema, "required")
            specs.append(
                FunctionSpec(
                    name=get(decl, "name"),
                    description=str(get(decl, "description") or ""),
                    # parameters_json_schema is free JSON: odd shapes mean "no parameters".
                    properties=properties if isinstance(properties, dict) else {},
                    required=[r for r in required if isinstance(r, str)]
                    if isinstance(required, list) else [],
                    blocking=_blocks(get(decl, "behavior"), block_by_default),
                )
            )
    return specs


def _blocks(behavior: Any, default: bool) -> bool:
    value = str(behavior or "").upper()
    return default if value in ("", "UNSPECIFIED") else value != "NON_BLOCKING"


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("_", " "))


def _spoken(name: Any) -> str:
    return str(name).replace("_", " ")


def _param_type(schema: Any) -> str:
    kind = get(schema, "type")
    if isinstance(kind, list):
        kind = next((k for k in kind if str(k).lower() != "null"), "")
    return str(kind or "").upper()


class DefaultBrain:
    """Turns an utterance into tool calls and a reply."""

    def plan(
        self,
        utterance: str,
        functions: list[FunctionSpec],
        history: list[tuple[str, str]],
        scripted: Turn | None = None,
        audio_only: bool = False,
        search: bool = False,
    ) -> Plan:
        by_name = {spec.name: spec for spec in functions}
        calls: list[PlannedCall]
        default_reply: Callable[[list[ToolResponseRecord]], str]
        interim = "One moment."
        grounding: dict[str, Any] | None = None
        topic = None if audio_only else topic_of(utterance)
        if scripted is not None and scripted.tool_calls is not None:
            calls = [self._scripted_call(call, by_name) for call in scripted.tool_calls]
            default_reply = _generic_reply
        elif audio_only:
            calls, default_reply = [], self._chat_reply(utterance, history, audio_only=True)
        elif topic is not None and not self._switch_call(_words(utterance), functions):
            found = search_web(utterance, topic) if search else None
            grounding = found.metadata if found else None
            text = found.reply if found else NO_SEARCH_REPLY
            calls, default_reply = [], lambda _responses: text
        else:
            calls, default_reply, interim = self._decide(utterance, functions, history)
        mid_speech = scripted.call_mid_speech if scripted is not None else False
        reply = scripted.reply if scripted is not None and scripted.reply is not None else None
        if isinstance(reply, str):
            text = reply
            reply = lambda _responses: text  # noqa: E731
        if scripted is not None and scripted.interim is not None:
            interim = scripted.interim
        plan = Plan(calls, reply or default_reply, interim, grounding, mid_speech)
        if reply is not None and (scripted is None or scripted.interim is None):
            # A scripted answer is what the model says while its tools run (and, unless
            # SILENT, once more when their results come), as a 3.8 model does.
            plan.interim_from_reply = True
        return plan

    @staticmethod
    def _scripted_call(call: ToolCall | dict[str, Any], by_name: dict[str, FunctionSpec]) -> PlannedCall:
        if isinstance(call, dict):
            call = ToolCall(name=call["name"], args=dict(call.get("args") or {}), id=call.get("id"))
        spec = by_name.get(call.name)
        return PlannedCall(
            id=call.id or new_call_id(), name=call.name, args=dict(call.args),
            blocking=spec.blocking if spec else True,
        )

    def _decide(
        self, utterance: str, functions: list[FunctionSpec], history: list[tuple[str, str]]
    ) -> tuple[list[PlannedCall], Callable[[list[ToolResponseRecord]], str], str]:
        """Calls, the reply once results are in, and what is said while they run."""
        words = _words(utterance)
        timer = timer_words.plan(utterance, {spec.name for spec in functions})
        if timer is not None:
            timer_call, reply = timer
            if timer_call is None:
                return [], reply, ""
            name, args = timer_call
            blocking = next((f.blocking for f in functions if f.name == name), True)
            return [PlannedCall(new_call_id(), name, args, blocking)], reply, "One moment."
        remembered = memory_words.plan(utterance, {spec.name for spec in functions})
        if remembered is not None:
            (name, args), reply = remembered
            blocking = next((f.blocking for f in functions if f.name == name), True)
            return [PlannedCall(new_call_id(), name, args, blocking)], reply, reply([])
        switch = self._switch_call(words, functions)
        if switch is not None:
            call, target, state = switch
            reply = _switch_reply(target, state)
            return [call], reply, reply([])  # "Okay, the lamp is on.", while it switches
        for spec in functions:
            tokens = [t for t in _words(spec.name) if t not in _UTILITY_WORDS and len(t) >= 3]
            if tokens and any(t in words for t in tokens) and not spec.required:
                call = PlannedCall(new_call_id(), spec.name, {}, spec.blocking)
                return [call], _generic_reply, "Let me check."
        return [], self._chat_reply(utterance, history), "One moment."

    def _switch_call(
        self, words: list[str], functions: list[FunctionSpec]
    ) -> tuple[PlannedCall, str, bool] | None:
        if not any(w in ("on", "off") for w in words):
            return None
        if not any(w in ("turn", "switch", "put", "set", "power") for w in words):
            return None
        state = [w for w in words if w in ("on", "off")][-1] == "on"
        best: tuple[int, FunctionSpec, str, str] | None = None
        for spec in functions:
            state_param = self._state_param(spec)
            name_param = self._name_param(spec, state_param)
            if state_param is None or name_param is None:
                continue
            score = sum(k in spec.name.lower() for k in ("relay", "switch", "light", "power"))
            if best is None or score > best[0]:
                best = (score, spec, name_param, state_param)
        if best is None:
            return None
        _, spec, name_param, state_param = best
        target = self._target(words, spec, spec.properties.get(name_param))
        args = {name_param: target, state_param: self._state_value(spec.properties[state_param], state)}
        return PlannedCall(new_call_id(), spec.name, args, spec.blocking), target, state

    @staticmethod
    def _state_param(spec: FunctionSpec) -> str | None:
        for key, schema in spec.properties.items():
            if _param_type(schema) == "BOOLEAN":
                return key
        for key in spec.properties:
            if key.lower() in _STATE_PARAMS:
                return key
        return None

    @staticmethod
    def _name_param(spec: FunctionSpec, state_param: str | None) -> str | None:
        strings = [k for k, s in spec.properties.items() if k != state_param
                   and _param_type(s) in ("STRING", "")]
        for key in strings:
            if key.lower() in _NAME_PARAMS:
                return key
        return strings[0] if strings else None

    @staticmethod
    def _state_value(schema: Any, state: bool) -> Any:
        if _param_type(schema) == "BOOLEAN":
            return state
        for value in get(schema, "enum") or []:
            if str(value).lower() in (("on", "true", "1") if state else ("off", "false", "0")):
                return value
        return "on" if state else "off"

    @staticmethod
    def _target(words: list[str], spec: FunctionSpec, schema: Any) -> str:
        spaced = " " + " ".join(words) + " "
        names = [str(v) for v in get(schema, "enum") or []]
        matches = [n for n in names if f" {' '.join(_words(n))} " in spaced]
        if matches:
            return max(matches, key=len)
        phrase = [w for w in words if w not in _STOPWORDS]
        underscored = "_".join(phrase)
        descriptions = spec.description + " " + str(get(schema, "description") or "")
        if "_" in underscored and underscored in descriptions:
            return underscored
        return " ".join(phrase)

    @staticmethod
    def _chat_reply(
        utterance: str, history: list[tuple[str, str]], audio_only: bool = False
    ) -> Callable[[list[ToolResponseRecord]], str]:
        words = _words(utterance)
        if audio_only:
            text = f"I heard {utterance.strip('()')}, but I am only the local emulator."
        elif "what did i" in " ".join(words) and ("say" in words or "ask" in words):
            said = [text for role, text in history if role == "user"]
            text = f"You said: {said[-1]}" if said else "You have not said anything yet."
        elif (known := _recall(words, history)) is not None:
            text = f"You told me: {known}"
        elif words[:1] and words[0] in ("hello", "hi", "hey"):
            text = "Hello! How can I help?"
        else:
            text = f"You said: {utterance.strip()}"
        return lambda _responses: text


_QUESTION_WORDS = frozenset({"what", "when", "who", "whom", "which", "where", "how", "do", "does",
                             "is", "are"})
_FILLER_WORDS = _QUESTION_WORDS | _STOPWORDS | frozenset(
    {"i", "me", "is", "are", "was", "called", "name", "named", "tell", "remind", "again", "go",
     "goes", "out", "take", "like", "did", "remember", "you", "your", "it", "that", "this"}
)


def _recall(words: list[str], history: list[tuple[str, str]]) -> str | None:
    """A question answered from what the user said before or the facts the session was
    given ("system" lines): the line sharing the most words with it, if any does."""
    if not words or words[0] not in _QUESTION_WORDS:
        return None
    asked = {w for w in words if w not in _FILLER_WORDS}
    best: tuple[int, str] | None = None
    for role, text in history:
        if role not in ("user", "system"):
            continue
        shared = len(asked & set(_words(text)))
        if shared and (best is None or shared >= best[0]):
            best = (shared, text)
    return best[1] if best is not None else None


def _said_without_results(reply: Callable[[list[ToolResponseRecord]], str], fallback: str) -> str:
    """What a scripted reply says before any result; the fallback if it needs one."""
    try:
        text = reply([])
    except (IndexError, KeyError, TypeError, AttributeError):
        return fallback
    return text or fallback


def _describe(response: Any) -> str | None:
    if isinstance(response, dict):
        error = response.get("error")
        if error:
            message = get(error, "message") if isinstance(error, dict) else error
            return f"Sorry, that did not work: {message}"
        for key in ("message", "text", "speech"):
            value = response.get(key)
            if isinstance(value, str):
                return value
    return None


def _switch_reply(target: str, state: bool) -> Callable[[list[ToolResponseRecord]], str]:
    def reply(responses: list[ToolResponseRecord]) -> str:
        said_state = state
        for record in responses:
            described = _describe(record.response)
            if described:
                return described
            result = record.response if isinstance(record.response, dict) else {}
            value = result.get("state", result.get("on"))
            if isinstance(value, bool):
                said_state = value
            elif isinstance(value, str) and value.lower() in ("on", "off"):
                said_state = value.lower() == "on"
        return f"Okay, the {_spoken(target)} is {'on' if said_state else 'off'}."

    return reply


def _generic_reply(responses: list[ToolResponseRecord]) -> str:
    if not responses:
        return "Done."
    parts: list[str] = []
    for record in responses:
        described = _describe(record.response)
        if described:
            parts.append(described)
            continue
        result = record.response
        if isinstance(result, dict) and set(result) == {"result"}:
            result = result["result"]
        if isinstance(result, dict) and result:
            parts.append(", ".join(f"the {_spoken(k)} is {v}" for k, v in result.items()))
        elif result not in (None, "", {}):
            parts.append(str(result))
    text = "; ".join(parts) if parts else "Done"
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")
