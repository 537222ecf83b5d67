"""Timer and alarm logic on a virtual clock, with the real state file in a temporary directory."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from daemon.timers import Ring, TimerError, Timers
from tests.unit.appliance.rig import VirtualClock

BERLIN = ZoneInfo("Europe/Berlin")


class Wall:
    """A wall clock that moves with the virtual clock (and can jump on its own)."""

    def __init__(self, clock: VirtualClock, start: datetime) -> None:
        self.clock = clock
        self.offset = start.timestamp() - clock.now()

    def __call__(self) -> float:
        return self.clock.now() + self.offset


def make(tmp_path: Path, start: datetime, clock: VirtualClock | None = None, **kw):
    clock = clock or VirtualClock()
    wall = Wall(clock, start)
    rings: list[list[Ring]] = []
    timers = Timers(clock, tmp_path, wall=wall, zone=BERLIN, **kw)
    timers.start(rings.append)
    return timers, clock, rings, wall


NOON = datetime(2026, 6, 1, 12, 0, tzinfo=BERLIN)


def test_a_timer_rings_after_its_seconds_and_is_gone(tmp_path):
    timers, clock, rings, _ = make(tmp_path, NOON)
    timers.set_timer(180, "tea")
    clock.advance(179)
    assert rings == []
    assert timers.list()[0]["left"] == "1 s"
    clock.advance(1.5)
    assert [r.spoken() for batch in rings for r in batch] == ["your tea timer is done"]
    assert timers.list() == []


def test_list_is_soonest_first_with_time_left(tmp_path):
    timers, _clock, _, _ = make(tmp_path, NOON)
    timers.set_timer(600, "pasta")
    timers.set_timer(65)
    listed = timers.list()
    assert [(t["label"], t["left"]) for t in listed] == [
        ("", "1 min 05 s"),
        ("pasta", "10 min 00 s"),
    ]


def test_cancel_by_label_id_and_all(tmp_path):
    timers, clock, rings, _ = make(tmp_path, NOON)
    tea = timers.set_timer(60, "tea")
    timers.set_timer(60, "eggs")
    timers.set_timer(90)
    assert timers.cancel("the Tea timer")["cancelled"] == ["the tea timer"]
    with pytest.raises(TimerError, match="no timer or alarm 'tea'; pending: "):
        timers.cancel("tea")
    assert tea["id"] not in [t["id"] for t in timers.list()]
    timers.cancel(timers.list()[0]["id"])
    assert [t["label"] for t in timers.list()] == [""]
    timers.cancel("all")
    clock.advance(200)
    assert rings == [] and timers.list() == []


def test_two_due_together_ring_once(tmp_path):
    timers, clock, rings, _ = make(tmp_path, NOON)
    timers.set_timer(30, "tea")
    timers.set_timer(30.3, "eggs")
    clock.advance(31)
    assert len(rings) == 1
    assert [r.entry.label for r in rings[0]] == ["tea", "eggs"]


def test_bad_requests_are_errors_that_say_why(tmp_path):
    timers, _, _, _ = make(tmp_path, NOON)
    with pytest.raises(TimerError, match="in the past"):
        timers.set_alarm("07:00", on="2026-06-01")
    with pytest.raises(TimerError, match="not a time of day"):
        timers.set_alarm("25:00")
    with pytest.raises(TimerError, match="weekday 'funday' is not known"):
        timers.set_alarm("07:00", weekdays="monday, funday")
    timers.set_timer(60, "tea")
    with pytest.raises(TimerError, match="already set"):
        timers.set_timer(60, "Tea")
    with pytest.raises(TimerError, match="seconds must be"):
        timers.set_timer(0)


def test_alarm_without_a_date_rings_next_time_the_clock_shows_it(tmp_path):
    timers, clock, rings, _ = make(tmp_path, NOON)
    early = timers.set_alarm("07:00")
    assert early["rings_at"].startswith("2026-06-02 07:00:00")
    later = timers.set_alarm("18:00", label="call mom")
    assert later["rings_at"].startswith("2026-06-01 18:00:00")
    clock.advance(6 * 3600 + 1)
    assert [r.spoken() for r in rings[0]] == ["reminder: call mom"]


def test_daily_alarm_stays_at_seven_across_the_spring_dst_change(tmp_path):
    start = datetime(2026, 3, 28, 12, 0, tzinfo=BERLIN)  # DST starts 2026-03-29 02:00
    timers, clock, rings, wall = make(tmp_path, start)
    timers.set_alarm("07:00", weekdays="daily")
    clock.advance(18 * 3600 - 1)  # 12:00 CET to 07:00 CEST is 18 h, not 19
    assert rings == []
    clock.advance(2)
    assert len(rings) == 1
    rang = datetime.fromtimestamp(wall(), BERLIN)
    assert (rang.date().isoformat(), rang.hour, rang.minute) == ("2026-03-29", 7, 0)
    assert timers.list()[0]["rings_at"] == "2026-03-30 07:00:00 CEST"
    clock.advance(24 * 3600)
    assert len(rings) == 2


def test_alarm_in_the_skipped_hour_rings_just_after_it(tmp_path):
    start = datetime(2026, 3, 28, 12, 0, tzinfo=BERLIN)
    timers, _, _, _ = make(tmp_path, start)
    assert timers.set_alarm("02:30", on="2026-03-29")["rings_at"] == "2026-03-29 03:30:00 CEST"


def test_timer_counts_elapsed_time_across_the_autumn_dst_change(tmp_path):
    start = datetime(2026, 10, 25, 1, 30, tzinfo=BERLIN)  # 03:00 CEST -> 02:00 CET
    timers, clock, rings, _ = make(tmp_path, start)
    assert timers.set_timer(2 * 3600, "bread")["rings_at"] == "2026-10-25 02:30:00 CET"
    clock.advance(2 * 3600 - 1)
    assert rings == []
    clock.advance(2)
    assert len(rings) == 1


def test_a_wall_clock_jump_is_followed_within_a_minute(tmp_path):
    timers, clock, rings, wall = make(tmp_path, NOON)
    timers.set_alarm("13:00")
    wall.offset += 3600  # NTP corrects the clock by an hour
    clock.advance(61)
    assert len(rings) == 1


def test_pending_timers_survive_a_restart(tmp_path):
    timers, _clock, _, _wall = make(tmp_path, NOON)
    timers.set_timer(300, "tea")
    timers.set_alarm("07:00", weekdays="weekdays", label="wake up")
    saved = json.loads((tmp_path / "timers.json").read_text())
    assert [e["label"] for e in saved["entries"]] == ["tea", "wake up"]
    again, clock2, rings, _ = make(tmp_path, NOON)
    assert [t["label"] for t in again.list()] == ["tea", "wake up"]
    clock2.advance(301)
    assert [r.entry.label for r in rings[0]] == ["tea"] and rings[0][0].late == 0


def test_missed_while_down_rings_at_start_and_says_late_older_dropped(tmp_path, caplog):
    timers, _, _, _ = make(tmp_path, NOON)
    timers.set_timer(60, "tea")
    timers.set_timer(120, "eggs")
    timers.set_alarm("07:00", weekdays="daily", label="wake up")
    caplog.set_level(logging.INFO)
    # Down from 12:00 until 13:01:30: tea is 1 h 00 min 30 s late (dropped), eggs 59 min 30 s.
    back = datetime(2026, 6, 1, 13, 1, 30, tzinfo=BERLIN)
    again, _clock, rings, _ = make(tmp_path, back)
    assert [r.entry.label for r in rings[0]] == ["eggs"]
    assert rings[0][0].spoken() == (
        "your eggs timer is done (this is 59 min 30 s late: speakerd was not running)"
    )
    assert any("tea timer fell due" in m and "dropped" in m for m in caplog.messages)
    assert [t["label"] for t in again.list()] == ["wake up"]  # still tomorrow's
    _third, _, rings3, _ = make(tmp_path, back)
    assert rings3 == []  # a missed ring is rung once, not at every start


@pytest.mark.parametrize(
    "content", [b"{not json", b'{"version": 1, "entries": [{"id": 1}]}', b"\xff\xfe", b"[]"]
)
def test_a_corrupt_file_is_moved_aside_and_the_timers_run(tmp_path, caplog, content):
    (tmp_path / "timers.json").write_bytes(content)
    caplog.set_level(logging.ERROR)
    timers, clock, rings, _ = make(tmp_path, NOON)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "moved to" in errors[0] and "starting with no timers" in errors[0]
    aside = list(tmp_path.glob("timers.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == content
    timers.set_timer(5, "tea")
    clock.advance(6)
    assert len(rings) == 1


def test_an_unwritable_directory_is_a_warning_not_a_crash(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    clock = VirtualClock()
    timers = Timers(clock, blocker / "sub", wall=Wall(clock, NOON), zone=BERLIN)
    rings: list = []
    timers.start(rings.append)
    result = timers.set_timer(5, "tea")
    assert "not saved" in result["warning"]
    clock.advance(6)
    assert len(rings) == 1


def test_observers_hear_every_change_and_soonest_follows(tmp_path):
    timers, clock, rings, _ = make(tmp_path, NOON)
    seen: list[tuple[str | None, int]] = []

    def observer() -> None:
        soonest = timers.soonest()
        seen.append((soonest.label if soonest else None, timers.pending))

    timers.observe(observer)
    timers.set_timer(600, "pasta")
    timers.set_timer(60, "tea")
    clock.advance(61)  # tea rings
    timers.cancel("pasta")
    assert seen == [("pasta", 1), ("tea", 2), ("pasta", 1), (None, 0)]
    assert len(rings) == 1


def test_a_failing_observer_does_not_stop_the_timers(tmp_path, caplog):
    timers, clock, rings, _ = make(tmp_path, NOON)

    def broken() -> None:
        raise RuntimeError("broker glitch")

    timers.observe(broken)
    timers.set_timer(5, "tea")
    clock.advance(6)
    assert len(rings) == 1
    assert "timers observer" in caplog.text
