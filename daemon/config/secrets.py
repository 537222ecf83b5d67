"""Where the API key comes from. It is returned, never logged or echoed."""

from __future__ import annotations

import os

from daemon.config.schema import GeminiConfig


class ApiKeyError(Exception):
    """No usable key; the message says where we looked, never what a key was."""


def api_key_source(gemini: GeminiConfig) -> str:
    if gemini.api_key_file is not None:
        return f"file {gemini.api_key_file}"
    return f"environment variable {gemini.api_key_env}"


def resolve_api_key(gemini: GeminiConfig) -> str:
    """The key from api_key_file when set, else from the environment variable."""
    if gemini.api_key_file is not None:
        try:
            key = gemini.api_key_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ApiKeyError(
                f"cannot read the API key file {gemini.api_key_file}: {exc.strerror}"
            ) from None
        if not key:
            raise ApiKeyError(f"the API key file {gemini.api_key_file} is empty")
        return key
    key = os.environ.get(gemini.api_key_env, "").strip()
    if not key:
        raise ApiKeyError(
            f"no API key: set {gemini.api_key_env} (e.g. in /etc/speakerd/env) "
            "or gemini.api_key_file in the config"
        )
    return key
