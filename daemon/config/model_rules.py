"""Settings the chosen Live model refuses, found at check-config time.

The service answers a setup field its model refuses with a 1007 close at the
first wake; an owner should read about it from `speakerd check-config`
instead, with the file, line and key. What each model refuses comes from its
profile (daemon/core/models.py; docs/live-protocol.md, "Model generations").
"""

from __future__ import annotations

from daemon.config.schema import Config
from daemon.core.models import bare_name, is_known, profile_for

Loc = tuple[str | int, ...]


def model_problems(config: Config) -> list[tuple[Loc, str]]:
    """(key path, message) for every gemini setting the configured model refuses."""
    gemini = config.gemini
    profile = profile_for(gemini.model)
    model = bare_name(gemini.model)
    found: list[tuple[Loc, str]] = []

    def refuse(key: str, why: str) -> None:
        found.append((("gemini", key), f"{model} (Live {profile.generation}) {why}"))

    if gemini.affective_dialog and not profile.affective_dialog:
        refuse("affective_dialog", "does not support affective dialog; remove the key")
    if gemini.proactive_audio is False and not profile.proactive_audio_optional:
        refuse("proactive_audio", "always uses proactive audio; false is refused (remove the key)")
    if gemini.thinking_budget is not None and not profile.thinking_config:
        refuse(
            "thinking_budget", "takes no thinking settings (it reasons on its own); remove the key"
        )
    if gemini.thinking_level is not None and not profile.thinking_level:
        refuse(
            "thinking_level",
            "takes no thinking level (gemini-3.8-live-extended-thinking does); remove the key",
        )
    if not profile.blocking_tools:
        for index, tool in enumerate(config.tools):
            if tool.result == "blocking":
                found.append((
                    ("tools", index, "result"),
                    f"{model} (Live {profile.generation}) makes every function call"
                    " asynchronous: `blocking` is refused; use when_idle or interrupt",
                ))  # fmt: skip
    if gemini.vocabulary and not profile.custom_vocabulary:
        refuse(
            "vocabulary", "takes no transcription vocabulary (gemini-3.8-live does); remove the key"
        )
    return found


def model_warnings(config: Config) -> list[str]:
    """Things worth saying that do not stop the daemon (an unknown model name)."""
    if is_known(config.gemini.model):
        return []
    profile = profile_for(config.gemini.model)
    return [
        f"gemini.model: {bare_name(config.gemini.model)!r} is not a model speakerd knows; "
        f"treating it as Live {profile.generation} ({profile.models[0]})"
    ]
