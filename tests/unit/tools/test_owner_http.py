"""Owner `http` tools against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from daemon.config.tools import OUTPUT_CAP

from .conftest import owner_registry


@dataclass
class Seen:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


class Device(BaseHTTPRequestHandler):
    """A small local device API: echoes, fails, redirects, talks a lot, or hangs."""

    seen: list[Seen]

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append(Seen(self.command, self.path, dict(self.headers), body))  # type: ignore[attr-defined]
        if self.path.startswith("/redirect"):
            self._send(302, b"", location="http://127.0.0.1:1/elsewhere")
        elif self.path.startswith("/fail"):
            self._send(500, b"light driver crashed")
        elif self.path.startswith("/big"):
            self._send(200, b"y" * 100_000)
        elif self.path.startswith("/slow"):
            time.sleep(3)
            self._send(200, b"late")
        else:
            self._send(200, json.dumps({"ok": True}).encode())

    def _send(self, status: int, body: bytes, location: str | None = None) -> None:
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args) -> None:  # keep the test output quiet
        pass


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        pass  # the timeout test hangs up on /slow: a broken pipe here is expected


@pytest.fixture
def device() -> Iterator[ThreadingHTTPServer]:
    server = QuietServer(("127.0.0.1", 0), Device)
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def base(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def light_tool(url: str, token_file: str = "/nonexistent") -> str:
    return f"""
    - name: hall_light
      description: Set the hall light.
      timeout: 1.5
      parameters:
        level: {{type: integer, minimum: 0, maximum: 100, description: brightness}}
        scene: {{type: string, description: scene name, required: false, default: plain}}
        fade: {{type: number, description: seconds, required: false, default: 0.5}}
      http:
        method: POST
        url: "{url}"
        headers:
          X-Room: hall
          Authorization: {{file: "{token_file}", prefix: "Bearer "}}
        body: {{on: true, brightness: "{{level}}", fade: "{{fade}}",
                scene: "{{scene}}", note: "scene {{scene}} at {{level}}%", tags: ["{{scene}}"]}}
    """


async def test_post_with_a_typed_json_body_and_a_token_from_a_file(device, tmp_path):
    token = tmp_path / "token"
    token.write_text("s3cret-token\n")
    registry = owner_registry(light_tool(base(device) + "/api/light", str(token)))
    result = await registry.call("hall_light", {"level": 40, "scene": 'cosy"}, "x": {"'})
    assert result == {"result": {"status": 200, "body": '{"ok": true}'}}
    [seen] = device.seen
    assert (seen.method, seen.target) == ("POST", "/api/light")
    assert seen.headers["Authorization"] == "Bearer s3cret-token"
    assert seen.headers["X-Room"] == "hall"
    assert seen.headers["Content-Type"] == "application/json"
    assert json.loads(seen.body) == {
        "on": True,
        "brightness": 40,
        "fade": 0.5,
        "scene": 'cosy"}, "x": {"',
        "note": 'scene cosy"}, "x": {" at 40%',
        "tags": ['cosy"}, "x": {"'],
    }


@pytest.mark.parametrize(
    ("value", "target"),
    [
        ("kitchen", "/api/rooms/kitchen/state?mode=kitchen"),
        ("../admin", "/api/rooms/..%2Fadmin/state?mode=..%2Fadmin"),
        ("a b&mode=off#x", "/api/rooms/a%20b%26mode%3Doff%23x/state?mode=a%20b%26mode%3Doff%23x"),
        ("x\r\nHost: evil", "/api/rooms/x%0D%0AHost%3A%20evil/state?mode=x%0D%0AHost%3A%20evil"),
        ("; rm -rf /", "/api/rooms/%3B%20rm%20-rf%20%2F/state?mode=%3B%20rm%20-rf%20%2F"),
    ],
)
async def test_url_placeholders_are_url_encoded(device, value, target):
    registry = owner_registry(f"""
    - name: room
      description: Read a room.
      parameters:
        room: {{type: string, description: which room}}
      http: {{url: "{base(device)}/api/rooms/{{room}}/state?mode={{room}}"}}
    """)
    assert (await registry.call("room", {"room": value}))["result"]["status"] == 200
    assert [(s.method, s.target) for s in device.seen] == [("GET", target)]


async def test_dot_segments_and_over_long_values_never_reach_the_device(device):
    registry = owner_registry(f"""
    - name: room
      description: Read a room.
      parameters:
        room: {{type: string, description: which room, max_length: 20}}
      http: {{url: "{base(device)}/api/rooms/{{room}}"}}
    """)
    assert await registry.call("room", {"room": ".."}) == {
        "error": "room: room '..' is a relative path segment"
    }
    assert await registry.call("room", {"room": "k" * 21}) == {
        "error": "room: room is 21 characters long; at most 20 are accepted"
    }
    assert device.seen == []


async def test_redirects_are_reported_not_followed(device):
    registry = owner_registry(f"""
    - name: moved
      description: A device that moved.
      http: {{url: "{base(device)}/redirect"}}
    """)
    assert await registry.call("moved", {}) == {
        "error": "moved failed: HTTP 302 redirect to http://127.0.0.1:1/elsewhere "
        "(redirects are not followed)"
    }
    assert len(device.seen) == 1


async def test_an_error_status_comes_back_with_its_body(device):
    registry = owner_registry(f"""
    - name: broken
      description: A failing device.
      http: {{method: PUT, url: "{base(device)}/fail", body: [1, 2]}}
    """)
    assert await registry.call("broken", {}) == {
        "error": "broken failed: HTTP 500 Internal Server Error: light driver crashed"
    }
    assert device.seen[0].body == b"[1, 2]"


async def test_the_body_is_capped(device):
    registry = owner_registry(f"""
    - name: big
      description: Talks a lot.
      http: {{url: "{base(device)}/big"}}
    """)
    result = await registry.call("big", {})
    assert result["result"]["body"] == "y" * OUTPUT_CAP + f"\n[body cut at {OUTPUT_CAP} bytes]"


async def test_a_slow_device_times_out_and_the_next_call_works(device):
    registry = owner_registry(f"""
    - name: slow
      description: Answers after 3 s.
      timeout: 0.5
      http: {{url: "{base(device)}/slow"}}
    - name: fine
      description: Answers at once.
      http: {{url: "{base(device)}/"}}
    """)
    started = time.monotonic()
    result = await registry.call("slow", {})
    assert time.monotonic() - started < 2.5
    assert result == {"error": "slow failed: no answer within its 0.5 s timeout"}
    assert (await registry.call("fine", {}))["result"]["status"] == 200


async def test_a_missing_token_file_or_a_dead_device_is_an_error_not_a_crash(device, tmp_path):
    registry = owner_registry(light_tool(base(device) + "/api/light"))
    assert await registry.call("hall_light", {"level": 10}) == {
        "error": "hall_light failed: cannot read the file for header Authorization "
        "(/nonexistent): No such file or directory"
    }
    assert device.seen == []
    token = tmp_path / "token"
    token.write_text("x")
    dead = owner_registry(light_tool("http://127.0.0.1:1/api/light", str(token)))
    assert await dead.call("hall_light", {"level": 10}) == {
        "error": "hall_light failed: POST http://127.0.0.1:1 failed: Connection refused"
    }
