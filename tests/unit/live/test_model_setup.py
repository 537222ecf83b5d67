"""The setup sends only what the configured model's profile accepts."""

from __future__ import annotations

from daemon.config.schema import Config
from daemon.core.models import DEFAULT_MODEL, PREVIEW_MODEL, profile_for
from daemon.live.connect_config import build_connect_config, setup_extras


def config(model: str, **gemini) -> Config:
    return Config.model_validate({
        "gemini": {"model": model, **gemini},
        "relays": [{"name": "floor_lamp", "pin": 17}],
        "camera": {"enabled": True, "media_resolution": "medium"},
    })  # fmt: skip


def setup(cfg: Config):
    return build_connect_config(cfg.gemini, extras=setup_extras(cfg))


def test_on_3_8_vocabulary_language_search_and_frame_detail_are_sent():
    cfg = config(DEFAULT_MODEL, language="th-TH", vocabulary=["Khao Soi"], proactive_audio=True)
    sent = setup(cfg)

    heard = sent.input_audio_transcription
    assert heard.language_codes == ["th-TH"]
    # The owner's words, then the relay names and the wake word as they are spoken.
    assert heard.custom_vocabulary == ["Khao Soi", "floor lamp", "hey jarvis"]
    assert sent.speech_config.language_code == "th-TH"
    assert any(tool.google_search is not None for tool in sent.tools)
    assert sent.media_resolution.value == "MEDIA_RESOLUTION_MEDIUM"
    # Always on for 3.8: proactive_audio: true is the model's own behaviour, not sent.
    assert sent.proactivity is None
    assert sent.enable_affective_dialog is None and sent.thinking_config is None


def test_on_2_5_the_opt_ins_are_sent_and_the_vocabulary_is_not():
    cfg = config(
        PREVIEW_MODEL, affective_dialog=True, proactive_audio=True, thinking_budget=256,
        language="en-GB",
    )  # fmt: skip
    sent = setup(cfg)

    assert sent.enable_affective_dialog is True
    assert sent.proactivity.proactive_audio is True
    assert sent.thinking_config.thinking_budget == 256
    assert sent.input_audio_transcription.language_codes == ["en-GB"]
    assert sent.input_audio_transcription.custom_vocabulary is None


def test_unset_language_is_automatic_and_search_can_be_turned_off():
    sent = setup(config(DEFAULT_MODEL, google_search=False))
    assert sent.input_audio_transcription.language_codes is None
    assert sent.speech_config.language_code is None
    assert sent.tools is None


def test_profiles_say_how_tools_block_and_what_is_refused():
    new, old = profile_for(DEFAULT_MODEL), profile_for(f"models/{PREVIEW_MODEL}")
    assert (new.generation, old.generation) == ("3.8", "2.5")
    assert not new.tools_block_by_default and old.tools_block_by_default
    assert new.every_frame_counts and not old.every_frame_counts
    assert profile_for("gemini-5-live") is new  # unknown: the newest
    assert new.refused_setup_field({"proactivity.proactive_audio": True}) is None
    assert new.refused_setup_field({"proactivity.proactive_audio": False}) == (
        "proactivity.proactive_audio"
    )
