"""What a timer and an alarm are, and when an alarm rings next in local time.

A timer counts elapsed seconds, so a DST change does not move it. An alarm is
a local time of day (once, on a date, or on weekdays): its next ring is found
on the wall clock of the local zone through zoneinfo, so "7:00" stays 7:00
across DST. A time that does not exist (the hour skipped in spring) rings just
after the gap; a time that happens twice (autumn) rings the first time.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Kind = Literal["timer", "alarm"]
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_GROUPS = {
    "daily": tuple(range(7)),
    "every day": tuple(range(7)),
    "weekdays": (0, 1, 2, 3, 4),
    "weekends": (5, 6),
}


class TimerError(ValueError):
    """A request the timers cannot carry out; the message is for the model or the user."""


@dataclass
class Entry:
    """One timer or alarm, as stored; `due` is the next ring in Unix seconds (UTC)."""

    id: str
    kind: Kind
    due: float
    label: str = ""
    seconds: float | None = None  # a timer's duration
    at: str | None = None  # an alarm's local time of day, HH:MM
    weekdays: list[int] = field(default_factory=list)  # a repeating alarm: 0 = Monday

    @property
    def repeats(self) -> bool:
        return self.kind == "alarm" and bool(self.weekdays)

    def name(self) -> str:
        """How the user hears it named: "the tea timer", "the 5 minute timer", "the 07:00 alarm"."""
        if self.kind == "timer":
            what = self.label or duration_words(self.seconds or 0)
            return f"the {what} timer"
        if self.label:
            return (
                f"the reminder to {self.label}"
                if _is_reminder(self.label)
                else (f"the {self.label} alarm")
            )
        return f"the {self.at} alarm"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> Entry:
        """An entry from the state file; TimerError names what is wrong."""
        if not isinstance(data, dict):
            raise TimerError(f"an entry is an object, not {type(data).__name__}")
        try:
            entry = cls(
                id=str(data["id"]),
                kind=data["kind"],
                due=float(data["due"]),
                label=str(data.get("label") or ""),
                seconds=None if data.get("seconds") is None else float(data["seconds"]),
                at=data.get("at"),
                weekdays=[int(d) for d in data.get("weekdays") or []],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TimerError(f"entry {data.get('id')!r}: {exc!r}") from None
        if entry.kind not in ("timer", "alarm") or (entry.kind == "alarm" and not entry.at):
            raise TimerError(f"entry {entry.id!r}: not a timer or alarm")
        if any(not 0 <= d <= 6 for d in entry.weekdays):
            raise TimerError(f"entry {entry.id!r}: weekdays must be 0-6")
        return entry


def _is_reminder(label: str) -> bool:
    """A label like "call mom" is a reminder (spoken as such); "wake up" too."""
    return " " in label.strip()


def duration_words(seconds: float) -> str:
    """5 minute, 1 hour 30 minute, 45 second: as in "the 5 minute timer"."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n} {unit}" for n, unit in ((hours, "hour"), (minutes, "minute"), (secs, "second"))
             if n]  # fmt: skip
    return " ".join(parts) or "0 second"


def left_words(seconds: float) -> str:
    """Time left as a user reads it: 4 min 05 s, 1 h 02 min, 12 s."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


# -- alarms in local time ----------------------------------------------------------------


def parse_time_of_day(text: str) -> time:
    match = re.fullmatch(r"\s*([01]?\d|2[0-3])[:.h]?([0-5]\d)?\s*", text)
    if not match:
        raise TimerError(f"time {text!r} is not a time of day like 07:30 or 18:00")
    return time(int(match.group(1)), int(match.group(2) or 0))


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise TimerError(f"date {text!r} is not a date like 2026-12-24") from None


def parse_weekdays(text: str) -> list[int]:
    """ "monday, wednesday" / "weekdays" / "weekends" / "daily" -> [0, 2] ..."""
    days: set[int] = set()
    for word in re.split(r"[,;/]|\band\b", text.lower()):
        word = word.strip()
        if not word:
            continue
        if word in _GROUPS:
            days.update(_GROUPS[word])
            continue
        found = [i for i, day in enumerate(WEEKDAYS) if len(word) >= 3 and day.startswith(word)]
        if len(found) != 1:
            allowed = ", ".join((*WEEKDAYS, *_GROUPS))
            raise TimerError(f"weekday {word!r} is not known; allowed: {allowed}")
        days.add(found[0])
    if not days:
        raise TimerError("weekdays is empty; name at least one day, or leave it out")
    return sorted(days)


def wall_time(day: date, at: time, zone: tzinfo) -> datetime:
    """The instant a clock in `zone` shows `at` on `day` (the first time if it shows it
    twice; just after the gap if it never does)."""
    naive = datetime.combine(day, at).replace(tzinfo=zone, fold=0)
    return datetime.fromtimestamp(naive.timestamp(), zone)


def next_alarm(
    at: time, now: datetime, *, on: date | None = None, weekdays: list[int] | None = None
) -> datetime:
    """When an alarm at `at` rings next after `now` (aware, in the local zone).

    A one-off with a date in the past is a TimerError the model can relay.
    """
    zone = now.tzinfo
    assert zone is not None, "now must be aware"
    if on is not None:
        when = wall_time(on, at, zone)
        if when <= now:
            raise TimerError(
                f"{on.isoformat()} {at:%H:%M} is in the past (it is now "
                f"{now:%Y-%m-%d %H:%M}); pick a time in the future"
            )
        return when
    today = now.date()
    for offset in range(8):
        day = today + timedelta(days=offset)
        if weekdays and day.weekday() not in weekdays:
            continue
        when = wall_time(day, at, zone)
        if when > now:
            return when
    raise AssertionError("an alarm always rings within 8 days")  # pragma: no cover


def local_zone() -> tzinfo:
    """This device's zone: $TZ, else /etc/localtime (as an IANA zone where possible)."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    localtime = Path("/etc/localtime")
    try:
        target = os.readlink(localtime)
        _, found, key = target.partition("zoneinfo/")
        if found:
            return ZoneInfo(key)
    except (OSError, ZoneInfoNotFoundError, ValueError):
        pass
    try:
        with localtime.open("rb") as file:
            return ZoneInfo.from_file(file, key="localtime")
    except (OSError, ValueError):
        return ZoneInfo("UTC")
