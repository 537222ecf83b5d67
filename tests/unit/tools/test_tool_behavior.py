"""Each tool says whether the model waits for it and, if not, when its result is used.

set_relay and set_volume: the model confirms once while the switch happens; the
result is SILENT unless it failed. get_time, get_relays and look: the answer is
the result, so they block. Owner tools: `result:` in the config.
"""

from __future__ import annotations

from google.genai import types

from daemon.config.schema import Config
from daemon.tools import ToolRegistry

BEHAVIOR = {
    "set_relay": ("NON_BLOCKING", "SILENT"),
    "get_relays": ("BLOCKING", None),
    "get_time": ("BLOCKING", None),
    "set_volume": ("NON_BLOCKING", "SILENT"),
    "end_conversation": ("BLOCKING", None),
    "look": ("BLOCKING", None),
}


def test_each_built_in_tool_declares_its_behavior(registry):
    declared = {d["name"]: d["behavior"] for d in registry.declarations()}
    assert declared == {name: behavior for name, (behavior, _) in BEHAVIOR.items()}
    # The SDK takes them as they are.
    sdk = types.Tool(function_declarations=registry.declarations())
    assert sdk.function_declarations[0].behavior == types.Behavior.NON_BLOCKING


async def test_a_switch_is_confirmed_once_and_a_failure_is_said(registry):
    ok = await registry.call("set_relay", {"name": "lamp", "state": "on"})
    assert registry.scheduling("set_relay", ok) == "SILENT"
    failed = await registry.call("set_relay", {"name": "garage", "state": "on"})
    assert "error" in failed
    assert registry.scheduling("set_relay", failed) == "WHEN_IDLE"
    assert registry.scheduling("get_time", await registry.call("get_time", {})) is None


def test_owner_tools_take_result_from_the_config(appliance):
    config = Config.model_validate({"tools": [
        {"name": "backup", "description": "Run the backup.", "command": {"argv": ["/bin/true"]}},
        {"name": "doorbell", "description": "Ring.", "command": {"argv": ["/bin/true"]},
         "result": "interrupt"},
        {"name": "log_it", "description": "Log.", "command": {"argv": ["/bin/true"]},
         "result": "silent"},
        {"name": "lookup", "description": "Look up.", "http": {"url": "http://127.0.0.1:9/x"},
         "result": "blocking"},
        {"name": "door", "description": "Door.", "gpio_input": {"pin": 5}},
    ]})  # fmt: skip
    registry = ToolRegistry.from_config(
        config, relays=None, context=appliance, camera_available=False
    )
    declared = {d["name"]: d["behavior"] for d in registry.declarations()}
    assert declared["backup"] == "NON_BLOCKING" and declared["door"] == "BLOCKING"
    assert declared["lookup"] == "BLOCKING"
    done = {"result": "ok"}
    assert registry.scheduling("backup", done) == "WHEN_IDLE"
    assert registry.scheduling("doorbell", done) == "INTERRUPT"
    assert registry.scheduling("log_it", done) == "SILENT"
    assert registry.scheduling("lookup", done) is None
    registry.close()
