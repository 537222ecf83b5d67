"""HLS radio over a real web server and real ffmpeg: segments made by ffmpeg, played by URL.

An .m3u8 is HLS only when its text says so (#EXT-X- tags): a plain list of
streams with that ending, or even HLS's content type, is still followed as a
playlist.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from daemon.config.schema import MediaConfig
from daemon.media import Player
from daemon.media.playlists import hls_is_live, hls_variants, is_hls
from tests.support.media_server import HLS_HZ, MediaServer
from tests.unit.media.conftest import RATE, RecordingSink, dominant_frequency


def player(sink: RecordingSink) -> Player:
    return Player(MediaConfig(), sink, rate=lambda: RATE, start_timeout=10.0, retry_first=0.1)


def test_only_ext_x_tags_make_an_m3u8_hls():
    master = '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=64000,CODECS="mp4a.40.2"\naudio/low.m3u8\n'
    media = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.0,\nseg1.aac\n"
    assert is_hls(master) and is_hls("\ufeff" + media)
    assert not is_hls("#EXTM3U\n#EXTINF:-1,Radio\nhttp://radio.example/live.mp3\n")
    assert not is_hls("http://radio.example/live.mp3\n#EXT-X-ENDLIST\n")  # no #EXTM3U first
    assert hls_variants(master, "http://radio.example/hls/master.m3u8") == [
        "http://radio.example/hls/audio/low.m3u8"
    ]
    assert hls_variants(media, "http://radio.example/") == []
    assert hls_is_live(media) and not hls_is_live(media + "#EXT-X-ENDLIST\n")


async def test_a_live_hls_station_plays_through_its_master_playlist(server: MediaServer):
    sink = RecordingSink(limit_s=2.0)
    music = player(sink)
    reply = await music.play_url(server.url("hls/master.m3u8"))  # served as application/x-mpegURL
    assert reply.startswith("playing"), reply
    await sink.filled(2.0)
    await music.stop()
    assert dominant_frequency(sink.samples()[RATE // 4 :]) == pytest.approx(HLS_HZ, abs=3)
    assert server.requests.count("/hls/live.m3u8") >= 2  # asked by the player, then by ffmpeg
    assert any(r.startswith("/hls/seg") for r in server.requests)


async def test_a_vod_hls_plays_once_to_its_end(
    server: MediaServer, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, "speakerd.timeline")
    sink = RecordingSink(limit_s=60.0)
    music = player(sink)
    reply = await music.play_url(server.url("hls/vod.m3u8"))
    assert reply.startswith("playing"), reply

    async def ended() -> None:
        while music.state != "stopped":
            await asyncio.sleep(0.05)

    await asyncio.wait_for(ended(), 20)
    assert sink.seconds == pytest.approx(4.0, abs=0.2)  # the whole made tone, once
    assert dominant_frequency(sink.samples()[RATE // 4 :]) == pytest.approx(HLS_HZ, abs=3)
    assert not [r for r in caplog.records if "dropped" in r.getMessage()]


async def test_a_live_hls_that_drops_reconnects_and_says_so_once(
    server: MediaServer, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, "speakerd.timeline")
    sink = RecordingSink(limit_s=120.0)
    music = player(sink)
    assert (await music.play_url(server.url("hls/live.m3u8"))).startswith("playing")
    await sink.filled(sink.seconds + 1.0)
    before = server.requests.count("/hls/live.m3u8")
    server.hls_plan = ["404"] * 4  # ffmpeg's reload fails, then the player's reconnects

    async def reconnected() -> None:
        while server.requests.count("/hls/live.m3u8") - before < 6:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(reconnected(), 30)
    await sink.filled(sink.seconds + 1.0)  # playing again after the outage
    await music.stop()
    messages = [r.getMessage() for r in caplog.records]
    dropped = [m for m in messages if "dropped" in m]
    assert len(dropped) == 1 and "reconnecting" in dropped[0], dropped
    assert sum("is back" in m for m in messages) == 1, messages


async def test_a_live_hls_that_stops_moving_on_is_dropped_as_stalled(
    server: MediaServer, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, "speakerd.timeline")
    sink = RecordingSink(limit_s=120.0)
    music = Player(MediaConfig(), sink, rate=lambda: RATE, retry_first=0.1, stall_timeout=3.0)
    assert (await music.play_url(server.url("hls/live.m3u8"))).startswith("playing")
    await sink.filled(sink.seconds + 1.0)
    server.hls_frozen = True  # ffmpeg reloads the playlist for ever, and decodes nothing

    def dropped() -> list[str]:
        return [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]

    async def stalled() -> None:
        while not dropped():
            await asyncio.sleep(0.05)

    try:
        await asyncio.wait_for(stalled(), 30)
    finally:
        server.hls_frozen = False
        await music.stop()
    assert dropped() == ["music: live.m3u8 dropped (the stream sent nothing for 3 s); reconnecting"]


async def test_an_hls_variant_that_is_missing_is_said(server: MediaServer):
    sink = RecordingSink()
    music = player(sink)
    reply = await music.play_url(server.url("hls/lost.m3u8"))
    assert reply.startswith("cannot play") and "answered 404" in reply, reply
    assert music.state == "stopped" and sink.seconds == 0


async def test_a_plain_m3u8_list_of_streams_is_still_a_playlist(server: MediaServer):
    sink = RecordingSink(limit_s=0.5)
    music = player(sink)
    before = len(server.requests)
    reply = await music.play_url(server.url("list.m3u8"))  # served as HLS's own content type
    assert reply.startswith("playing"), reply
    await sink.filled(0.5)
    await music.stop()
    assert dominant_frequency(sink.samples()) == pytest.approx(440, abs=5)
    assert server.requests[before:] == ["/list.m3u8", "/live.mp3"]  # followed, not given to ffmpeg
