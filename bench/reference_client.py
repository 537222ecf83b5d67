"""The conversation baseline: the least a Live client with mic, speaker and camera must do.

google-genai SDK plus PyAudio, nothing else of the daemon: microphone chunks
of 40 ms go straight to send_realtime_input, one JPEG of the same camera
stand-in scene (encoded with Pillow, as the daemon's driver does) goes out
every second, the model's audio is written to the speaker. No wake word,
LEDs, tools, state machine or reconnection. Prints {"ready": true} once
connected, then runs until SIGTERM.

    python -m bench.reference_client --base-url https://127.0.0.1:PORT --ca-file ca.pem
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import queue
import signal
import ssl
import sys
import threading

import numpy as np
import pyaudio
from google import genai
from google.genai import types
from PIL import Image

MODEL = "gemini-2.5-flash-native-audio-preview-12-2025"
CHUNK_FRAMES = 640  # 40 ms at 16 kHz, the daemon's chunk


def _device(pa: pyaudio.PyAudio, name: str, direction: str) -> int:
    key = "maxInputChannels" if direction == "input" else "maxOutputChannels"
    for index in range(pa.get_device_count()):
        info = pa.get_device_info_by_index(index)
        if name.lower() in str(info["name"]).lower() and int(info[key]) > 0:
            return index
    raise SystemExit(f"no {direction} device named {name!r}")


def _camera_frame() -> np.ndarray:
    from tests.support.fake_picamera2 import FakePicamera2

    camera = FakePicamera2()
    camera.configure(camera.create_video_configuration(main={"size": (640, 480),
                                                            "format": "RGB888"}))
    camera.start()
    return camera.capture_array("main")


async def converse(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    context = ssl.create_default_context(cafile=args.ca_file)
    client = genai.Client(api_key="bench-key", http_options=types.HttpOptions(
        base_url=args.base_url, async_client_args={"ssl": context}))
    config = types.LiveConnectConfig(
        response_modalities=[types.Modality.AUDIO],
        input_audio_transcription=types.AudioTranscriptionConfig(),
        output_audio_transcription=types.AudioTranscriptionConfig(),
    )
    pa = pyaudio.PyAudio()
    mic = pa.open(format=pyaudio.paInt16, channels=1, rate=16000, input=True,
                  input_device_index=_device(pa, args.mic, "input"),
                  frames_per_buffer=CHUNK_FRAMES)
    speaker = pa.open(format=pyaudio.paInt16, channels=1, rate=24000, output=True,
                      output_device_index=_device(pa, args.speaker, "output"))
    chunks: asyncio.Queue[bytes] = asyncio.Queue()
    playback: queue.Queue[bytes | None] = queue.Queue()
    running = True

    def capture() -> None:
        while running:
            data = mic.read(CHUNK_FRAMES, exception_on_overflow=False)
            loop.call_soon_threadsafe(chunks.put_nowait, data)

    def play() -> None:
        while (pcm := playback.get()) is not None:
            speaker.write(pcm)

    frame = _camera_frame()
    async with client.aio.live.connect(model=MODEL, config=config) as session:

        async def send_audio() -> None:
            while True:
                data = await chunks.get()
                await session.send_realtime_input(
                    audio=types.Blob(data=data, mime_type="audio/pcm;rate=16000"))

        async def send_frames() -> None:
            while True:
                image = Image.fromarray(np.ascontiguousarray(frame[:, :, 2::-1]))
                out = io.BytesIO()
                image.save(out, format="JPEG", quality=80)
                await session.send_realtime_input(
                    video=types.Blob(data=out.getvalue(), mime_type="image/jpeg"))
                await asyncio.sleep(1.0)

        async def receive() -> None:
            while True:
                async for message in session.receive():
                    content = message.server_content
                    if content and content.model_turn:
                        for part in content.model_turn.parts or []:
                            if part.inline_data and part.inline_data.data:
                                playback.put(part.inline_data.data)

        threads = [threading.Thread(target=capture, daemon=True),
                   threading.Thread(target=play, daemon=True)]
        for thread in threads:
            thread.start()
        tasks = [asyncio.create_task(c()) for c in (send_audio, send_frames, receive)]
        print(json.dumps({"ready": True}), flush=True)
        await stop.wait()
        running = False
        for task in tasks:
            task.cancel()
        playback.put(None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reference_client")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--ca-file", required=True)
    parser.add_argument("--mic", default="mic")
    parser.add_argument("--speaker", default="speaker")
    asyncio.run(converse(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
