"""The default model: which declared function an utterance calls, and what it says."""

from __future__ import annotations

from daemon.emulator.brain import DefaultBrain, FunctionSpec, Turn, functions_from_setup
from daemon.emulator.records import ToolResponseRecord

RELAY_ENUM = FunctionSpec(
    name="set_relay",
    properties={"name": {"type": "STRING", "enum": ["lamp", "kitchen_light"]},
                "state": {"type": "STRING", "enum": ["on", "off"]}},
    required=["name", "state"],
)
RELAY_BOOL = FunctionSpec(
    name="switch_relay",
    description="Relays: lamp, kitchen_light, fan.",
    properties={"relay": {"type": "STRING"}, "on": {"type": "BOOLEAN"}},
)
GET_TIME = FunctionSpec(name="get_time")


def plan(utterance: str, functions: list[FunctionSpec], **kwargs: object):
    return DefaultBrain().plan(utterance, functions, [], **kwargs)  # type: ignore[arg-type]


def answer(call_plan, response: object) -> str:
    calls = call_plan.calls
    return call_plan.reply([ToolResponseRecord(calls[0].id, calls[0].name, response)])


def test_switch_phrasings_match_enum_names() -> None:
    for utterance, args in [
        ("turn on the lamp", {"name": "lamp", "state": "on"}),
        ("Switch off the kitchen light.", {"name": "kitchen_light", "state": "off"}),
        ("turn the lamp on please", {"name": "lamp", "state": "on"}),
    ]:
        result = plan(utterance, [GET_TIME, RELAY_ENUM])
        assert [(c.name, c.args) for c in result.calls] == [("set_relay", args)], utterance


def test_boolean_state_and_names_taken_from_the_description() -> None:
    result = plan("switch off the kitchen light", [RELAY_BOOL])
    assert result.calls[0].args == {"relay": "kitchen_light", "on": False}
    result = plan("turn on the garden pump", [RELAY_BOOL])
    assert result.calls[0].args == {"relay": "garden pump", "on": True}


def test_reply_says_what_the_tool_response_said() -> None:
    result = plan("turn on the lamp", [RELAY_ENUM])
    assert answer(result, {"result": "ok"}) == "Okay, the lamp is on."
    assert answer(result, {"name": "lamp", "state": "off"}) == "Okay, the lamp is off."
    assert answer(result, {"error": "no relay called lamp"}) == (
        "Sorry, that did not work: no relay called lamp")
    assert answer(result, {"message": "The lamp was already on."}) == "The lamp was already on."


def test_a_function_named_after_the_question_is_called() -> None:
    result = plan("what time is it", [RELAY_ENUM, GET_TIME])
    assert [c.name for c in result.calls] == ["get_time"]
    assert answer(result, {"time": "12:00"}) == "The time is 12:00."


def test_anything_else_gets_a_short_answer_without_calls() -> None:
    result = plan("turn on the lamp", [])
    assert result.calls == []
    assert result.reply([]) == "You said: turn on the lamp"
    assert plan("hello", [RELAY_ENUM]).reply([]) == "Hello! How can I help?"


def test_scripted_reply_and_calls_win_over_the_defaults() -> None:
    result = plan("turn on the lamp", [RELAY_ENUM], scripted=Turn(tool_calls=[], reply="No."))
    assert (result.calls, result.reply([])) == ([], "No.")
    result = plan("turn on the lamp", [RELAY_ENUM], scripted=Turn(reply="Done!"))
    assert result.calls[0].name == "set_relay"
    assert answer(result, {"result": "ok"}) == "Done!"


def test_declarations_in_either_spelling_and_non_blocking_behavior() -> None:
    setup = {"tools": [
        {"functionDeclarations": [{"name": "a", "parameters": {"properties": {"x": {}}}}]},
        {"function_declarations": [{"name": "b", "behavior": "NON_BLOCKING"}]},
    ]}
    specs = functions_from_setup(setup)
    assert [(s.name, list(s.properties), s.blocking) for s in specs] == [
        ("a", ["x"], True), ("b", [], False)]
