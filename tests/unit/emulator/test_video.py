"""Camera frames: checked for JPEG/PNG, counted, and the too-fast ones recorded."""

from __future__ import annotations

import asyncio
import json

from google.genai import types

from daemon.emulator import LiveEmulator

from .helpers import close_code_after, connect, raw_connect, raw_recv

JPEG = b"\xff\xd8\xff\xe0" + bytes(64) + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)


async def test_frames_faster_than_one_per_second_are_recorded_not_refused(
    emu: LiveEmulator,
) -> None:
    async with connect(emu) as session:
        for _ in range(3):
            await session.send_realtime_input(video=types.Blob(data=JPEG, mime_type="image/jpeg"))
        await asyncio.sleep(1.05)
        await session.send_realtime_input(video=types.Blob(data=PNG, mime_type="image/png"))
        await emu.wait_for(lambda: len(emu.sessions[0].frames) == 4, what="4 frames")
    record = await emu.wait_closed()
    assert [f.mime_type for f in record.frames] == ["image/jpeg"] * 3 + ["image/png"]
    assert [f.too_fast for f in record.frames] == [False, True, True, False]
    assert len(record.too_fast_frames) == 2
    assert record.close_code == 1000  # still served until the client left


async def test_a_frame_that_is_not_an_image_closes_1007(emu: LiveEmulator) -> None:
    ws = await raw_connect(emu)
    await ws.send(json.dumps({"setup": {"model": "gemini-2.0-flash-live-001"}}))
    await raw_recv(ws)
    await ws.send(json.dumps({"realtimeInput": {"video": {
        "mimeType": "image/jpeg", "data": "aGVsbG8="}}}))  # b"hello"
    code, reason = await close_code_after(ws)
    assert code == 1007
    assert "not a JPEG or PNG" in reason
