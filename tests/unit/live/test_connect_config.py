"""The setup a user's gemini: section produces, checked without a network."""

from pathlib import Path

import pytest
from google.genai import types

from daemon.config.schema import Config
from daemon.live.connect_config import (
    PING_INTERVAL_S,
    PING_TIMEOUT_S,
    build_connect_config,
    function_declarations,
    make_client,
)
from daemon.live.errors import FatalSessionError

RELAY_TOOL = {
    "name": "set_relay",
    "description": "Switch a relay.",
    "parameters": {
        "type": "OBJECT",
        "properties": {"name": {"type": "STRING"}, "on": {"type": "BOOLEAN"}},
        "required": ["name", "on"],
    },
}


def gemini(**values):
    return Config.model_validate({"gemini": values}).gemini


def test_defaults_ask_for_audio_voice_transcripts_vad_compression_and_handles():
    config = build_connect_config(gemini(voice="Puck"), function_declarations([RELAY_TOOL]))

    assert config.response_modalities == [types.Modality.AUDIO]
    assert config.speech_config.voice_config.prebuilt_voice_config.voice_name == "Puck"
    assert "smart speaker" in config.system_instruction.parts[0].text
    assert config.tools[0].function_declarations[0].name == "set_relay"
    params = config.tools[0].function_declarations[0].parameters
    assert params.properties["on"].type == types.Type.BOOLEAN
    assert config.input_audio_transcription is not None
    assert config.output_audio_transcription is not None
    detection = config.realtime_input_config.automatic_activity_detection
    assert detection.disabled is False
    assert detection.silence_duration_ms == 500
    assert (
        config.realtime_input_config.activity_handling
        == types.ActivityHandling.START_OF_ACTIVITY_INTERRUPTS
    )
    assert config.context_window_compression.trigger_tokens == 25600
    assert config.context_window_compression.sliding_window.target_tokens == 12800
    assert config.session_resumption is not None
    assert config.session_resumption.handle is None


def test_switches_in_the_config_turn_features_off():
    config = build_connect_config(
        gemini(
            transcription=False,
            session_resumption=False,
            compression={"enabled": False},
            silence_duration_ms=900,
            google_search=False,
        ),
        resumption_handle="h-1",
    )
    assert config.input_audio_transcription is None
    assert config.output_audio_transcription is None
    assert config.context_window_compression is None
    assert config.session_resumption is None
    assert config.tools is None
    assert config.realtime_input_config.automatic_activity_detection.silence_duration_ms == 900


def test_a_resumed_connection_carries_the_handle():
    config = build_connect_config(gemini(), resumption_handle="Cj0K-handle")
    assert config.session_resumption.handle == "Cj0K-handle"


def test_a_bad_tool_declaration_is_named():
    with pytest.raises(ValueError, match=r"'broken'.*parameters"):
        function_declarations([{"name": "broken", "parameters": "not a schema"}])


def test_duplicate_tool_names_are_refused():
    with pytest.raises(ValueError, match="set_relay"):
        function_declarations([RELAY_TOOL, RELAY_TOOL])


def test_missing_key_is_fatal_and_names_the_setting():
    with pytest.raises(FatalSessionError, match="GEMINI_API_KEY"):
        make_client(gemini(), "  ")


def test_unreadable_ca_file_is_fatal_and_names_the_file(tmp_path: Path):
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate")
    with pytest.raises(FatalSessionError, match="ca_file"):
        make_client(gemini(ca_file=str(bogus), base_url="https://127.0.0.1:9"), "key")


def test_a_silently_vanished_network_is_noticed_within_seconds_by_default():
    # websockets' own defaults take 40 s; test_session_recovery shows the keepalive works.
    assert PING_INTERVAL_S + PING_TIMEOUT_S <= 15


def test_no_base_url_means_google():
    # The configured URL and TLS context are used by every test against the emulator;
    # unset, the SDK's own endpoint (Google) is the one left.
    assert gemini().base_url is None
