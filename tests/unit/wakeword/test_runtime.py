"""openWakeWord loads for inference in a fresh interpreter without scikit-learn."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from daemon.wakeword.models import REPO_MODELS_DIR
from tests.unit.wakeword.conftest import Clip

ROOT = REPO_MODELS_DIR.parent

PROBE = """
import json, sys
from daemon.wakeword.runtime import openwakeword_model_class
Model = openwakeword_model_class()
import openwakeword
try:
    openwakeword.train_custom_verifier()
    refused = None
except RuntimeError as exc:
    refused = str(exc)
helpers = [name for name in ("requests", "tqdm", "urllib3") if name in sys.modules]
import openwakeword.utils
try:
    openwakeword.utils.download_file("https://example.invalid/model.onnx", "/nonexistent")
    download = None
except RuntimeError as exc:
    download = str(exc)
import requests  # anyone else still gets the real package
print(json.dumps({"model": Model.__module__, "sklearn": "sklearn" in sys.modules,
                  "refused": refused, "helpers": helpers, "download": download,
                  "requests": hasattr(requests, "Session")}))
"""


def test_the_library_imports_without_its_training_code_or_download_helpers():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          check=True, timeout=120, cwd=ROOT)
    found = json.loads(done.stdout)
    assert found == {
        "model": "openwakeword.model",
        "sklearn": False,
        "refused": "speakerd does not train openWakeWord verifier models",
        "helpers": [],
        "download": "speakerd loads openWakeWord without requests: it never downloads models",
        "requests": True,
    }


def test_the_bench_baseline_runs_the_bare_library(tmp_path, hey_jarvis: Clip):
    """bench.bare_wakeword is the idle baseline; it scores the wake word like the daemon."""
    from tests.support.speech import write_wav

    wav = write_wav(tmp_path / "hey_jarvis.wav", hey_jarvis.audio)
    bare = subprocess.Popen(
        [sys.executable, "-m", "bench.bare_wakeword", str(wav), "--models-dir",
         str(REPO_MODELS_DIR)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert bare.stdin is not None and bare.stdout is not None
    assert json.loads(bare.stdout.readline()) == {"ready": True}
    bare.stdin.write("0\n")  # start "now": audio scored as fast as the pacing allows
    bare.stdin.flush()
    result = json.loads(bare.stdout.readline())
    assert bare.wait(60) == 0
    assert result["max_score"] > 0.9
    assert result["audio_seconds"] > 4.0


def test_the_daemons_lean_model_scores_every_frame_as_the_library_does(hey_jarvis: Clip):
    """Lean sessions, batches run in pieces, a shorter raw-audio history: the same scores."""
    import numpy as np

    from daemon.config.schema import WakeWordConfig
    from daemon.wakeword.detector import FRAME_SAMPLES, WakeWordDetector
    from daemon.wakeword.models import resolve_models
    from daemon.wakeword.runtime import openwakeword_model_class
    from tests.support.speech import concat, mix_noise

    config = WakeWordConfig(models=["hey_jarvis"])
    files = resolve_models(config)
    stock = openwakeword_model_class()(
        wakeword_models=[str(files.wake_words["hey_jarvis"])], inference_framework="onnx",
        melspec_model_path=str(files.melspectrogram), embedding_model_path=str(files.embedding))
    lean = WakeWordDetector(config, speech_gate=False)._model
    audio = concat(hey_jarvis.audio, mix_noise(hey_jarvis.audio, snr_db=10, seed=3))
    for model in (stock, lean):  # the same placeholder buffers: reset() draws random noise
        np.random.seed(11)
        model.reset()
    frames = range(0, len(audio) - FRAME_SAMPLES, FRAME_SAMPLES)
    stock_scores = [stock.predict(audio[i : i + FRAME_SAMPLES])["hey_jarvis_v0.1"] for i in frames]
    lean_scores = [lean.predict(audio[i : i + FRAME_SAMPLES])["hey_jarvis_v0.1"] for i in frames]
    assert max(stock_scores) > 0.9
    assert lean_scores == pytest.approx(stock_scores, abs=1e-5)


def test_the_daemons_reset_scores_as_the_librarys_own_reset_with_the_same_noise(hey_jarvis: Clip):
    """The daemon refills the feature buffer from the noise embedded at load instead of
    embedding new noise: after stale audio and a reset, every score is the library's."""
    import numpy as np

    from daemon.config.schema import WakeWordConfig
    from daemon.wakeword.detector import FRAME_SAMPLES
    from daemon.wakeword.models import resolve_models
    from daemon.wakeword.runtime import (
        load_model,
        openwakeword_model_class,
        placeholder_features,
        reset_model,
    )
    from tests.support.speech import concat, mix_noise

    files = resolve_models(WakeWordConfig(models=["hey_jarvis"]))
    np.random.seed(11)
    stock = openwakeword_model_class()(
        wakeword_models=[str(files.wake_words["hey_jarvis"])], inference_framework="onnx",
        melspec_model_path=str(files.melspectrogram), embedding_model_path=str(files.embedding))
    np.random.seed(11)
    daemons = load_model(files, longest_feed=FRAME_SAMPLES)
    placeholder = placeholder_features(daemons)
    stale = hey_jarvis.audio[: len(hey_jarvis.audio) // 2]
    for model in (stock, daemons):
        for i in range(0, len(stale) - FRAME_SAMPLES, FRAME_SAMPLES):
            model.predict(stale[i : i + FRAME_SAMPLES])
    np.random.seed(11)  # the library's reset embeds this noise again
    stock.reset()
    reset_model(daemons, placeholder)
    audio = concat(hey_jarvis.audio, mix_noise(hey_jarvis.audio, snr_db=10, seed=3))
    frames = range(0, len(audio) - FRAME_SAMPLES, FRAME_SAMPLES)
    stock_scores = [stock.predict(audio[i : i + FRAME_SAMPLES])["hey_jarvis_v0.1"] for i in frames]
    daemon_scores = [daemons.predict(audio[i : i + FRAME_SAMPLES])["hey_jarvis_v0.1"] for i in frames]
    assert max(stock_scores) > 0.9
    assert daemon_scores == pytest.approx(stock_scores, abs=1e-5)
