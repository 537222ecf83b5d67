"""CameraFeed: at most one frame per second, none outside a conversation, look() frames."""

from __future__ import annotations

import asyncio
import io
import time

import pytest
from PIL import Image

from daemon.camera_feed import CameraFeed, FeedClosed
from hardware.camera import Camera
from tests.support.fake_picamera2 import FakePicamera2


class Session:
    """Collects what the Live session would receive, with arrival times."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.times: list[float] = []
        self.arrived = asyncio.Event()

    async def send(self, jpeg: bytes) -> None:
        self.frames.append(jpeg)
        self.times.append(time.monotonic())
        self.arrived.set()

    async def next_frame(self) -> None:
        self.arrived.clear()
        await asyncio.wait_for(self.arrived.wait(), 10)

    def gaps(self) -> list[float]:
        return [b - a for a, b in zip(self.times, self.times[1:], strict=False)]


@pytest.fixture
def picam():
    return FakePicamera2.with_cameras([{"Model": "imx708"}])


@pytest.fixture
def camera(picam):
    cam = Camera((320, 240), 70, picamera2_class=picam)
    yield cam
    cam.close()


async def test_continuous_frames_are_jpegs_at_most_one_per_second(camera):
    session = Session()
    feed = CameraFeed(camera, fps=5.0, send=session.send)  # asks too much: capped at 1
    feed.start()
    while len(session.frames) < 3:
        await session.next_frame()
    await feed.stop()
    assert all(gap >= 0.99 for gap in session.gaps()), session.gaps()
    for jpeg in session.frames:
        assert Image.open(io.BytesIO(jpeg)).size == (320, 240)


async def test_lower_fps_spaces_frames_further(camera):
    session = Session()
    feed = CameraFeed(camera, fps=0.5, send=session.send)
    feed.start()
    while len(session.frames) < 2:
        await session.next_frame()
    await feed.stop()
    assert session.gaps()[0] >= 1.99


async def test_no_frames_without_an_open_conversation(camera, picam):
    session = Session()
    feed = CameraFeed(camera, fps=1.0, send=session.send)
    await asyncio.sleep(1.2)
    assert session.frames == []
    with pytest.raises(FeedClosed):
        await feed.grab_now()
    feed.start()
    await session.next_frame()
    await feed.stop()
    count = len(session.frames)
    await asyncio.sleep(1.2)
    assert len(session.frames) == count, "a frame was sent after the conversation closed"
    assert not picam.instances[0].started, "the camera kept streaming after the conversation"


async def test_look_sends_one_fresh_frame_when_not_continuous(camera):
    session = Session()
    feed = CameraFeed(camera, fps=1.0, send=session.send, continuous=False)
    feed.start()
    await asyncio.sleep(1.2)
    assert session.frames == [], "continuous off: frames only on look()"
    jpeg = await feed.grab_now()
    assert session.frames == [jpeg]
    assert Image.open(io.BytesIO(jpeg)).format == "JPEG"
    await feed.stop()


async def test_look_respects_the_rate_limit(camera):
    session = Session()
    feed = CameraFeed(camera, fps=1.0, send=session.send, continuous=False)
    feed.start()
    await feed.grab_now()
    await feed.grab_now()
    await feed.stop()
    assert len(session.frames) == 2 and session.gaps()[0] >= 0.99


async def test_a_failing_capture_does_not_stop_the_feed(picam):
    class Flaky:
        def __init__(self, real: Camera) -> None:
            self.real, self.calls = real, 0

        def capture_jpeg(self) -> bytes:
            self.calls += 1
            if self.calls == 1:
                raise RuntimeError("dequeue timed out")
            return self.real.capture_jpeg()

        def stop(self) -> None:
            self.real.stop()

    session = Session()
    feed = CameraFeed(Flaky(Camera((160, 120), picamera2_class=picam)), 1.0, session.send)
    feed.start()
    await session.next_frame()
    await feed.stop()
    assert len(session.frames) == 1


def test_fps_must_be_positive(camera):
    with pytest.raises(ValueError, match="fps"):
        CameraFeed(camera, fps=0, send=Session().send)


async def test_gated_by_speech_frames_flow_only_while_the_user_speaks(camera):
    """Live 3.8 bills every frame: by default the feed sends only while the user talks."""
    session = Session()
    speaking = False
    feed = CameraFeed(camera, fps=1.0, send=session.send, continuous=False,
                      while_speaking=lambda: speaking)  # fmt: skip
    feed.start()
    await asyncio.sleep(0.5)
    assert session.frames == []  # a quiet room: no frames
    speaking = True
    await session.next_frame()
    speaking = False
    await asyncio.sleep(1.5)
    assert len(session.frames) == 1  # silence again: no more
    await feed.grab_now()  # look() still sends one
    assert len(session.frames) == 2
    await feed.stop()
