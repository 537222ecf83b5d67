"""The conversation baseline: Google's cookbook Live client, as it works, on our devices.

It does what `quickstarts/Get_started_LiveAPI.py` in the google-gemini
cookbook does with `--mode none`: 1024-frame microphone reads and speaker
writes through `asyncio.to_thread`, a send queue of 5 that drops its oldest
chunk when full, `session.send(input=...)` for each chunk, a receive loop that
queues `response.data` and empties the playback queue when a turn ends, the
Zephyr voice and a sliding context window. It adds only what a benchmark
needs: the emulator's address and CA, device names, the camera when asked
(one JPEG a second, as the cookbook's camera mode), and {"ready": true} once
connected; it runs until SIGTERM.

    python -m bench.reference_client --base-url https://127.0.0.1:PORT --ca-file ca.pem
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import signal
import ssl
import sys
import warnings
from typing import Any

import numpy as np
import pyaudio
from google import genai
from google.genai import types
from PIL import Image

MODEL = "models/gemini-2.5-flash-native-audio-preview-12-2025"
CHUNK_SIZE = 1024  # the cookbook's reads: 64 ms at 16 kHz
SEND_SAMPLE_RATE = 16000
RECEIVE_SAMPLE_RATE = 24000
CONFIG = types.LiveConnectConfig(
    response_modalities=[types.Modality.AUDIO],
    speech_config=types.SpeechConfig(
        voice_config=types.VoiceConfig(
            prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name="Zephyr")
        )
    ),
    context_window_compression=types.ContextWindowCompressionConfig(
        trigger_tokens=25600, sliding_window=types.SlidingWindow(target_tokens=12800)
    ),
)


def _device(pa: pyaudio.PyAudio, name: str, direction: str) -> int:
    key = "maxInputChannels" if direction == "input" else "maxOutputChannels"
    for index in range(pa.get_device_count()):
        info = pa.get_device_info_by_index(index)
        if name.lower() in str(info["name"]).lower() and int(info[key]) > 0:
            return index
    raise SystemExit(f"no {direction} device named {name!r}")


def _camera_jpeg() -> bytes:
    from tests.support.fake_picamera2 import FakePicamera2

    camera = FakePicamera2()
    camera.configure(
        camera.create_video_configuration(main={"size": (640, 480), "format": "RGB888"})
    )
    camera.start()
    frame = camera.capture_array("main")
    image = Image.fromarray(np.ascontiguousarray(frame[:, :, 2::-1]))
    image.thumbnail((1024, 1024))
    out = io.BytesIO()
    image.save(out, format="jpeg")
    return out.getvalue()


class AudioLoop:
    def __init__(self, pa: pyaudio.PyAudio, args: argparse.Namespace) -> None:
        self.pa = pa
        self.args = args
        self.audio_in_queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.out_queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=5)
        self.session: Any = None

    async def listen_audio(self) -> None:
        stream = await asyncio.to_thread(
            self.pa.open,
            format=pyaudio.paInt16,
            channels=1,
            rate=SEND_SAMPLE_RATE,
            input=True,
            input_device_index=_device(self.pa, self.args.mic, "input"),
            frames_per_buffer=CHUNK_SIZE,
        )
        try:
            while True:
                data = await asyncio.to_thread(
                    stream.read, CHUNK_SIZE, exception_on_overflow=False
                )
                payload = {"data": data, "mime_type": "audio/pcm"}
                try:  # the cookbook drops the oldest chunk rather than wait
                    self.out_queue.put_nowait(payload)
                except asyncio.QueueFull:
                    self.out_queue.get_nowait()
                    self.out_queue.put_nowait(payload)
        finally:
            stream.stop_stream()
            stream.close()

    async def play_audio(self) -> None:
        stream = await asyncio.to_thread(
            self.pa.open,
            format=pyaudio.paInt16,
            channels=1,
            rate=RECEIVE_SAMPLE_RATE,
            output=True,
            output_device_index=_device(self.pa, self.args.speaker, "output"),
        )
        try:
            while True:
                pcm = await self.audio_in_queue.get()
                await asyncio.to_thread(stream.write, pcm)
        finally:
            stream.stop_stream()
            stream.close()

    async def receive_audio(self) -> None:
        while True:
            async for response in self.session.receive():
                if data := response.data:
                    self.audio_in_queue.put_nowait(data)
            while not self.audio_in_queue.empty():  # interrupted: stop playback
                self.audio_in_queue.get_nowait()

    async def send_realtime(self) -> None:
        while True:
            msg = await self.out_queue.get()
            await self.session.send(input=msg)

    async def capture_frames(self) -> None:
        jpeg = await asyncio.to_thread(_camera_jpeg)
        while True:
            await asyncio.sleep(1.0)
            await self.out_queue.put({"mime_type": "image/jpeg", "data": jpeg})

    async def run(self, client: genai.Client, stop: asyncio.Event) -> None:
        async with client.aio.live.connect(model=MODEL, config=CONFIG) as session:
            self.session = session
            tasks = [
                asyncio.create_task(c())
                for c in (self.send_realtime, self.listen_audio, self.receive_audio, self.play_audio)
            ]
            if self.args.mode == "camera":
                tasks.append(asyncio.create_task(self.capture_frames()))
            print(json.dumps({"ready": True}), flush=True)
            await stop.wait()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def converse(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    context = ssl.create_default_context(cafile=args.ca_file)
    client = genai.Client(
        api_key="bench-key",
        http_options=types.HttpOptions(
            base_url=args.base_url, api_version="v1beta", async_client_args={"ssl": context}
        ),
    )
    pa = pyaudio.PyAudio()
    try:
        await AudioLoop(pa, args).run(client, stop)
    finally:
        pa.terminate()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reference_client")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--ca-file", required=True)
    parser.add_argument("--mic", default="mic")
    parser.add_argument("--speaker", default="speaker")
    parser.add_argument("--mode", choices=("none", "camera"), default="none")
    warnings.filterwarnings("ignore", message=".*session.send.*deprecated")  # as the cookbook
    asyncio.run(converse(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
