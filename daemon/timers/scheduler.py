"""The timers and alarms of the device: set, list, cancel, and ring when due.

It runs on the appliance's Clock seam (so tests run on a virtual clock) and
reads the wall clock only through `wall` (Unix seconds): due times are wall
instants, so they survive a restart. It looks again at least once a minute,
so a wall clock that jumps (NTP setting the clock of a Pi without an RTC at
boot) still rings things at the right wall time.

Every change is saved at once; `start()` loads what was saved, rings what fell
due while the daemon was down if it is less than `missed_grace_seconds` late
(saying so), and drops (with a log line) what is older.
"""

from __future__ import annotations

import logging
import time as _time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from daemon.core.clock import Clock, Scheduled
from daemon.timers.model import (
    Entry,
    TimerError,
    left_words,
    local_zone,
    next_alarm,
    parse_date,
    parse_time_of_day,
    parse_weekdays,
)
from daemon.timers.store import TimerStore

log = logging.getLogger(__name__)
timeline = logging.getLogger("speakerd.timeline")

LOOK_AGAIN_SECONDS = 60.0  # at most this long between looks at the wall clock
TOGETHER_SECONDS = 1.0  # entries due this close together ring as one
MAX_ENTRIES = 50
MAX_TIMER_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class Ring:
    """One entry that is due now; `late` > 0 when it fell due while the daemon was down."""

    entry: Entry
    late: float = 0.0

    def spoken(self) -> str:
        """What the appliance says about it: "your tea timer is done"."""
        entry = self.entry
        if entry.kind == "timer":
            text = f"your {entry.name().removeprefix('the ')} is done"
        elif entry.label:
            text = f"reminder: {entry.label}"
        else:
            text = f"it is {entry.at}: your alarm"
        if self.late >= 1:
            text += f" (this is {left_words(self.late)} late: speakerd was not running)"
        return text


