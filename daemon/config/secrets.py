"""Where the API key comes from. It is returned, never logged or echoed."""

from __future__ import annotations

import os
from pathlib import Path

from daemon.config.reading import ReadError, decode_utf8, read_small_file
from daemon.config.schema import GeminiConfig

MAX_KEY_FILE = 4096  # a key is 39 characters; anything bigger is the wrong file


class ApiKeyError(Exception):
    """No usable key; the message says where we looked, never what a key was."""

    def __init__(self, message: str, unreadable: ReadError | None = None) -> None:
        super().__init__(message)
        self.permission_denied = unreadable is not None and "permission denied" in str(unreadable)


def api_key_source(gemini: GeminiConfig) -> str:
    if gemini.api_key_file is not None:
        return f"file {gemini.api_key_file}"
    return f"environment variable {gemini.api_key_env}"


def resolve_api_key(gemini: GeminiConfig) -> str:
    """The key from api_key_file when set, else from the environment variable."""
    if gemini.api_key_file is not None:
        return read_key_file(gemini.api_key_file)
    key = os.environ.get(gemini.api_key_env, "").strip()
    if not key:
        raise ApiKeyError(
            f"no API key: set {gemini.api_key_env} (e.g. in /etc/speakerd/env) "
            "or gemini.api_key_file in the config"
        )
    return _usable(key, f"the environment variable {gemini.api_key_env}")


def read_key_file(path: Path) -> str:
    """The key in `path`: a small regular file of UTF-8 text holding one word."""
    try:
        key = decode_utf8(read_small_file(path, MAX_KEY_FILE, "key file")).strip()
    except ReadError as exc:
        # exc.message never quotes the file's content.
        what = "does not exist" if exc.missing else exc.message
        raise ApiKeyError(f"the API key file {path} {what}", unreadable=exc) from None
    if not key:
        raise ApiKeyError(f"the API key file {path} is empty")
    return _usable(key, f"the API key file {path}")


def _usable(key: str, where: str) -> str:
    """A key goes into an HTTP header: printable ASCII, no spaces (it is never quoted)."""
    if not all("!" <= c <= "~" for c in key):
        raise ApiKeyError(
            f"{where} holds more than one word or characters an API key never has "
            "(spaces, control characters or non-ASCII); it should hold only the key"
        )
    return key
