"""Malformed client frames end in the service's 1007 close, never in a crash.

Each case goes over a plain websockets client (the SDK would never send these):
the emulator must answer with a 1007 close whose reason names the problem, log
no traceback, and go on serving the next client.
"""

from __future__ import annotations

import json
import logging
import warnings

import pytest

from daemon.emulator import LiveEmulator

from .helpers import DEFAULT_MODEL, close_code_after, raw_connect, raw_recv

SETUP = {"setup": {"model": f"models/{DEFAULT_MODEL}"}}
SETUP_TEXT = json.dumps(SETUP)
AUDIO = "audio/pcm;rate=16000"


def setup_with(**fields: object) -> str:
    return json.dumps({"setup": {**SETUP["setup"], **fields}})


def realtime(**fields: object) -> str:
    return json.dumps({"realtimeInput": fields})


# (case, the frame, a word the close reason must contain)
BEFORE_SETUP: list[tuple[str, str | bytes, str]] = [
    ("not JSON", "{not json", "Invalid JSON"),
    ("JSON array", "[1, 2, 3]", "exactly one"),
    ("empty object", "{}", "exactly one"),
    ("two top-level keys", json.dumps({**SETUP, "realtimeInput": {}}), "exactly one"),
    ("unknown key", json.dumps({"launchMissiles": {}}), "launchMissiles"),
    ("realtime_input before setup", realtime(text="hi"), "setup must be the first"),
    ("huge number", '{"setup": {"model": ' + "9" * 5000 + "}}", "Invalid JSON"),
    ("deep nesting", '{"setup": ' * 100_000 + "}" * 100_000, "Invalid JSON"),
    ("setup null", json.dumps({"setup": None}), "setup"),
    ("model of the wrong type", json.dumps({"setup": {"model": 5}}), "model"),
    ("generation_config a list", setup_with(generationConfig=[1]), "setup"),
    ("tools a string", setup_with(tools="all"), "tools"),
    ("a tool of the wrong type", setup_with(tools=[5]), "tools"),
    ("function declarations a number",
     setup_with(tools=[{"functionDeclarations": 5}]), "setup"),
    ("silence_duration_ms a word", setup_with(realtimeInputConfig={
        "automaticActivityDetection": {"silenceDurationMs": "long"}}), "setup"),
    ("realtime_input_config a list", setup_with(realtimeInputConfig=[]), "realtimeInputConfig"),
    ("silence_duration_ms past int32", setup_with(realtimeInputConfig={
        "automaticActivityDetection": {"silenceDurationMs": 2**31}}), "silence_duration_ms"),
    ("disabled a string", setup_with(realtimeInputConfig={
        "automaticActivityDetection": {"disabled": "true"}}), "TYPE_BOOL"),
    ("voice name a number", setup_with(generationConfig={"speechConfig": {
        "voiceConfig": {"prebuiltVoiceConfig": {"voiceName": 7}}}}), "voice_name"),
    ("schema properties a list", setup_with(tools=[{"functionDeclarations": [
        {"name": "f", "parameters": {"type": "OBJECT", "properties": [1]}}]}]), "properties"),
    ("resumption handle a number", setup_with(sessionResumption={"handle": 5}), "handle"),
    ("binary frame, not UTF-8", b"\xff\xfe\x00", "Invalid JSON"),
]
AFTER_SETUP: list[tuple[str, str | bytes, str]] = [
    ("setup twice", SETUP_TEXT, "only once"),
    ("realtime_input null", json.dumps({"realtimeInput": None}), "realtime_input"),
    ("bad base64", realtime(audio={"data": "@@@!", "mimeType": AUDIO}), "Base64"),
    ("audio with a bad MIME type", realtime(audio={"data": "AAAA", "mimeType": "audio/mp3"}),
     "MIME"),
    ("odd byte count", realtime(audio={"data": "AQ==", "mimeType": AUDIO}), "even"),
    ("audio rate 0", realtime(audio={"data": "AAAA", "mimeType": "audio/pcm;rate=0"}), "rate"),
    ("audio rate of 5000 digits",
     realtime(audio={"data": "AAAA", "mimeType": "audio/pcm;rate=" + "9" * 5000}), "rate"),
    ("audio data a number", realtime(audio={"data": 5, "mimeType": AUDIO}), "TYPE_BYTES"),
    ("text a number", realtime(text=5), "text"),
    ("media_chunks a number", realtime(mediaChunks=5), "media_chunks"),
    ("a media chunk a string", realtime(mediaChunks=["x"]), "media_chunks"),
    ("video not an image", realtime(video={"data": "AAAA", "mimeType": "image/jpeg"}), "image"),
    ("unknown realtime field", realtime(smell={}), "smell"),
    ("turns a number", json.dumps({"clientContent": {"turns": 5}}), "turns"),
    ("parts a string", json.dumps({"clientContent": {"turns": [{"parts": "hi"}]}}), "parts"),
    ("turn_complete a string", json.dumps({"clientContent": {"turnComplete": "yes"}}),
     "turn_complete"),
    ("function_responses a number", json.dumps({"toolResponse": {"functionResponses": 5}}),
     "function_responses"),
    ("tool_response without id",
     json.dumps({"toolResponse": {"functionResponses": [{"name": "x", "response": {}}]}}), "id"),
    ("huge number mid-session", '{"realtimeInput": {"text": ' + "1" * 5000 + "}}", "Invalid JSON"),
    ("deep nesting mid-session", '{"realtimeInput": ' + "[" * 100_000, "Invalid JSON"),
    ("binary frame mid-session", b"\x80\x81", "Invalid JSON"),
]


