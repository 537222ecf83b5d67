"""The emulated model drives the timer tools from the user's words (demo and tests by voice)."""

from __future__ import annotations

import pytest

from daemon.emulator.brain import DefaultBrain, FunctionSpec
from daemon.emulator.records import ToolResponseRecord

TIMER_TOOLS = [FunctionSpec(n) for n in ("set_timer", "set_alarm", "list_timers", "cancel_timer")]


@pytest.mark.parametrize(
    ("said", "name", "args"),
    [
        ("set a timer for 3 seconds called tea", "set_timer", {"seconds": 3, "label": "tea"}),
        ("Set a timer for five minutes.", "set_timer", {"seconds": 300}),
        ("cancel the tea timer", "cancel_timer", {"which": "tea"}),
        ("cancel all timers", "cancel_timer", {"which": "all"}),
        ("what timers do I have", "list_timers", {}),
        ("wake me at 7", "set_alarm", {"time": "07:00"}),
        ("remind me at 18:00 to call mom", "set_alarm", {"time": "18:00", "label": "call mom"}),
    ],
)
def test_timer_words_become_tool_calls(said, name, args):
    plan = DefaultBrain().plan(said, TIMER_TOOLS, [])
    assert [(c.name, c.args) for c in plan.calls] == [(name, args)]


def test_an_error_is_relayed_and_an_announcement_is_said():
    plan = DefaultBrain().plan("wake me at 7", TIMER_TOOLS, [])
    error = ToolResponseRecord("fc-1", "set_alarm", {"error": "07:00 is in the past"})
    assert plan.reply([error]) == "Sorry, that did not work: 07:00 is in the past"
    announce = DefaultBrain().plan("Say briefly, in one sentence: your tea timer is done.",
                                   TIMER_TOOLS, [])  # fmt: skip
    assert announce.calls == [] and announce.reply([]) == "Your tea timer is done."


def test_without_timer_tools_nothing_is_planned():
    plan = DefaultBrain().plan("set a timer for 3 seconds", [], [])
    assert plan.calls == []
