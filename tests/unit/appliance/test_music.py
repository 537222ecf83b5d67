"""Music through the real Appliance: ducked while a conversation is open or it rings,
stopped and refused while muted, stopped by `ctl stop` when nothing else is going on."""

from __future__ import annotations

import pytest

from daemon.core.state import State
from daemon.live.events import TurnComplete
from daemon.tools import ToolRegistry
from tests.unit.appliance.rig import WAKE, Rig

DUCKED = 0.6**2 * 0.1  # media.volume 60 % (square law), 20 dB down
FULL = 0.6**2


@pytest.fixture
def rig(tmp_path):
    rig = Rig({"timers": {"ring_seconds": 60}}, state_dir=tmp_path, music=True)
    yield rig
    rig.stop()


def tools(rig: Rig) -> ToolRegistry:
    return ToolRegistry.from_config(rig.config, relays={}, context=rig.appliance,
                                    camera_available=False)  # fmt: skip


def gain(rig: Rig) -> float:
    return rig.devices.speaker.background_gain


def play(rig: Rig, station: str = "Jazz") -> None:
    reply = rig.ctl("media", "play", station)
    assert reply.task.result()["message"] == f"playing {station}"


@pytest.mark.parametrize("how", ["wake word", "button", "ctl wake", "ctl say"])
def test_every_way_of_opening_a_conversation_ducks_the_music_until_it_ends(rig, how):
    play(rig)
    assert gain(rig) == pytest.approx(FULL)
    if how == "wake word":
        rig.hear(WAKE)
    elif how == "button":
        rig.press()
    elif how == "ctl wake":
        rig.ctl("wake")
    else:
        rig.ctl("say", "what is playing")
    assert gain(rig) == pytest.approx(DUCKED)  # in the same turn of the loop
    rig.open_session()
    rig.emit(TurnComplete())
    rig.advance(10)  # the follow-up window closes
    assert rig.appliance.machine.state is State.IDLE
    assert gain(rig) == pytest.approx(FULL)
    assert rig.player is not None and rig.player.state == "playing"


def test_a_ring_ducks_and_pause_mode_pauses(tmp_path):
    rig = Rig({"media": {"duck_or_pause": "pause"}, "timers": {"announce": False}},
              state_dir=tmp_path, music=True)  # fmt: skip
    try:
        play(rig)
        rig.run(tools(rig).call("set_timer", {"seconds": 1}))
        rig.advance(1.1)
        assert rig.appliance.machine.state is State.RINGING
        assert rig.devices.speaker.background_paused
        rig.ctl("stop")
        assert not rig.devices.speaker.background_paused
        assert rig.player is not None and rig.player.state == "playing"
    finally:
        rig.stop()


def test_mute_stops_the_music_and_refuses_it_until_unmuted(rig):
    play(rig)
    rig.hold()  # the button held: muted
    assert rig.player is not None and rig.player.state == "stopped"
    assert rig.devices.speaker.background_fed == 0  # nothing left to sound
    reply = rig.ctl("media", "play", "Jazz").task.result()
    assert reply["error"] == "not played: muted: unmute first"
    reply = rig.run(tools(rig).call("play_radio", {"station": "News"}))
    assert reply["result"]["message"] == "not played: muted: unmute first"
    rig.hold()
    play(rig, "News")


def test_ctl_stop_stops_a_ring_then_the_conversation_then_the_music(rig):
    play(rig)
    rig.hear(WAKE)
    assert rig.ctl("stop").task.result()["message"] == "stopped"
    assert rig.player is not None and rig.player.state == "playing"
    assert rig.ctl("stop").task.result()["message"] == "stopped the music"
    assert rig.player.state == "stopped"
    assert rig.ctl("stop").task.result()["message"] == "no conversation open"


def test_the_model_plays_pauses_and_stops_by_voice(rig):
    registry = tools(rig)
    assert {"play_radio", "play_url", "stop_music", "now_playing"} <= set(registry.names)
    assert "play_music" not in registry.names  # no library configured
    rig.hear(WAKE)
    rig.open_session()
    reply = rig.run(registry.call("play_radio", {"station": "News"}))
    assert reply["result"] == {"message": "playing News", "state": "playing"}
    assert gain(rig) == pytest.approx(DUCKED)  # started during the conversation: ducked
    now = rig.run(registry.call("now_playing", {}))["result"]
    assert (now["state"], now["source"]) == ("playing", "News")
    assert rig.run(registry.call("pause_music", {}))["result"]["state"] == "paused"
    assert rig.run(registry.call("resume_music", {}))["result"]["state"] == "playing"
    gone = rig.run(registry.call("play_radio", {"station": "Gone"}))["result"]["message"]
    assert gone == "cannot play Gone: example.org answered 404 Not Found: no such stream or file"
    assert rig.player is not None and rig.player.describe() == "News"  # still playing
    assert rig.run(registry.call("stop_music", {}))["result"] == {"message": "stopped", "state": "stopped"}
    reply = rig.run(registry.call("play_radio", {"station": "Jazz FM"}))
    assert "unknown station 'Jazz FM'" in reply["error"]


def test_status_shows_what_plays(rig):
    play(rig, "News")
    music = rig.ctl("status").task.result()["music"]
    assert (music["state"], music["source"]) == ("playing", "News")
    assert rig.ctl("media", "now").task.result()["message"] == "News"
