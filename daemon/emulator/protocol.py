"""Reading client frames the way Google's proto3 JSON parser does.

The SDK mixes camelCase and snake_case keys (even in one frame) and sends
URL-safe base64, so every lookup here accepts both spellings and both base64
alphabets. Anything the real service would refuse becomes a `ProtocolError`
carrying the close code and reason the real service uses.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.http11 import Request

from daemon.live import models as profiles

CLOSE_NORMAL = 1000
CLOSE_INVALID = 1007
CLOSE_POLICY = 1008
CLOSE_INTERNAL = 1011
MAX_REASON_BYTES = 123

API_KEY_INVALID = "API key not valid. Please pass a valid API key."
NO_CREDENTIALS = (
    "Method doesn't allow unregistered callers (callers without established identity)."
    " Please use API Key or other form of API consumer identity to call this API."
)
SESSION_NOT_FOUND = "session not found"

#: Live-capable model names the emulator answers for (without the "models/" prefix);
#: what each accepts comes from its profile (daemon/live/models.py).
KNOWN_MODELS: tuple[str, ...] = profiles.KNOWN_MODELS
DEFAULT_MODEL = KNOWN_MODELS[0]

#: Prebuilt voices of the Live API (docs/live-protocol.md); anything else fails the setup.
KNOWN_VOICES: frozenset[str] = frozenset(
    {
        "Zephyr", "Puck", "Charon", "Kore", "Fenrir", "Leda", "Orus", "Aoede", "Callirrhoe",
        "Autonoe", "Enceladus", "Iapetus", "Umbriel", "Algieba", "Despina", "Erinome", "Algenib",
        "Rasalgethi", "Laomedeia", "Achernar", "Alnilam", "Schedar", "Gacrux", "Pulcherrima",
        "Achird", "Zubenelgenubi", "Vindemiatrix", "Sadachbia", "Sadaltager", "Sulafat"
    }
)

SETUP_FIELDS = frozenset(
    {
        "model", "generation_config", "system_instruction", "tools", "realtime_input_config",
        "session_resumption", "context_window_compression", "input_audio_transcription",
        "output_audio_transcription", "proactivity", "history_config", "avatar_config",
        "safety_settings", "labels", "explicit_vad_signal",
    }
)
GENERATION_CONFIG_FIELDS = frozenset(
    {
        "candidate_count", "max_output_tokens", "temperature", "top_p", "top_k",
        "presence_penalty", "frequency_penalty", "response_modalities", "speech_config",
        "media_resolution", "seed", "thinking_config", "enable_affective_dialog",
        "translation_config", "response_logprobs", "logprobs", "stop_sequences",
        "response_mime_type", "response_schema", "response_json_schema",
    }
)
CLIENT_MESSAGE_KINDS = frozenset(
    {"setup", "client_content", "realtime_input", "tool_response", "context_update"}
)
REALTIME_INPUT_FIELDS = frozenset(
    {"audio", "video", "text", "audio_stream_end", "activity_start", "activity_end",
     "media_chunks"}
)

_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class ProtocolError(Exception):
    """A client frame the real service would answer by closing the socket."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code} {reason}")
        self.code = code
        self.reason = reason


def snake(name: str) -> str:
    """`voiceConfig` -> `voice_config` (snake_case stays as it is)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def camel(name: str) -> str:
    """`voice_config` -> `voiceConfig`."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def get(obj: Any, name: str, default: Any = None) -> Any:
    """Field `name` (given in snake_case) of a JSON object, in either spelling."""
    if not isinstance(obj, dict):
        return default
    if name in obj:
        return obj[name]
    return obj.get(camel(name), default)


def has(obj: Any, name: str) -> bool:
    return isinstance(obj, dict) and (name in obj or camel(name) in obj)


def unknown_fields(obj: dict[str, Any], known: frozenset[str]) -> list[str]:
    return [key for key in obj if snake(key) not in known]


def decode_b64(value: Any, where: str) -> bytes:
    """Decode standard or URL-safe base64, padded or not."""
    if not isinstance(value, str):
        raise ProtocolError(CLOSE_INVALID, f"Invalid value at '{where}' (TYPE_BYTES)")
    text = value.strip().replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError(
            CLOSE_INVALID, f"Invalid value at '{where}' (TYPE_BYTES), Base64 decoding failed"
        ) from None


def encode_b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def parse_frame(raw: str | bytes) -> tuple[str, Any]:
    """One client frame -> (kind in snake_case, its body)."""
    try:
        message = json.loads(raw)
    except (ValueError, RecursionError) as error:  # bad JSON, bad UTF-8, 4300+ digit numbers
        raise ProtocolError(
            CLOSE_INVALID, f"Invalid JSON payload received. {type(error).__name__}: {error}"
        ) from None
    if not isinstance(message, dict) or len(message) != 1:
        raise ProtocolError(
            CLOSE_INVALID, "Invalid JSON payload received. Expected exactly one message field."
        )
    (key, body), = message.items()
    kind = snake(key)
    if kind not in CLIENT_MESSAGE_KINDS:
        raise ProtocolError(
            CLOSE_INVALID, f'Invalid JSON payload received. Unknown name "{key}": Cannot find field.'
        )
    return kind, body


