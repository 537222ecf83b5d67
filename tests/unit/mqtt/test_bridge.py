"""The speaker as Home Assistant sees it through a real broker: discovery, state, commands."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

from daemon.live.errors import SessionError
from daemon.live.events import InputTranscript, OutputTranscript, TurnComplete
from tests.support.mosquitto import recording
from tests.unit.appliance.rig import STOP, WAKE
from tests.unit.mqtt.conftest import running_speaker

DISCOVERY = "homeassistant/device/speakerd_0123abcd4567/config"
BASE = "speakerd/test"

# What Home Assistant requires of each platform in a discovered component
# (besides platform and unique_id, which device discovery requires of all).
REQUIRED = {
    "switch": {"command_topic"},
    "number": {"command_topic"},
    "sensor": {"state_topic"},
    "button": {"command_topic"},
    "notify": {"command_topic"},
    "event": {"state_topic", "event_types"},
    "text": {"command_topic"},
    "select": {"command_topic", "options"},
}


async def wait_until(predicate, timeout: float = 5.0, what: str = "condition") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def test_discovery_is_one_retained_device_with_every_entity(broker) -> None:
    mqtt = {**broker.section(), "area": "Kitchen", "configuration_url": "http://kitchen.local/"}
    async with running_speaker(mqtt, music=True) as speaker:
        await asyncio.wait_for(speaker.bridge.connected.wait(), 10)
        # A client that connects later (Home Assistant after a restart) still gets it all.
        async with recording(broker, "homeassistant/#", f"{BASE}/#") as ha:
            message = await ha.wait_for(DISCOVERY)
            await ha.wait_for(f"{BASE}/availability", "online")
            await ha.wait_for(f"{BASE}/state", "idle")
    assert message.retain
    payload = json.loads(message.payload)
    assert payload["device"]["identifiers"] == ["speakerd_0123abcd4567"]
    assert payload["device"]["name"] == "Kitchen speaker"
    assert payload["origin"]["name"] == "speakerd"
    assert payload["availability_topic"] == f"{BASE}/availability"
    components = payload["components"]
    for key, component in components.items():
        missing = REQUIRED[component["platform"]] - set(component)
        assert not missing, f"{key} lacks {missing}"
        assert component["unique_id"].startswith("speakerd_0123abcd4567_")
    assert len({c["unique_id"] for c in components.values()}) == len(components)
    platforms = {key: c["platform"] for key, c in components.items()}
    assert platforms == {
        "state": "sensor", "relay_lamp": "switch", "relay_fan": "switch", "mute": "switch",
        "volume": "number", "user_transcript": "sensor", "model_transcript": "sensor",
        "start": "button", "announce": "notify", "wake_word": "event", "stop_word": "event", "button": "event",
        "last_error": "sensor", "next_timer": "sensor", "memory": "sensor",
        "now_playing": "sensor", "source": "select", "media_play": "button",
        "media_pause": "button", "media_stop": "button", "media_next": "button",
        "play_url": "text", "media_volume": "number",
    }  # fmt: skip
    assert payload["device"]["suggested_area"] == "Kitchen"
    assert payload["device"]["configuration_url"] == "http://kitchen.local/"
    # Named by the relay (HA puts the device's name in front), with an icon.
    assert components["relay_lamp"]["name"] == "Lamp"
    assert components["relay_lamp"]["icon"] == "mdi:lightbulb"
    assert (components["relay_fan"]["name"], components["relay_fan"]["icon"]) == (
        "Fan", "mdi:power-socket-eu"
    )
    assert components["announce"]["icon"] == "mdi:bullhorn"
    assert components["wake_word"]["icon"] != components["user_transcript"]["icon"]
    assert components["source"]["options"] == ["Jazz", "News", "Gone"]
    assert components["play_url"]["max"] == 255
    assert components["last_error"]["entity_category"] == "diagnostic"
    assert components["volume"]["min"] == 0 and components["volume"]["max"] == 100
    options = set(components["state"]["options"])
    assert options >= {"idle", "listening", "speaking", "muted", "ringing"}


async def test_a_relay_switched_from_home_assistant(broker, mqtt_log) -> None:
    async with running_speaker(broker.section()) as speaker:
        await asyncio.wait_for(speaker.bridge.connected.wait(), 10)
        async with recording(broker, f"{BASE}/#") as ha:
            await ha.wait_for(f"{BASE}/relay/lamp/state", "OFF")
            assert not speaker.pin(17)
            await ha.publish(f"{BASE}/relay/lamp/set", "ON")
            await ha.wait_for(f"{BASE}/relay/lamp/state", "ON")
            assert speaker.pin(17), "the lamp's pin did not go high"
            assert not speaker.pin(27), "the fan switched too"
            ha.clear()
            await ha.publish(f"{BASE}/relay/lamp/set", "OFF")
            await ha.wait_for(f"{BASE}/relay/lamp/state", "OFF")
            assert not speaker.pin(17), "the lamp's pin did not go low"
    timeline = [r.getMessage() for r in mqtt_log.records if r.name == "speakerd.timeline"]
    assert "relay lamp switched on" in timeline  # the same path as the model's set_relay


async def test_state_follows_the_model_and_the_relays_switched_by_it(broker) -> None:
    """What changes on the speaker (a tool call, a conversation) shows in HA unasked."""
    async with running_speaker(broker.section()) as speaker:
        await asyncio.wait_for(speaker.bridge.connected.wait(), 10)
        async with recording(broker, f"{BASE}/#") as ha:
            await ha.wait_for(f"{BASE}/relay/fan/state", "OFF")
            reply = await speaker.tools.call("set_relay", {"name": "fan", "state": "on"})
            assert reply == {"result": {"name": "fan", "state": "on"}}
            await ha.wait_for(f"{BASE}/relay/fan/state", "ON")

            await speaker.appliance.hear(WAKE)  # the wake word
            event = await ha.wait_for(f"{BASE}/event/wake_word")
            assert not event.retain
            assert json.loads(event.payload)["event_type"] == "detected"
            await ha.wait_for(f"{BASE}/state", "wake")
            session = speaker.sessions[-1]
            session.open()
            await ha.wait_for(f"{BASE}/state", "listening")
            session.emit(InputTranscript("what time is it"))
            session.emit(OutputTranscript("It is noon."))
            session.emit(TurnComplete())
            user = await ha.wait_for(f"{BASE}/transcript/user")
            model = await ha.wait_for(f"{BASE}/transcript/model")
    assert json.loads(user.payload)["text"] == "what time is it"
    assert json.loads(model.payload)["text"] == "It is noon."
    said_at = datetime.fromisoformat(json.loads(user.payload)["at"])  # ISO 8601, with its zone
    assert said_at.tzinfo is not None


async def test_mute_volume_and_start_from_home_assistant(broker) -> None:
    async with running_speaker(broker.section()) as speaker:
        await asyncio.wait_for(speaker.bridge.connected.wait(), 10)
        async with recording(broker, f"{BASE}/#") as ha:
            await ha.publish(f"{BASE}/volume/set", "42")
            await ha.wait_for(f"{BASE}/volume/state", "42")
            assert speaker.devices.speaker.volume == 42

            await ha.publish(f"{BASE}/conversation/start", "PRESS")
            await ha.wait_for(f"{BASE}/state", "wake")
            assert len(speaker.sessions) == 1

            await ha.publish(f"{BASE}/mute/set", "ON")
            await ha.wait_for(f"{BASE}/state", "muted")
            await ha.wait_for(f"{BASE}/mute/state", "ON")
            assert speaker.appliance.status().muted
            assert speaker.devices.microphone.paused
            # Muted, the start button is refused like the physical one.
            await ha.publish(f"{BASE}/conversation/start", "PRESS")
            ha.clear()
            await ha.publish(f"{BASE}/mute/set", "OFF")
            await ha.wait_for(f"{BASE}/mute/state", "OFF")
            assert not speaker.appliance.status().muted
            assert len(speaker.sessions) == 1


async def test_an_announcement_is_said_through_a_live_session(broker) -> None:
    async with running_speaker(broker.section()) as speaker:
        await asyncio.wait_for(speaker.bridge.connected.wait(), 10)
        async with recording(broker, f"{BASE}/#") as ha:
            await ha.publish(f"{BASE}/announce", "Someone is at the front door")
            await ha.wait_for(f"{BASE}/state", "wake")
            session = speaker.sessions[-1]
            session.open()
            await wait_until(lambda: session.texts, what="the announcement to reach the session")
            await ha.wait_for(f"{BASE}/state", "thinking")
    assert "Someone is at the front door" in session.texts[0]
    assert session.texts[0].startswith("Read this announcement")
    assert session.tools is False  # read out by a session that declares no tool
    assert speaker.devices.speaker.sounds == []  # no wake chime: the model speaks first


async def test_bad_payloads_are_refused_and_change_nothing(broker, mqtt_log) -> None:
    async with recording(broker, "none") as someone:  # a command left retained by mistake
        await someone.publish(f"{BASE}/relay/lamp/set", "ON", retain=True)
    async with running_speaker(broker.section()) as speaker:
        await asyncio.wait_for(speaker.bridge.connected.wait(), 10)
        async with recording(broker, f"{BASE}/#") as ha:
            await ha.wait_for(f"{BASE}/state", "idle")
            for topic, payload in [
                ("relay/lamp/set", "BANANA"),
                ("relay/lamp/set", b"\xff\xfe"),
                ("volume/set", "200"),
                ("volume/set", "loud"),
                ("volume/set", "nan"),
                ("mute/set", "maybe"),
                ("conversation/start", "GO"),
                ("announce", "   "),
                ("announce", "x" * 3000),
            ]:
                await ha.publish(f"{BASE}/{topic}", payload)
            await wait_until(
                lambda: len([r for r in mqtt_log.records if "refused" in r.getMessage()]) >= 10,
                what="ten refusals in the log",
            )
            refusals = [r.getMessage() for r in mqtt_log.records if "refused" in r.getMessage()]
            await someone_clears(broker)
        assert not speaker.pin(17)
        assert speaker.devices.speaker.volume == 100  # the scripted speaker's start value
        assert speaker.sessions == []
        assert not speaker.appliance.status().muted
        assert str(speaker.appliance.machine.state) == "idle"
    assert len(refusals) == 10, refusals
    assert any("'BANANA' is not ON or OFF" in line for line in refusals)
    assert any("'200' is out of range" in line for line in refusals)
    assert any("retained command" in line for line in refusals)


async def someone_clears(broker) -> None:
    async with recording(broker, "none") as someone:
        await someone.publish(f"{BASE}/relay/lamp/set", "", retain=True)


async def test_a_clean_stop_says_offline_and_keeps_it(broker) -> None:
    async with running_speaker(broker.section()) as speaker:
        await asyncio.wait_for(speaker.bridge.connected.wait(), 10)
    async with recording(broker, f"{BASE}/availability") as ha:  # Home Assistant, later
        message = await ha.wait_for(f"{BASE}/availability")
    assert message.payload == b"offline" and message.retain


async def test_home_assistant_coming_back_gets_the_discovery_again(broker, mqtt_log) -> None:
    """HA's birth message (`online` on <prefix>/status) after its restart without a broker one."""
    async with running_speaker(broker.section()) as speaker:
        await asyncio.wait_for(speaker.bridge.connected.wait(), 10)
        async with recording(broker, DISCOVERY) as ha:
            await ha.wait_for(DISCOVERY)
            ha.clear()
            await ha.publish("homeassistant/status", "online")
            again = await ha.wait_for(DISCOVERY)
    assert json.loads(again.payload)["device"]["name"] == "Kitchen speaker"
    assert any("Home Assistant is back" in r.getMessage() for r in mqtt_log.records)


