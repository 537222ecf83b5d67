"""Say in one line what is wrong with a server frame.

The SDK parses every frame itself (google/genai/live.py `_receive`: json.loads,
then pydantic) and raises whatever it meets: ValueError for text that is not
JSON, UnicodeDecodeError for bytes that are not UTF-8, RecursionError for deep
nesting, a pydantic ValidationError naming the field, TypeError or
AttributeError for JSON that is not a message object, and an APIError for an
error report. The session skips such a frame; the log gets one line that names
the problem (never a multi-line dump, a traceback or a megabyte of frame).
"""

from __future__ import annotations

import re

import pydantic
from google.genai import errors as genai_errors

from daemon.core.redact import scrub

MAX_DETAIL = 200  # characters of a frame or a value quoted in the log
_NOT_JSON = "Failed to parse response: "  # the SDK's words for text json.loads refused
_SNAKE = re.compile(r"_([a-z])")


def describe_bad_frame(exc: BaseException) -> str:
    """What was wrong with the frame the SDK raised `exc` for, in one short line."""
    if isinstance(exc, pydantic.ValidationError):
        return _field_problem(exc)
    if isinstance(exc, UnicodeDecodeError):
        # json.loads guesses UTF-16 or UTF-32 from NUL bytes, else reads UTF-8.
        encoding = exc.encoding.upper()
        return f"not {encoding} text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"
    if isinstance(exc, RecursionError):
        return "nested too deeply to read"
    if isinstance(exc, genai_errors.APIError):
        said = exc.message or exc.details
        return f"an error report (code {one_line(exc.code)}): {one_line(said)}"
    text = str(exc)
    if isinstance(exc, ValueError) and text.startswith(_NOT_JSON):
        return f"not valid JSON: {one_line(text[len(_NOT_JSON) :])}"
    steps = _steps(exc)
    if steps[-1:] == ["raise_error"]:  # an object with no field the SDK knows, no error code
        return "not a Live API message (no field it knows)"
    if isinstance(exc, TypeError | AttributeError) and (
        steps[-1:] == ["_receive"]  # response.get() on a list or a string
        or any(step.startswith("_LiveServerMessage_from") for step in steps)
    ):
        return "not a Live API message (not a JSON object)"
    return f"not a Live API message ({type(exc).__name__}: {one_line(text)})"


def _steps(exc: BaseException) -> list[str]:
    """The functions the exception passed through, outermost first (the SDK's parse
    steps have telling names)."""
    names: list[str] = []
    tb = exc.__traceback__
    while tb is not None:
        names.append(tb.tb_frame.f_code.co_name)
        tb = tb.tb_next
    return names


def _field_problem(exc: pydantic.ValidationError) -> str:
    """The first field pydantic refused, named as on the wire (serverContent.modelTurn...)."""
    problems = exc.errors(include_url=False, include_context=False, include_input=False)
    if not problems:
        return one_line(exc)
    first = problems[0]
    where = ".".join(_SNAKE.sub(lambda m: m.group(1).upper(), str(p)) for p in first["loc"])
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"field {one_line(where)}: {one_line(first['msg'])}{more}"


def one_line(value: object, limit: int = MAX_DETAIL) -> str:
    """str(value) scrubbed of secrets, control characters escaped, cut to `limit`."""
    text = scrub(str(value)[: limit * 4])
    printable = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[: limit * 2])
    return printable if len(printable) <= limit else printable[: limit - 3] + "..."
