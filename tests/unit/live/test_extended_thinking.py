"""gemini-3.8-live-extended-thinking through the unmodified SDK, against the emulator.

Its differences (docs/live-protocol.md, "Extended thinking"): a thinking level in
the setup, function calls that never block (BLOCKING is refused), a filler
spoken while a tool runs, several model turns for one request, and
interactionStatus IN_PROGRESS until the request is done (IDLE).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from google.genai import types

from daemon.config.model_rules import model_problems
from daemon.config.schema import Config
from daemon.core.models import EXTENDED_THINKING_MODEL
from daemon.emulator import LiveEmulator, ToolCall, Turn
from daemon.live import (
    InteractionStatus,
    OutputTranscript,
    ToolResult,
    TurnComplete,
)
from daemon.live.connect_config import build_connect_config, function_declarations

from .conftest import API_KEY, gemini_config

MODEL = {"model": EXTENDED_THINKING_MODEL, "thinking_level": "high"}
LOOKUP = {
    "name": "train_times",
    "description": "The next trains from the local station.",
    "behavior": "BLOCKING",  # as the registry declares get_time: it becomes NON_BLOCKING
}


async def test_a_slow_tool_gets_a_filler_and_the_request_ends_at_idle(
    emu: LiveEmulator, open_session
):
    emu.thinking_seconds = 0.3  # it works on the result before it answers
    release = asyncio.Event()

    async def slow(name: str, args: dict[str, Any]) -> dict[str, Any]:
        await release.wait()  # longer than the filler: released once it was said
        return {"result": {"next": "17:42"}}

    session, recorder = await open_session(gemini=MODEL, tools=[LOOKUP], tool_handler=slow)
    emu.script([Turn(tool_calls=[ToolCall("train_times")], interim="I'm checking that now.",
                     reply=lambda responses: "The next train is at 17:42.")])  # fmt: skip
    await session.send_text("when is the next train")

    filler = await recorder.wait_for(TurnComplete)
    after_filler = recorder.events.index(filler)
    status = await recorder.wait_for(InteractionStatus, after=after_filler)
    assert status.in_progress  # the filler's turn is over, the request is not
    assert "".join(e.text for e in recorder.of(OutputTranscript)) == "I'm checking that now."
    release.set()
    done = await recorder.wait_for(InteractionStatus, where=lambda e: not e.in_progress)

    events = recorder.events
    said = [e.text for e in recorder.of(OutputTranscript, after_filler)]
    assert "".join(said).strip() == "The next train is at 17:42."
    assert recorder.of(ToolResult) and recorder.of(ToolResult)[0].name == "train_times"
    assert len(recorder.of(TurnComplete)) == 2  # two model turns for one request
    statuses = [e.in_progress for e in events if isinstance(e, InteractionStatus)]
    assert statuses[-1] is False and all(statuses[:-1])
    assert events.index(done) > events.index(recorder.of(TurnComplete)[-1])

    setup = emu.sessions[-1].setup
    generation = setup.get("generationConfig") or setup.get("generation_config")
    thinking = generation.get("thinkingConfig") or generation.get("thinking_config")
    assert thinking in ({"thinkingLevel": "HIGH"}, {"thinking_level": "HIGH"})
    declared = [d for tool in setup["tools"]
                for d in tool.get("functionDeclarations") or tool.get("function_declarations") or []]
    assert [d["behavior"] for d in declared] == ["NON_BLOCKING"]


async def test_unscripted_it_says_a_filler_then_the_answer(emu: LiveEmulator, open_session):
    async def clock(name: str, args: dict[str, Any]) -> dict[str, Any]:
        return {"result": {"time": "10:00"}}

    clock_tool = {"name": "get_time", "description": "The local time.", "behavior": "BLOCKING"}
    session, recorder = await open_session(gemini=MODEL, tools=[clock_tool], tool_handler=clock)
    await session.send_text("what time is it")
    await recorder.wait_for(InteractionStatus, where=lambda e: not e.in_progress)

    record = emu.sessions[-1]
    assert [turn.reply for turn in record.model_turns] == [
        "I'm checking that now.", "The time is 10:00.",
    ]


@pytest.mark.parametrize(
    ("setup", "field"),
    [
        ({"tools": [{"function_declarations": [LOOKUP]}]}, "tools.function_declarations.behavior"),
        ({"tools": [{"code_execution": {}}]}, "tools.code_execution"),
        ({"tools": [{"url_context": {}}]}, "tools.url_context"),
        ({"thinking_config": {"thinking_budget": 512}}, "thinking_budget"),
    ],
)
async def test_what_the_model_refuses_fails_the_setup_with_1007(
    emu: LiveEmulator, setup: dict[str, Any], field: str
):
    from google import genai

    client = genai.Client(api_key=API_KEY, http_options=emu.http_options())
    with pytest.raises(Exception) as refused:
        async with client.aio.live.connect(model=EXTENDED_THINKING_MODEL, config={
            "response_modalities": ["AUDIO"], **setup,
        }):  # fmt: skip
            pass
    assert getattr(refused.value, "code", None) == 1007
    assert field in str(refused.value)


def test_the_daemon_never_declares_a_blocking_tool_to_it(emu: LiveEmulator):
    config = build_connect_config(gemini_config(emu, **MODEL), function_declarations([LOOKUP]))
    assert config.tools is not None
    declarations = config.tools[0].function_declarations or []
    assert [d.behavior for d in declarations] == [types.Behavior.NON_BLOCKING]
    assert config.thinking_config is not None
    assert config.thinking_config.thinking_level == "HIGH"


def test_a_thinking_level_is_refused_by_check_config_and_never_sent_to_other_models(
    emu: LiveEmulator,
):
    for model in ("gemini-3.8-live", "gemini-2.5-flash-native-audio-preview-12-2025"):
        config = Config.model_validate({"gemini": {"model": model, "thinking_level": "low"}})
        assert build_connect_config(config.gemini).thinking_config is None
        [(where, message)] = model_problems(config)
        assert where == ("gemini", "thinking_level")
        assert "gemini-3.8-live-extended-thinking does" in message
    fine = Config.model_validate({"gemini": MODEL})
    assert model_problems(fine) == []


def test_an_owner_tool_that_blocks_is_refused_for_it():
    config = Config.model_validate({
        "gemini": MODEL,
        "tools": [{"name": "door", "description": "The door.", "result": "blocking",
                   "gpio_input": {"pin": 5, "low": "closed", "high": "open"}}],
    })  # fmt: skip
    [(where, message)] = model_problems(config)
    assert where == ("tools", 0, "result")
    assert "asynchronous" in message
