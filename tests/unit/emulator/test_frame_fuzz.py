"""Fuzz the emulator with mutated client frames: a 1007/1008 close or service as usual.

A real emulator runs on its own event loop in a thread; each example takes a
frame like the SDK's (a full setup, audio, video, text, content, a tool
response), puts a random JSON value at a random place in it (or deletes a
field, or adds an unknown one), sends it over a raw websocket and then asks a
question. The properties: the emulator either closes with 1007 or 1008 (the
service's answers to a bad frame) or answers the question with a whole turn;
it never closes 1011, never logs an error, and never leaves the client hanging.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import websockets
from hypothesis import given
from hypothesis import strategies as st

from daemon.emulator import LiveEmulator
from tests.unit.fuzzing import fuzz

from .helpers import DEFAULT_MODEL, RAW_TIMEOUT, raw_connect

PCM = base64.b64encode(bytes(640)).decode()
JPEG = base64.b64encode(b"\xff\xd8\xff\xe0" + bytes(64) + b"\xff\xd9").decode()
SETUP: dict[str, Any] = {"setup": {
    "model": f"models/{DEFAULT_MODEL}",
    "generationConfig": {
        "responseModalities": ["AUDIO"], "temperature": 0.5,
        "speechConfig": {"voice_config": {"prebuilt_voice_config": {"voice_name": "Puck"}}},
    },
    "systemInstruction": {"parts": [{"text": "Be brief."}], "role": "user"},
    "tools": [
        {"functionDeclarations": [{
            "name": "set_relay", "description": "Switch a relay.", "behavior": "BLOCKING",
            "parameters": {"type": "OBJECT", "required": ["name", "state"], "properties": {
                "name": {"type": "STRING", "enum": ["lamp"]},
                "state": {"type": "STRING", "enum": ["on", "off"]},
            }},
        }]},
        {"googleSearch": {}},
    ],
    "realtimeInputConfig": {
        "automatic_activity_detection": {"disabled": False, "silenceDurationMs": 500},
        "activityHandling": "START_OF_ACTIVITY_INTERRUPTS",
    },
    "sessionResumption": {},
    "contextWindowCompression": {"slidingWindow": {"targetTokens": 1000}},
    "inputAudioTranscription": {}, "outputAudioTranscription": {},
}}
AFTER_SETUP: list[dict[str, Any]] = [
    {"realtimeInput": {"audio": {"data": PCM, "mimeType": "audio/pcm;rate=16000"}}},
    {"realtimeInput": {"video": {"data": JPEG, "mimeType": "image/jpeg"}}},
    {"realtimeInput": {"text": "hello there", "audioStreamEnd": True}},
    {"realtimeInput": {"mediaChunks": [{"data": PCM, "mimeType": "audio/pcm"}]}},
    {"clientContent": {"turns": [{"role": "user", "parts": [{"text": "hi"}]}],
                       "turnComplete": False}},
    {"toolResponse": {"functionResponses": [
        {"id": "call-1", "name": "set_relay", "response": {"ok": True}, "scheduling": "SILENT"}]}},
]
QUESTION = json.dumps({"realtimeInput": {"text": "what is the capital of France"}})

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8)
    | st.sampled_from(["NaN", "12", "1e3", "AA==", "audio/pcm;rate=0", 2**31]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                  max_size=3),
    max_leaves=6,
)


def _places(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place below the frame's top-level key."""
    if len(path) >= 2:
        yield path
    items = node.items() if isinstance(node, dict) else enumerate(node) \
        if isinstance(node, list) else ()
    for key, child in items:
        yield from _places(child, (*path, key))


@st.composite
def mutated(draw: st.DrawFn) -> tuple[bool, dict[str, Any]]:
    """(sent after a good setup?, the frame with one place changed)."""
    after_setup = draw(st.booleans())
    frame = copy.deepcopy(draw(st.sampled_from(AFTER_SETUP)) if after_setup else SETUP)
    path = draw(st.sampled_from(list(_places(frame))))
    parent = frame
    for key in path[:-1]:
        parent = parent[key]
    change = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
    if change == "delete" and isinstance(parent, dict):
        del parent[path[-1]]
    elif change == "add" and isinstance(parent, dict):
        parent[draw(st.sampled_from(["zz", "extra_field", "data"]))] = draw(json_values)
    else:
        parent[path[-1]] = draw(json_values)
    return after_setup, frame


class EmulatorThread:
    """A LiveEmulator on a private event loop, collecting error log records."""

    def __init__(self) -> None:
        self.emulator = LiveEmulator(speech="tone", speech_pace=0)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.errors: list[str] = []
        self._handler = logging.Handler(logging.ERROR)
        self._handler.emit = lambda record: self.errors.append(record.getMessage())  # type: ignore[method-assign]

    def __enter__(self) -> EmulatorThread:
        logging.getLogger().addHandler(self._handler)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.emulator.__aenter__(), self.loop).result(30)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(
            self.emulator.__aexit__(None, None, None), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
        logging.getLogger().removeHandler(self._handler)


@pytest.fixture(scope="module")
def served() -> Iterator[EmulatorThread]:
    with EmulatorThread() as running:
        yield running


async def _outcome(emu: LiveEmulator, after_setup: bool, frame: dict[str, Any]) -> str:
    """"closed <code>" or "answered" (a turnComplete after the question)."""
    ws = await raw_connect(emu)
    try:
        async with asyncio.timeout(RAW_TIMEOUT):
            if after_setup:
                await ws.send(json.dumps(SETUP))
                assert json.loads(await ws.recv()) == {"setupComplete": {}}
            await ws.send(json.dumps(frame))
            await ws.send(QUESTION)
            while True:
                message = json.loads(await ws.recv())
                if message.get("serverContent", {}).get("turnComplete"):
                    return "answered"
    except websockets.ConnectionClosed as closed:
        return f"closed {closed.rcvd.code if closed.rcvd else 1006}"
    except TimeoutError:
        return "hung"
    finally:
        await ws.close()


@fuzz
@given(case=mutated())
def test_fuzz_mutated_frames_are_refused_or_served(
    served: EmulatorThread, case: tuple[bool, dict[str, Any]]
) -> None:
    after_setup, frame = case
    served.errors.clear()
    outcome = asyncio.run(_outcome(served.emulator, after_setup, frame))
    assert outcome in ("answered", "closed 1007", "closed 1008"), (outcome, frame)
    assert not served.errors, (served.errors, frame)
