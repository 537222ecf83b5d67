"""Helpers: drive the emulator with the real google-genai SDK over real TLS."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest
import websockets
from google import genai
from google.genai import errors, types

from daemon.core.models import PREVIEW_MODEL
from daemon.emulator import LiveEmulator

# These tests speak to the 2.5 preview; tests/unit/live/test_generations.py covers both.
DEFAULT_MODEL = PREVIEW_MODEL

FAST = 50.0  # reply audio at 50x real time where timing is not the point
RELAY_TOOL = types.Tool(
    function_declarations=[
        types.FunctionDeclaration(
            name="set_relay",
            description="Switch a relay on or off.",
            parameters=types.Schema(
                type="OBJECT",
                properties={
                    "name": types.Schema(type="STRING", enum=["lamp", "kitchen_light"]),
                    "state": types.Schema(type="STRING", enum=["on", "off"]),
                },
                required=["name", "state"],
            ),
        ),
        types.FunctionDeclaration(name="get_time", description="The current local time."),
    ]
)


def client_for(emulator: LiveEmulator, api_key: str = "test-key") -> genai.Client:
    return genai.Client(
        api_key=api_key,
        http_options=types.HttpOptions(
            base_url=emulator.url, async_client_args={"ssl": emulator.client_ssl_context()}
        ),
    )


def live_config(**overrides: Any) -> types.LiveConnectConfig:
    config: dict[str, Any] = {
        "response_modalities": ["AUDIO"],
        "input_audio_transcription": {},
        "output_audio_transcription": {},
        "tools": [RELAY_TOOL],
    }
    config.update(overrides)
    return types.LiveConnectConfig(**config)


def connect(emulator: LiveEmulator, model: str = DEFAULT_MODEL, api_key: str = "test-key",
            **config: Any) -> Any:
    return client_for(emulator, api_key).aio.live.connect(model=model, config=live_config(**config))


async def receive_turn(session: Any) -> list[types.LiveServerMessage]:
    """Every message up to and including turnComplete."""
    return [message async for message in session.receive()]


async def receive_until_error(session: Any) -> tuple[list[types.LiveServerMessage], errors.APIError]:
    """Every message until the connection ends, and the APIError that ended it."""
    messages: list[types.LiveServerMessage] = []
    with pytest.raises(errors.APIError) as caught:
        while True:
            async for message in session.receive():
                messages.append(message)
    return messages, caught.value


def model_audio(messages: list[types.LiveServerMessage]) -> bytes:
    audio = b""
    for message in messages:
        content = message.server_content
        if content and content.model_turn:
            for part in content.model_turn.parts or []:
                if part.inline_data and part.inline_data.data:
                    assert part.inline_data.mime_type == "audio/pcm;rate=24000"
                    audio += part.inline_data.data
    return audio


def output_text(messages: list[types.LiveServerMessage]) -> str:
    return "".join(
        m.server_content.output_transcription.text or ""
        for m in messages
        if m.server_content and m.server_content.output_transcription
    )


def input_text(messages: list[types.LiveServerMessage]) -> str:
    return "".join(
        m.server_content.input_transcription.text or ""
        for m in messages
        if m.server_content and m.server_content.input_transcription
    )


def kinds(messages: list[types.LiveServerMessage]) -> list[str]:
    """A compact trace of what arrived, in order (consecutive duplicates folded)."""
    trace: list[str] = []
    for message in messages:
        content = message.server_content
        names: list[str] = []
        if message.tool_call:
            names.append("toolCall")
        if message.tool_call_cancellation:
            names.append("toolCallCancellation")
        if message.go_away:
            names.append("goAway")
        if message.session_resumption_update:
            names.append("sessionResumptionUpdate")
        if content:
            for field in ("input_transcription", "model_turn", "output_transcription",
                          "generation_complete", "interrupted", "turn_complete"):
                if getattr(content, field):
                    names.append(field)
        for name in names:
            if not trace or trace[-1] != name:
                trace.append(name)
    return trace


def speech_pcm(seconds: float, amplitude: int = 8000) -> bytes:
    """A loud 16 kHz tone standing in for a user's speech."""
    t = np.arange(int(16000 * seconds)) / 16000
    return (amplitude * np.sin(2 * np.pi * 220 * t)).astype("<i2").tobytes()


def silence_pcm(seconds: float) -> bytes:
    return bytes(int(16000 * seconds) * 2)


async def send_audio(session: Any, pcm: bytes, chunk_ms: int = 40) -> None:
    step = 16000 * chunk_ms // 1000 * 2
    for start in range(0, len(pcm), step):
        await session.send_realtime_input(
            audio=types.Blob(data=pcm[start : start + step], mime_type="audio/pcm;rate=16000")
        )


async def raw_connect(emulator: LiveEmulator, version: str = "v1beta", key: str | None = "k",
                      slashes: str = "/") -> websockets.ClientConnection:
    """A plain websockets client, for frames the SDK would never send."""
    path = (f"{slashes}ws/google.ai.generativelanguage.{version}.GenerativeService"
            ".BidiGenerateContent")
    if key is not None:
        path += f"?key={key}"
    return await websockets.connect(emulator.ws_url + path, ssl=emulator.client_ssl_context(),
                                    open_timeout=RAW_TIMEOUT)


RAW_TIMEOUT = 5.0
"""Seconds a raw client waits for the server, so a frame the emulator wrongly
accepts (and then waits on) fails the test at once instead of hanging pytest."""


async def raw_recv(ws: websockets.ClientConnection) -> Any:
    """The next frame from the server, within RAW_TIMEOUT."""
    async with asyncio.timeout(RAW_TIMEOUT):
        return await ws.recv()


async def close_code_after(ws: websockets.ClientConnection) -> tuple[int, str]:
    """Read until the server closes (within RAW_TIMEOUT); the close code and reason it sent."""
    try:
        async with asyncio.timeout(RAW_TIMEOUT):
            while True:
                await ws.recv()
    except TimeoutError:
        raise AssertionError(f"the server did not close within {RAW_TIMEOUT} s") from None
    except websockets.ConnectionClosed as closed:
        assert closed.rcvd is not None, "closed without a close frame"
        return closed.rcvd.code, closed.rcvd.reason
