"""hardware.camera over the Picamera2 stand-in: real JPEG bytes, size, colours, absence."""

from __future__ import annotations

import io
import logging

import pytest
from PIL import Image

from hardware.camera import Camera, CameraUnavailable, open_camera
from tests.support.fake_picamera2 import FakePicamera2


def decode(jpeg: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(jpeg))
    image.load()
    return image


@pytest.fixture
def picam():
    return FakePicamera2.with_cameras([{"Model": "imx708", "Num": 0}])


def test_frame_is_a_jpeg_of_the_configured_size(picam):
    camera = open_camera((320, 240), 80, picamera2_class=picam)
    assert camera is not None
    jpeg = camera.capture_jpeg()
    assert jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"
    image = decode(jpeg)
    assert image.format == "JPEG" and image.size == (320, 240) and image.mode == "RGB"
    camera.close()


def test_colours_survive_the_bgr_byte_order(picam):
    camera = Camera((160, 120), 90, picamera2_class=picam)
    image = decode(camera.capture_jpeg())
    left, right = image.getpixel((20, 60)), image.getpixel((140, 60))
    assert left[0] > 200 and left[2] < 50, f"left half should be red, got {left}"
    assert right[2] > 200 and right[0] < 50, f"right half should be blue, got {right}"


def test_asks_the_isp_for_the_size_in_rgb(picam):
    Camera((640, 480), picamera2_class=picam).capture_jpeg()
    (instance,) = picam.instances
    assert instance.camera_config["main"] == {"size": (640, 480), "format": "RGB888"}


def test_scales_when_libcamera_adjusts_the_size():
    picam = FakePicamera2.with_cameras([{"Model": "ov5647"}], adjusted_size=(672, 480))
    camera = Camera((640, 480), picamera2_class=picam)
    image = decode(camera.capture_jpeg())
    assert image.size == (640, 480)
    # The red/blue boundary is still in the middle after scaling.
    assert image.getpixel((300, 240))[0] > 200 and image.getpixel((340, 240))[2] > 200


def test_quality_changes_the_encoding(picam):
    # The same scene encodes smaller at a lower quality: the setting reaches the encoder.
    low = Camera((320, 240), 5, picamera2_class=picam).capture_jpeg()
    high = Camera((320, 240), 100, picamera2_class=picam).capture_jpeg()
    assert len(low) < len(high)


def test_streams_only_between_capture_and_stop(picam):
    camera = Camera((160, 120), picamera2_class=picam)
    (instance,) = picam.instances
    assert not instance.started, "the camera must be idle until a frame is wanted"
    camera.capture_jpeg()
    camera.capture_jpeg()
    assert instance.started and instance.starts == 1
    camera.stop()
    assert not instance.started and not camera.running
    camera.capture_jpeg()
    assert instance.starts == 2
    camera.close()
    assert instance.closed


def test_without_picamera2_one_log_line_and_none(caplog):
    caplog.set_level(logging.INFO, logger="hardware.camera")
    assert open_camera((640, 480), 80) is None  # picamera2 is not installed off a Pi
    (record,) = caplog.records
    assert "picamera2 is not installed" in record.getMessage()
    assert "camera off" in record.getMessage()


def test_no_camera_connected_one_log_line_and_none(caplog):
    caplog.set_level(logging.INFO, logger="hardware.camera")
    assert open_camera((640, 480), picamera2_class=FakePicamera2.with_cameras([])) is None
    (record,) = caplog.records
    assert "no camera is connected" in record.getMessage()


def test_camera_that_fails_to_open_is_reported():
    class Broken(FakePicamera2):
        def configure(self, config):
            raise RuntimeError("Failed to acquire camera: Device or resource busy")

    with pytest.raises(CameraUnavailable, match="resource busy"):
        Camera((640, 480), picamera2_class=Broken)
