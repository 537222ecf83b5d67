"""What the appliance shows an owner at one moment: read-only, built fresh on each ask."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from daemon.appliance.conversation import Transcript
from daemon.core.events import NextTimer, TimersChanged
from daemon.core.state import State
from daemon.timers import Timers


@dataclass(frozen=True)
class ApplianceStatus:
    state: State
    muted: bool
    fatal: bool
    """A wrong key or model: wakes are refused until it is retried."""
    relays: dict[str, bool]
    transcripts: tuple[Transcript, ...]
    """The last few lines said, oldest first."""
    session_uptime: float | None
    """Seconds the open conversation has lasted; None when none is open."""
    last_error: str | None
    ringing: tuple[str, ...]
    """What is ringing now, in words."""
    timers: tuple[dict[str, Any], ...]
    """Pending timers and alarms, soonest first, as `ctl timers` lists them."""
    announcing: bool
    """The open conversation only announces what rang."""
    stop_word: str
    """"listening" (something can be stopped), "ready", or "off" (disabled, or no model)."""
    last_stop: float | None
    """Unix time "stop" was last heard."""
    announcements_waiting: int = 0
    """Announcements from outside waiting for the open conversation to end."""
    music: dict[str, Any] | None = None
    """What the player plays (state, title, artist, source, volume); None without one."""

    def as_reply(self) -> dict[str, Any]:
        """The fields `ctl status` replies with."""
        return {
            "state": str(self.state),
            "muted": self.muted,
            "fatal": self.fatal,
            "relays": dict(self.relays),
            "transcripts": [{"role": t.role, "text": t.text, "at": t.at} for t in self.transcripts],
            "session_uptime": self.session_uptime,
            "last_error": self.last_error,
            "ringing": list(self.ringing),
            "timers": list(self.timers),
            "stop_word": self.stop_word,
            "last_stop": self.last_stop,
            "announcements_waiting": self.announcements_waiting,
            **({"music": dict(self.music)} if self.music is not None else {}),
        }


def timers_changed(timers: Timers) -> TimersChanged:
    """What rings next (its time in the timers' zone) and how many wait."""
    entry = timers.soonest()
    next_timer = None
    if entry is not None:
        at = datetime.fromtimestamp(entry.due, timers.zone).isoformat(timespec="seconds")
        next_timer = NextTimer(at=at, label=entry.label, id=entry.id, kind=entry.kind)
    return TimersChanged(next_timer, timers.pending)
