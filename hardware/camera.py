"""Pi Camera frames as JPEG bytes, via picamera2.

>>> camera = open_camera((640, 480), jpeg_quality=80)   # None without a camera
>>> jpeg = camera.capture_jpeg()                          # blocking: call it in a thread

The camera only streams between the first capture and ``stop()``, so it is
idle (and its LED, where it has one, is off) while no conversation is open.
picamera2 comes from apt on a Pi and does not exist elsewhere: without it, or
without a camera, ``open_camera`` logs one line and returns None.
"""

from __future__ import annotations

import io
import logging
import threading
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

Resolution = tuple[int, int]


class CameraUnavailable(RuntimeError):
    """No picamera2, no camera attached, or the camera failed to open."""


class Camera:
    """One Picamera2 set to deliver RGB frames of ``resolution``, encoded to JPEG here.

    ``picamera2_class`` is the seam for tests (the one stand-in the project
    allows); by default the real ``picamera2.Picamera2`` is imported.
    """

    def __init__(
        self,
        resolution: Resolution,
        jpeg_quality: int = 80,
        *,
        picamera2_class: Any = None,
    ) -> None:
        width, height = resolution
        if width < 1 or height < 1:
            raise ValueError(f"resolution {resolution} must be positive")
        if not 1 <= jpeg_quality <= 100:
            raise ValueError(f"jpeg_quality {jpeg_quality} must be 1-100")
        try:
            from PIL import Image  # noqa: F401  (checked now, used per frame)
        except ImportError as exc:
            raise CameraUnavailable("Pillow is not installed (needed to encode JPEG)") from exc
        if picamera2_class is None:
            try:
                from picamera2 import Picamera2
            except ImportError as exc:
                raise CameraUnavailable(
                    "picamera2 is not installed (apt install python3-picamera2 on a Pi)"
                ) from exc
            picamera2_class = Picamera2
        try:
            cameras = picamera2_class.global_camera_info()
        except Exception as exc:
            raise CameraUnavailable(f"libcamera could not list cameras: {exc}") from exc
        if not cameras:
            raise CameraUnavailable("no camera is connected")
        self.resolution: Resolution = (width, height)
        self.jpeg_quality = jpeg_quality
        self.model: str = str(cameras[0].get("Model", "camera"))
        self._lock = threading.Lock()
        self._running = False
        try:
            self._picam = picamera2_class()
            config = self._picam.create_video_configuration(
                main={"size": self.resolution, "format": "RGB888"}
            )
            self._picam.configure(config)
        except Exception as exc:
            raise CameraUnavailable(f"the camera would not open: {exc}") from exc

    @property
    def running(self) -> bool:
        return self._running

    def capture_jpeg(self) -> bytes:
        """One fresh frame of exactly ``resolution``, JPEG-encoded. Blocks ~1 frame time."""
        from PIL import Image

        with self._lock:
            if not self._running:
                self._picam.start()
                self._running = True
            frame = self._picam.capture_array("main")
        # picamera2's "RGB888" is B, G, R in memory (libcamera's naming).
        image = Image.fromarray(np.ascontiguousarray(frame[:, :, 2::-1]))
        if image.size != self.resolution:
            # libcamera may adjust the requested size (alignment); the model gets what was asked.
            image = image.resize(self.resolution, Image.Resampling.BILINEAR)
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=self.jpeg_quality)
        return out.getvalue()

    def stop(self) -> None:
        """Stop streaming until the next capture (between conversations)."""
        with self._lock:
            if self._running:
                self._picam.stop()
                self._running = False

    def close(self) -> None:
        self.stop()
        with self._lock:
            self._picam.close()


def open_camera(
    resolution: Resolution, jpeg_quality: int = 80, *, picamera2_class: Any = None
) -> Camera | None:
    """The camera, or None with one log line saying why camera features are off."""
    try:
        camera = Camera(resolution, jpeg_quality, picamera2_class=picamera2_class)
    except CameraUnavailable as exc:
        log.warning("camera off: %s; everything else works without it", exc)
        return None
    log.info("camera %s ready, %dx%d JPEG q%d", camera.model, *resolution, jpeg_quality)
    return camera