def api_key(request: Request | None) -> str | None:
    """The key the client sent: `x-goog-api-key`, `Authorization: Token ...` or `?key=`."""
    if request is None:
        return None
    key = request.headers.get("x-goog-api-key")
    if not key:
        auth = request.headers.get("authorization", "")
        if auth.startswith("Token "):
            key = auth.removeprefix("Token ").strip()
    if not key:
        key = (parse_qs(urlsplit(request.path).query).get("key") or [None])[0]
    return key or None


def model_name(setup: dict[str, Any]) -> str:
    """The model without its `models/` prefix."""
    model = get(setup, "model")
    if not isinstance(model, str) or not model:
        raise ProtocolError(CLOSE_INVALID, "Request contains an invalid argument: model is required")
    return model.removeprefix("models/")


def validate_setup(setup: Any, models: tuple[str, ...], version: str) -> None:
    """Refuse a setup the way the service does: 1007 for bad fields, 1008 for the model."""
    if not isinstance(setup, dict):
        raise ProtocolError(CLOSE_INVALID, "Invalid JSON payload received. 'setup' is not an object")
    for key in unknown_fields(setup, SETUP_FIELDS):
        raise ProtocolError(
            CLOSE_INVALID,
            f'Invalid JSON payload received. Unknown name "{key}" at \'setup\': Cannot find field.',
        )
    generation = get(setup, "generation_config") or {}
    for key in unknown_fields(generation, GENERATION_CONFIG_FIELDS):
        raise ProtocolError(
            CLOSE_INVALID,
            f'Invalid JSON payload received. Unknown name "{key}" at'
            " 'setup.generation_config': Cannot find field.",
        )
    model = model_name(setup)
    if model not in models:
        raise ProtocolError(
            CLOSE_POLICY,
            f"models/{model} is not found for API version {version}, or is not supported for"
            " bidiGenerateContent. Call ListModels to see the list of available models.",
        )
    refused = profiles.profile_for(model).refused_setup_field(model_fields(setup))
    if refused is not None:
        raise ProtocolError(
            CLOSE_INVALID,
            f"{refused} is not supported by models/{model}. Request contains an invalid argument.",
        )
    voice = voice_name(setup)
    if voice is not None and voice not in KNOWN_VOICES:
        raise ProtocolError(CLOSE_INVALID, f"Request contains an invalid argument. Voice {voice}"
                            " is not supported.")


def model_fields(setup: dict[str, Any]) -> dict[str, object]:
    """The setup fields whose support differs between models, by dotted name."""
    found: dict[str, object] = {}
    generation = get(setup, "generation_config") or {}
    for key in ("enable_affective_dialog", "thinking_config"):
        if has(generation, key):
            found[f"generation_config.{key}"] = get(generation, key)
    proactivity = get(setup, "proactivity") or {}
    if has(proactivity, "proactive_audio"):
        found["proactivity.proactive_audio"] = get(proactivity, "proactive_audio")
    for key in ("input_audio_transcription", "output_audio_transcription"):
        if has(get(setup, key) or {}, "custom_vocabulary"):
            found["transcription.custom_vocabulary"] = get(get(setup, key), "custom_vocabulary")
    return found


def uses_google_search(setup: dict[str, Any]) -> bool:
    """The setup declares the Google Search tool."""
    return any(has(tool, "google_search") for tool in get(setup, "tools") or [])


def voice_name(setup: dict[str, Any]) -> str | None:
    speech = get(get(setup, "generation_config") or {}, "speech_config") or {}
    prebuilt = get(get(speech, "voice_config") or {}, "prebuilt_voice_config") or {}
    name = get(prebuilt, "voice_name")
    return name if isinstance(name, str) else None


def check_audio_mime(mime: Any) -> int:
    """Sample rate of an accepted PCM MIME type; only 16-bit mono PCM is accepted."""
    if not isinstance(mime, str) or not mime.startswith("audio/pcm"):
        raise ProtocolError(CLOSE_INVALID, f"Unsupported audio MIME type: {mime!r}")
    match = re.search(r"rate=(\d+)", mime)
    return int(match.group(1)) if match else 16000


def check_image(data: bytes, mime: Any) -> str:
    """The image kind, after checking the bytes really are a JPEG or PNG."""
    if data.startswith(_JPEG_MAGIC):
        kind = "image/jpeg"
    elif data.startswith(_PNG_MAGIC):
        kind = "image/png"
    else:
        raise ProtocolError(CLOSE_INVALID, f"Unable to process input image ({mime}): not a JPEG"
                            " or PNG")
    return kind


def truncate_reason(reason: str) -> str:
    """Close reasons are cut at 123 bytes, like the service's."""
    data = reason.encode("utf-8")[:MAX_REASON_BYTES]
    return data.decode("utf-8", errors="ignore")


def duration(seconds: float) -> str:
    """protobuf Duration JSON: `50s`, `0.500s`."""
    return f"{int(seconds)}s" if float(seconds).is_integer() else f"{seconds:.3f}s"


def parse_duration(value: str | float) -> float:
    if isinstance(value, int | float):
        return float(value)
    return float(value.strip().removesuffix("s"))
