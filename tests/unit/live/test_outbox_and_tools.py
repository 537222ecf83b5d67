"""Input held during a reconnect, and tool calls that always get an answer."""

import asyncio
import contextlib

from daemon.live.outbox import BYTES_PER_SECOND, Outbox, Outgoing
from daemon.live.tool_calls import run_tool


def drain(outbox: Outbox) -> list[Outgoing]:
    items = []
    while (item := outbox.peek()) is not None:
        items.append(item)
        outbox.pop()
    return items


def test_outbox_keeps_order_and_every_audio_byte():
    outbox = Outbox()
    for i in range(50):
        outbox.put(Outgoing("audio", bytes([i]) * 1280, "audio/pcm;rate=16000"))
    outbox.put(Outgoing("text", "hello"))
    outbox.put(Outgoing("audio", b"\x01\x02", "audio/pcm;rate=16000"))
    items = drain(outbox)
    audio = b"".join(i.data for i in items if i.kind == "audio")
    assert audio == b"".join(bytes([i]) * 1280 for i in range(50)) + b"\x01\x02"
    assert [i.kind for i in items][-2:] == ["text", "audio"]
    assert outbox.audio_bytes == 0


def test_outbox_keeps_only_the_newest_frame():
    outbox = Outbox()
    outbox.put(Outgoing("frame", b"old", "image/jpeg"))
    outbox.put(Outgoing("frame", b"new", "image/jpeg"))
    assert [i.data for i in drain(outbox)] == [b"new"]


def test_outbox_drops_the_oldest_audio_past_its_limit():
    outbox = Outbox(max_audio_seconds=1.0)
    outbox.put(Outgoing("audio", b"\x00" * BYTES_PER_SECOND, ""))
    outbox.put(Outgoing("audio", b"\x01" * 1000, ""))
    audio = b"".join(i.data for i in drain(outbox))
    assert len(audio) == BYTES_PER_SECOND
    assert audio.endswith(b"\x01" * 1000)
    assert outbox.dropped_audio_bytes == 1000


async def test_a_raising_tool_gives_an_error_result():
    async def broken(name, args):
        raise RuntimeError("relay driver fell over")

    result = await run_tool(broken, "set_relay", {})
    assert "relay driver fell over" in result["error"]


async def test_a_tool_returning_a_non_dict_gives_an_error_result():
    async def sloppy(name, args):
        return "ok"

    assert "str" in (await run_tool(sloppy, "t", {}))["error"]


async def test_a_tool_returning_unsendable_data_gives_an_error_result():
    async def sloppy(name, args):
        return {"when": object()}

    assert "error" in await run_tool(sloppy, "t", {})


async def test_no_handler_answers_with_an_error():
    assert "error" in await run_tool(None, "t", {})


async def test_cancellation_is_not_swallowed():
    started = asyncio.Event()

    async def slow(name, args):
        started.set()
        await asyncio.sleep(60)
        return {}

    task = asyncio.create_task(run_tool(slow, "t", {}))
    await started.wait()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert task.cancelled()
