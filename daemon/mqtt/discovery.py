"""The Home Assistant discovery message: one device, every entity in one payload.

Device discovery (`<prefix>/device/<node_id>/config`, retained) lets Home
Assistant create or update the whole speaker at once; each component carries
the fields its platform requires (`platform`, `unique_id`, and its topics).
Commands use Home Assistant's default payloads (ON/OFF, PRESS) so nothing
needs templates on the Home Assistant side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import metadata
from typing import Any

from daemon.core.state import State
from daemon.mqtt import media
from daemon.mqtt.identity import OFF, OFFLINE, ON, ONLINE, PRESS, Identity

WAKE_WORD_EVENTS = ("detected",)
BUTTON_EVENTS = ("press", "hold")
# Home Assistant keeps at most 255 characters of a sensor state: the full text
# stays in the attributes (transcripts, the last error).
TEXT_TEMPLATE = "{{ value_json.text[:255] }}"
# Home Assistant reads the payload `None` as "unknown": no timer or alarm is pending.
NEXT_TIMER_TEMPLATE = "{{ value_json.at if value_json.at else 'None' }}"


def version() -> str:
    try:
        return metadata.version("speakerd")
    except metadata.PackageNotFoundError:
        return "unknown"


def discovery_payload(
    identity: Identity,
    relays: Mapping[str, str],
    stations: Sequence[str] = (),
    *,
    area: str | None = None,
    configuration_url: str | None = None,
) -> dict[str, Any]:
    """The retained config message; `relays` maps each relay's name to its description,
    `stations` names the radio stations (the music entities' source select)."""
    topics = identity.topics
    node = identity.node_id

    def component(key: str, platform: str, name: str, **fields: Any) -> tuple[str, dict[str, Any]]:
        return key, {"platform": platform, "unique_id": f"{node}_{key}", "name": name, **fields}

    entries = [
        component(
            "state", "sensor", "State", state_topic=topics.state,
            device_class="enum", options=[s.value for s in State], icon="mdi:speaker-message",
        ),
        *(
            component(
                f"relay_{name}", "switch", relay_title(name),
                command_topic=topics.relay(name, "set"), state_topic=topics.relay(name, "state"),
                payload_on=ON, payload_off=OFF, icon=relay_icon(name, description),
            )
            for name, description in relays.items()
        ),
        component(
            "mute", "switch", "Mute", command_topic=topics.control("mute", "set"),
            state_topic=topics.control("mute", "state"), payload_on=ON, payload_off=OFF,
            icon="mdi:microphone-off", entity_category="config",
        ),
        component(
            "volume", "number", "Volume", command_topic=topics.control("volume", "set"),
            state_topic=topics.control("volume", "state"), min=0, max=100, step=1,
            mode="slider", unit_of_measurement="%", icon="mdi:volume-high",
            entity_category="config",
        ),
        *(
            component(
                f"{role}_transcript", "sensor", title, state_topic=topics.transcript(role),
                value_template=TEXT_TEMPLATE, json_attributes_topic=topics.transcript(role),
                icon=icon,
            )
            for role, title, icon in (
                ("user", "Last user transcript", "mdi:account-voice"),
                ("model", "Last model transcript", "mdi:robot"),
            )
        ),
        component(
            "start", "button", "Start conversation", command_topic=topics.start,
            payload_press=PRESS, icon="mdi:microphone-message",
        ),
        component(
            "announce", "notify", "Announce", command_topic=topics.announce, icon="mdi:bullhorn",
        ),
        component(
            "wake_word", "event", "Wake word", state_topic=topics.event("wake_word"),
            event_types=list(WAKE_WORD_EVENTS), icon="mdi:ear-hearing",
        ),
        component(
            "stop_word", "event", "Stop word", state_topic=topics.event("stop_word"),
            event_types=list(WAKE_WORD_EVENTS), icon="mdi:stop-circle-outline",
        ),
        component(
            "button", "event", "Button", state_topic=topics.event("button"),
            event_types=list(BUTTON_EVENTS), device_class="button",
        ),
        component(
            "next_timer", "sensor", "Next timer", state_topic=topics.next_timer,
            device_class="timestamp", value_template=NEXT_TIMER_TEMPLATE,
            json_attributes_topic=topics.next_timer, icon="mdi:timer-outline",
        ),
        component(
            "memory", "sensor", "Remembered facts", state_topic=topics.memory,
            state_class="measurement", icon="mdi:brain",
        ),
        component(
            "last_error", "sensor", "Last error", state_topic=topics.last_error,
            value_template=TEXT_TEMPLATE, json_attributes_topic=topics.last_error,
            entity_category="diagnostic", icon="mdi:alert-circle-outline",
        ),
        *(
            component(key, platform, name, **fields)
            for key, platform, name, fields in media.components(topics, stations)
        ),
    ]  # fmt: skip
    device: dict[str, Any] = {
        "identifiers": [node],
        "name": identity.name,
        "manufacturer": "speakerd",
        "model": "speakerd smart speaker",
        "sw_version": version(),
    }
    if area:
        device["suggested_area"] = area
    if configuration_url:
        device["configuration_url"] = configuration_url
    return {
        "device": device,
        "origin": {"name": "speakerd", "sw_version": version()},
        "availability_topic": topics.availability,
        "payload_available": ONLINE,
        "payload_not_available": OFFLINE,
        "qos": 1,
        "components": dict(entries),
    }


LIGHT_WORDS = ("lamp", "light", "bulb", "led")


def relay_title(name: str) -> str:
    """The switch's name in Home Assistant: the relay's own, title-cased ("Lamp",
    "Floor Lamp"); Home Assistant puts the device's name in front of it."""
    return name.replace("_", " ").title()


def relay_icon(name: str, description: str) -> str:
    """A bulb for what sounds like a light, else a socket."""
    words = f"{name} {description}".lower()
    return "mdi:lightbulb" if any(w in words for w in LIGHT_WORDS) else "mdi:power-socket-eu"
