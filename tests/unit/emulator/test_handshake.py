"""Setup and the refusals the real service makes, with the codes it uses."""

from __future__ import annotations

import json

import pytest
import websockets
from google.genai import errors

from daemon.emulator import LiveEmulator

from .helpers import (
    DEFAULT_MODEL,
    close_code_after,
    connect,
    raw_connect,
    raw_recv,
    receive_turn,
)

SETUP = {"setup": {"model": f"models/{DEFAULT_MODEL}"}}


async def test_sdk_connects_and_the_emulator_records_the_setup(emu: LiveEmulator) -> None:
    async with connect(emu, speech_config={"voice_config": {
        "prebuilt_voice_config": {"voice_name": "Kore"}}}) as session:
        assert session.setup_complete is not None
    record = emu.sessions[0]
    assert record.model == DEFAULT_MODEL
    assert record.voice == "Kore"
    assert record.path.endswith("v1.GenerativeService.BidiGenerateContent")


@pytest.mark.parametrize("model", [DEFAULT_MODEL, f"models/{DEFAULT_MODEL}",
                                   "gemini-live-2.5-flash-preview"])
async def test_live_model_names_are_accepted(emu: LiveEmulator, model: str) -> None:
    async with connect(emu, model=model) as session:
        await session.send_realtime_input(text="hi")
        await receive_turn(session)


async def test_unknown_model_closes_1008(emu: LiveEmulator) -> None:
    with pytest.raises(errors.APIError) as caught:
        async with connect(emu, model="gemini-1.0-pro"):
            pass
    assert caught.value.code == 1008
    assert "gemini-1.0-pro is not found" in str(caught.value.details)


async def test_unknown_voice_closes_1007(emu: LiveEmulator) -> None:
    with pytest.raises(errors.APIError) as caught:
        async with connect(emu, speech_config={"voice_config": {
                "prebuilt_voice_config": {"voice_name": "Bobby"}}}):
            pass
    assert caught.value.code == 1007
    assert "Bobby" in str(caught.value.details)


async def test_wrong_api_key_closes_1007_when_a_key_is_required() -> None:
    async with LiveEmulator(api_key="right-key", speech="tone") as emu:
        with pytest.raises(errors.APIError) as caught:
            async with connect(emu, api_key="wrong-key"):
                pass
        assert caught.value.code == 1007
        assert caught.value.details == "API key not valid. Please pass a valid API key."
        async with connect(emu, api_key="right-key") as session:
            assert session.setup_complete is not None


async def test_missing_key_closes_1008(emu: LiveEmulator) -> None:
    ws = await raw_connect(emu, key=None)
    await ws.send(json.dumps(SETUP))
    code, reason = await close_code_after(ws)
    assert code == 1008
    assert "unregistered callers" in reason


@pytest.mark.parametrize(("version", "slashes"), [("v1beta", "/"), ("v1alpha", "/"),
                                                   ("v1", "//")])
async def test_api_versions_doubled_slash_and_query_key(
    emu: LiveEmulator, version: str, slashes: str
) -> None:
    ws = await raw_connect(emu, version=version, slashes=slashes)
    await ws.send(json.dumps(SETUP))
    assert json.loads(await raw_recv(ws)) == {"setupComplete": {}}
    await ws.close()


async def test_unknown_path_is_not_a_websocket(emu: LiveEmulator) -> None:
    with pytest.raises(websockets.InvalidStatus) as caught:
        await websockets.connect(emu.ws_url + "/ws/other.Service", ssl=emu.client_ssl_context())
    assert caught.value.response.status_code == 404


async def test_message_before_setup_closes_1007(emu: LiveEmulator) -> None:
    ws = await raw_connect(emu)
    await ws.send(json.dumps({"realtime_input": {"text": "hi"}}))
    code, reason = await close_code_after(ws)
    assert (code, reason) == (1007, "setup must be the first message")


async def test_second_setup_closes_1007(emu: LiveEmulator) -> None:
    ws = await raw_connect(emu)
    await ws.send(json.dumps(SETUP))
    assert json.loads(await raw_recv(ws)) == {"setupComplete": {}}
    await ws.send(json.dumps(SETUP))
    code, _ = await close_code_after(ws)
    assert code == 1007
    assert emu.sessions[0].close_code == 1007


async def test_unknown_setup_field_closes_1007(emu: LiveEmulator) -> None:
    ws = await raw_connect(emu)
    await ws.send(json.dumps({"setup": {**SETUP["setup"], "turboMode": True}}))
    code, reason = await close_code_after(ws)
    assert code == 1007
    assert '"turboMode"' in reason


async def test_snake_case_setup_and_standard_base64_are_understood(emu: LiveEmulator) -> None:
    ws = await raw_connect(emu)
    await ws.send(json.dumps({"setup": {
        "model": DEFAULT_MODEL,
        "generation_config": {"response_modalities": ["AUDIO"], "speech_config": {
            "voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Puck"}}}},
        "input_audio_transcription": {},
    }}))
    assert json.loads(await raw_recv(ws)) == {"setupComplete": {}}
    # b"\xff\xfe\xff\xfe" is "//7//g==" in standard and "__7__g==" in URL-safe base64.
    for data in ("//7//g==", "__7__g"):
        await ws.send(json.dumps({"realtimeInput": {"mediaChunks": [
            {"mimeType": "audio/pcm;rate=16000", "data": data}]}}))
    await ws.close()
    record = await emu.wait_closed()
    assert record.voice == "Puck"
    assert bytes(record.audio) == b"\xff\xfe\xff\xfe" * 2


async def test_odd_length_audio_closes_1007(emu: LiveEmulator) -> None:
    ws = await raw_connect(emu)
    await ws.send(json.dumps(SETUP))
    await raw_recv(ws)
    await ws.send(json.dumps({"realtime_input": {"audio": {
        "data": "AAAA", "mime_type": "audio/pcm;rate=16000"}}}))  # 3 bytes
    code, reason = await close_code_after(ws)
    assert code == 1007
    assert "even number of bytes" in reason


async def test_wrong_audio_mime_type_closes_1007(emu: LiveEmulator) -> None:
    ws = await raw_connect(emu)
    await ws.send(json.dumps(SETUP))
    await raw_recv(ws)
    await ws.send(json.dumps({"realtime_input": {"audio": {
        "data": "AAAA", "mime_type": "audio/mpeg"}}}))
    code, reason = await close_code_after(ws)
    assert code == 1007
    assert "audio/mpeg" in reason


async def test_sdk_sees_odd_length_audio_refused_as_api_error(emu: LiveEmulator) -> None:
    from google.genai import types

    with pytest.raises(errors.APIError) as caught:
        async with connect(emu) as session:
            await session.send_realtime_input(
                audio=types.Blob(data=b"\x01\x02\x03", mime_type="audio/pcm;rate=16000"))
            await receive_turn(session)
    assert caught.value.code == 1007


async def test_refused_clients_leave_a_record(emu: LiveEmulator) -> None:
    with pytest.raises(errors.APIError):
        async with connect(emu, model="no-such-model"):
            pass
    record = await emu.wait_closed()
    assert (record.close_code, record.closed_by) == (1008, "server")
