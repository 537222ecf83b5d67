"""Each generation refuses what its model page says it refuses, as the service does:
a 1007 close at the setup whose reason names the field. What it accepts works."""

from __future__ import annotations

import pytest
from google.genai import errors, types

from daemon.core.models import DEFAULT_MODEL, PREVIEW_MODEL
from daemon.emulator import LiveEmulator

from .helpers import connect, receive_turn

VOCABULARY = types.AudioTranscriptionConfig(
    custom_vocabulary=["Khao Soi"], language_codes=["th-TH"]
)


@pytest.mark.parametrize(
    ("model", "setting", "field"),
    [
        (DEFAULT_MODEL, {"enable_affective_dialog": True}, "enable_affective_dialog"),
        (DEFAULT_MODEL, {"proactivity": {"proactive_audio": False}}, "proactive_audio"),
        (DEFAULT_MODEL, {"thinking_config": {"thinking_budget": 512}}, "thinking_config"),
        (PREVIEW_MODEL, {"input_audio_transcription": VOCABULARY}, "custom_vocabulary"),
    ],
)
async def test_a_setting_the_model_refuses_fails_the_setup(
    emu: LiveEmulator, model, setting, field
):
    with pytest.raises(errors.APIError) as caught:
        async with connect(emu, model=model, **setting):
            pass
    assert caught.value.code == 1007
    assert (
        field in caught.value.details
        and "is not supported by models/gemini-" in caught.value.details
    )
    assert emu.sessions[-1].close_code == 1007


@pytest.mark.parametrize(
    ("model", "setting"),
    [
        (DEFAULT_MODEL, {"input_audio_transcription": VOCABULARY}),
        (DEFAULT_MODEL, {"proactivity": {"proactive_audio": True}}),
        (PREVIEW_MODEL, {"enable_affective_dialog": True}),
        (PREVIEW_MODEL, {"proactivity": {"proactive_audio": False}}),
        (PREVIEW_MODEL, {"thinking_config": {"thinking_budget": 512}}),
    ],
)
async def test_what_the_model_accepts_sets_up_and_answers(emu: LiveEmulator, model, setting):
    async with connect(emu, model=model, **setting) as session:
        assert session.setup_complete is not None
        await session.send_realtime_input(text="hello")
        messages = await receive_turn(session)
    assert messages[-1].server_content.turn_complete


async def test_an_unknown_model_is_refused_by_the_service_not_by_a_profile(emu: LiveEmulator):
    with pytest.raises(errors.APIError) as caught:
        async with connect(emu, model="gemini-9.9-live"):
            pass
    assert caught.value.code == 1008