async def test_button_events_and_the_last_error(broker) -> None:
    async with running_speaker(broker.section()) as speaker:
        await asyncio.wait_for(speaker.bridge.connected.wait(), 10)
        async with recording(broker, f"{BASE}/#") as ha:
            speaker.appliance.button_pressed()  # as gpiozero's thread hands it to the loop
            press = await ha.wait_for(f"{BASE}/event/button")
            speaker.sessions[-1].fail_to_open(SessionError("no network"))
            error = await ha.wait_for(f"{BASE}/last_error")
            ha.clear()
            speaker.appliance.button_held()
            hold = await ha.wait_for(f"{BASE}/event/button")
            await ha.wait_for(f"{BASE}/state", "muted")
            await speaker.appliance.mute(False)
            ha.clear()
            speaker.appliance.press()  # `ctl wake` is not a press of the button
            await ha.wait_for(f"{BASE}/state", "wake")
            assert ha.payloads(f"{BASE}/event/button") == []
        async with recording(broker, f"{BASE}/last_error") as later:  # kept for HA's restart
            kept = await later.wait_for(f"{BASE}/last_error")
    assert kept.retain and kept.payload == error.payload
    assert json.loads(press.payload) == {"event_type": "press"} and not press.retain
    assert json.loads(hold.payload) == {"event_type": "hold"}
    assert "no network" in json.loads(error.payload)["text"]


