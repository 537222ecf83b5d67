"""From a URL to what can be decoded: an HTTP audio stream, through playlists.

Our own HTTP client opens the URL first, so a 404, a dead host or a web page is
said in a sentence before anything is decoded, and an .m3u or .pls is followed
to the stream it names.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from daemon.media.http_stream import Response, StreamError, open_stream
from daemon.media.playlists import MAX_PLAYLIST_BYTES, entries, playlist_kind

MAX_DEPTH = 2


async def open_source(url: str, depth: int = 0) -> Response:
    """The audio stream at `url`, through a playlist if it is one; StreamError says why not."""
    response = await open_stream(url)
    kind = playlist_kind(response.url, response.content_type)
    if kind is None:
        if response.content_type.startswith("text/html"):
            await response.close()
            raise StreamError(f"{urlsplit(url).hostname} sent a web page, not audio")
        return response
    text, whole = await _read_playlist(response)
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
    """The playlist's text, at most 64 KiB of it, and whether that is all of it."""
    text = b""
    try:
        async for piece in response.body():
            text += piece
            if len(text) > MAX_PLAYLIST_BYTES:
                return text[:MAX_PLAYLIST_BYTES].decode("utf-8", "replace"), False
    finally:
        await response.close()
    return text.decode("utf-8", "replace"), True
