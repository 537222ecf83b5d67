"""Owner `command` tools: real programs, run without a shell, stopped at their timeout."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daemon.config.tools import OUTPUT_CAP

from .conftest import owner_registry

PY = sys.executable
# Prints its arguments as JSON, so a test sees exactly what the program received.
SHOW_ARGS = "import json, sys; print(json.dumps(sys.argv[1:]))"


def say_tool(extra: str = "", timeout: float = 10) -> str:
    return f"""
    - name: say
      description: Pass a word to a program.
      timeout: {timeout}
      parameters:
        word: {{type: string, description: any text{extra}}}
      command:
        argv: [{PY}, -c, "{SHOW_ARGS}", "{{word}}", "prefix-{{word}}"]
    """


def received(result: dict) -> list[str]:
    assert "result" in result, result
    return json.loads(result["result"]["output"])


INJECTIONS = [
    "; rm -rf /",
    "$(touch /tmp/pwned)",
    "`touch /tmp/pwned`",
    "a && touch /tmp/pwned",
    "line one\nline two\n; reboot",
    "../../../etc/passwd",
    "| cat /etc/shadow > /tmp/x",
    "' \" \\ * ? ~ {word} %s",
]


@pytest.mark.parametrize("attempt", INJECTIONS)
async def test_injection_attempts_arrive_as_plain_arguments(attempt, tmp_path):
    result = await owner_registry(say_tool()).call("say", {"word": attempt})
    assert received(result) == [attempt, f"prefix-{attempt}"]
    assert not Path("/tmp/pwned").exists()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        max_size=200,
    ).filter(lambda s: not s.startswith("-"))
)
def test_any_text_reaches_the_program_unchanged(word):
    result = asyncio.run(owner_registry(say_tool()).call("say", {"word": word}))
    assert received(result) == [word, f"prefix-{word}"]


async def test_values_that_would_read_as_options_or_break_argv_are_refused(tmp_path):
    marker = tmp_path / "ran"
    registry = owner_registry(f"""
    - name: touch
      description: Record that it ran.
      parameters:
        name: {{type: string, description: any}}
      command: {{argv: [/usr/bin/touch, "{marker}", "{{name}}"], working_directory: "{tmp_path}"}}
    """)
    assert await registry.call("touch", {"name": "--help"}) == {
        "error": "touch: name '--help' starts with '-' and would read as an option"
    }
    assert await registry.call("touch", {"name": "a\x00b"}) == {
        "error": "touch: name contains a NUL character"
    }
    long = "x" * 5000
    assert await registry.call("touch", {"name": long}) == {
        "error": "touch: name is 5000 characters long; at most 200 are accepted"
    }
    assert await registry.call("touch", {"name": 7}) == {
        "error": "touch: name must be a string of at most 200 characters, not 7"
    }
    assert await registry.call("touch", {"name": "ok", "extra": 1}) == {
        "error": "touch: no argument 'extra'; allowed: name"
    }
    assert not marker.exists()  # nothing ran for any of the bad calls
    assert "result" in await registry.call("touch", {"name": "ok"})
    assert marker.exists() and (tmp_path / "ok").exists()


async def test_enum_pattern_and_ranges_are_checked_before_running(tmp_path):
    log = tmp_path / "calls"
    registry = owner_registry(f"""
    - name: garage
      description: Open or close the garage door.
      parameters:
        action: {{type: string, enum: [open, close], description: what to do}}
        door: {{type: string, pattern: "[a-z]{{1,8}}", description: which door,
                required: false, default: main}}
        percent: {{type: integer, minimum: 0, maximum: 100, description: how far,
                   required: false, default: 100}}
        slow: {{type: boolean, description: gently, required: false, default: false}}
      command:
        argv: [{PY}, -c, "import sys; open('{log}', 'a').write(' '.join(sys.argv[1:]) + chr(10))",
               "{{action}}", "--door={{door}}", "{{percent}}", "{{slow}}"]
    """)
    bad = [
        ({"action": "explode"}, "garage: action 'explode'; allowed: open, close"),
        ({"action": "open", "door": "../x"},
         "garage: door '../x' does not match the pattern [a-z]{1,8}"),
        ({"action": "open", "percent": 101},
         "garage: percent must be an integer from 0 to 100, not 101"),
        ({"action": "open", "percent": 2.5},
         "garage: percent must be an integer from 0 to 100, not 2.5"),
        ({"action": "open", "slow": "yes"}, "garage: slow must be true or false, not 'yes'"),
        ({}, "garage: missing argument 'action' (one of open, close); allowed: "
             "garage(action: one of open, close; door: a string matching [a-z]{1,8} of at most "
             "200 characters; percent: an integer from 0 to 100; slow: true or false)"),
    ]  # fmt: skip
    for args, error in bad:
        assert await registry.call("garage", args) == {"error": error}
    assert not log.exists()
    assert (await registry.call("garage", {"action": "close"}))["result"]["exit_status"] == 0
    assert (await registry.call("garage", {"action": "open", "door": "side", "percent": 40.0,
                                           "slow": True}))["result"]["exit_status"] == 0  # fmt: skip
    assert log.read_text().splitlines() == ["close --door=main 100 false", "open --door=side 40 true"]


async def test_a_failing_program_reports_its_status_and_output():
    registry = owner_registry(f"""
    - name: fails
      description: Always fails.
      command: {{argv: [{PY}, -c, "import sys; print('door jammed', file=sys.stderr); sys.exit(3)"]}}
    - name: missing
      description: Not installed.
      command: {{argv: [/nonexistent/garage-script]}}
    """)
    assert await registry.call("fails", {}) == {
        "error": "fails failed: exit status 3; output: door jammed"
    }
    result = await registry.call("missing", {})
    assert result["error"].startswith("missing failed: cannot run /nonexistent/garage-script: No such")


async def test_the_program_gets_a_clean_environment_and_its_working_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", "AIza-secret-of-the-daemon")
    registry = owner_registry(f"""
    - name: env
      description: Show the environment.
      parameters:
        door: {{type: string, description: which door}}
      command:
        argv: [{PY}, -c, "import json, os; print(json.dumps([dict(os.environ), os.getcwd()]))"]
        working_directory: "{tmp_path}"
        environment: {{GARAGE_HOST: 192.168.1.30, DOOR: "door {{door}}"}}
    """)
    result = await registry.call("env", {"door": "$(reboot); main"})
    env, cwd = json.loads(result["result"]["output"])
    assert "GEMINI_API_KEY" not in env
    assert set(env) <= {"PATH", "LANG", "HOME", "SPEAKERD_TOOL", "GARAGE_HOST", "DOOR", "LC_CTYPE"}
    assert env["GARAGE_HOST"] == "192.168.1.30" and env["SPEAKERD_TOOL"] == "env"
    assert env["DOOR"] == "door $(reboot); main"
    assert Path(cwd) == tmp_path


async def test_output_is_capped_and_the_rest_counted():
    registry = owner_registry(f"""
    - name: chatty
      description: Prints a lot.
      command: {{argv: [{PY}, -c, "import sys; sys.stdout.write('x' * 1000000)"]}}
    """)
    output = (await registry.call("chatty", {}))["result"]["output"]
    more = 1_000_000 - OUTPUT_CAP
    assert output == "x" * OUTPUT_CAP + f"\n[output cut at {OUTPUT_CAP} bytes; {more} more bytes not shown]"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is dead for our purposes.
    return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"


async def test_a_hanging_command_is_killed_with_its_children_at_the_timeout(tmp_path):
    pids = tmp_path / "pids"
    script = (
        f"import os, subprocess, sys, time; child = subprocess.Popen(['sleep', '60']); "
        f"open('{pids}', 'w').write(f'{{os.getpid()}} {{child.pid}}'); "
        f"print('waiting for the door', flush=True); "
        f"import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    )
    registry = owner_registry(f"""
    - name: stuck
      description: Never finishes, and ignores SIGTERM.
      timeout: 0.8
      command: {{argv: [{PY}, -c, "{script}"]}}
    - name: quick
      description: Answers at once.
      command: {{argv: [/bin/echo, still here]}}
    """)
    started = time.monotonic()
    result = await registry.call("stuck", {})
    took = time.monotonic() - started
    assert result == {
        "error": "stuck failed: stopped after its 0.8 s timeout; output: waiting for the door"
    }
    assert took < 10  # the timeout, the SIGTERM grace, then SIGKILL; never the 60 s
    for pid in map(int, pids.read_text().split()):
        for _ in range(50):
            if not _alive(pid):
                break
            await asyncio.sleep(0.05)
        assert not _alive(pid), f"process {pid} survived the timeout"
    assert await registry.call("quick", {}) == {"result": {"exit_status": 0, "output": "still here"}}


async def test_a_cancelled_call_kills_the_program(tmp_path):
    pid_file = tmp_path / "pid"
    registry = owner_registry(f"""
    - name: slow
      description: Takes a minute.
      timeout: 120
      command: {{argv: [/bin/sh, -c, "echo $$ > {pid_file}; exec sleep 60"]}}
    """)
    task = asyncio.create_task(registry.call("slow", {}))
    for _ in range(100):
        if pid_file.exists() and pid_file.read_text().strip():
            break
        await asyncio.sleep(0.05)
    pid = int(pid_file.read_text())
    task.cancel()  # the conversation ended while the tool ran
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(50):
        if not _alive(pid):
            break
        await asyncio.sleep(0.05)
    assert not _alive(pid)


async def test_processes_left_behind_by_a_finished_command_are_killed(tmp_path):
    pid_file = tmp_path / "pid"
    registry = owner_registry(f"""
    - name: leaves
      description: Starts something in the background and exits.
      command: {{argv: [/bin/sh, -c, "sleep 60 > /dev/null 2>&1 & echo $! > {pid_file}; echo done"]}}
    """)
    assert await registry.call("leaves", {}) == {"result": {"exit_status": 0, "output": "done"}}
    pid = int(pid_file.read_text())
    for _ in range(50):
        if not _alive(pid):
            break
        await asyncio.sleep(0.05)
    assert not _alive(pid)
