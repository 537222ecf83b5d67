"""gpiozero MockFactory pins: the real gpiozero devices over simulated pins."""

from __future__ import annotations

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin


@pytest.fixture
def pwm_pins():
    """Mock pins with PWM, like lgpio's software PWM on a Pi."""
    factory = MockFactory(pin_class=MockPWMPin)
    yield factory
    factory.close()
