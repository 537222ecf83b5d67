"""Fixtures shared by the unit tests."""

from __future__ import annotations

import pytest
from gpiozero.pins.mock import MockFactory

from hardware.audio.echo_canceller import stop_library


@pytest.fixture
def pins():
    """Plain gpiozero mock pins (on/off only, like a pin factory without PWM)."""
    factory = MockFactory()
    yield factory
    factory.close()


def pytest_unconfigure(config: pytest.Config) -> None:
    """The echo canceller's library, stopped before the interpreter (see stop_library)."""
    stop_library()
