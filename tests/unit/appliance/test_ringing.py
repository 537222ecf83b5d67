"""Timers ringing through the real Appliance on a virtual clock: what the user hears and sees."""

from __future__ import annotations

import pytest

from daemon.appliance.control_desk import ControlDesk
from daemon.core.state import State
from daemon.live.events import ModelAudio, TurnComplete
from daemon.timers import sound_seconds
from daemon.tools import ToolRegistry
from tests.unit.appliance.rig import SILENCE, WAKE, Rig

# one play of the built-in alarm, then the default 1.2 s pause
PERIOD = sound_seconds("alarm") + 1.2


@pytest.fixture
def rig(tmp_path):
    rig = Rig({"timers": {"ring_seconds": 60}}, state_dir=tmp_path)
    yield rig
    rig.stop()


def alarms(rig: Rig) -> int:
    return rig.devices.speaker.sounds.count("alarm")


def tools(rig: Rig) -> ToolRegistry:
    return ToolRegistry.from_config(rig.config, relays={}, context=rig.appliance,
                                    camera_available=False)  # fmt: skip


def test_a_timer_set_by_the_model_rings_is_announced_and_the_button_stops_it(rig):
    reply = rig.run(tools(rig).call("set_timer", {"seconds": 3, "label": "tea"}))
    assert reply["result"]["label"] == "tea" and reply["result"]["left"] == "3 s"
    rig.advance(2.9)
    assert alarms(rig) == 0 and rig.appliance.machine.state is State.IDLE
    rig.advance(0.2)
    assert rig.appliance.machine.state is State.RINGING
    assert alarms(rig) == 1
    assert "chime" not in rig.devices.speaker.sounds  # an announcement is not a wake
    rig.open_session()
    assert rig.sessions[-1].texts == ["Say briefly, in one short sentence: your tea timer is done."]
    rig.hear(b"\x00\x20" * 640)  # the user talks over the ring: not sent while it rings
    assert rig.sessions[-1].audio == []
    rig.emit(ModelAudio(b"\0" * 960))
    rig.advance(PERIOD * 2)  # the ring holds off while the model speaks
    assert alarms(rig) == 1
    rig.devices.speaker.drain()
    rig.emit(TurnComplete())
    rig.advance(PERIOD)
    assert alarms(rig) == 2
    rig.press()
    assert rig.appliance.machine.state is State.LISTENING  # the announcement may be answered
    rig.advance(PERIOD * 3)
    assert alarms(rig) == 2
    assert rig.appliance.status().timers == ()


def test_offline_the_sound_alone_rings_and_the_next_wake_is_not_held_back(rig):
    rig.appliance.timers.set_timer(5, "eggs")
    rig.advance(5)
    rig.fail_to_open(fatal=False)
    assert "buzz" not in rig.devices.speaker.sounds
    assert rig.appliance.machine.state is State.RINGING
    rig.advance(PERIOD * 2)
    assert alarms(rig) == 3
    rig.ctl("stop")
    assert rig.requests[-1].task.result()["message"] == "stopped ringing"
    assert rig.appliance.machine.state is State.IDLE
    rig.hear(WAKE)
    assert rig.appliance.machine.state is State.WAKE  # no back-off from the announcement


def test_it_stops_by_itself_after_ring_seconds(rig):
    rig.appliance.timers.set_timer(1)
    rig.advance(1)
    rig.fail_to_open(fatal=False)
    rig.advance(59.9)
    assert rig.appliance.machine.state is State.RINGING
    rig.advance(0.2)
    assert rig.appliance.machine.state is State.IDLE
    played = alarms(rig)
    assert played == int(60 / PERIOD) + 1
    rig.advance(30)
    assert alarms(rig) == played


def test_two_due_together_ring_once_and_are_both_announced(rig):
    rig.appliance.timers.set_timer(10, "tea")
    rig.appliance.timers.set_timer(10.2, "eggs")
    rig.advance(10.3)
    assert alarms(rig) == 1 and len(rig.sessions) == 1
    rig.open_session()
    assert rig.sessions[-1].texts == [
        "Say briefly, in one short sentence: your tea timer is done; your eggs timer is done."
    ]


