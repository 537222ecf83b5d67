"""What the appliance tells its observers beyond its state: typed, one class per kind.

The state machine carries the state; these carry the rest a listener (the MQTT
bridge, a test) may show: what was said, what was switched, what was heard.
Frozen, so one event object can go to every listener unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Role = Literal["user", "model", "sources", "announcement"]
"""Who said it; "sources" lists the pages a grounded answer came from, "announcement"
the words read out for Home Assistant."""


@dataclass(frozen=True)
class TranscriptHeard:
    """A finished line of what the user or the model said (or the sources it used)."""

    role: Role
    text: str
    at: float
    """Unix seconds."""


@dataclass(frozen=True)
class RelaySwitched:
    name: str
    is_on: bool


@dataclass(frozen=True)
class VolumeChanged:
    percent: int


@dataclass(frozen=True)
class WakeWordHeard:
    model: str
    score: float


@dataclass(frozen=True)
class StopWordHeard:
    """"Stop" was heard while something could be stopped."""

    score: float


@dataclass(frozen=True)
class ButtonUsed:
    action: Literal["press", "hold"]


@dataclass(frozen=True)
class ErrorShown:
    """The last error the owner should see (also in `ctl status`)."""

    message: str


@dataclass(frozen=True)
class NextTimer:
    at: str
    """When it rings: ISO 8601 with the zone."""
    label: str | None
    id: str
    kind: str


@dataclass(frozen=True)
class TimersChanged:
    """A timer or alarm was set, cancelled or rang: what rings next, and how many wait."""

    next: NextTimer | None
    pending: int


@dataclass(frozen=True)
class MemoryChanged:
    """A fact was remembered or forgotten: how many the household memory holds."""

    count: int
MediaState = Literal["stopped", "playing", "paused"]


@dataclass(frozen=True)
class MediaChanged:
    """Music or radio started, stopped, paused, changed title or volume."""

    state: MediaState
    title: str | None
    artist: str | None
    source: str | None
    """The station's name, "library", or "url"."""
    volume: int
    ducked: bool = False


ApplianceEvent = (
    TranscriptHeard
    | RelaySwitched
    | VolumeChanged
    | WakeWordHeard
    | StopWordHeard
    | ButtonUsed
    | ErrorShown
    | TimersChanged
    | MemoryChanged
    | MediaChanged
)
Listener = Callable[[ApplianceEvent], None]
