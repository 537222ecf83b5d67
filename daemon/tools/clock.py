"""get_time(): the device's local date, time and time zone (the model has no clock)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from daemon.tools.spec import Tool

Clock = Callable[[], datetime]


def local_now() -> datetime:
    return datetime.now().astimezone()


def time_tools(clock: Clock = local_now) -> list[Tool]:
    async def get_time() -> dict[str, Any]:
        # The clock and the zone lookup may touch files (RTC, /etc); keep them off the loop.
        return await asyncio.to_thread(lambda: describe_time(clock()))

    return [
        Tool(
            "get_time",
            "The current local date, time and time zone of this device. "
            "Use it whenever the answer depends on the time or the date.",
            get_time,
        )
    ]


def describe_time(now: datetime) -> dict[str, Any]:
    offset = now.strftime("%z")
    return {
        "date": now.strftime("%Y-%m-%d"),
        "weekday": now.strftime("%A"),
        "time": now.strftime("%H:%M"),
        "time_zone": zone_name(now),
        "utc_offset": f"{offset[:3]}:{offset[3:]}" if offset else "+00:00",
    }


def zone_name(now: datetime) -> str:
    """The IANA name (Europe/Berlin) where it can be found; the abbreviation otherwise."""
    key = getattr(now.tzinfo, "key", None)
    if key:
        return str(key)
    if now.utcoffset() != now.astimezone().utcoffset():
        return now.tzname() or "UTC"  # not this device's zone: only its own name is known
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz and "/" in tz and not tz.startswith("/"):
        return tz
    if not tz:
        try:
            return Path("/etc/timezone").read_text().strip() or _from_localtime(now)
        except OSError:
            return _from_localtime(now)
    return now.tzname() or "UTC"


def _from_localtime(now: datetime) -> str:
    try:
        target = os.readlink("/etc/localtime")
    except OSError:
        return now.tzname() or "UTC"
    _, found, name = target.partition("zoneinfo/")
    return name if found else (now.tzname() or "UTC")