def test_a_ring_during_a_conversation_does_not_end_it(rig):
    rig.appliance.timers.set_timer(4, "tea")
    rig.hear(WAKE)
    rig.open_session()
    conversation = rig.appliance.conversation
    rig.advance(4)
    assert conversation.is_open and rig.appliance.machine.state is State.RINGING
    assert rig.sessions[-1].texts[-1].endswith("your tea timer is done.")
    assert len(rig.sessions) == 1
    rig.press()  # stops the ring, not the conversation
    assert conversation.is_open
    assert rig.appliance.machine.state is State.THINKING


def test_muted_it_rings_unannounced_and_the_button_stops_it(rig):
    rig.appliance.timers.set_timer(2, "tea")
    rig.run(rig.appliance.mute(True))
    rig.advance(2)
    assert rig.appliance.machine.state is State.RINGING
    assert rig.sessions == [] and alarms(rig) == 1
    assert rig.devices.microphone.paused
    rig.press()
    assert rig.appliance.machine.state is State.MUTED and rig.devices.microphone.paused


def test_the_wake_word_stops_a_ring_and_opens_nothing(tmp_path):
    rig = Rig({"timers": {"announce": False}}, state_dir=tmp_path)
    try:
        rig.appliance.timers.set_timer(2)
        rig.advance(2)
        assert rig.appliance.machine.state is State.RINGING
        rig.hear(SILENCE)
        rig.hear(WAKE)
        assert rig.appliance.machine.state is State.IDLE and rig.sessions == []
        assert rig.devices.speaker.flushes == 1  # the beep in flight is cut
    finally:
        rig.stop()


def test_ctl_lists_and_cancels_and_status_shows_timers(rig):
    rig.appliance.timers.set_timer(90, "pasta")
    rig.appliance.timers.set_alarm("07:00", label="call mom")
    listed = rig.run(ControlDesk(rig.appliance).list_timers())
    assert listed["message"].splitlines()[0].startswith("1  pasta  in 1 min 30 s  (")
    assert [t["label"] for t in rig.appliance.status().timers] == ["pasta", "call mom"]
    assert rig.run(ControlDesk(rig.appliance).cancel_timer("nope"))["error"].startswith("no timer or alarm")
    assert rig.run(ControlDesk(rig.appliance).cancel_timer("pasta"))["message"] == "cancelled the pasta timer"
    assert rig.run(ControlDesk(rig.appliance).cancel_timer("all"))["cancelled"] == ["the reminder to call mom"]


def test_the_tools_return_errors_the_model_can_relay(rig):
    registry = tools(rig)
    past = registry.validate("set_alarm", {"time": "7:00", "date": "2026-05-01"})
    assert past is None  # well-formed; the handler knows it is in the past
    reply = rig.run(registry.call("set_alarm", {"time": "7:00", "date": "2026-05-01"}))
    assert "is in the past" in reply["error"]
    reply = rig.run(registry.call("set_alarm", {"time": "25:00"}))
    assert "does not match" in reply["error"]
    reply = rig.run(registry.call("set_alarm", {"time": "07:00", "weekdays": "funday"}))
    assert "weekday 'funday' is not known" in reply["error"]
    reply = rig.run(registry.call("cancel_timer", {"which": "tea"}))
    assert "no timer or alarm 'tea'" in reply["error"]
    assert rig.run(registry.call("list_timers", {}))["result"]["timers"] == []
    ok = rig.run(registry.call("set_alarm", {"time": "18:00", "label": "call mom"}))
    assert ok["result"]["rings_at"].endswith("18:00:00 CEST")


def test_a_timer_due_while_another_rings_joins_the_ring_and_gets_its_full_time(rig):
    rig.appliance.timers.set_timer(2, "tea")
    rig.appliance.timers.set_timer(40, "eggs")
    rig.advance(2)
    rig.fail_to_open(fatal=False)
    rig.advance(38)
    assert [r.startswith("your eggs") for r in rig.appliance.status().ringing] == [False, True]
    rig.advance(59)  # 60 s from the second, not the first
    assert rig.appliance.machine.state is State.RINGING
    rig.advance(1.1)
    assert rig.appliance.machine.state is State.IDLE