class Timers:
    def __init__(
        self,
        clock: Clock,
        state_dir: Path,
        *,
        wall: Callable[[], float] = _time.time,
        zone: tzinfo | None = None,
        missed_grace_seconds: float = 3600.0,
    ) -> None:
        self._clock = clock
        self._wall = wall
        self.zone = zone or local_zone()
        self._store = TimerStore(state_dir)
        self._grace = missed_grace_seconds
        self._entries: list[Entry] = []
        self._next_id = 1
        self._handle: Scheduled | None = None
        self._on_due: Callable[[list[Ring]], None] = lambda rings: None
        self._observers: list[Callable[[], None]] = []
        self.save_problem: str | None = None

    @property
    def path(self) -> Path:
        return self._store.path

    # -- lifecycle ---------------------------------------------------------------------

    def start(self, on_due: Callable[[list[Ring]], None]) -> None:
        """Load the saved entries and ring (via on_due) those missed within the grace."""
        self._on_due = on_due
        self._entries, self._next_id = self._store.load()
        now = self._wall()
        missed: list[Ring] = []
        changed = False
        for entry in list(self._entries):
            late = now - entry.due
            if late <= 0:
                continue
            changed = True
            when = self._local(entry.due)
            if late <= self._grace:
                timeline.info("%s fell due at %s while speakerd was down: ringing %s late",
                              entry.name(), when, left_words(late))  # fmt: skip
                missed.append(Ring(_copy(entry), late))
            else:
                log.warning("%s fell due at %s while speakerd was down, %s ago (more than "
                            "timers.missed_grace_seconds): dropped",
                            entry.name(), when, left_words(late))  # fmt: skip
            self._after_ring(entry, now)
        if self._entries or changed:
            timeline.info("timers loaded from %s: %d pending", self.path, len(self._entries))
        if changed:
            self._save()
        self._arm()
        self._changed()
        if missed:
            self._on_due(missed)

    def observe(self, observer: Callable[[], None]) -> None:
        """Be called after every change of the pending entries (MQTT's next-timer sensor)."""
        self._observers.append(observer)

    def soonest(self) -> Entry | None:
        """The entry that rings next (a copy), or None when nothing is pending."""
        return _copy(min(self._entries, key=_due)) if self._entries else None

    @property
    def pending(self) -> int:
        return len(self._entries)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    # -- what the tools and ctl call -------------------------------------------------------

    def set_timer(self, seconds: float, label: str = "") -> dict[str, Any]:
        if not 1 <= seconds <= MAX_TIMER_SECONDS:
            raise TimerError(f"seconds must be from 1 to {MAX_TIMER_SECONDS} (7 days)")
        label = _clean_label(label)
        self._check_room(label)
        entry = Entry(self._new_id(), "timer", self._wall() + seconds, label, seconds=seconds)
        return self._add(entry)

    def set_alarm(
        self, at: str, *, on: str | None = None, weekdays: str | None = None, label: str = ""
    ) -> dict[str, Any]:
        if on and weekdays:
            raise TimerError("give a date or weekdays, not both")
        time_of_day = parse_time_of_day(at)
        day = parse_date(on) if on else None
        days = parse_weekdays(weekdays) if weekdays else []
        label = _clean_label(label)
        self._check_room(label)
        when = next_alarm(time_of_day, self._now_local(), on=day, weekdays=days)
        entry = Entry(self._new_id(), "alarm", when.timestamp(), label,
                      at=f"{time_of_day:%H:%M}", weekdays=days)  # fmt: skip
        return self._add(entry)

    def list(self) -> list[dict[str, Any]]:
        """Every pending entry, soonest first, with the time left."""
        now = self._wall()
        return [self._describe(entry, now) for entry in sorted(self._entries, key=_due)]

    def cancel(self, which: str) -> dict[str, Any]:
        """By id, by label (case-insensitive), or "all"."""
        which = which.strip()
        if not which:
            raise TimerError("say which: a label, an id, or all")
        if which.lower() == "all":
            gone = list(self._entries)
        else:
            key = " ".join(which.lower().split())
            for prefix in ("the ", "my "):
                key = key.removeprefix(prefix)
            for suffix in (" timer", " alarm", " reminder"):
                key = key.removesuffix(suffix)
            gone = [e for e in self._entries if e.id == which or e.label.lower() == key]
        if not gone:
            names = ", ".join(f"{e.id} ({e.label or e.kind})" for e in self._entries) or "none"
            raise TimerError(f"no timer or alarm {which!r}; pending: {names}")
        self._entries = [e for e in self._entries if e not in gone]
        problem = self._save()
        self._arm()
        self._changed()
        cancelled = [g.name() for g in gone]
        timeline.info("cancelled %s", ", ".join(cancelled))
        result: dict[str, Any] = {"cancelled": cancelled}
        if problem:
            result["warning"] = problem
        return result

    # -- ringing -----------------------------------------------------------------------

    def _arm(self) -> None:
        self.close()
        if not self._entries:
            return
        delay = min(_due(e) for e in self._entries) - self._wall()
        self._handle = self._clock.call_later(max(0.0, min(delay, LOOK_AGAIN_SECONDS)), self._look)

    def _look(self) -> None:
        self._handle = None
        now = self._wall()
        due = [e for e in self._entries if e.due <= now + TOGETHER_SECONDS / 2]
        rings = [Ring(_copy(e)) for e in sorted(due, key=_due)]
        for entry in due:
            self._after_ring(entry, now)
        if due:
            self._save()
        self._arm()
        if due:
            self._changed()
        if rings:
            timeline.info("due: %s", ", ".join(r.entry.name() for r in rings))
            self._on_due(rings)

    def _after_ring(self, entry: Entry, now: float) -> None:
        """A one-off is done; a repeating alarm moves to its next day."""
        if entry.repeats and entry.at:
            after = datetime.fromtimestamp(max(now, entry.due), self.zone)
            entry.due = next_alarm(parse_time_of_day(entry.at), after,
                                   weekdays=entry.weekdays).timestamp()  # fmt: skip
        else:
            self._entries.remove(entry)

    # -- helpers -------------------------------------------------------------------------

    def _add(self, entry: Entry) -> dict[str, Any]:
        self._entries.append(entry)
        problem = self._save()
        self._arm()
        self._changed()
        described = self._describe(entry, self._wall())
        timeline.info("set %s (id %s) for %s", entry.name(), entry.id, described["rings_at"])
        if problem:
            described["warning"] = f"{problem}; it is lost if speakerd restarts before it rings"
        return described

    def _changed(self) -> None:
        for observer in self._observers:
            try:
                observer()
            except Exception:  # an observer (the broker bridge) must not stop the timers
                log.exception("timers observer %r failed", observer)

    def _check_room(self, label: str) -> None:
        if len(self._entries) >= MAX_ENTRIES:
            raise TimerError(f"{MAX_ENTRIES} timers and alarms are pending; cancel some first")
        if label and any(e.label.lower() == label.lower() for e in self._entries):
            raise TimerError(f"a timer or alarm called {label!r} is already set; "
                             "pick another name or cancel it first")  # fmt: skip

    def _new_id(self) -> str:
        used = {e.id for e in self._entries}
        while str(self._next_id) in used:
            self._next_id += 1
        entry_id = str(self._next_id)
        self._next_id += 1
        return entry_id

    def _save(self) -> str | None:
        self.save_problem = self._store.save(self._entries, self._next_id)
        return self.save_problem

    def _now_local(self) -> datetime:
        return datetime.fromtimestamp(self._wall(), self.zone)

    def _local(self, instant: float) -> str:
        return f"{datetime.fromtimestamp(instant, self.zone):%Y-%m-%d %H:%M:%S %Z}"

    def _describe(self, entry: Entry, now: float) -> dict[str, Any]:
        described: dict[str, Any] = {
            "id": entry.id,
            "kind": entry.kind,
            "label": entry.label,
            "rings_at": self._local(entry.due),
            "left": left_words(entry.due - now),
            "seconds_left": round(max(0.0, entry.due - now), 1),
        }
        if entry.repeats:
            described["repeats"] = [
                ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")[d]
                for d in entry.weekdays
            ]
        return described


def _due(entry: Entry) -> float:
    return entry.due


def _copy(entry: Entry) -> Entry:
    return Entry(**entry.to_json())


def _clean_label(label: str | None) -> str:
    label = " ".join((label or "").split())
    if len(label) > 80:
        raise TimerError("label is longer than 80 characters")
    return label
