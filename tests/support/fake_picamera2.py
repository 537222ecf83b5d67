"""A stand-in for picamera2.Picamera2: the one fake the project allows.

It has only the methods hardware.camera calls, and behaves like the real one
where that matters: "RGB888" frames come out as B, G, R bytes, capture needs
start(), the configured size can be adjusted (as libcamera does when it aligns
a size), and global_camera_info() is empty when no camera is attached.

The scene is fixed so tests can check what arrives: the left half red, the
right half blue.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np


class FakePicamera2:
    cameras: ClassVar[list[dict[str, Any]]] = [{"Model": "imx708", "Num": 0}]
    adjusted_size: ClassVar[tuple[int, int] | None] = None
    instances: ClassVar[list[FakePicamera2]] = []

    def __init__(self) -> None:
        if not self.cameras:
            raise IndexError("list index out of range")  # what the real one raises
        self.camera_config: dict[str, Any] | None = None
        self.started = False
        self.closed = False
        self.captures = 0
        self.starts = 0
        type(self).instances.append(self)

    @classmethod
    def with_cameras(cls, cameras: list[dict[str, Any]], adjusted_size=None) -> type[FakePicamera2]:
        """A subclass with its own camera list and instance record."""
        return type(
            "FakePicamera2",
            (cls,),
            {"cameras": cameras, "adjusted_size": adjusted_size, "instances": []},
        )

    @classmethod
    def global_camera_info(cls) -> list[dict[str, Any]]:
        return list(cls.cameras)

    def create_video_configuration(self, main: dict[str, Any] | None = None, **_: Any) -> dict:
        main = dict(main or {})
        main.setdefault("size", (1280, 720))
        main.setdefault("format", "XBGR8888")
        return {"use_case": "video", "main": main}

    def create_still_configuration(self, main: dict[str, Any] | None = None, **_: Any) -> dict:
        config = self.create_video_configuration(main)
        config["use_case"] = "still"
        return config

    def configure(self, config: dict[str, Any]) -> None:
        if self.started:
            raise RuntimeError("Camera must be stopped before configuring")
        config = {**config, "main": dict(config["main"])}
        if self.adjusted_size is not None:
            config["main"]["size"] = self.adjusted_size
        self.camera_config = config

    def start(self) -> None:
        if self.camera_config is None:
            raise RuntimeError("Camera has not been configured")
        self.started = True
        self.starts += 1

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        self.started = False
        self.closed = True

    def capture_array(self, name: str = "main") -> np.ndarray:
        if not self.started:
            raise RuntimeError("Camera is not running")  # no frames before start()
        assert self.camera_config is not None
        stream = self.camera_config[name]
        if stream["format"] != "RGB888":
            raise NotImplementedError("the stand-in only makes RGB888 frames")
        width, height = stream["size"]
        frame = np.zeros((height, width, 3), dtype=np.uint8)
        frame[:, : width // 2, 2] = 255  # red, in B, G, R byte order
        frame[:, width // 2 :, 0] = 255  # blue
        self.captures += 1
        return frame
