"""ffmpeg in its own process: any stream or file in, 16-bit mono PCM at one rate out.

Decoding runs outside the daemon so that a malformed stream, a codec bug or a
stall can at worst end that process: the daemon only reads a pipe. What goes
in is a local file (ffmpeg reads it), bytes the daemon writes to its stdin
(HTTP streams, whose ICY titles the daemon takes out first), or the URL of an
HLS playlist, which ffmpeg fetches itself, segment after segment, over http(s)
only. stderr is kept bounded and turned into a sentence when ffmpeg gives up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

from daemon.media.http_stream import USER_AGENT

log = logging.getLogger(__name__)

STDERR_KEPT = 2048
URL_PROTOCOLS = "http,https,tcp,tls,crypto"
"""What ffmpeg may open for a URL (crypto: AES-128 HLS): not file, so a playlist from
the network cannot name a file of the speaker's."""


class DecodeError(Exception):
    """ffmpeg could not decode the input; str() is a sentence saying why."""


def reason_from(stderr: str) -> str:
    """ffmpeg's complaint in words an owner (and the model) can repeat."""
    text = stderr.lower()
    if "invalid data found" in text or "could not find codec parameters" in text:
        return "it is not audio that can be played (ffmpeg found no audio in it)"
    if ("decoder" in text and "not found" in text) or "unsupported codec" in text:
        return "its codec is not supported"
    if "does not contain any stream" in text or "matches no streams" in text:
        return "it has no audio"
    if "no such file" in text:
        return "the file does not exist"
    if "permission denied" in text:
        return "the file cannot be read"
    last = stderr.strip().splitlines()[-1] if stderr.strip() else "no reason given"
    return f"the decoder failed: {last[:200]}"


class Decoder:
    """One ffmpeg process. start(), then feed() (stdin input) and pcm(); close() always."""

    def __init__(
        self, ffmpeg: str, rate: int, *, source: Path | str | None = None,
        stall_s: float | None = None,
    ) -> None:  # fmt: skip
        """`source`: a local file or an http(s) URL ffmpeg reads itself; None: the input
        comes through feed(). `stall_s`: no audio for this long ends the output (for a
        URL, whose network the daemon does not see)."""
        self.ffmpeg = ffmpeg
        self.rate = rate
        self.source = source
        self.stall_s = stall_s
        self._stalled: str | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._stderr = b""
        self._stderr_task: asyncio.Task[None] | None = None

    def _input(self) -> list[str]:
        if self.source is None:
            return ["-i", "pipe:0"]
        if isinstance(self.source, Path):
            return ["-i", str(self.source)]
        timeout = [] if self.stall_s is None else ["-rw_timeout", str(int(self.stall_s * 1e6))]
        return ["-protocol_whitelist", URL_PROTOCOLS, "-user_agent", USER_AGENT, *timeout,
                "-i", self.source]  # fmt: skip

    async def start(self) -> None:
        args = [
            self.ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", *self._input(),
            "-map", "0:a:0", "-vn", "-f", "s16le", "-acodec", "pcm_s16le",
            "-ac", "1", "-ar", str(self.rate), "pipe:1",
        ]  # fmt: skip
        try:
            self._process = await asyncio.create_subprocess_exec(
                *args,
                stdin=asyncio.subprocess.PIPE if self.source is None else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            raise DecodeError(
                f"the decoder {self.ffmpeg!r} cannot run: {exc.strerror or exc}; install ffmpeg"
            ) from None
        self._stderr_task = asyncio.create_task(self._keep_stderr())

    async def _keep_stderr(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        while True:
            piece = await self._process.stderr.read(1024)
            if not piece:
                return
            self._stderr = (self._stderr + piece)[-STDERR_KEPT:]

    async def feed(self, data: bytes) -> bool:
        """Write input; False once ffmpeg no longer takes it (it exited)."""
        process = self._process
        if process is None or process.stdin is None or process.stdin.is_closing():
            return False
        try:
            process.stdin.write(data)
            await process.stdin.drain()
        except (ConnectionError, BrokenPipeError, RuntimeError):
            return False
        return True

    async def end_input(self) -> None:
        process = self._process
        if process is not None and process.stdin is not None:
            with contextlib.suppress(Exception):
                process.stdin.close()

    async def pcm(self, size: int) -> AsyncIterator[bytes]:
        """Decoded audio in pieces of `size` bytes (whole samples); ends when ffmpeg does,
        or when it has sent nothing for `stall_s` (failure() then says so)."""
        assert self._process is not None and self._process.stdout is not None
        stdout = self._process.stdout
        size -= size % 2
        while True:
            try:
                piece = await asyncio.wait_for(stdout.readexactly(size), self.stall_s)
            except TimeoutError:
                self._stalled = f"the stream sent nothing for {self.stall_s:g} s"
                return
            except asyncio.IncompleteReadError as exc:
                tail = exc.partial[: len(exc.partial) - len(exc.partial) % 2]
                if tail:
                    yield tail
                return
            yield piece

    async def failure(self) -> str | None:
        """After the output ended: why ffmpeg failed, or None when it finished well."""
        process = self._process
        if process is None:
            return None
        if self._stalled is not None:
            return self._stalled
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), 2.0)
        if self._stderr_task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._stderr_task), 1.0)
        if process.returncode == 0:
            return None
        return reason_from(self._stderr.decode("utf-8", "replace"))

    async def close(self) -> None:
        """End the process (its whole session) and reap it, its pipes read to their end:
        a pipe left paused full would keep its transport open past the event loop."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        if self._stderr_task is not None:
            self._stderr_task.cancel()
            with contextlib.suppress(BaseException):
                await self._stderr_task
        with contextlib.suppress(Exception):
            await asyncio.wait_for(process.communicate(), 2.0)
