"""Fixtures shared by the unit tests."""

from __future__ import annotations

import sys

import pytest
from gpiozero.pins.mock import MockFactory


@pytest.fixture
def pins():
    """Plain gpiozero mock pins (on/off only, like a pin factory without PWM)."""
    factory = MockFactory()
    yield factory
    factory.close()


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop livekit's runtime (the echo canceller's library) while the interpreter is
    whole. Left to its own atexit handler, a worker thread of it once called back into
    a Python already shutting down after all tests had passed on 3.13, and aborted."""
    ffi = sys.modules.get("livekit.rtc._ffi_client")
    client = getattr(getattr(ffi, "FfiClient", None), "_instance", None)
    if client is not None:
        client._dispose()
