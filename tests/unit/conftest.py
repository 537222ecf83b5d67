"""Fixtures shared by the unit tests."""

from __future__ import annotations

import pytest
from gpiozero.pins.mock import MockFactory


@pytest.fixture
def pins():
    """Plain gpiozero mock pins (on/off only, like a pin factory without PWM)."""
    factory = MockFactory()
    yield factory
    factory.close()
