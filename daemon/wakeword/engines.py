"""Which wake engine a config asks for: its model files and its detector.

The listener (and anything else that scores a stream) calls these instead of
naming an engine, so `wake_word.engine` is the only switch.
"""

from __future__ import annotations

from daemon.config.schema import WakeWordConfig
from daemon.wakeword.both_engines import BothEnginesDetector, BothModelFiles, resolve_both_models
from daemon.wakeword.detector import WakeWordDetector
from daemon.wakeword.micro_engine import (
    MicroModelFiles,
    MicroWakeWordDetector,
    resolve_micro_models,
)
from daemon.wakeword.models import ModelFiles, resolve_models

EngineFiles = ModelFiles | MicroModelFiles | BothModelFiles
Detector = WakeWordDetector | MicroWakeWordDetector | BothEnginesDetector


def resolve_engine_models(config: WakeWordConfig) -> EngineFiles:
    """The files the configured engine needs; WakeWordModelError naming a missing one."""
    if config.engine == "microwakeword":
        return resolve_micro_models(config)
    if config.engine == "both":
        return resolve_both_models(config)
    return resolve_models(config)


def make_detector(
    config: WakeWordConfig, files: EngineFiles | None = None, *, speech_gate: bool = True
) -> Detector:
    """The configured engine's detector, its models loaded (WakeWordModelError if they cannot be)."""
    if config.engine == "microwakeword":
        if files is not None and not isinstance(files, MicroModelFiles):
            raise TypeError("microwakeword needs MicroModelFiles")
        return MicroWakeWordDetector(config, files, speech_gate=speech_gate)
    if config.engine == "both":
        if files is not None and not isinstance(files, BothModelFiles):
            raise TypeError("both needs BothModelFiles")
        return BothEnginesDetector(config, files, speech_gate=speech_gate)
    if files is not None and not isinstance(files, ModelFiles):
        raise TypeError("openwakeword needs ModelFiles")
    return WakeWordDetector(config, files, speech_gate=speech_gate)
