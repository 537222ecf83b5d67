"""Turn the gemini: config section into what the SDK needs to connect.

Kept apart from the session so the setup a user's config produces can be
checked without a network (and so `speakerd check-config` could reuse it).
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pydantic
from google import genai
from google.genai import types

from daemon.config.schema import Config, GeminiConfig, model_name
from daemon.core.models import ModelProfile, profile_for
from daemon.live.errors import FatalSessionError

INPUT_AUDIO_MIME = "audio/pcm;rate=16000"
# A Wi-Fi that vanishes sends no FIN: only a missing pong reveals it. websockets'
# defaults (20 s + 20 s) would leave the user talking to nobody for 40 s.
# After a missed pong websockets still waits close_timeout for a close handshake
# that cannot come, so that is cut short too: ~12 s from silence to reconnect.
PING_INTERVAL_S = 5.0
PING_TIMEOUT_S = 5.0
CLOSE_TIMEOUT_S = 2.0


def function_declarations(tools: Sequence[Mapping[str, Any]]) -> list[types.FunctionDeclaration]:
    """Validate the tool registry's dicts; a bad one is named in the error."""
    declarations = []
    for index, tool in enumerate(tools):
        try:
            declarations.append(types.FunctionDeclaration.model_validate(dict(tool)))
        except pydantic.ValidationError as exc:
            name = tool.get("name", f"#{index}") if isinstance(tool, Mapping) else f"#{index}"
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise ValueError(
                f"tool declaration {name!r} is invalid at {where}: {first['msg']}"
            ) from None
    names = [d.name for d in declarations]
    duplicates = sorted({n for n in names if names.count(n) > 1 and n})
    if duplicates:
        raise ValueError(f"tool declarations repeat the name(s): {', '.join(duplicates)}")
    return declarations


@dataclass(frozen=True)
class SetupExtras:
    """What the setup needs from outside the gemini: section (decided at run time)."""

    vocabulary: tuple[str, ...] = ()
    """Added to gemini.vocabulary: the relay names and the wake word."""
    media_resolution: str | None = None
    """low/medium/high when the camera sends frames; None: not sent."""


NO_EXTRAS = SetupExtras()


def setup_extras(config: Config) -> SetupExtras:
    """The relay names and wake words (as spoken) help transcription; the camera's detail."""
    words = [relay.name.replace("_", " ") for relay in config.relays]
    words += [model_name(m).replace("_", " ") for m in config.wake_word.models]
    return SetupExtras(
        vocabulary=tuple(dict.fromkeys(w for w in words if w)),
        media_resolution=config.camera.media_resolution if config.camera.enabled else None,
    )


def vocabulary_for(config: GeminiConfig, extras: SetupExtras) -> list[str]:
    """The owner's words first, then the run-time ones; no duplicates, none empty."""
    return list(
        dict.fromkeys(w.strip() for w in (*config.vocabulary, *extras.vocabulary) if w.strip())
    )


def _transcription(
    config: GeminiConfig, profile: ModelProfile, vocabulary: list[str]
) -> types.AudioTranscriptionConfig | None:
    if not config.transcription:
        return None
    return types.AudioTranscriptionConfig(
        language_codes=[config.language] if config.language else None,
        custom_vocabulary=vocabulary if vocabulary and profile.custom_vocabulary else None,
    )


def asynchronous(
    declarations: Sequence[types.FunctionDeclaration],
) -> list[types.FunctionDeclaration]:
    """The declarations for a model whose function calls are all asynchronous
    (gemini-3.8-live-extended-thinking refuses `BLOCKING`): a tool that would block
    is declared NON_BLOCKING, and its result is said when the model is idle."""
    return [
        d.model_copy(update={"behavior": types.Behavior.NON_BLOCKING})
        if d.behavior == types.Behavior.BLOCKING
        else d
        for d in declarations
    ]


def system_instruction(config: GeminiConfig, note: str = "") -> types.Content | None:
    """The owner's instruction, then the run-time note (the household memory)."""
    text = "\n\n".join(part for part in (config.system_instruction.strip(), note.strip()) if part)
    return types.Content(role="user", parts=[types.Part(text=text)]) if text else None


