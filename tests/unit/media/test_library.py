"""The music library: tags read by ffprobe, an index kept across restarts, a search."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.config.schema import MediaConfig
from daemon.media import Library, Player
from daemon.media.library import ffprobe_for
from tests.support.media_server import make_tone
from tests.unit.media.conftest import RATE, RecordingSink, dominant_frequency


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("music")
    (root / "Miles" / "Blue").mkdir(parents=True)
    make_tone(root / "Miles" / "Blue" / "01.mp3", 330, 1.0,
              tags={"artist": "Miles Example", "album": "Kind of Blue", "title": "So What", "track": "1"})
    make_tone(root / "Miles" / "Blue" / "02.ogg", 550, 1.0,
              tags={"artist": "Miles Example", "album": "Kind of Blue", "title": "Freddie", "track": "2"})
    make_tone(root / "untagged song.mp3", 880, 1.0)
    (root / "notes.txt").write_text("not music")
    return root


def test_tags_are_indexed_and_searched_by_artist_album_title_and_name(folder: Path, tmp_path: Path):
    library = Library(folder, tmp_path / "index.json")
    assert library.scan() == 3
    assert [t.title for t in library.search("kind of blue")] == ["So What", "Freddie"]
    assert [t.title for t in library.search("miles")] == ["So What", "Freddie"]
    assert [t.title for t in library.search("freddie")] == ["Freddie"]
    assert [t.title for t in library.search("untagged")] == ["untagged song"]
    assert library.search("coltrane") == [] and library.search("  ") == []


def test_the_index_is_kept_and_only_changes_are_read_again(folder: Path, tmp_path: Path):
    index = tmp_path / "index.json"
    Library(folder, index).scan()
    again = Library(folder, index, ffprobe="/nonexistent/ffprobe")  # cannot read any tags
    assert len(again) == 3  # known before scanning
    again.scan()
    assert [t.artist for t in again.search("so what")] == ["Miles Example"]  # kept, not re-read
    index.write_text("{ broken")
    assert len(Library(folder, index)) == 0  # rebuilt, not fatal


def test_ffprobe_is_found_beside_ffmpeg():
    assert ffprobe_for("ffmpeg") == "ffprobe"
    assert ffprobe_for("/opt/ff/bin/ffmpeg") == "/opt/ff/bin/ffprobe"


async def test_a_search_plays_its_tracks_in_album_order_and_next_skips(folder: Path, tmp_path: Path):
    library = Library(folder, None)
    library.scan()
    sink = RecordingSink(limit_s=0.5)
    music = Player(MediaConfig(), sink, rate=lambda: RATE, library=library)
    reply = await music.play_search("kind of blue")
    assert reply == "playing So What by Miles Example (1 of 2 tracks found)"
    await sink.filled(0.5)
    assert dominant_frequency(sink.samples()[: RATE // 2]) == pytest.approx(330, abs=3)
    sink.pcm.clear()
    assert await music.next() == "playing Freddie by Miles Example"
    await sink.filled(0.5)
    assert dominant_frequency(sink.samples()[: RATE // 2]) == pytest.approx(550, abs=3)
    assert await music.next() == "there is no next track"
    await music.stop()
    assert "nothing in the music library matches 'coltrane'" in await music.play_search("coltrane")


async def test_a_local_file_or_folder_plays_by_its_path(folder: Path, tmp_path: Path):
    sink = RecordingSink(limit_s=0.3)
    music = Player(MediaConfig(), sink, rate=lambda: RATE)
    assert await music.play(str(folder / "Miles")) == "playing 01"
    assert music.now()["queued"] == 1 and music.now()["source"] == "file"
    await sink.filled(0.3)
    await music.stop()
    assert "no such file or folder" in await music.play("/nonexistent/song.mp3")
    (tmp_path / "notes.txt").write_text("not music")
    assert "the folder holds no audio files" in await music.play(str(tmp_path))
