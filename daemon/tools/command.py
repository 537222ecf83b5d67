"""Owner tools that run a program: an argument list, never a shell.

The model's values only ever become whole argv items (or parts of one), so
`; rm -rf /` or `$(reboot)` reach the program as the literal text they are.
The program runs in its own process group with a clean environment; at the
timeout the whole group is stopped (SIGTERM, then SIGKILL), and whatever is
left of the group when the program exits is killed too, so a tool call never
leaves processes behind. Output (stdout and stderr together) is capped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from daemon.config.tools import OUTPUT_CAP, PLACEHOLDER, CommandAction
from daemon.tools.spec import ArgumentError

log = logging.getLogger(__name__)

SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
TERM_GRACE = 1.0  # seconds between SIGTERM and SIGKILL at the timeout
DRAIN_GRACE = 0.5  # seconds to collect output a detached grandchild still holds open


class CommandFailed(RuntimeError):
    """The program ran and failed; the message carries its status and output for the model."""


def text_of(value: Any) -> str:
    """A checked value as command-line or URL text: strings as they are, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def fill(template: str, values: Mapping[str, Any]) -> str:
    return PLACEHOLDER.sub(lambda m: text_of(values[m.group(1)]), template)


def leading_placeholders(action: CommandAction) -> set[str]:
    """Parameters that begin an argument: their values must not look like options."""
    return {m.group(1) for arg in action.argv[1:] if (m := PLACEHOLDER.match(arg))}


def refuse_option_like(value: Any) -> str | None:
    if isinstance(value, str) and value.startswith("-"):
        return "starts with '-' and would read as an option"
    return None


def environment(action: CommandAction, tool: str, values: Mapping[str, Any]) -> dict[str, str]:
    """PATH, LANG and HOME only, plus what the owner declared: never the daemon's secrets."""
    env = {
        "PATH": SAFE_PATH,
        "LANG": "C.UTF-8",
        "HOME": os.environ.get("HOME") or "/",
        "SPEAKERD_TOOL": tool,
    }
    env.update({key: fill(text, values) for key, text in action.environment.items()})
    return env


class _Output:
    """The first OUTPUT_CAP bytes, and a count of the rest (drained so the program never blocks)."""

    def __init__(self, cap: int = OUTPUT_CAP) -> None:
        self.cap = cap
        self.kept = bytearray()
        self.dropped = 0

    async def collect(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(65536):
            room = self.cap - len(self.kept)
            self.kept += chunk[: max(room, 0)]
            self.dropped += max(len(chunk) - max(room, 0), 0)

    def text(self) -> str:
        text = self.kept.decode("utf-8", errors="replace").rstrip()
        if self.dropped:
            text += f"\n[output cut at {self.cap} bytes; {self.dropped} more bytes not shown]"
        return text


def command_handler(
    name: str, action: CommandAction, timeout: float
) -> Callable[..., Awaitable[dict[str, Any]]]:
    """The async handler the registry calls with the checked arguments."""

    async def run(**values: Any) -> dict[str, Any]:
        argv = [action.argv[0], *(fill(arg, values) for arg in action.argv[1:])]
        env = environment(action, name, values)
        if any("\x00" in text for text in [*argv, *env.values()]):
            raise ArgumentError("an argument contains a NUL character")
        return await run_command(name, argv, env, action, timeout)

    return run


async def run_command(
    name: str, argv: list[str], env: dict[str, str], action: CommandAction, timeout: float
) -> dict[str, Any]:
    """Run argv; {"exit_status": 0, "output": ...} or CommandFailed with status and output."""
    cwd = str(action.working_directory) if action.working_directory else None
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=cwd,
            env=env,
            start_new_session=True,  # its own process group, which the timeout kills whole
        )
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        where = exc.filename or argv[0]
        raise CommandFailed(f"cannot run {argv[0]}: {reason} ({where})") from None
    assert proc.stdout is not None
    output = _Output()
    reader = asyncio.create_task(output.collect(proc.stdout))
    log.info("tool %s: running %s (pid %d)", name, argv[0], proc.pid)
    timed_out = False
    try:
        try:
            await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            timed_out = True
            await _stop_group(proc)
        _kill_group(proc.pid)  # anything the program left running in its group
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(reader), DRAIN_GRACE)
    finally:
        if proc.returncode is None:  # cancelled: the session ended or the call was withdrawn
            _kill_group(proc.pid)
            log.warning("tool %s: cancelled; killed %s (pid %d)", name, argv[0], proc.pid)
        reader.cancel()
    text = output.text()
    status = proc.returncode
    if timed_out:
        log.warning("tool %s: %s killed after its %g s timeout", name, argv[0], timeout)
        raise CommandFailed(_with_output(f"stopped after its {timeout:g} s timeout", text))
    if status != 0:
        raise CommandFailed(_with_output(_status_words(status), text))
    return {"exit_status": 0, "output": text}


async def _stop_group(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM the group so a script can clean up, SIGKILL it if it is still there."""
    _kill_group(proc.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), TERM_GRACE)
    except TimeoutError:
        _kill_group(proc.pid)
        await proc.wait()


def _kill_group(pgid: int, sig: signal.Signals = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _status_words(status: int | None) -> str:
    if status is not None and status < 0:
        try:
            return f"killed by {signal.Signals(-status).name}"
        except ValueError:
            return f"killed by signal {-status}"
    return f"exit status {status}"


def _with_output(what: str, output: str) -> str:
    return f"{what}; output: {output}" if output else f"{what}; no output"
