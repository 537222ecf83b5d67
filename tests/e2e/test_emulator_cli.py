"""`speakerd emulator` as a user runs it: one line on stdout, the SDK connects, SIGTERM ends it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from google import genai
from google.genai import errors, types

from daemon.emulator import DEFAULT_MODEL
from daemon.emulator.tls import client_ssl_context

REPO = Path(__file__).resolve().parents[2]


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "daemon", "emulator", *args],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, Path]]:
    ca = tmp_path / "ca.pem"
    process = _start("--port", "0", "--ca-out", str(ca), "--api-key", "sesame",
                     "--speech", "tone", "--speech-pace", "0")
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        yield process, line, ca
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


async def test_serves_the_sdk_until_sigterm_then_exits_0(
    running: tuple[subprocess.Popen[str], str, Path],
) -> None:
    process, line, ca = running
    assert line.startswith("listening on wss://127.0.0.1:")
    port = int(line.rsplit(":", 1)[1])
    assert port > 0
    options = types.HttpOptions(
        base_url=f"https://127.0.0.1:{port}", async_client_args={"ssl": client_ssl_context(ca)}
    )
    client = genai.Client(api_key="sesame", http_options=options)
    async with client.aio.live.connect(
        model=DEFAULT_MODEL, config={"response_modalities": ["AUDIO"]}
    ) as session:
        await session.send_realtime_input(text="hello")
        messages = [m async for m in session.receive()]
    assert messages[-1].server_content.turn_complete
    wrong = genai.Client(api_key="guess", http_options=options)
    with pytest.raises(errors.APIError) as caught:
        async with wrong.aio.live.connect(model=DEFAULT_MODEL, config={}):
            pass
    assert caught.value.code == 1007

    process.send_signal(signal.SIGTERM)
    assert process.wait(10) == 0
    assert process.stdout is not None
    assert process.stdout.read() == ""  # exactly one line on stdout


@pytest.mark.parametrize("host", ["0.0.0.0"])
def test_refuses_a_non_loopback_address(host: str) -> None:
    process = _start("--host", host, "--port", "0")
    out, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert out == ""
    assert "only binds loopback" in err


def test_sigint_stops_it_cleanly_too(tmp_path: Path) -> None:
    process = _start("--port", "0", "--ca-out", str(tmp_path / "ca.pem"))
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("listening on wss://127.0.0.1:")
        assert (tmp_path / "ca.pem").read_text().startswith("-----BEGIN CERTIFICATE-----")
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 0
    finally:
        if process.poll() is None:
            process.kill()
