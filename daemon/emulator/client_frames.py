"""Client frames read the way the service's proto3 JSON parser reads them.

Every frame a client sends goes through `read_client_frame` before a session
looks at it. What the real service refuses at its parser, this refuses with
the same close (1007) and a reason that names the field, its proto type and
the value; what passes has the proto types, so the session's handlers need
no type checks of their own and a wrong-typed field can never reach them as
an exception (docs/live-protocol.md, "Frame encoding" and "Errors and closing").

The proto3 JSON rules followed:
- both spellings of every field name (`mime_type` and `mimeType`);
- `null` means "not set": such a field is removed from the frame;
- integers as numbers or decimal strings, floats also as strings, booleans
  only as `true`/`false`, strings and bytes (base64) only as strings;
- a repeated field is a list, a message field an object; a list given for a
  field that is not repeated gets the parser's "cannot start list";
- an unknown field is refused in the messages marked `closed`; the others
  are read for the fields below and the rest is left alone.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, NoReturn

from .protocol import CLOSE_INVALID, MAX_REASON_BYTES, ProtocolError, snake

INVALID_JSON = "Invalid JSON payload received."

# Field kinds: a scalar below, a message name, "[kind]" (repeated) or "{kind}"
# (a map with string keys). "object" is any JSON object, "value" any JSON value.
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_FLOAT_TEXT = re.compile(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|NaN|-?Infinity")
_INT_TEXT = re.compile(r"-?\d{1,20}")


@dataclass(frozen=True)
class Message:
    """One proto message: its fields (snake_case name -> kind) and whether
    fields not listed are refused."""

    name: str
    fields: dict[str, str] = field(default_factory=dict)
    closed: bool = False


def _message(name: str, /, closed: bool = False, **fields: str) -> Message:
    return Message(name, fields, closed)


MESSAGES: dict[str, Message] = {m.name: m for m in (
    _message(
        "Setup", closed=True, model="string", generation_config="GenerationConfig",
        system_instruction="Content", tools="[Tool]", realtime_input_config="RealtimeInputConfig",
        session_resumption="SessionResumptionConfig",
        context_window_compression="ContextWindowCompressionConfig",
        input_audio_transcription="AudioTranscriptionConfig",
        output_audio_transcription="AudioTranscriptionConfig", proactivity="ProactivityConfig",
        history_config="object", avatar_config="object", safety_settings="[object]",
        labels="{string}", explicit_vad_signal="bool",
    ),
    _message(
        "GenerationConfig", closed=True, candidate_count="int32", max_output_tokens="int32",
        temperature="float", top_p="float", top_k="int32", presence_penalty="float",
        frequency_penalty="float", response_modalities="[enum]", speech_config="SpeechConfig",
        media_resolution="enum", seed="int32", thinking_config="object",
        enable_affective_dialog="bool", translation_config="object", response_logprobs="bool",
        logprobs="int32", stop_sequences="[string]", response_mime_type="string",
        response_schema="Schema", response_json_schema="value",
    ),
    _message("SpeechConfig", voice_config="VoiceConfig", language_code="string",
             multi_speaker_voice_config="object"),
    _message("VoiceConfig", prebuilt_voice_config="PrebuiltVoiceConfig"),
    _message("PrebuiltVoiceConfig", voice_name="string"),
    _message("Tool", function_declarations="[FunctionDeclaration]", google_search="object",
             code_execution="object", google_search_retrieval="object", url_context="object"),
    _message("FunctionDeclaration", name="string", description="string", parameters="Schema",
             parameters_json_schema="value", response="Schema", response_json_schema="value",
             behavior="enum"),
    _message("Schema", type="enum", format="string", description="string", nullable="bool",
             enum="[string]", items="Schema", properties="{Schema}", required="[string]",
             any_of="[Schema]"),
    _message("RealtimeInputConfig", automatic_activity_detection="AutomaticActivityDetection",
             activity_handling="enum", turn_coverage="enum"),
    _message("AutomaticActivityDetection", disabled="bool", start_of_speech_sensitivity="enum",
             end_of_speech_sensitivity="enum", prefix_padding_ms="int32",
             silence_duration_ms="int32"),
    _message("SessionResumptionConfig", handle="string", transparent="bool"),
    _message("ContextWindowCompressionConfig", trigger_tokens="int64",
             sliding_window="SlidingWindow"),
    _message("SlidingWindow", target_tokens="int64"),
    _message("AudioTranscriptionConfig", language_codes="[string]", custom_vocabulary="[string]"),
    _message("ProactivityConfig", proactive_audio="bool"),
    _message(
        "RealtimeInput", closed=True, media_chunks="[Blob]", audio="Blob", video="Blob",
        text="string", audio_stream_end="bool", activity_start="object", activity_end="object",
    ),
    _message("Blob", data="bytes", mime_type="string"),
    _message("ClientContent", closed=True, turns="[Content]", turn_complete="bool"),
    _message("Content", role="string", parts="[Part]"),
    _message("Part", text="string", inline_data="Blob", function_call="object",
             function_response="FunctionResponse", thought="bool", thought_signature="bytes"),
    _message("ToolResponse", closed=True, function_responses="[FunctionResponse]"),
    _message("FunctionResponse", id="string", name="string", response="object",
             scheduling="enum", will_continue="bool", parts="[object]"),
    _message("ContextUpdate"),
)}

#: The message each top-level key of a client frame carries.
CLIENT_MESSAGE_KINDS: dict[str, str] = {
    "setup": "Setup", "client_content": "ClientContent", "realtime_input": "RealtimeInput",
    "tool_response": "ToolResponse", "context_update": "ContextUpdate",
}


def read_client_frame(raw: str | bytes) -> tuple[str, dict[str, Any]]:
    """One client frame -> (kind in snake_case, its body, checked); ProtocolError
    (1007) with the parser's reason for anything the service would refuse."""
    try:
        frame = json.loads(raw)
    except (ValueError, RecursionError) as error:  # bad JSON or UTF-8, 4300+ digit numbers
        raise ProtocolError(CLOSE_INVALID, f"{INVALID_JSON} {type(error).__name__}: {error}") \
            from None
    if not isinstance(frame, dict) or len(frame) != 1:
        raise ProtocolError(CLOSE_INVALID, f"{INVALID_JSON} Expected exactly one message field.")
    (key, body), = frame.items()
    kind = snake(key)
    if kind not in CLIENT_MESSAGE_KINDS:
        raise ProtocolError(CLOSE_INVALID, f'{INVALID_JSON} Unknown name "{key}": Cannot find field.')
    if body is None:
        raise ProtocolError(CLOSE_INVALID, f"{INVALID_JSON} '{kind}' is null: the frame carries"
                            " no message.")
    try:
        _check_value(body, CLIENT_MESSAGE_KINDS[kind], kind)
    except RecursionError:
        raise ProtocolError(CLOSE_INVALID, f"{INVALID_JSON} '{kind}' is nested too deeply.") \
            from None
    return kind, body


