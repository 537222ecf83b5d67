"""A failed microphone or speaker is shown until that very device is back."""

from __future__ import annotations

from daemon.core.state import State
from tests.unit.appliance.rig import Rig


def test_the_speaker_coming_back_does_not_hide_a_missing_microphone():
    # Both are called "default" when the config names neither: they are told apart by role.
    rig = Rig()
    try:
        rig.audio_status("microphone", ok=False)
        rig.audio_status("speaker", ok=True)
        assert rig.appliance.machine.state is State.ERROR
        assert rig.appliance.status().last_error == "microphone gone"
        rig.audio_status("microphone", ok=True)
        assert rig.appliance.machine.state is State.IDLE
    finally:
        rig.stop()
