"""What each Live model accepts and how it behaves: the one place that knows.

The config check (which settings a model refuses), the session setup (which
fields to send, how tools block) and the emulator (which setups to refuse)
all read these profiles, so they cannot disagree. The differences are those
of docs/live-protocol.md, "Model generations".

This module imports nothing from the SDK or the rest of the daemon: the
config loader reads it at check-config time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

DEFAULT_MODEL = "gemini-3.8-live"
EXTENDED_THINKING_MODEL = "gemini-3.8-live-extended-thinking"
THINKING_LEVELS = ("low", "medium", "high")
PREVIEW_MODEL = "gemini-2.5-flash-native-audio-preview-12-2025"


@dataclass(frozen=True)
class ModelProfile:
    """One generation of Live models, as a client must treat it."""

    generation: str
    """"3.8" or "2.5": shown in messages and the status."""
    models: tuple[str, ...]
    """Model names (without "models/") that behave this way."""
    tools_block_by_default: bool
    """A declaration without `behavior` blocks (2.5) or not (3.8)."""
    response_scheduling: bool
    """Tool responses of NON_BLOCKING functions may carry `scheduling`."""
    proactive_audio_optional: bool
    """`proactivity.proactive_audio` may be sent; False: always on, sending false is an error."""
    affective_dialog: bool
    """`enable_affective_dialog` is accepted."""
    thinking_config: bool
    """`thinking_config` is accepted in the setup."""
    custom_vocabulary: bool
    """Transcription configs take `custom_vocabulary`."""
    every_frame_counts: bool
    """Turn coverage includes all video sent (3.8): send frames only when needed."""
    google_search: bool = True
    """`{"googleSearch": {}}` grounding is available."""
    thinking_level: bool = False
    """`thinking_config.thinking_level` (low, medium, high) is accepted in the setup."""
    blocking_tools: bool = True
    """A declaration may say `behavior: BLOCKING`; False: every function call is
    asynchronous, and BLOCKING is refused."""
    interaction_status: bool = False
    """The server reports `interactionStatus` (IN_PROGRESS while it works on a request
    in the background, IDLE once done): a turnComplete alone does not end the request."""
    code_execution: bool = False
    """The `codeExecution` tool is accepted."""
    url_context: bool = False
    """The `urlContext` tool is accepted."""

    def refused_setup_field(self, setup_fields: dict[str, object]) -> str | None:
        """The first setup field (dotted wire name) this model refuses, or None.

        `setup_fields` maps the dotted names below to the values a setup carries;
        absent fields are absent keys.
        """
        if (
            not self.affective_dialog
            and "generation_config.enable_affective_dialog" in setup_fields
        ):
            return "generation_config.enable_affective_dialog"
        thinking = setup_fields.get("generation_config.thinking_config")
        if "generation_config.thinking_config" in setup_fields:
            if not self.thinking_config and not self.thinking_level:
                return "generation_config.thinking_config"
            fields = thinking if isinstance(thinking, dict) else {}
            if not self.thinking_config and set(fields) - {"thinking_level", "thinkingLevel"}:
                return "generation_config.thinking_config.thinking_budget"
            if not self.thinking_level and {"thinking_level", "thinkingLevel"} & set(fields):
                return "generation_config.thinking_config.thinking_level"
        if not self.blocking_tools and setup_fields.get("tools.behavior") == "BLOCKING":
            return "tools.function_declarations.behavior"
        if not self.code_execution and "tools.code_execution" in setup_fields:
            return "tools.code_execution"
        if not self.url_context and "tools.url_context" in setup_fields:
            return "tools.url_context"
        if (
            not self.proactive_audio_optional
            and setup_fields.get("proactivity.proactive_audio") is False
        ):
            return "proactivity.proactive_audio"
        if not self.custom_vocabulary and "transcription.custom_vocabulary" in setup_fields:
            return "transcription.custom_vocabulary"
        return None


LIVE_3_8 = ModelProfile(
    generation="3.8",
    models=(DEFAULT_MODEL,),
    tools_block_by_default=False,
    response_scheduling=True,
    proactive_audio_optional=False,
    affective_dialog=False,
    thinking_config=False,
    custom_vocabulary=True,
    every_frame_counts=True,
)

LIVE_3_8_EXTENDED_THINKING = replace(
    LIVE_3_8,
    generation="3.8 extended thinking",
    models=(EXTENDED_THINKING_MODEL,),
    thinking_level=True,
    blocking_tools=False,
    interaction_status=True,
)

NATIVE_AUDIO_2_5 = ModelProfile(
    generation="2.5",
    models=(
        PREVIEW_MODEL,
        "gemini-2.5-flash-native-audio-preview-09-2025",
        "gemini-2.5-flash-native-audio-latest",
        "gemini-2.5-flash-preview-native-audio-dialog",
        "gemini-2.5-flash-exp-native-audio-thinking-dialog",
        "gemini-live-2.5-flash-preview",
        "gemini-live-2.5-flash-preview-native-audio",
        "gemini-live-2.5-flash-preview-native-audio-09-2025",
        "gemini-2.5-flash-live-preview",
        "gemini-2.0-flash-live-001",
        "gemini-2.0-flash-live-preview-04-09",
        "gemini-2.0-flash-exp",
    ),
    tools_block_by_default=True,
    response_scheduling=True,
    proactive_audio_optional=True,
    affective_dialog=True,
    thinking_config=True,
    custom_vocabulary=False,
    every_frame_counts=False,
)

PROFILES: tuple[ModelProfile, ...] = (LIVE_3_8, LIVE_3_8_EXTENDED_THINKING, NATIVE_AUDIO_2_5)
"""Newest first: an unknown model is treated as the newest generation."""

KNOWN_MODELS: tuple[str, ...] = tuple(name for profile in PROFILES for name in profile.models)


def bare_name(model: str) -> str:
    return model.strip().removeprefix("models/")


def is_known(model: str) -> bool:
    return bare_name(model) in KNOWN_MODELS


def profile_for(model: str) -> ModelProfile:
    """The profile of a model name; an unknown name gets the newest profile."""
    name = bare_name(model)
    for profile in PROFILES:
        if name in profile.models:
            return profile
    return PROFILES[0]
