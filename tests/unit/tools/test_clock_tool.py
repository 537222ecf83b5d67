"""get_time: the device's local date, time and zone."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from daemon.tools import ToolRegistry

from .conftest import CONFIG, SHORT, Appliance


def registry_with(clock) -> ToolRegistry:
    return ToolRegistry.from_config(
        CONFIG, relays={}, context=Appliance(), camera_available=False, clock=clock, timeout=SHORT
    )


async def test_get_time_in_a_named_zone():
    moment = datetime(2025, 3, 30, 14, 5, tzinfo=ZoneInfo("Europe/Berlin"))  # summer time
    result = await registry_with(lambda: moment).call("get_time", {})
    assert result == {
        "result": {
            "date": "2025-03-30",
            "weekday": "Sunday",
            "time": "14:05",
            "time_zone": "Europe/Berlin",
            "utc_offset": "+02:00",
        }
    }


async def test_get_time_with_only_an_offset_does_not_invent_a_zone_name():
    moment = datetime(2025, 1, 2, 3, 4, tzinfo=timezone(timedelta(hours=-5), "EST"))
    if moment.utcoffset() == moment.astimezone().utcoffset():
        moment = moment.replace(tzinfo=timezone(timedelta(hours=9), "JST"))
    result = (await registry_with(lambda: moment).call("get_time", {}))["result"]
    assert result["time_zone"] == moment.tzname()


async def test_get_time_default_clock_is_the_device_clock():
    registry = ToolRegistry.from_config(
        CONFIG, relays={}, context=Appliance(), camera_available=False
    )
    before = datetime.now().astimezone()
    result = (await registry.call("get_time", {}))["result"]
    after = datetime.now().astimezone()
    assert result["date"] in {before.strftime("%Y-%m-%d"), after.strftime("%Y-%m-%d")}
    assert result["time"] in {before.strftime("%H:%M"), after.strftime("%H:%M")}
    assert result["utc_offset"] == before.strftime("%z")[:3] + ":" + before.strftime("%z")[3:]
    assert result["time_zone"]


async def test_get_time_takes_no_arguments():
    result = await registry_with(datetime.now).call("get_time", {"zone": "UTC"})
    assert result == {"error": "get_time: no argument 'zone'; allowed: no arguments"}


async def test_broken_clock_gives_an_error():
    def broken() -> datetime:
        raise OSError("RTC not readable")

    result = await registry_with(broken).call("get_time", {})
    assert result == {"error": "get_time failed: RTC not readable"}


async def test_slow_clock_times_out():
    def slow() -> datetime:
        time.sleep(SHORT * 3)
        return datetime.now().astimezone()

    result = await registry_with(slow).call("get_time", {})
    assert result == {"error": f"get_time took longer than {SHORT:g} s and was abandoned"}
