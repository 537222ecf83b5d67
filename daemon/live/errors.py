"""What a failed connection means, and so what the session does next.

The Live API reports everything as a WebSocket close code plus a free-text
reason (see docs/live-protocol.md, "Errors and closing"). The same code can be
fatal (a bad key) or harmless (a stale resumption handle), so the reason text
decides. Anything we cannot place is treated as transient: the reconnect loop
is bounded in time, so a wrong guess costs seconds, never a retry storm.
"""

from __future__ import annotations

import enum
import socket
import ssl
from dataclasses import dataclass

import websockets
from google.genai import errors as genai_errors

from daemon.core.redact import scrub


class Recovery(enum.Enum):
    """What to do after a connection ends."""

    RESUME = "resume"  # reconnect soon with the last resumption handle
    RESUME_SLOWLY = "resume_slowly"  # quota: reconnect, but back off longer
    FRESH = "fresh"  # the handle is no good: start a new session without it
    END = "end"  # this conversation is over with an error; the next one may work
    FATAL = "fatal"  # stop and tell the user


class SessionError(Exception):
    """The session could not be opened or kept open; trying again later may work."""

    def __init__(self, message: str, recovery: Recovery = Recovery.RESUME) -> None:
        super().__init__(message)
        self.message = message
        self.recovery = recovery


class FatalSessionError(SessionError):
    """The key, model or configuration is wrong: retrying cannot help."""

    def __init__(self, message: str) -> None:
        super().__init__(message, Recovery.FATAL)


@dataclass(frozen=True)
class Diagnosis:
    recovery: Recovery
    message: str  # human-readable, already scrubbed of secrets

    @property
    def fatal(self) -> bool:
        return self.recovery is Recovery.FATAL

    def error(self) -> SessionError:
        """The exception that reports this diagnosis to a caller."""
        if self.fatal:
            return FatalSessionError(self.message)
        return SessionError(self.message, self.recovery)


# Reason fragments (lower case) that mean the resumption handle is unusable.
_STALE_HANDLE = ("session not found", "invalid session handle", "handle")
# Reason fragments that mean the quota is used up.
_QUOTA = ("quota", "resource exhausted", "resource_exhausted", "rate limit", "too many requests")
# Close codes after which a reconnect may well work.
_TRANSIENT_CODES = {1000, 1001, 1006, 1011, 1012, 1013, 1014}


def diagnose_close(
    code: int | None, reason: str, *, mid_session: bool = False, resuming: bool = False
) -> Diagnosis:
    """Classify a WebSocket close (code and reason as the server sent them).

    mid_session: the close came after a setupComplete with this very key and
    setup, so a 1007/1008 says nothing about either: that conversation is over,
    but the next one may work (docs/live-protocol.md, "Errors and closing").
    resuming: the refused setup carried a resumption handle, and the same key
    and setup were accepted before, so a 1007/1008 that names neither the key
    nor the model is the handle being refused, whatever the reason says
    (gemini-3.8-live answers a stale handle with a bare 1007): start fresh.
    A fresh setup refused the same way is then judged on its own.
    """
    text = scrub(reason).strip()
    lowered = text.lower()
    described = f"server closed the connection ({code}{': ' + text if text else ''})"
    if any(fragment in lowered for fragment in _QUOTA):
        return Diagnosis(Recovery.RESUME_SLOWLY, described)
    if code in (1007, 1008):
        if any(fragment in lowered for fragment in _STALE_HANDLE):
            return Diagnosis(Recovery.FRESH, described)
        if mid_session:
            return Diagnosis(Recovery.END, described)
        hint = _hint(lowered)
        if resuming and not hint:
            return Diagnosis(Recovery.FRESH, described)
        return Diagnosis(Recovery.FATAL, described + hint)
    if code in _TRANSIENT_CODES or code is None:
        return Diagnosis(Recovery.RESUME, described)
    # 1002 protocol error, 1003, 1009 too big, 4xxx: unexpected, but a new
    # connection is the only thing worth trying.
    return Diagnosis(Recovery.RESUME, described)


def _hint(lowered_reason: str) -> str:
    """A pointer to the config key that most likely needs fixing."""
    if "api key" in lowered_reason or "credential" in lowered_reason or "auth" in lowered_reason:
        return " - check the API key (gemini.api_key_env / gemini.api_key_file)"
    if "model" in lowered_reason:
        return " - check gemini.model"
    if "voice" in lowered_reason:
        return " - check gemini.voice"
    return ""


def is_close_error(exc: BaseException) -> bool:
    """True for the SDK's report of a closed WebSocket (not an error frame)."""
    return (
        isinstance(exc, genai_errors.APIError)
        and isinstance(exc.code, int)
        and 1000 <= exc.code <= 4999
    )


def connection_ended(exc: BaseException) -> bool:
    """True when `exc`, raised while receiving, means the WebSocket is gone.

    The SDK reports a close as an APIError raised while handling websockets'
    ConnectionClosed (google/genai/live.py `_receive`); a frame that merely
    looks like an error report (`{"code": 1007}`) gives an APIError too, but the
    connection is still open and only that frame is bad.
    """
    if isinstance(exc, websockets.ConnectionClosed | OSError):
        return True
    return is_close_error(exc) and isinstance(exc.__context__, websockets.ConnectionClosed)


def diagnose(
    exc: BaseException, *, mid_session: bool = False, resuming: bool = False
) -> Diagnosis:
    """Classify any exception raised while connecting (or, mid_session, receiving);
    resuming: the connection was opened with a resumption handle."""
    if is_close_error(exc):
        assert isinstance(exc, genai_errors.APIError)
        details = exc.details if isinstance(exc.details, str) else str(exc.details or "")
        return diagnose_close(exc.code, details, mid_session=mid_session, resuming=resuming)
    if isinstance(exc, websockets.ConnectionClosed):
        received = exc.rcvd
        if received is None:
            return diagnose_close(1006, "connection dropped")
        return diagnose_close(
            received.code, received.reason, mid_session=mid_session, resuming=resuming
        )
    if isinstance(exc, websockets.InvalidStatus):
        status = exc.response.status_code
        text = f"the server refused the connection (HTTP {status})"
        if status in (401, 403):
            return Diagnosis(Recovery.FATAL, text + _hint("api key"))
        if status == 404:
            return Diagnosis(Recovery.FATAL, text + " - check gemini.base_url and gemini.model")
        if status == 429:
            return Diagnosis(Recovery.RESUME_SLOWLY, text)
        return Diagnosis(Recovery.RESUME, text)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return Diagnosis(
            Recovery.FATAL,
            f"TLS certificate not trusted ({scrub(getattr(exc, 'verify_message', None) or exc)})"
            " - check gemini.base_url and gemini.ca_file",
        )
    if isinstance(exc, websockets.InvalidURI):
        return Diagnosis(Recovery.FATAL, f"bad service URL - check gemini.base_url ({scrub(exc)})")
    if isinstance(exc, TimeoutError):
        return Diagnosis(Recovery.RESUME, "timed out waiting for the server")
    if isinstance(exc, socket.gaierror):
        return Diagnosis(Recovery.RESUME, f"cannot resolve the server's name ({scrub(exc)})")
    if isinstance(exc, OSError | websockets.InvalidHandshake | EOFError):
        return Diagnosis(Recovery.RESUME, f"network error: {scrub(exc) or type(exc).__name__}")
    return Diagnosis(Recovery.RESUME, f"{type(exc).__name__}: {scrub(exc)}")
