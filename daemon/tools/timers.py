"""Timer tools: set_timer, set_alarm, list_timers, cancel_timer (daemon.timers does the work).

A reminder is an alarm with a label ("call mom"): the label is what is said
when it rings. Whatever is wrong with a request (a time in the past, an
unknown weekday, a name already taken) goes back to the model as an error it
can relay, and nothing is set.
"""

from __future__ import annotations

from typing import Any

from daemon.timers import TimerError, Timers
from daemon.tools.spec import ArgumentError, Param, Tool

_LABEL = Param(
    "STRING",
    "Optional short name, e.g. tea; for a reminder, what to remind of, e.g. call mom.",
    required=False,
    max_length=80,
)


KEPT_BY_THE_DAEMON = (
    "timers are kept by the running daemon: use `speakerd ctl timers` "
    "or `speakerd ctl cancel LABEL`"
)


def timer_tools(timers: Timers | None, *, kept_elsewhere: bool = False) -> list[Tool]:
    """The timer tools on `timers`; with `kept_elsewhere` (`speakerd tools`, outside the
    daemon) they are listed as the model sees them, and a call says where timers are."""
    if timers is None and not kept_elsewhere:
        return []

    def on_timers(action: Any) -> dict[str, Any]:
        if timers is None:
            raise ArgumentError(KEPT_BY_THE_DAEMON)
        result: dict[str, Any] = _checked(lambda: action(timers))
        return result

    async def set_timer(seconds: float, label: str = "") -> dict[str, Any]:
        return on_timers(lambda t: t.set_timer(seconds, label))

    async def set_alarm(
        time: str, date: str | None = None, weekdays: str | None = None, label: str = ""
    ) -> dict[str, Any]:
        return on_timers(lambda t: t.set_alarm(time, on=date, weekdays=weekdays, label=label))

    async def list_timers() -> dict[str, Any]:
        listed = on_timers(lambda t: t.list())
        return {"timers": listed} if listed else {"timers": [], "message": "none are set"}

    async def cancel_timer(which: str) -> dict[str, Any]:
        return on_timers(lambda t: t.cancel(which))

    return [
        Tool(
            "set_timer",
            "Start a countdown timer on this device; it rings when the time is up, "
            "even without a network.",
            set_timer,
            {
                "seconds": Param(
                    "NUMBER",
                    "How long, in seconds (5 minutes = 300).",
                    minimum=1,
                    maximum=7 * 24 * 3600,
                ),
                "label": _LABEL,
            },
        ),
        Tool(
            "set_alarm",
            "Set an alarm or a reminder at a local time of day (this device's time zone). "
            "Without date or weekdays it rings the next time the clock shows that time. "
            "A reminder is an alarm whose label says what to remind of.",
            set_alarm,
            {
                "time": Param(
                    "STRING",
                    "Local time of day, 24-hour HH:MM, e.g. 07:00 or 18:30.",
                    pattern=r"([01]?\d|2[0-3]):[0-5]\d",
                ),
                "date": Param(
                    "STRING",
                    "Optional date YYYY-MM-DD for a one-off alarm.",
                    required=False,
                    pattern=r"\d{4}-\d{2}-\d{2}",
                ),
                "weekdays": Param(
                    "STRING",
                    "Optional, for a repeating alarm: day names separated by commas "
                    "(monday, tuesday, ...), or daily, weekdays, weekends.",
                    required=False,
                    max_length=120,
                ),
                "label": _LABEL,
            },
        ),
        Tool(
            "list_timers",
            "The timers, alarms and reminders that are set, soonest first, with the time left.",
            list_timers,
        ),
        Tool(
            "cancel_timer",
            "Cancel a timer, alarm or reminder by its label or id, or all of them.",
            cancel_timer,
            {"which": Param("STRING", "The label (e.g. tea), the id, or all.", max_length=80)},
        ),
    ]


def _checked(action: Any) -> Any:
    try:
        return action()
    except TimerError as exc:
        raise ArgumentError(str(exc)) from None