def build_connect_config(
    config: GeminiConfig,
    declarations: Sequence[types.FunctionDeclaration] = (),
    *,
    resumption_handle: str | None = None,
    extras: SetupExtras = NO_EXTRAS,
    instruction_note: str = "",
) -> types.LiveConnectConfig:
    """The LiveConnectConfig for one connection (resuming when a handle is given).

    Only fields the model's profile accepts are sent (docs/live-protocol.md,
    "Model generations"); the config check has already refused the others.
    `instruction_note` is added to the system instruction (what the household asked
    the speaker to remember), so every connection's setup carries it.
    """
    profile = profile_for(config.model)
    vocabulary = vocabulary_for(config, extras)
    if not profile.blocking_tools:
        declarations = asynchronous(declarations)
    tools = [types.Tool(function_declarations=list(declarations))] if declarations else []
    if config.google_search and profile.google_search:
        tools.append(types.Tool(google_search=types.GoogleSearch()))
    return types.LiveConnectConfig(
        response_modalities=[types.Modality.AUDIO],
        speech_config=types.SpeechConfig(
            voice_config=types.VoiceConfig(
                prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name=config.voice)
            ),
            language_code=config.language,
        ),
        media_resolution=(
            f"MEDIA_RESOLUTION_{extras.media_resolution.upper()}"
            if extras.media_resolution
            else None
        ),
        proactivity=(
            types.ProactivityConfig(proactive_audio=config.proactive_audio)
            if config.proactive_audio is not None and profile.proactive_audio_optional
            else None
        ),
        enable_affective_dialog=(
            True if config.affective_dialog and profile.affective_dialog else None
        ),
        thinking_config=_thinking(config, profile),
        system_instruction=system_instruction(config, instruction_note),
        tools=tools or None,
        input_audio_transcription=_transcription(config, profile, vocabulary),
        output_audio_transcription=_transcription(config, profile, []),
        realtime_input_config=types.RealtimeInputConfig(
            automatic_activity_detection=types.AutomaticActivityDetection(
                disabled=False, silence_duration_ms=config.silence_duration_ms
            ),
            activity_handling=types.ActivityHandling.START_OF_ACTIVITY_INTERRUPTS,
        ),
        context_window_compression=(
            types.ContextWindowCompressionConfig(
                trigger_tokens=config.compression.trigger_tokens,
                sliding_window=types.SlidingWindow(target_tokens=config.compression.target_tokens),
            )
            if config.compression.enabled
            else None
        ),
        # An empty SessionResumptionConfig asks for handles on a fresh session.
        session_resumption=(
            types.SessionResumptionConfig(handle=resumption_handle)
            if config.session_resumption
            else None
        ),
    )


def _thinking(config: GeminiConfig, profile: ModelProfile) -> types.ThinkingConfig | None:
    """A thinking budget (2.5) or level (3.8 extended thinking), as the model takes it."""
    if config.thinking_budget is not None and profile.thinking_config:
        return types.ThinkingConfig(thinking_budget=config.thinking_budget)
    if config.thinking_level is not None and profile.thinking_level:
        return types.ThinkingConfig(thinking_level=types.ThinkingLevel(config.thinking_level.upper()))
    return None


def ssl_context_for(config: GeminiConfig) -> ssl.SSLContext:
    """System CAs, plus config.ca_file when set (the emulator's or a proxy's CA)."""
    context = ssl.create_default_context()
    if config.ca_file is not None:
        try:
            context.load_verify_locations(cafile=str(config.ca_file))
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise FatalSessionError(
                f"gemini.ca_file {str(config.ca_file)!r} is not a readable PEM certificate: {reason}"
            ) from None
    return context


def make_client(
    config: GeminiConfig,
    api_key: str,
    ssl_context: ssl.SSLContext | None = None,
    *,
    ping_interval_s: float = PING_INTERVAL_S,
    ping_timeout_s: float = PING_TIMEOUT_S,
    close_timeout_s: float = CLOSE_TIMEOUT_S,
) -> genai.Client:
    """A genai.Client for the configured service (Google when base_url is unset)."""
    if not api_key or not api_key.strip():
        raise FatalSessionError(
            f"no Gemini API key (set ${config.api_key_env} or gemini.api_key_file)"
        )
    context = ssl_context if ssl_context is not None else ssl_context_for(config)
    return genai.Client(
        api_key=api_key.strip(),
        http_options=types.HttpOptions(
            base_url=config.base_url,
            # The SDK hands ws_connect only the keys it accepts, httpx only its own.
            async_client_args={
                "ssl": context,
                "ping_interval": ping_interval_s,
                "ping_timeout": ping_timeout_s,
                "close_timeout": close_timeout_s,
            },
        ),
    )
