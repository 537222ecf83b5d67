"""The key stays out of logs and replies even when a hostile server echoes it back mangled."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from daemon.core.redact import (
    PARTIAL,
    REDACTED,
    forget_secret,
    register_secret,
    scrub,
    scrub_free_text,
)
from daemon.logs import OneLineFormatter

KEY = "AIzaSyD-0123456789_abcdefghijklmnopqrst"  # the shape of a real key: 39 characters


@pytest.fixture
def key() -> Iterator[str]:
    register_secret(KEY)
    yield KEY
    forget_secret(KEY)


@pytest.mark.parametrize(
    "echo",
    [
        f"invalid key {KEY[:12]}...",  # cut short
        f"invalid key ...{KEY[-10:]}",  # only the end
        f"key part {KEY[10:22]} seen",  # the middle
        "key=" + KEY.replace("-", "%2D").replace("_", "%5F"),  # URL-encoded
        "key=" + "".join(f"%{ord(c):02x}" for c in KEY),  # every character, lower-case hex
        f"x{KEY}y",  # glued to other text
    ],
    ids=["prefix", "suffix", "middle", "url-encoded", "all percent-encoded", "glued"],
)
def test_partial_and_encoded_echoes_are_redacted(key: str, echo: str) -> None:
    cleaned = scrub(echo)
    assert REDACTED in cleaned
    for i in range(len(key) - PARTIAL + 1):
        assert key[i : i + PARTIAL] not in cleaned, cleaned
    assert "%2D" not in cleaned and "%5F" not in cleaned
    assert scrub_free_text(echo) == cleaned


def test_ordinary_text_is_left_alone(key: str) -> None:
    text = "The lamp is on. It is 21 degrees in the living room; 100% done, %20 stays."
    assert scrub(text) == text
    assert (
        scrub(f"{key[: PARTIAL - 1]} is too short to tell")
        == f"{key[: PARTIAL - 1]} is too short to tell"
    )


def test_a_short_test_key_is_not_hunted_through_free_text() -> None:
    register_secret("k")
    try:
        assert scrub_free_text("speaking about kettles") == "speaking about kettles"
        assert scrub("header k") == f"header {REDACTED}"  # library and error text still scrubbed
    finally:
        forget_secret("k")


def test_every_log_line_is_scrubbed_transcripts_included(key: str) -> None:
    """Our own loggers too: the timeline logs what the model said, and the model may say the key."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(OneLineFormatter("%(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        register_secret(key)  # attaches to the handlers present now
        timeline = logging.getLogger("speakerd.timeline")
        timeline.setLevel(logging.INFO)
        timeline.info("model said: your key is %s", key[:20] + "...")
        logging.getLogger("daemon.live.session").warning(
            "closed: %s", "API key not valid: " + key.replace("-", "%2D")
        )
    finally:
        forget_secret(key)
        root.removeHandler(handler)
    logged = out.getvalue()
    assert logged.count(REDACTED) == 2, logged
    assert key[:PARTIAL] not in logged and key[-PARTIAL:] not in logged


def test_forged_log_lines_are_impossible() -> None:
    """`ctl say` text and transcripts may hold newlines and escape codes."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(OneLineFormatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("speakerd.timeline.test")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("user (typed): %s", "hi\nERROR daemon: forged\x00\x1b[2J\u202e")
    finally:
        logger.removeHandler(handler)
    (line,) = out.getvalue().splitlines()
    assert line == (
        "WARNING speakerd.timeline.test: user (typed): hi\\nERROR daemon: forged\\x00\\x1b[2J\\u202e"
    )
