"""PortAudio's device scan leaves no ALSA plugin loaded: streams load their own."""

from __future__ import annotations

from pathlib import Path

import pyaudio

from daemon.sim import PulseAudioHarness
from hardware.audio import host


def alsa_plugins_loaded() -> set[str]:
    """ALSA plugin libraries (libasound_module_*) mapped into this process now."""
    maps = Path("/proc/self/maps").read_text().splitlines()
    return {Path(line.split()[-1]).name for line in maps if "libasound_module_" in line}


def test_the_scan_unloads_its_plugins_and_a_stream_still_opens(pulse: PulseAudioHarness):
    # activate() re-scanned: PortAudio opened every PCM the configuration defines,
    # the pulse ones through libasound_module_pcm_pulse.so.
    assert host.find_device("speaker", "output").name == "speaker"
    assert alsa_plugins_loaded() == set()

    stream = host.open_stream(format=pyaudio.paInt16, channels=1, rate=16000, output=True,
                              output_device_index=host.find_device("speaker", "output").index)
    try:
        assert "libasound_module_pcm_pulse.so" in alsa_plugins_loaded()
        stream.write(b"\0\0" * 1600)
    finally:
        host.close_stream(stream)

    assert host.rescan()
    assert alsa_plugins_loaded() == set()
    assert host.find_device("mic", "input").name == "mic"
