"""Music in Home Assistant: a now-playing sensor, a station select, play/pause/stop/next
buttons, a text entity to play a URL, and the music volume.

Kept beside the bridge rather than in it: the bridge only adds these
components to its discovery message, routes their command topics here and
hands over MediaChanged events. Commands take the appliance's own path
(`media_command`, the one `speakerd ctl play|pause|...` takes), so muting
still refuses music and the appliance still decides the ducking.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from daemon.core.events import MediaChanged
from daemon.mqtt.commands import BadPayload, press, text_of, volume
from daemon.mqtt.identity import Topics

log = logging.getLogger(__name__)

MAX_URL = 255
"""Home Assistant's text entity holds at most 255 characters."""
BUTTONS = (
    ("play", "Play", "mdi:play"),
    ("pause", "Pause", "mdi:pause"),
    ("stop", "Stop", "mdi:stop"),
    ("next", "Next", "mdi:skip-next"),
)
NOW_PLAYING_TEMPLATE = "{{ value_json.title or value_json.source or value_json.state }}"

Component = tuple[str, dict[str, Any]]
Put = Callable[[str, str], None]


class MediaOwner(Protocol):
    async def media_command(self, action: str, what: str = "") -> str: ...


def topic(topics: Topics, *leaf: str) -> str:
    return "/".join((topics.base, "media", *leaf))


def components(topics: Topics, stations: Sequence[str]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(key, platform, name, fields) of each music entity, for the discovery message."""
    found: list[tuple[str, str, str, dict[str, Any]]] = [
        ("now_playing", "sensor", "Now playing", {
            "state_topic": topic(topics, "state"), "value_template": NOW_PLAYING_TEMPLATE,
            "json_attributes_topic": topic(topics, "state"), "icon": "mdi:music",
        }),
        *(
            (f"media_{action}", "button", title, {
                "command_topic": topic(topics, action), "payload_press": "PRESS", "icon": icon,
            })
            for action, title, icon in BUTTONS
        ),
        ("play_url", "text", "Play URL", {
            "command_topic": topic(topics, "url", "set"), "max": MAX_URL, "min": 0,
            "pattern": r"^(https?://\S+)?$", "icon": "mdi:link-variant",
        }),
        ("media_volume", "number", "Music volume", {
            "command_topic": topic(topics, "volume", "set"),
            "state_topic": topic(topics, "volume", "state"), "min": 0, "max": 100, "step": 1,
            "mode": "slider", "unit_of_measurement": "%", "icon": "mdi:music-note",
        }),
    ]  # fmt: skip
    if stations:  # a select needs at least one option
        found.insert(1, ("source", "select", "Station", {
            "command_topic": topic(topics, "source", "set"),
            "state_topic": topic(topics, "source", "state"), "options": list(stations),
            "icon": "mdi:radio",
        }))  # fmt: skip
    return found


def handlers(
    topics: Topics, owner: MediaOwner, stations: Sequence[str]
) -> dict[str, Callable[[bytes], Awaitable[None]]]:
    """The command topics of the music entities and what each does."""

    async def source(payload: bytes) -> None:
        name = text_of(payload)
        if name not in stations:
            raise BadPayload(f"{name[:40]!r} is not one of the stations")
        _said("station", await owner.media_command("play_station", name))

    async def url(payload: bytes) -> None:
        text = text_of(payload)
        if not text:
            return  # Home Assistant clearing the field
        if len(text) > MAX_URL or not text.lower().startswith(("http://", "https://")):
            raise BadPayload("not an http:// or https:// URL of at most 255 characters")
        _said("play URL", await owner.media_command("play_url", text))

    async def music_volume(payload: bytes) -> None:
        await owner.media_command("volume", str(volume(payload)))

    def button(action: str) -> Callable[[bytes], Awaitable[None]]:
        async def pressed(payload: bytes) -> None:
            press(payload)
            _said(action, await owner.media_command("play_last" if action == "play" else action))

        return pressed

    found: dict[str, Callable[[bytes], Awaitable[None]]] = {
        topic(topics, "url", "set"): url,
        topic(topics, "volume", "set"): music_volume,
        **{topic(topics, action): button(action) for action, _, _ in BUTTONS},
    }
    if stations:
        found[topic(topics, "source", "set")] = source
    return found


def publish(topics: Topics, event: MediaChanged, put: Put, stations: Sequence[str]) -> None:
    """The retained state of the music entities after `event`. The select shows the
    station playing, else `None` (Home Assistant's "unknown": not one of its options)."""
    state = {
        "state": event.state,
        "title": event.title,
        "artist": event.artist,
        "source": event.source,
        "ducked": event.ducked,
    }
    put(topic(topics, "state"), json.dumps(state))
    put(topic(topics, "volume", "state"), str(event.volume))
    station = event.source if event.source is not None and event.source in stations else "None"
    put(topic(topics, "source", "state"), station)


def _said(what: str, message: str) -> None:
    log.info("MQTT: %s: %s", what, message)
