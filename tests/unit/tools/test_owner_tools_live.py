"""The model calls the owner's tools through the real SDK, over TLS, against the emulator.

A scripted turn makes the call the way Gemini would; the tool runs for real (a
subprocess, an HTTP request to a local server, a gpiozero mock pin), and its
result is what the emulator receives as the function response.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import AsyncIterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from daemon.emulator import LiveEmulator, ToolCall, Turn
from daemon.live import LiveSession, OutputTranscript, TurnComplete
from tests.unit.live.conftest import API_KEY, Recorder, gemini_config

from .conftest import owner_registry


class Light(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.bodies.append(json.loads(body))  # type: ignore[attr-defined]
        answer = b'{"brightness": %d}' % json.loads(body)["brightness"]
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def light():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Light)
    server.bodies = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
async def emu() -> AsyncIterator[LiveEmulator]:
    async with LiveEmulator(api_key=API_KEY, speech="tone", speech_pace=0) as emulator:
        yield emulator


def tools_yaml(tmp_path, light) -> str:
    return f"""
    - name: garage
      description: Open or close the garage door.
      parameters:
        action: {{type: string, enum: [open, close], description: what to do}}
      command:
        argv: [{sys.executable}, -c, "import sys; print('garage ' + sys.argv[1] + 'ed')",
               "{{action}}"]
    - name: note
      description: Write down a note.
      parameters:
        text: {{type: string, description: the note}}
      command:
        argv: [{sys.executable}, -c, "import sys; open('{tmp_path}/note', 'w').write(sys.argv[1])",
               "{{text}}"]
    - name: hall_light
      description: Set the hall light.
      parameters:
        level: {{type: integer, minimum: 0, maximum: 100, description: brightness}}
      http:
        method: POST
        url: http://127.0.0.1:{light.server_address[1]}/light
        body: {{brightness: "{{level}}"}}
    - name: back_door
      description: Whether the back door is open or closed.
      gpio_input: {{pin: 5, low: closed, high: open}}
    - name: stuck
      description: A script that never finishes.
      timeout: 0.5
      command: {{argv: [/bin/sleep, "60"]}}
    """


def spoken(records) -> str:
    return "; ".join(json.dumps(r.response, sort_keys=True) for r in records)


async def test_the_model_uses_the_owners_tools_end_to_end(emu, light, pins, tmp_path):
    registry = owner_registry(tools_yaml(tmp_path, light), pin_factory=pins)
    pins.pin(5).drive_low()
    session = LiveSession(
        gemini_config(emu, silence_duration_ms=200),
        API_KEY,
        tools=registry.declarations(),
        tool_handler=registry.call,
        reconnect_timeout_s=5.0,
    )
    recorder = Recorder(session)
    await session.start()
    injection = "; rm -rf / $(reboot)\n../../etc"
    emu.script([
        Turn(tool_calls=[ToolCall("garage", {"action": "open"}, id="c1")], reply=spoken),
        Turn(tool_calls=[ToolCall("hall_light", {"level": 30}, id="c2")], reply=spoken),
        Turn(tool_calls=[ToolCall("back_door", {}, id="c3")], reply=spoken),
        Turn(tool_calls=[ToolCall("garage", {"action": "explode"}, id="c4")], reply=spoken),
        Turn(tool_calls=[ToolCall("note", {"text": injection}, id="c5")], reply=spoken),
        Turn(tool_calls=[ToolCall("stuck", {}, id="c6")], reply=spoken),
        Turn(reply="Still here."),
    ])  # fmt: skip
    try:
        # Commands and HTTP calls do not block (result: when_idle by default): the model
        # says "One moment." and tells the result in a turn of its own. A pin blocks.
        for text, turns in [("open the garage", 2), ("hall light to 30", 2),
                            ("is the back door closed", 1), ("blow up the garage", 2),
                            ("note this", 2), ("run the stuck one", 2), ("hello?", 1)]:  # fmt: skip
            mark = recorder.mark()
            await session.send_text(text)
            await recorder.wait_for(
                TurnComplete, after=mark, timeout=15,
                where=lambda _e, m=mark, n=turns: len(recorder.of(TurnComplete, m)) >= n,
            )  # fmt: skip
    finally:
        await session.close()
        await recorder.stop()
        registry.close()

    responses = {r.id: r.response for r in emu.sessions[0].tool_responses}
    assert responses["c1"] == {"result": {"exit_status": 0, "output": "garage opened"}}
    assert responses["c2"] == {"result": {"status": 200, "body": '{"brightness": 30}'}}
    assert light.bodies == [{"brightness": 30}]
    assert responses["c3"] == {"result": {"state": "closed", "pin": 5, "level": "low"}}
    assert responses["c4"] == {"error": "garage: action 'explode'; allowed: open, close"}
    assert responses["c5"] == {"result": {"exit_status": 0, "output": ""}}
    assert (tmp_path / "note").read_text() == injection  # the text, written, not run
    assert responses["c6"] == {"error": "stuck failed: stopped after its 0.5 s timeout; no output"}
    said = "".join(e.text for e in recorder.of(OutputTranscript))
    assert "garage opened" in said and said.endswith("Still here.")
    names = [
        d["name"]
        for tool in emu.sessions[0].setup["tools"]
        for d in tool.get("functionDeclarations") or tool.get("function_declarations") or []
    ]
    assert names[-5:] == ["garage", "note", "hall_light", "back_door", "stuck"]
