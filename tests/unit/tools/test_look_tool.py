"""look(): one fresh frame through the real camera driver and feed (Picamera2 stand-in)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from daemon.camera_feed import CameraFeed
from daemon.tools import StandaloneContext, ToolRegistry
from hardware.camera import Camera
from tests.support.fake_picamera2 import FakePicamera2

from .conftest import CONFIG, SHORT, Appliance


class FeedContext(Appliance):
    """The appliance's look(): a frame from the conversation's camera feed."""

    def __init__(self, feed: CameraFeed) -> None:
        super().__init__()
        self.feed = feed

    async def look(self) -> str:
        jpeg = await self.feed.grab_now()
        return f"sent one frame ({len(jpeg)} bytes)"


@pytest.fixture
def camera():
    cam = Camera((320, 240), 75, picamera2_class=FakePicamera2.with_cameras([{"Model": "x"}]))
    yield cam
    cam.close()


def registry_for(context, timeout: float | None = SHORT) -> ToolRegistry:
    return ToolRegistry.from_config(
        CONFIG, relays={}, context=context, camera_available=True, timeout=timeout
    )


async def test_look_sends_a_fresh_frame_to_the_session(camera):
    sent: list[bytes] = []

    async def send(jpeg: bytes) -> None:
        sent.append(jpeg)

    feed = CameraFeed(camera, 1.0, send, continuous=False)
    feed.start()
    result = await registry_for(FeedContext(feed), timeout=None).call("look", {})
    await feed.stop()
    assert result == {"result": f"sent one frame ({len(sent[0])} bytes)"}
    assert Image.open(io.BytesIO(sent[0])).size == (320, 240)


async def test_look_outside_a_conversation_is_an_error(camera):
    async def send(jpeg: bytes) -> None:
        raise AssertionError("no frame may be sent")

    feed = CameraFeed(camera, 1.0, send)
    result = await registry_for(FeedContext(feed)).call("look", {})
    assert result == {"error": "look failed: no conversation is open, so no frame was sent"}


async def test_look_takes_no_arguments(camera):
    appliance = Appliance()
    result = await registry_for(appliance).call("look", {"zoom": 2})
    assert result == {"error": "look: no argument 'zoom'; allowed: no arguments"}
    assert appliance.calls == []


async def test_look_raising_and_hanging():
    assert (await registry_for(Appliance(fail=True)).call("look", {})) == {
        "error": "look failed: look broke"
    }
    assert (await registry_for(Appliance(hang=True)).call("look", {})) == {
        "error": f"look took longer than {SHORT:g} s and was abandoned"
    }


async def test_standalone_look_saves_the_frame(camera, tmp_path):
    context = StandaloneContext(camera, frames_dir=tmp_path)
    result = await registry_for(context, timeout=None).call("look", {})
    (saved,) = tmp_path.glob("speakerd-look-*.jpg")
    assert result == {
        "result": f"captured a 320x240 JPEG of {saved.stat().st_size} bytes, saved to {saved}"
    }
    assert Image.open(Path(saved)).format == "JPEG"
