"""A small HTTP/1.1 client for audio streams: redirects, chunked bodies, ICY titles.

Internet radio speaks HTTP with a twist: asked with `Icy-MetaData: 1`, the
server inserts a block of metadata ("StreamTitle='Artist - Title';") every
`icy-metaint` bytes of audio. Those blocks are taken out here, so the decoder
sees only audio and the player hears each new title. The client is ours
rather than ffmpeg's so that a 404, a refused connection or a page of HTML
comes back as a sentence before anything is decoded, and so the titles are
heard at all (ffmpeg reads them but does not report their changes).

Everything is bounded: the status line and headers (16 KiB), the number of
redirects, each read, and a metadata block (at most 4080 bytes by the format).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

MAX_HEADER_BYTES = 16 * 1024
MAX_REDIRECTS = 5
READ_SIZE = 16 * 1024
STALL_S = 15.0
"""A stream that sends nothing for this long has stalled: it is dropped (and reconnected)."""
USER_AGENT = "speakerd/0.1"


class StreamError(Exception):
    """The stream cannot be played; str() is a sentence saying why."""


@dataclass
class Response:
    url: str
    status: int
    reason: str
    headers: dict[str, str]
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    on_title: Callable[[str], None] | None = None
    stall_s: float = STALL_S
    _left: int | None = field(default=None, repr=False)  # of a chunk or the whole body

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def station_name(self) -> str | None:
        name = self.headers.get("icy-name", "").strip()
        return name or None

    @property
    def is_live(self) -> bool:
        """A stream with no end (radio), as opposed to a file served over HTTP."""
        return "content-length" not in self.headers or "icy-metaint" in self.headers

    async def body(self) -> AsyncIterator[bytes]:
        """The audio, in pieces of at most READ_SIZE bytes, ICY metadata taken out."""
        metaint = _int(self.headers.get("icy-metaint"))
        if not metaint:
            async for piece in self._raw():
                yield piece
            return
        raw = self._raw()
        pending = b""
        audio_left = metaint
        try:
            while True:
                if audio_left:
                    if not pending:
                        pending = await anext(raw, b"")
                        if not pending:
                            return
                    piece, pending = pending[:audio_left], pending[audio_left:]
                    audio_left -= len(piece)
                    yield piece
                    continue
                pending = await _fill(raw, pending, 1)
                if not pending:
                    return
                size = pending[0] * 16
                pending = await _fill(raw, pending, 1 + size)
                if len(pending) < 1 + size:
                    return
                if size:
                    self._metadata(pending[1 : 1 + size])
                pending = pending[1 + size :]
                audio_left = metaint
        finally:
            await raw.aclose()

    def _metadata(self, block: bytes) -> None:
        text = block.rstrip(b"\0").decode("utf-8", "replace")
        match = re.search(r"StreamTitle='(.*?)';", text, re.S)
        if match and self.on_title is not None:
            self.on_title(match.group(1).strip())

    async def _read(self, size: int) -> bytes:
        try:
            return await asyncio.wait_for(self.reader.read(size), self.stall_s)
        except TimeoutError:
            raise StreamError(f"the stream sent nothing for {self.stall_s:g} s") from None

    async def _raw(self) -> AsyncGenerator[bytes, None]:
        """The body as sent: de-chunked, cut at its length, or up to the close."""
        reader = self.reader
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                line = await reader.readuntil(b"\n")
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    return
                while size:
                    piece = await self._read(min(size, READ_SIZE))
                    if not piece:
                        raise StreamError("the server ended the stream in the middle of a chunk")
                    size -= len(piece)
                    yield piece
                await reader.readuntil(b"\n")
        left = _int(self.headers.get("content-length"))
        while left is None or left > 0:
            piece = await self._read(READ_SIZE if left is None else min(left, READ_SIZE))
            if not piece:
                if left:
                    raise StreamError("the server ended the stream before its end")
                return
            if left is not None:
                left -= len(piece)
            yield piece

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.writer.wait_closed(), 1.0)


async def _fill(raw: AsyncIterator[bytes], pending: bytes, size: int) -> bytes:
    while len(pending) < size:
        more = await anext(raw, b"")
        if not more:
            break
        pending += more
    return pending


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


async def open_stream(
    url: str, *, timeout: float = 10.0, icy: bool = True, ssl_context: ssl.SSLContext | None = None
) -> Response:
    """GET `url`, following redirects; StreamError with the reason unless the answer is 2xx."""
    for _ in range(MAX_REDIRECTS + 1):
        response = await _get(url, timeout, icy, ssl_context)
        if response.status in (301, 302, 303, 307, 308):
            location = response.headers.get("location")
            await response.close()
            if not location:
                raise StreamError(f"{_host(url)} redirected without saying where")
            url = urljoin(url, location)
            if urlsplit(url).scheme not in ("http", "https"):
                raise StreamError(f"{_host(url)} redirected to a URL that is not http or https")
            continue
        if not 200 <= response.status < 300:
            await response.close()
            raise StreamError(
                f"{_host(url)} answered {response.status} {response.reason}".rstrip()
                + (": no such stream or file" if response.status in (404, 410) else "")
            )
        return response
    raise StreamError(f"{_host(url)} redirected more than {MAX_REDIRECTS} times")


async def _get(
    url: str, timeout: float, icy: bool, ssl_context: ssl.SSLContext | None
) -> Response:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StreamError(f"{url!r} is not an http:// or https:// URL")
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    tls = (ssl_context or ssl.create_default_context()) if parts.scheme == "https" else None
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=tls, limit=MAX_HEADER_BYTES), timeout
        )
    except TimeoutError:
        raise StreamError(f"{host} did not answer within {timeout:g} s") from None
    except ssl.SSLError as exc:
        raise StreamError(f"{host}: the secure connection failed ({exc.reason or exc})") from None
    except OSError as exc:
        raise StreamError(f"cannot reach {host}: {exc.strerror or exc}") from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {netloc}\r\nUser-Agent: {USER_AGENT}\r\n"
        f"Accept: */*\r\nConnection: close\r\n" + ("Icy-MetaData: 1\r\n" if icy else "") + "\r\n"
    )
    try:
        writer.write(request.encode("ascii", "strict"))
        status_line, headers = await asyncio.wait_for(_read_head(reader), timeout)
    except TimeoutError:
        writer.close()
        raise StreamError(f"{host} did not answer within {timeout:g} s") from None
    except (OSError, UnicodeError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
            ValueError) as exc:  # fmt: skip
        writer.close()
        raise StreamError(f"{host} did not answer like a web server ({type(exc).__name__})") from None
    match = re.match(r"^(HTTP/\d(?:\.\d)?|ICY)\s+(\d{3})\s*(.*)$", status_line)
    if not match:
        writer.close()
        raise StreamError(f"{host} did not answer like a web server")
    return Response(url, int(match.group(2)), match.group(3).strip(), headers, reader, writer)


async def _read_head(reader: asyncio.StreamReader) -> tuple[str, dict[str, str]]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip().lower()] = value.strip()
    return lines[0], headers


def _host(url: str) -> str:
    return urlsplit(url).hostname or url
