"""The hypothesis settings every property-based (fuzz) test uses.

CI runs the `ci` profile: a fixed seed (derandomize) and a few dozen examples,
so each fuzz test takes seconds and fails the same way on every machine. A
longer campaign on a workstation:

    SPEAKERD_FUZZ=campaign .venv/bin/pytest tests/unit -k fuzz
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=40,
    deadline=None,  # timing belongs to scripts/bench, not to assertions
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "campaign",
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

fuzz = settings.get_profile(os.environ.get("SPEAKERD_FUZZ", "ci"))
"""Decorate a @given test with this to run it under the chosen profile."""
