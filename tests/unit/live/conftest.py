"""A LiveSession wired to the local emulator over real TLS, and an event recorder."""

from __future__ import annotations

import asyncio
import contextlib
import math
import struct
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from daemon.config.schema import Config
from daemon.emulator import LiveEmulator
from daemon.live import LiveSession, SessionStateChanged

API_KEY = "AIzaSyD-test-key-0123456789abcdefghijk"

RELAY_TOOL = {
    "name": "set_relay",
    "description": "Switch a named relay on or off.",
    "behavior": "BLOCKING",  # stated, as the daemon's registry does: the models' defaults differ
    "parameters": {
        "type": "OBJECT",
        "properties": {"name": {"type": "STRING"}, "on": {"type": "BOOLEAN"}},
        "required": ["name", "on"],
    },
}


def speech(seconds: float = 0.6, trailing_silence: float = 0.4) -> bytes:
    """A loud tone then silence: the emulator's activity detection hears one utterance."""
    voiced = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 16000)))
        for i in range(int(16000 * seconds))
    )
    return voiced + silence(trailing_silence)


def silence(seconds: float) -> bytes:
    return b"\x00\x00" * int(16000 * seconds)


async def send_in_chunks(session: LiveSession, pcm: bytes, chunk: int = 1280) -> None:
    for start in range(0, len(pcm), chunk):
        await session.send_audio(pcm[start : start + chunk])


class Recorder:
    """Collects a session's events so tests can wait for them in order."""

    def __init__(self, session: LiveSession) -> None:
        self.events: list[Any] = []
        self._changed = asyncio.Condition()
        self._task = asyncio.create_task(self._run(session))

    async def _run(self, session: LiveSession) -> None:
        async for event in session.events():
            async with self._changed:
                self.events.append(event)
                self._changed.notify_all()

    def mark(self) -> int:
        return len(self.events)

    def of(self, kind: type, after: int = 0) -> list[Any]:
        return [e for e in self.events[after:] if isinstance(e, kind)]

    async def wait_for(
        self,
        kind: type,
        *,
        after: int = 0,
        where: Callable[[Any], bool] = lambda _e: True,
        timeout: float = 10.0,
    ) -> Any:
        """The first event of kind (past index after) that satisfies where."""
        async with asyncio.timeout(timeout), self._changed:
            while True:
                for event in self.events[after:]:
                    if isinstance(event, kind) and where(event):
                        return event
                await self._changed.wait()

    async def wait_state(self, state: str, *, after: int = 0, timeout: float = 10.0) -> Any:
        return await self.wait_for(
            SessionStateChanged, after=after, where=lambda e: e.state == state, timeout=timeout
        )

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


def gemini_config(emu: LiveEmulator, **values: Any):
    section = {
        "base_url": emu.url,
        "ca_file": str(emu.ca_file),
        "silence_duration_ms": 200,
        **values,
    }
    return Config.model_validate({"gemini": section}).gemini


@pytest.fixture
async def emu() -> AsyncIterator[LiveEmulator]:
    async with LiveEmulator(api_key=API_KEY, speech="tone", speech_pace=0) as emulator:
        yield emulator


@pytest.fixture
async def open_session(emu: LiveEmulator):
    """Factory: a started LiveSession on the emulator, with a Recorder; closed at the end."""
    made: list[tuple[LiveSession, Recorder]] = []

    async def factory(**kwargs: Any) -> tuple[LiveSession, Recorder]:
        config = gemini_config(emu, **kwargs.pop("gemini", {}))
        kwargs.setdefault("reconnect_timeout_s", 5.0)
        session = LiveSession(config, kwargs.pop("api_key", API_KEY), **kwargs)
        recorder = Recorder(session)
        made.append((session, recorder))
        await session.start()
        return session, recorder

    yield factory
    for session, recorder in made:
        await session.close()
        await recorder.stop()
