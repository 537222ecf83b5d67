"""The player over a real web server and real ffmpeg: formats, titles, drops and refusals."""

from __future__ import annotations

import asyncio
import logging

import pytest

from daemon.config.schema import MediaConfig, StationConfig
from daemon.core.events import MediaChanged
from daemon.media import Player
from daemon.media.player import DUCK_RAMP_S
from tests.support.media_server import FREQUENCIES, MediaServer
from tests.unit.media.conftest import RATE, RecordingSink, dominant_frequency


def player(sink: RecordingSink, server: MediaServer, **config: object) -> Player:
    stations = [StationConfig(name="Test Radio", url=server.url("live.mp3")),
                StationConfig(name="Playlist Radio", url=server.url("list.m3u"))]  # fmt: skip
    return Player(MediaConfig(stations=stations, **config), sink, rate=lambda: RATE,
                  start_timeout=10.0, retry_first=0.1)  # fmt: skip


@pytest.mark.parametrize("suffix", ["mp3", "ogg", "aac", "opus"])
async def test_each_format_is_decoded_to_the_speaker_rate(server: MediaServer, suffix: str):
    sink = RecordingSink(limit_s=1.0)
    music = player(sink, server)
    reply = await music.play_url(server.url(f"tone.{suffix}"))
    assert reply.startswith("playing"), reply
    await sink.filled(1.0)
    await music.stop()
    assert dominant_frequency(sink.samples()[RATE // 4 :]) == pytest.approx(FREQUENCIES[suffix], abs=3)
    assert music.state == "stopped"


async def test_a_station_by_name_shows_its_icy_titles(server: MediaServer):
    sink = RecordingSink(limit_s=30.0)
    events: list[MediaChanged] = []
    music = player(sink, server)
    music.on_change = events.append
    reply = await music.play("test radio")
    assert reply.startswith("playing Test Radio"), reply

    async def titled() -> None:
        while music.title is None:
            await asyncio.sleep(0.02)

    await asyncio.wait_for(titled(), 10)
    assert (music.title, music.artist) in {("First Song", "Artist One"), ("Second Song", "Artist Two")}
    now = music.now()
    assert now["state"] == "playing" and now["source"] == "Test Radio"
    assert any(e.title == music.title and e.source == "Test Radio" for e in events)
    await music.stop()
    assert events[-1].state == "stopped" and events[-1].title is None
    assert dominant_frequency(sink.samples()[: RATE]) == pytest.approx(440, abs=3)


async def test_playlists_lead_to_their_stream(server: MediaServer):
    for name, frequency in (("list.m3u", 440), ("list.pls", 660)):
        sink = RecordingSink(limit_s=0.5)
        music = player(sink, server)
        reply = await music.play_url(server.url(name))
        assert reply.startswith("playing"), reply
        await sink.filled(0.5)
        await music.stop()
        assert dominant_frequency(sink.samples()) == pytest.approx(frequency, abs=5)


@pytest.mark.parametrize(
    ("path", "said"),
    [
        ("missing.mp3", "answered 404"),
        ("page.html", "sent a web page, not audio"),
        ("noise.mp3", "not audio that can be played"),
        ("odd.wav", "its codec is not supported"),
    ],
)
async def test_what_cannot_play_is_said_in_a_sentence(server: MediaServer, path: str, said: str):
    sink = RecordingSink()
    music = player(sink, server)
    reply = await music.play_url(server.url(path))
    assert reply.startswith("cannot play") and said in reply, reply
    assert music.state == "stopped" and sink.seconds == 0


async def test_an_unreachable_host_and_a_bad_scheme_are_said(server: MediaServer):
    music = player(RecordingSink(), server)
    reply = await music.play_url("http://127.0.0.1:9/radio.mp3")
    assert "cannot reach 127.0.0.1" in reply, reply
    assert "only http:// and https://" in await music.play_url("ftp://example.org/a.mp3")
    assert "no station is called 'jazz'" in await music.play("jazz")


async def test_a_stream_that_drops_reconnects_and_says_so_once(
    server: MediaServer, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, "speakerd.timeline")
    sink = RecordingSink(limit_s=60.0)
    music = player(sink, server)
    server.drop_plan = ["drop", "404", "404", "404"]
    before = server.requests.count("/drop.mp3")
    reply = await music.play_url(server.url("drop.mp3"))
    assert reply.startswith("playing"), reply

    async def reconnected(times: int) -> None:
        while server.requests.count("/drop.mp3") - before < times:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(reconnected(5), 20)
    played = sink.seconds
    await sink.filled(played + 0.5)  # playing again after the outage
    await music.stop()
    dropped = [r for r in caplog.records if "dropped" in r.getMessage()]
    assert len(dropped) == 1, [r.getMessage() for r in dropped]
    assert "reconnecting" in dropped[0].getMessage()
    assert sum("is back" in r.getMessage() for r in caplog.records) == 1


async def test_nothing_is_fed_after_stop_and_the_decoder_is_gone(server: MediaServer):
    sink = RecordingSink(limit_s=0.3)  # full at once: the decoder waits on the pipe
    music = player(sink, server)
    await music.play("Test Radio")
    await sink.filled(0.3)
    await music.stop()
    size = len(sink.pcm)
    sink.limit_s = 100.0
    await asyncio.sleep(0.5)
    assert len(sink.pcm) == size and sink.cleared >= 1
    assert music.now()["state"] == "stopped"


async def test_hold_ducks_pauses_and_blocks(server: MediaServer):
    sink = RecordingSink(limit_s=0.2)
    music = player(sink, server, volume=100, duck_db=20.0)
    await music.play("Test Radio")
    music.hold(True)
    assert sink.gains[-1] == (pytest.approx(0.1), DUCK_RAMP_S)
    music.hold(False)
    assert sink.gains[-1][0] == pytest.approx(1.0) and sink.gains[-1][1] > DUCK_RAMP_S
    music.hold(False, "muted: unmute first")
    await asyncio.sleep(0.2)
    assert music.state == "stopped"
    assert await music.play("Test Radio") == "not played: muted: unmute first"

    pausing_sink = RecordingSink(limit_s=0.2)
    pausing = player(pausing_sink, server, duck_or_pause="pause")
    pausing.hold(True)
    assert pausing_sink.paused
    pausing.hold(False)
    assert not pausing_sink.paused


async def test_plays_at_once_leave_one_playing_and_stop_wins_over_a_start(server: MediaServer):
    sink = RecordingSink(limit_s=5.0)
    music = player(sink, server)
    first, second = await asyncio.gather(
        music.play_url(server.url("tone.mp3")), music.play_url(server.url("tone.ogg"))
    )
    assert first.startswith("playing") and second.startswith("playing")
    assert music.item is not None and music.item.location.endswith("tone.ogg")

    starting = asyncio.create_task(music.play("Test Radio"))
    await asyncio.sleep(0)
    await music.stop()
    assert not (await starting).startswith("playing")
    size = len(sink.pcm)
    sink.limit_s = 100.0
    await asyncio.sleep(0.5)
    assert music.state == "stopped" and len(sink.pcm) == size  # nothing fed after stop


async def test_a_stream_that_stalls_is_dropped_and_reconnected(
    server: MediaServer, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, "speakerd.timeline")
    sink = RecordingSink(limit_s=60.0)
    music = Player(MediaConfig(), sink, rate=lambda: RATE, retry_first=0.1, stall_timeout=0.5)
    server.drop_plan = ["stall"]
    before = server.requests.count("/drop.mp3")
    assert (await music.play_url(server.url("drop.mp3"))).startswith("playing")

    async def reconnected() -> None:
        while server.requests.count("/drop.mp3") - before < 2:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(reconnected(), 20)
    await music.stop()
    dropped = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert dropped == ["music: drop.mp3 dropped (the stream sent nothing for 0.5 s); reconnecting"]


async def test_a_play_that_cannot_start_leaves_the_music_playing(server: MediaServer):
    sink = RecordingSink(limit_s=60.0)
    music = player(sink, server)
    assert (await music.play("Test Radio")).startswith("playing")
    assert "answered 404" in await music.play_url(server.url("missing.mp3"))
    assert "cannot reach" in await music.play_url("http://127.0.0.1:9/x.mp3")
    assert music.state == "playing" and music.now()["source"] == "Test Radio"
    size = len(sink.pcm)
    await sink.filled(size / (2 * RATE) + 0.2)  # still fed
    await music.stop()
