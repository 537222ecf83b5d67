"""Playlists a station URL may point to (.m3u, .pls): the stream URLs in them.

A station's "listen" link is often a small text file naming the real stream
(or several mirrors). It is read whole (at most 64 KiB) and its http(s)
entries are tried in order.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

MAX_PLAYLIST_BYTES = 64 * 1024
PLAYLIST_TYPES = {
    "audio/x-mpegurl": "m3u",
    "audio/mpegurl": "m3u",
    "application/x-mpegurl": "m3u",
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
