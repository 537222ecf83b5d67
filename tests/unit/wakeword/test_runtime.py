"""openWakeWord loads for inference in a fresh interpreter without scikit-learn."""

from __future__ import annotations

import json
import subprocess
import sys

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
print(json.dumps({"model": Model.__module__, "sklearn": "sklearn" in sys.modules,
                  "refused": refused}))
"""


def test_the_library_imports_without_its_training_code():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          check=True, timeout=120, cwd=ROOT)
    found = json.loads(done.stdout)
    assert found == {"model": "openwakeword.model", "sklearn": False,
                     "refused": "speakerd does not train openWakeWord verifier models"}


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