async def _closed_1007(emu: LiveEmulator, frame: str | bytes, after_setup: bool) -> str:
    ws = await raw_connect(emu)
    if after_setup:
        await ws.send(SETUP_TEXT)
        assert json.loads(await raw_recv(ws)) == {"setupComplete": {}}
    await ws.send(frame)
    code, reason = await close_code_after(ws)
    assert code == 1007, (code, reason)
    return reason


async def _still_serves(emu: LiveEmulator) -> None:
    ws = await raw_connect(emu)
    await ws.send(SETUP_TEXT)
    assert json.loads(await raw_recv(ws)) == {"setupComplete": {}}
    await ws.close()


@pytest.mark.parametrize(("name", "frame", "named"), BEFORE_SETUP, ids=[c[0] for c in BEFORE_SETUP])
async def test_malformed_first_frame_closes_1007(
    emu: LiveEmulator, caplog: pytest.LogCaptureFixture, name: str, frame: str | bytes, named: str
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # "coroutine ... was never awaited"
        reason = await _closed_1007(emu, frame, after_setup=False)
        await _still_serves(emu)
    assert named.lower() in reason.lower(), reason
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], name


@pytest.mark.parametrize(("name", "frame", "named"), AFTER_SETUP, ids=[c[0] for c in AFTER_SETUP])
async def test_malformed_frame_after_setup_closes_1007(
    emu: LiveEmulator, caplog: pytest.LogCaptureFixture, name: str, frame: str | bytes, named: str
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        reason = await _closed_1007(emu, frame, after_setup=True)
        await _still_serves(emu)
    assert named.lower() in reason.lower(), reason
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], name
    assert emu.sessions[0].close_code == 1007


async def test_what_proto3_json_allows_is_served(emu: LiveEmulator) -> None:
    """null means "not set", integers may come as strings, a free JSON schema of any
    shape: the service's parser takes these, so the emulator serves them."""
    ws = await raw_connect(emu)
    await ws.send(setup_with(
        realtimeInputConfig={"automaticActivityDetection": {"silenceDurationMs": "700"}},
        sessionResumption={"handle": None},
        tools=[{"functionDeclarations": [
            {"name": "odd", "parametersJsonSchema": {"properties": [1], "required": "x"}}]}],
    ))
    assert json.loads(await raw_recv(ws)) == {"setupComplete": {}}
    await ws.send(realtime(audio=None, text="hello"))
    assert "serverContent" in json.loads(await raw_recv(ws))
    await ws.close()
    record = await emu.wait_closed()
    assert record.texts == ["hello"] and record.audio_bytes_received == 0
    assert record.close_code == 1000


async def test_two_realtime_fields_in_one_frame_are_accepted(emu: LiveEmulator) -> None:
    """The service's realtime_input is not a oneof: text and audio together are served."""
    ws = await raw_connect(emu)
    await ws.send(SETUP_TEXT)
    await raw_recv(ws)
    await ws.send(realtime(text="hello", audio={"data": "AAAAAA==", "mimeType": AUDIO}))
    assert "serverContent" in json.loads(await raw_recv(ws))
    await ws.close()
    record = await emu.wait_closed()
    assert record.texts == ["hello"] and bytes(record.audio) == bytes(4)
