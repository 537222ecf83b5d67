"""From a URL to what can be decoded: an HTTP audio stream, through playlists, or HLS.

Our own HTTP client opens the URL first, so a 404, a dead host or a web page is
said in a sentence before anything is decoded, and an .m3u or .pls is followed
to the stream it names. HLS is the exception: its audio comes in segments a
few seconds long named by a playlist that changes, which ffmpeg reads natively,
so an HLS playlist is handed to ffmpeg by its URL (HlsStream) once its text has
shown what it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from daemon.media.http_stream import Response, StreamError, open_stream
from daemon.media.playlists import (
    MAX_PLAYLIST_BYTES,
    entries,
    hls_is_live,
    hls_variants,
    is_hls,
    playlist_kind,
)

MAX_DEPTH = 2


@dataclass(frozen=True)
class HlsStream:
    """An HLS playlist that ffmpeg fetches itself, with its segments."""

    url: str
    live: bool
    """No #EXT-X-ENDLIST: radio, reconnected when it drops; else played once."""


async def open_source(url: str, depth: int = 0) -> Response | HlsStream:
    """The audio stream at `url`, through a playlist if it is one; StreamError says why not."""
    response = await open_stream(url)
    kind = playlist_kind(response.url, response.content_type)
    if kind is None:
        if response.content_type.startswith("text/html"):
            await response.close()
            raise StreamError(f"{urlsplit(url).hostname} sent a web page, not audio")
        return response
    text, whole = await _read_playlist(response)
    if kind == "m3u" and is_hls(text):
        return HlsStream(response.url, await _hls_live(text, response.url, whole))
    if not whole:
        raise StreamError("the playlist is larger than 64 KiB")
    urls = entries(text, kind, response.url)
    if not urls:
        raise StreamError("the playlist names no http:// or https:// stream")
    if depth >= MAX_DEPTH:
        raise StreamError("the playlist points to playlists more than twice")
    problem: StreamError | None = None
    for entry in urls[:5]:
        try:
            return await open_source(entry, depth + 1)
        except StreamError as exc:
            problem = problem or exc
    assert problem is not None
    raise problem


async def _read_playlist(response: Response) -> tuple[str, bool]:
    """The playlist's text, at most 64 KiB of it, and whether that is all of it (a long
    live HLS window may be more; its start is enough to know it is HLS)."""
    text = b""
    try:
        async for piece in response.body():
            text += piece
            if len(text) > MAX_PLAYLIST_BYTES:
                return text[:MAX_PLAYLIST_BYTES].decode("utf-8", "replace"), False
    finally:
        await response.close()
    return text.decode("utf-8", "replace"), True


async def _hls_live(text: str, url: str, whole: bool) -> bool:
    """Whether the HLS stream has no end; a master playlist's first variant is asked
    (and a variant that cannot be fetched is said now, as a sentence)."""
    variants = hls_variants(text, url)
    if not variants:
        return not whole or hls_is_live(text)
    media = await open_stream(variants[0])
    text, whole = await _read_playlist(media)
    if not is_hls(text):
        raise StreamError(f"{urlsplit(url).hostname} names an HLS variant that is not a playlist")
    return not whole or hls_is_live(text)
