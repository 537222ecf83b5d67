"""A real emulator per test (tone voice, fast pace unless a test needs real time)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from daemon.emulator import LiveEmulator

from .helpers import FAST


@pytest.fixture
async def emu() -> AsyncIterator[LiveEmulator]:
    async with LiveEmulator(speech="tone", speech_pace=FAST) as emulator:
        yield emulator
