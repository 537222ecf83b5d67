"""wake_word.engine: microwakeword behind the listener the appliance already drives."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from daemon.config.schema import WakeWordConfig
from daemon.wakeword import models
from daemon.wakeword.engines import make_detector
from daemon.wakeword.listener import WakeWordListener
from daemon.wakeword.micro_engine import MicroWakeWordDetector
from daemon.wakeword.models import WakeWordModelError
from tests.support.speech import concat, silence, speech_bounds, synthesize

CONFIG = WakeWordConfig(engine="microwakeword", models=["okay_nabu"])


def test_the_models_own_cutoff_is_the_default_threshold_unless_one_is_set():
    assert MicroWakeWordDetector(CONFIG).thresholds == {"okay_nabu": 0.85}
    own = WakeWordConfig(engine="microwakeword", models=["okay_nabu"], threshold=0.6)
    assert MicroWakeWordDetector(own).thresholds == {"okay_nabu": 0.6}


async def test_the_listener_wakes_on_okay_nabu_and_keeps_the_words_after_it():
    speech = synthesize("okay nabu", voice="en-us", speed=150)
    command = synthesize("turn on the lamp", voice="en-us", speed=150)
    audio = concat(silence(2.0), speech, command, silence(1.0))
    end = (32000 + speech_bounds(speech)[1]) / 16000
    listener = WakeWordListener(CONFIG)
    try:
        assert isinstance(await listener.ready(), MicroWakeWordDetector)
        found = []
        for start in range(0, len(audio), 1280):  # the microphone's 80 ms chunks
            detection = await listener.process(audio[start : start + 1280].tobytes())
            if detection is not None:
                found.append(detection)
        assert [d.model for d in found] == ["okay_nabu"]
        assert end - 0.3 < found[0].time < end + 0.8
        sent = np.frombuffer(listener.audio_since_wake(found[0]), "<i2")
        assert len(sent) >= len(command)  # the command is in what the session gets first
    finally:
        listener.close()


async def test_record_then_process_starts_afresh_on_the_stream_clock():
    listener = WakeWordListener(CONFIG)
    try:
        await listener.process(silence(1.0).tobytes())
        listener.record(silence(2.0).tobytes())
        listener.pass_over(silence(0.4).tobytes())
        await listener.process(silence(0.4).tobytes())
        detector = await listener.ready()
        assert detector.stream_time == pytest.approx(3.8)
        assert listener.stream_time == pytest.approx(3.8)
        assert not listener.quiet  # every chunk is scored as it comes
    finally:
        listener.close()


def test_an_ordinary_sentence_does_not_wake():
    detector = make_detector(CONFIG)
    audio = concat(silence(2.0), synthesize("the weather today is mild with a light breeze"),
                   silence(1.0))
    assert detector.feed(audio) == []


def test_a_damaged_custom_model_is_named(tmp_path):
    from daemon.wakeword.micro import builtin_models_dir

    shutil.copy(builtin_models_dir() / "okay_nabu.json", tmp_path / "mine.json")
    (tmp_path / "okay_nabu.tflite").write_bytes(b"\0" * 64)
    config = WakeWordConfig(engine="microwakeword", models=[str(tmp_path / "mine.json")])
    with pytest.raises(WakeWordModelError, match=r"okay_nabu\.tflite is not a valid model"):
        make_detector(config)


def test_a_garbage_openwakeword_model_is_not_a_valid_model(tmp_path):
    for name in ("melspectrogram.onnx", "embedding_model.onnx"):
        shutil.copy(models.REPO_MODELS_DIR / name, tmp_path / name)
    (tmp_path / "hey_jarvis_v0.1.onnx").write_bytes(b"not a model")
    with pytest.raises(WakeWordModelError) as caught:
        make_detector(WakeWordConfig(models_dir=tmp_path))
    assert f"{tmp_path / 'hey_jarvis_v0.1.onnx'} is not a valid model" in str(caught.value)
    assert "INVALID_PROTOBUF" not in str(caught.value)


def test_speakerd_detect_follows_the_configured_engine(tmp_path):
    from tests.support.speech import write_wav
    from tests.unit.wakeword.test_cli_detect import speakerd

    wav = write_wav(tmp_path / "room.wav", concat(silence(2.0), synthesize("okay nabu"), silence(1.0)))
    config = tmp_path / "config.yaml"
    config.write_text("wake_word:\n  engine: microwakeword\n  models: [okay_nabu]\n")
    result = speakerd("--config", config, wav, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "okay_nabu" in result.stdout and "1 detection in" in result.stdout