def _check_value(value: Any, kind: str, path: str) -> None:
    """Refuse `value` unless it is a JSON form of `kind`."""
    if kind.startswith("["):
        if not isinstance(value, list):
            _invalid(path, f"repeated {kind[1:-1]}", value)
        for index, item in enumerate(value):
            _check_value(item, kind[1:-1], f"{path}[{index}]")
    elif kind.startswith("{"):
        if not isinstance(value, dict):
            _invalid(path, f"map of {kind[1:-1]}", value)
        for key, item in value.items():
            _check_value(item, kind[1:-1], f'{path}["{key}"]')
    elif kind in MESSAGES:
        if not isinstance(value, dict):
            _invalid(path, kind, value)
        _check_message(value, MESSAGES[kind], path)
    elif not _scalar_fits(value, kind):
        _invalid(path, f"TYPE_{kind.upper()}" if kind not in ("object", "value") else kind, value)


def _check_message(obj: dict[str, Any], message: Message, path: str) -> None:
    for key, value in list(obj.items()):
        name = snake(key)
        kind = message.fields.get(name)
        if kind is None:
            if message.closed:
                raise ProtocolError(
                    CLOSE_INVALID, f'{INVALID_JSON} Unknown name "{key}" at \'{path}\': Cannot'
                    " find field.")
            continue
        if value is None:
            del obj[key]  # proto3 JSON: null is the default, i.e. not set
            continue
        if isinstance(value, list) and not kind.startswith("[") and kind != "value":
            raise ProtocolError(
                CLOSE_INVALID, f'{INVALID_JSON} Unknown name "{key}" at \'{path}\': Proto field'
                " is not repeating, cannot start list.")
        _check_value(value, kind, f"{path}.{name}")


def _scalar_fits(value: Any, kind: str) -> bool:
    if kind in ("string", "bytes"):
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "enum":
        return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
    if kind == "object":
        return isinstance(value, dict)
    if kind == "value":
        return True
    if kind == "float":
        if isinstance(value, str):
            return _FLOAT_TEXT.fullmatch(value) is not None
        return isinstance(value, int | float) and not isinstance(value, bool)
    low, high = _INT_RANGES[kind]
    return (number := _integer(value)) is not None and low <= number <= high


def _integer(value: Any) -> int | None:
    """An integer given as a number, an integral float or a decimal string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    if isinstance(value, str) and _INT_TEXT.fullmatch(value):
        return int(value)
    return None


def _invalid(path: str, type_name: str, value: Any) -> NoReturn:
    shown = json.dumps(value)
    if len(shown) > 24:
        shown = shown[:21] + "..."
    reason = f"{INVALID_JSON} Invalid value at '{path}' ({type_name}), {shown}"
    if len(reason.encode()) > MAX_REASON_BYTES:
        # The close reason is cut at 123 bytes: keep the field's own name, drop the middle.
        head, leaf = path.split(".", 1)[0], path.rsplit(".", 1)[-1]
        reason = f"{INVALID_JSON} Invalid value at '{head}...{leaf}' ({type_name}), {shown}"
    raise ProtocolError(CLOSE_INVALID, reason)
