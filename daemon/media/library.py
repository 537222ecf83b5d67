"""The music folder: an index of its files by artist, album and title, and a search.

Tags are read with ffprobe (in its own process, one file at a time, with a
time limit) and kept in a JSON index beside the timers, so a restart reads
only files that are new or changed. A file without tags is found by its name.
The index is bounded (MAX_FILES) and built in the background: the player can
search what is indexed so far.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger(__name__)

AUDIO_SUFFIXES = (".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".flac", ".wav", ".wma")
MAX_FILES = 50_000
PROBE_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Track:
    path: str
    artist: str
    album: str
    title: str
    track: int
    mtime: float
    size: int

    def words(self) -> str:
        return _fold(f"{self.artist} {self.album} {self.title} {Path(self.path).stem}")

    def spoken(self) -> str:
        return f"{self.title} by {self.artist}" if self.artist else self.title


def _fold(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def ffprobe_for(ffmpeg: str) -> str:
    """The ffprobe beside the configured ffmpeg."""
    head, _, name = ffmpeg.rpartition("/")
    probe = name.replace("ffmpeg", "ffprobe") if "ffmpeg" in name else "ffprobe"
    return f"{head}/{probe}" if head else probe


def read_tags(path: Path, ffprobe: str = "ffprobe") -> dict[str, str]:
    """The file's tags (lower-case keys), or {} when ffprobe cannot read it."""
    try:
        done = subprocess.run(
            [ffprobe, "-v", "error", "-show_entries", "format_tags:stream_tags",
             "-of", "json", str(path)],
            capture_output=True, timeout=PROBE_TIMEOUT_S, check=False,
        )  # fmt: skip
        data = json.loads(done.stdout or b"{}")
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return {}
    tags: dict[str, str] = {}
    for source in [data.get("format", {}), *data.get("streams", [])]:
        for key, value in (source.get("tags") or {}).items():
            tags.setdefault(str(key).lower(), str(value))
    return tags


class Library:
    """The indexed music folder; scan() (blocking: run it in a thread), then search()."""

    def __init__(self, folder: Path, index_file: Path | None, ffprobe: str = "ffprobe") -> None:
        self.folder = folder
        self.index_file = index_file
        self.ffprobe = ffprobe
        self._tracks: dict[str, Track] = {}
        self.scanned = False
        self._load()

    def __len__(self) -> int:
        return len(self._tracks)

    def _load(self) -> None:
        if self.index_file is None:
            return
        try:
            rows = json.loads(self.index_file.read_text(encoding="utf-8"))
            self._tracks = {row["path"]: Track(**row) for row in rows[:MAX_FILES]}
        except FileNotFoundError:
            return
        except (OSError, ValueError, TypeError, KeyError) as exc:
            log.warning("music index %s unreadable (%s): rebuilding it", self.index_file, exc)
            self._tracks = {}

    def scan(self) -> int:
        """Index new and changed files, forget removed ones; the number of tracks."""
        found: dict[str, Track] = {}
        for path in self._files():
            try:
                info = path.stat()
            except OSError:
                continue
            key = str(path)
            known = self._tracks.get(key)
            if known is not None and (known.mtime, known.size) == (info.st_mtime, info.st_size):
                found[key] = known
                continue
            tags = read_tags(path, self.ffprobe)
            found[key] = Track(
                key,
                tags.get("artist", tags.get("album_artist", "")).strip(),
                tags.get("album", "").strip(),
                tags.get("title", "").strip() or path.stem,
                _track_number(tags.get("track", "")),
                info.st_mtime,
                info.st_size,
            )
            self._tracks[key] = found[key]  # searchable at once
        self._tracks = found
        self.scanned = True
        self._save()
        return len(found)

    def _files(self) -> list[Path]:
        files: list[Path] = []
        for root, dirs, names in os.walk(self.folder):
            dirs.sort()
            for name in sorted(names):
                if name.lower().endswith(AUDIO_SUFFIXES):
                    files.append(Path(root) / name)
                    if len(files) >= MAX_FILES:
                        log.warning("music library: indexing the first %d files only", MAX_FILES)
                        return files
        return files

    def _save(self) -> None:
        if self.index_file is None:
            return
        temporary = self.index_file.with_suffix(".tmp")
        try:
            temporary.write_text(json.dumps([asdict(t) for t in self._tracks.values()]))
            temporary.replace(self.index_file)
        except OSError as exc:
            log.warning("music index not saved to %s: %s", self.index_file, exc)

    def search(self, query: str, limit: int = 100) -> list[Track]:
        """Tracks whose artist, album, title or file name hold every word of `query`,
        best first: whole-title matches, then artist, then album (in track order)."""
        words = _fold(query).split()
        if not words:
            return []
        hits = [t for t in self._tracks.values() if all(w in t.words() for w in words)]
        folded = _fold(query)

        def rank(track: Track) -> tuple[int, str, str, int, str]:
            exact = 0 if folded in (_fold(track.title), _fold(track.artist), _fold(track.album)) else 1
            return (exact, track.artist.casefold(), track.album.casefold(), track.track, track.path)

        return sorted(hits, key=rank)[:limit]


def _track_number(text: str) -> int:
    match = re.match(r"\s*(\d+)", text)
    return int(match.group(1)) if match else 0
