"""Each close the Live API can send maps to the reaction docs/live-protocol.md asks for."""

import logging

import pytest
import websockets
from google.genai import errors as genai_errors

from daemon.core.redact import forget_secret, register_secret, scrub
from daemon.live.errors import Recovery, diagnose, diagnose_close, is_close_error


@pytest.mark.parametrize(
    ("code", "reason", "recovery"),
    [
        (1007, "API key not valid. Please pass a valid API key.", Recovery.FATAL),
        (1007, "Request contains an invalid argument.", Recovery.FATAL),
        (1007, "setup must be the first message", Recovery.FATAL),
        (1007, "Invalid session handle", Recovery.FRESH),
        (1008, "models/gemini-nope is not found for API version v1beta", Recovery.FATAL),
        (1008, "Method doesn't allow unregistered callers", Recovery.FATAL),
        (1008, "session not found", Recovery.FRESH),
        (1011, "Internal error encountered.", Recovery.RESUME),
        (1011, "The service is currently unavailable.", Recovery.RESUME),
        (1011, "You exceeded your current quota", Recovery.RESUME_SLOWLY),
        (1000, "", Recovery.RESUME),
        (1006, "Abnormal closure.", Recovery.RESUME),
    ],
)
def test_close_codes(code, reason, recovery):
    assert diagnose_close(code, reason).recovery is recovery


def test_fatal_messages_point_at_the_setting_to_fix():
    assert "api_key" in diagnose_close(1007, "API key not valid").message
    assert "gemini.model" in diagnose_close(1008, "model not found").message


def test_sdk_close_errors_are_recognised_and_error_frames_are_not():
    closed = genai_errors.APIError(1011, "Internal error encountered.")
    assert is_close_error(closed)
    assert diagnose(closed).recovery is Recovery.RESUME
    frame = genai_errors.APIError(None, {"code": None, "weird": 1})
    assert not is_close_error(frame)


def test_connection_problems_are_transient_but_bad_tls_is_fatal():
    import ssl

    assert diagnose(ConnectionRefusedError(111, "refused")).recovery is Recovery.RESUME
    assert diagnose(TimeoutError()).recovery is Recovery.RESUME
    cert = ssl.SSLCertVerificationError(1, "certificate verify failed")
    assert diagnose(cert).recovery is Recovery.FATAL
    assert diagnose(websockets.InvalidURI("x", "bad")).recovery is Recovery.FATAL


def test_the_key_is_scrubbed_from_messages_and_library_logs(caplog):
    key = "AIzaSyTESTKEY-should-never-show"
    register_secret(key)
    try:
        assert key not in diagnose_close(1007, f"API key not valid: {key}").message
        assert key not in scrub(f"header x-goog-api-key: {key}")
        caplog.set_level(logging.DEBUG, logger="websockets.client")
        logging.getLogger("websockets.client").debug("> %s: %s", "x-goog-api-key", key)
        assert caplog.records
        assert all(key not in r.getMessage() for r in caplog.records)
    finally:
        forget_secret(key)
    assert scrub(key) == key  # forgotten once its last user is done


@pytest.mark.parametrize(
    ("code", "reason", "recovery"),
    [
        (1007, "Request contains an invalid argument.", Recovery.FRESH),  # 3.8's refused handle
        (1008, "Policy violation.", Recovery.FRESH),
        (1007, "API key not valid. Please pass a valid API key.", Recovery.FATAL),
        (1008, "models/x is not found for API version v1", Recovery.FATAL),
        (1011, "Deadline expired before operation could complete.", Recovery.RESUME),
    ],
)
def test_a_resuming_setup_refused_without_naming_key_or_model_starts_fresh(
    code, reason, recovery
):
    """docs/live-protocol.md, "Carrying a conversation over"."""
    assert diagnose_close(code, reason, resuming=True).recovery is recovery
    if recovery is Recovery.FRESH:  # the same refusal of a fresh setup stays fatal
        assert diagnose_close(code, reason).recovery is Recovery.FATAL