async def test_stop_said_over_a_ring_is_an_event(broker, tmp_path) -> None:
    async with running_speaker(broker.section(), timers_dir=tmp_path) as speaker:
        await asyncio.wait_for(speaker.bridge.connected.wait(), 10)
        timers = speaker.appliance.timers
        assert timers is not None
        timers.set_timer(1, "tea")
        async with recording(broker, f"{BASE}/#") as ha:
            await ha.wait_for(f"{BASE}/state", "ringing")
            await speaker.appliance.hear(STOP)
            stopped = await ha.wait_for(f"{BASE}/event/stop_word")
    assert json.loads(stopped.payload) == {"event_type": "detected", "score": 0.9}
    assert not stopped.retain and not speaker.appliance.ringing.active


async def test_music_from_home_assistant_and_its_now_playing(broker, mqtt_log) -> None:
    async with running_speaker(broker.section(), music=True) as speaker:
        await asyncio.wait_for(speaker.bridge.connected.wait(), 10)
        player = speaker.appliance.media
        assert player is not None
        async with recording(broker, f"{BASE}/#") as ha:
            stopped = json.loads((await ha.wait_for(f"{BASE}/media/state")).payload)
            assert stopped["state"] == "stopped"
            ha.clear()
            await ha.publish(f"{BASE}/media/source/set", "News")
            await ha.wait_for(f"{BASE}/media/source/state", "News")
            playing = json.loads(ha.payloads(f"{BASE}/media/state")[-1])
            assert (playing["state"], playing["source"]) == ("playing", "News")

            await ha.publish(f"{BASE}/media/volume/set", "30")
            await ha.wait_for(f"{BASE}/media/volume/state", "30")
            assert player.volume == 30
            ha.clear()
            await ha.publish(f"{BASE}/media/pause", "PRESS")
            await wait_until(lambda: player.state == "paused", what="paused")
            await ha.publish(f"{BASE}/media/play", "PRESS")
            await wait_until(lambda: player.state == "playing", what="resumed")
            await ha.publish(f"{BASE}/media/stop", "PRESS")
            await wait_until(lambda: player.state == "stopped", what="stopped")

            await ha.publish(f"{BASE}/media/url/set", "http://example.org/stream.mp3")
            await wait_until(lambda: player.state == "playing", what="the URL playing")
            assert player.now()["source"] == "url"
            await ha.wait_for(f"{BASE}/media/source/state", "None")  # not a station: unknown
            await ha.publish(f"{BASE}/media/url/set", "ftp://example.org/x")  # refused
            await ha.publish(f"{BASE}/media/source/set", "Nowhere")  # refused
            await ha.publish(f"{BASE}/mute/set", "ON")  # muted: the music stops
            await wait_until(lambda: player.state == "stopped", what="muted music to stop")
    refusals = [r.getMessage() for r in mqtt_log.records if "refused the command" in r.getMessage()]
    assert len(refusals) == 2, refusals
