"""The Live wire vocabulary the emulator speaks: close codes and reasons, field
lookups in either spelling, base64, the API key, what a setup may ask for.

The SDK mixes camelCase and snake_case keys (even in one frame) and sends
URL-safe base64, so every lookup here accepts both spellings and both base64
alphabets. The shape of a client frame is checked before any of this reads it
(`client_frames.py`). Anything the real service would refuse becomes a
`ProtocolError` carrying the close code and reason the real service uses.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.http11 import Request

from daemon.core import models as profiles

CLOSE_NORMAL = 1000
CLOSE_INVALID = 1007
CLOSE_POLICY = 1008
CLOSE_INTERNAL = 1011
MAX_REASON_BYTES = 123
MAX_AUDIO_RATE = 192_000

API_KEY_INVALID = "API key not valid. Please pass a valid API key."
NO_CREDENTIALS = (
    "Method doesn't allow unregistered callers (callers without established identity)."
    " Please use API Key or other form of API consumer identity to call this API."
)
SESSION_NOT_FOUND = "session not found"
INVALID_ARGUMENT = "Request contains an invalid argument."
DEADLINE_EXPIRED = "Deadline expired before operation could complete."

#: Live-capable model names the emulator answers for (without the "models/" prefix);
#: what each accepts comes from its profile (daemon/core/models.py).
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
        key = (parse_qs(urlsplit(request.path).query).get("key") or [""])[0]
    return key or None


def model_name(setup: dict[str, Any]) -> str:
    """The model without its `models/` prefix."""
    model = get(setup, "model")
    if not isinstance(model, str) or not model:
        raise ProtocolError(CLOSE_INVALID, "Request contains an invalid argument: model is required")
    return model.removeprefix("models/")


def validate_setup(setup: dict[str, Any], models: tuple[str, ...], version: str) -> None:
    """Refuse a setup (its shape already checked by `client_frames`) the way the
    service does: 1008 for the model, 1007 for a setting the model refuses."""
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
    for tool in get(setup, "tools") or []:
        for key in ("code_execution", "url_context"):
            if has(tool, key):
                found[f"tools.{key}"] = get(tool, key)
        for declaration in get(tool, "function_declarations") or []:
            if str(get(declaration, "behavior") or "").upper() == "BLOCKING":
                found["tools.behavior"] = "BLOCKING"
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
        raise ProtocolError(CLOSE_INVALID, f"Unsupported audio MIME type: {str(mime)[:40]!r}")
    match = re.search(r"rate=(\d+)", mime)
    if match is None:
        return 16000
    digits = match.group(1)
    if len(digits) > 6 or not 1 <= int(digits) <= MAX_AUDIO_RATE:
        raise ProtocolError(CLOSE_INVALID, f"Unsupported audio MIME type: {mime[:40]!r} (rate)")
    return int(digits)


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
