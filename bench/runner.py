"""Bench-only: run the daemon's own serve() and note when things happened.

The daemon code runs unchanged. This process adds three observers, none of
which alter what the daemon does:
- a logging handler that stamps every log record with time.monotonic()
  (the speakerd.timeline logger marks detection, interruption, state changes);
- a thin wrapper around the speaker's PortAudio output stream that stamps
  each write() and stop_stream() (when audio was handed to the device, when
  the writer ran out of audio);
- with --fake-camera, the picamera2 stand-in from tests/support registered as
  the `picamera2` module, since this machine has no camera (DESIGN.md allows
  exactly this one fake).

On exit (SIGTERM, as systemd would stop it) everything is dumped as JSON.

    python -m bench.runner --config bench.yaml --events events.json [--fake-camera]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
import types
from typing import Any

STARTED_AT = time.monotonic()


class _StampingHandler(logging.Handler):
    """Keeps (monotonic, logger, message) of every record; cheap enough to leave on."""

    def __init__(self, sink: list[tuple[float, str, str]]) -> None:
        super().__init__(logging.INFO)
        self._sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._sink.append((time.monotonic(), record.name, record.getMessage()))
        except Exception:  # a broken format string must not stop the bench
            self.handleError(record)


class _TimedOutputStream:
    """A pyaudio.Stream that notes when audio was written and when it was stopped."""

    def __init__(self, stream: Any, writes: list, stops: list) -> None:
        self._stream = stream
        self._writes = writes
        self._stops = stops

    def write(self, frames: bytes, *args: Any, **kwargs: Any) -> Any:
        began = time.monotonic()
        result = self._stream.write(frames, *args, **kwargs)
        self._writes.append((began, time.monotonic(), len(frames)))
        return result

    def stop_stream(self) -> Any:
        began = time.monotonic()
        result = self._stream.stop_stream()
        self._stops.append((began, time.monotonic()))
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _install_fake_camera() -> None:
    from tests.support.fake_picamera2 import FakePicamera2

    module = types.ModuleType("picamera2")
    module.Picamera2 = FakePicamera2  # type: ignore[attr-defined]
    sys.modules["picamera2"] = module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.runner")
    parser.add_argument("--config", required=True)
    parser.add_argument("--events", required=True, help="JSON file written on exit")
    parser.add_argument("--fake-camera", action="store_true")
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    logs: list[tuple[float, str, str]] = []
    logging.getLogger().addHandler(_StampingHandler(logs))
    if args.fake_camera:
        _install_fake_camera()

    from daemon.config import resolve_api_key
    from daemon.config.loader import load_config
    from daemon.runtime.service import serve
    from hardware.audio import host

    writes: list[tuple[float, float, int]] = []
    stops: list[tuple[float, float]] = []
    real_open = host.open_stream

    def open_stream(**kwargs: Any) -> Any:
        stream = real_open(**kwargs)
        return _TimedOutputStream(stream, writes, stops) if kwargs.get("output") else stream

    host.open_stream = open_stream  # type: ignore[assignment]

    config = load_config(args.config)
    marks: dict[str, Any] = {"process_started": STARTED_AT}
    appliance_ref: list[Any] = []

    def on_ready(appliance: Any) -> None:
        marks["ready"] = time.monotonic()
        appliance_ref.append(appliance)

    code = asyncio.run(serve(config, resolve_api_key(config.gemini), on_ready=on_ready))
    if appliance_ref:
        speaker = appliance_ref[0].devices.speaker
        marks["output_latency"] = speaker.output_latency
        marks["speaker_format"] = str(speaker.format)
        marks["dropped_mic_chunks"] = appliance_ref[0].devices.microphone.dropped_chunks
    with open(args.events, "w") as out:
        json.dump({"marks": marks, "logs": logs, "writes": writes, "stops": stops}, out)
    return code


if __name__ == "__main__":
    sys.exit(main())
