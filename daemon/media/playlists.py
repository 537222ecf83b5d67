"""Playlists a station URL may point to (.m3u, .m3u8, .pls): the stream URLs in them.

A station's "listen" link is often a small text file naming the real stream
(or several mirrors). It is read whole (at most 64 KiB) and its http(s)
entries are tried in order.

An .m3u8 is either such a list or an HLS playlist (a master playlist naming
variants, or a media playlist naming segments a few seconds long), whatever
the content type says. Only the text tells them apart: HLS carries `#EXT-X-`
tags. HLS is not followed here but handed to ffmpeg whole (sources.py).
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

MAX_PLAYLIST_BYTES = 64 * 1024
PLAYLIST_TYPES = {
    "audio/x-mpegurl": "m3u",
    "audio/mpegurl": "m3u",
    "application/x-mpegurl": "m3u",
    "application/vnd.apple.mpegurl": "m3u",
    "audio/x-scpls": "pls",
    "application/pls+xml": "pls",
}


def playlist_kind(url: str, content_type: str) -> str | None:
    """"m3u", "pls" or None, from the content type or else the URL's ending."""
    if content_type in PLAYLIST_TYPES:
        return PLAYLIST_TYPES[content_type]
    path = urlsplit(url).path.lower()
    if path.endswith((".m3u", ".m3u8")) and content_type.startswith(("text/", "application/")):
        return "m3u"
    if path.endswith(".m3u") and not content_type.startswith("audio/mpeg"):
        return "m3u"
    if path.endswith(".pls"):
        return "pls"
    return None


def entries(text: str, kind: str, base: str) -> list[str]:
    """The http(s) URLs the playlist names, in order, relative ones resolved against `base`."""
    found: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if kind == "pls":
            match = re.match(r"^File\d+\s*=\s*(\S+)$", line, re.I)
            if not match:
                continue
            line = match.group(1)
        elif not line or line.startswith("#"):
            continue
        url = urljoin(base, line)
        if urlsplit(url).scheme in ("http", "https") and url not in found:
            found.append(url)
    return found[:20]


def is_hls(text: str) -> bool:
    """An HLS playlist rather than a list of streams: #EXTM3U first, then #EXT-X- tags."""
    lines = [line.strip() for line in text.lstrip("\ufeff").splitlines() if line.strip()]
    return (
        bool(lines)
        and lines[0].startswith("#EXTM3U")
        and any(line.startswith("#EXT-X-") for line in lines)
    )


def hls_variants(text: str, base: str) -> list[str]:
    """The media playlists a master playlist names, in order (empty for a media playlist)."""
    found: list[str] = []
    lines = [line.strip() for line in text.splitlines()]
    for index, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF"):
            uri = next((u for u in lines[index + 1 :] if u and not u.startswith("#")), None)
            if uri is not None:
                found.append(urljoin(base, uri))
    return found


def hls_is_live(text: str) -> bool:
    """A media playlist with no end (radio): it lacks #EXT-X-ENDLIST."""
    return not any(line.strip() == "#EXT-X-ENDLIST" for line in text.splitlines())
