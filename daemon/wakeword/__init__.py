"""Wake-word detection (openWakeWord on ONNX) and the pre-roll that keeps the first words."""

from daemon.wakeword.detector import FRAME_SAMPLES, SAMPLE_RATE, Detection, WakeWordDetector
from daemon.wakeword.listener import POST_WAKE_LOOKBACK_SECONDS, WakeWordListener
from daemon.wakeword.models import ModelFiles, WakeWordModelError, find_models_dir, resolve_models
from daemon.wakeword.preroll import PreRollBuffer

__all__ = [
    "FRAME_SAMPLES",
    "POST_WAKE_LOOKBACK_SECONDS",
    "SAMPLE_RATE",
    "Detection",
    "ModelFiles",
    "PreRollBuffer",
    "WakeWordDetector",
    "WakeWordListener",
    "WakeWordModelError",
    "find_models_dir",
    "resolve_models",
]
