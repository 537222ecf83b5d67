"""What one client can cost the emulator is bounded: time before its setup,
audio kept per session, and no task left half-made when a session ends early."""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import warnings

import numpy as np

from daemon.emulator import LiveEmulator

from .helpers import (
    DEFAULT_MODEL,
    close_code_after,
    raw_connect,
    raw_recv,
)

SETUP_TEXT = json.dumps({"setup": {"model": f"models/{DEFAULT_MODEL}"}})
AUDIO = "audio/pcm;rate=16000"


async def _served(emu: LiveEmulator) -> None:
    ws = await raw_connect(emu)
    await ws.send(SETUP_TEXT)
    assert json.loads(await raw_recv(ws)) == {"setupComplete": {}}
    await ws.close()


async def test_client_that_never_sends_setup_is_closed(emu: LiveEmulator) -> None:
    emu.setup_timeout = 0.3
    ws = await raw_connect(emu)
    code, reason = await close_code_after(ws)
    assert code == 1008 and "No setup message received within 0.3 s" in reason
    assert emu.sessions[0].closed_by == "server"
    await _served(emu)


async def test_a_slow_setup_within_the_time_out_is_served(emu: LiveEmulator) -> None:
    emu.setup_timeout = 2.0
    ws = await raw_connect(emu)
    await asyncio.sleep(0.5)
    await ws.send(SETUP_TEXT)
    assert json.loads(await raw_recv(ws)) == {"setupComplete": {}}
    await ws.close()


async def test_a_session_keeps_only_its_newest_audio(emu: LiveEmulator) -> None:
    """A 2 s stream with a 0.5 s cap: the record keeps the last 0.5 s, counts all 2 s."""
    emu.kept_audio_seconds = 0.5
    # Quiet (below the activity threshold) and different in every sample, so the
    # kept bytes show which part of the stream they are.
    pcm = (np.arange(32000) % 200).astype("<i2").tobytes()
    ws = await raw_connect(emu)
    await ws.send(SETUP_TEXT)
    await raw_recv(ws)
    step = 1280  # 40 ms
    for start in range(0, len(pcm), step):
        chunk = base64.b64encode(pcm[start:start + step]).decode()
        await ws.send(json.dumps({"realtimeInput": {"audio": {"data": chunk, "mimeType": AUDIO}}}))
    await ws.close()
    record = await emu.wait_closed()
    assert record.audio_bytes_received == len(pcm) and record.audio_seconds == 2.0
    assert bytes(record.audio) == pcm[-16000:]


async def test_a_session_ended_before_its_tasks_ran_leaves_no_unawaited_coroutine(
    emu: LiveEmulator,
) -> None:
    """A drop armed for right after setupComplete ends the session before its
    answering and lifetime tasks ever run; their coroutines are closed, not leaked."""
    emu.connection_lifetime = 30.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            emu.drop_connection("now")
            ws = await raw_connect(emu)
            await ws.send(SETUP_TEXT)
            assert json.loads(await raw_recv(ws)) == {"setupComplete": {}}
            await emu.wait_closed()
            gc.collect()
    assert [s.closed_by for s in emu.sessions] == ["drop"] * 3
    assert not [w for w in caught if "never awaited" in str(w.message)]
