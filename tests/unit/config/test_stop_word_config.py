"""wake_word.engine and stop_word: what the config accepts and how it says no."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from daemon.config.schema import Config, StopWordConfig, WakeWordConfig


def test_defaults():
    config = Config()
    assert config.wake_word.engine == "both"
    assert config.stop_word == StopWordConfig(enabled=True, threshold=0.5)
    assert config.stop_word.model is None


@pytest.mark.parametrize(
    ("models", "engine"),
    [
        (["hey_jarvis"], "both"),
        (["alexa", "hey_mycroft"], "both"),
        (["hey_rhasspy"], "openwakeword"),
        (["/srv/speakerd/mine.onnx"], "openwakeword"),
        (["okay_nabu"], "microwakeword"),
        (["/srv/speakerd/mine.json"], "microwakeword"),
    ],
)
def test_an_unset_engine_is_the_one_that_has_the_models(models, engine):
    assert WakeWordConfig(models=models).engine == engine


def test_an_unknown_engine_lists_the_allowed_ones():
    with pytest.raises(ValidationError, match="'both', 'openwakeword' or 'microwakeword'"):
        WakeWordConfig(engine="snowboy")


@pytest.mark.parametrize(
    ("engine", "name", "allowed"),
    [
        ("microwakeword", "hey_rhasspy", "hey_jarvis, okay_nabu, alexa, hey_mycroft"),
        ("openwakeword", "okay_nabu", "hey_jarvis, alexa, hey_mycroft, hey_rhasspy"),
    ],
)
def test_model_names_are_checked_per_engine(engine, name, allowed):
    with pytest.raises(ValidationError, match=f"unknown wake word '{name}' for engine {engine}; allowed: {allowed}"):
        WakeWordConfig(engine=engine, models=[name])


def test_each_engine_takes_its_own_files():
    assert WakeWordConfig(engine="microwakeword", models=["okay_nabu", "/m/mine.json"]).models
    with pytest.raises(ValidationError, match=r"a path to a \.json file"):
        WakeWordConfig(engine="microwakeword", models=["/m/mine.onnx"])


def test_thresholds_name_microwakeword_models_by_their_names():
    config = WakeWordConfig(engine="microwakeword", models=["okay_nabu"], thresholds={"okay_nabu": 0.9})
    assert config.thresholds == {"okay_nabu": 0.9}


@pytest.mark.parametrize(
    ("section", "match"),
    [
        ({"threshold": 1.5}, "less than or equal to 1"),
        ({"model": "/models/stop.tflite"}, r"not a microWakeWord model description \(\.json\)"),
        ({"sensitivity": 0.5}, "Extra inputs are not permitted"),
        ({"refractory_seconds": -1}, "greater than or equal to 0"),
    ],
)
def test_stop_word_rejects(section, match):
    with pytest.raises(ValidationError, match=match):
        Config.model_validate({"stop_word": section})
