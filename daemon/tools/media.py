"""Music tools: play a station, search the library, play a URL, pause, resume, stop,
next, and what is playing (daemon.media does the work).

Every answer is a sentence the model can say as it is: what started, or why
nothing could (a host that does not answer, a 404, a file that is not audio),
so "play jazz radio" gets "playing Jazz Radio" or the reason, never silence.
Music started during the conversation plays ducked under it and comes up
when it ends; the appliance decides that, not the tools.
"""

from __future__ import annotations

from typing import Any

from daemon.config.schema import MediaConfig
from daemon.media import Player
from daemon.tools.spec import ArgumentError, Param, Tool

PLAY_TIMEOUT_S = 20.0
"""A stream may take seconds to answer and start; the player gives up at 15 s."""


PLAYED_BY_THE_DAEMON = (
    "music is played by the running daemon: use `speakerd ctl play|pause|resume|stop|next|now`"
)


def media_tools(
    player: Player | None, config: MediaConfig, *, kept_elsewhere: bool = False
) -> list[Tool]:
    """The music tools on `player`; with `kept_elsewhere` (`speakerd tools`, outside the
    daemon) they are listed as the model sees them, and a call says where music plays."""
    if player is None and not kept_elsewhere:
        return []
    tools: list[Tool] = []

    def on_player() -> Player:
        if player is None:
            raise ArgumentError(PLAYED_BY_THE_DAEMON)
        return player

    async def play_radio(station: str) -> dict[str, Any]:
        music = on_player()
        return _said(await music.play_station(station), music)

    async def play_music(query: str) -> dict[str, Any]:
        music = on_player()
        return _said(await music.play_search(query), music)

    async def play_url(url: str) -> dict[str, Any]:
        music = on_player()
        return _said(await music.play_url(url), music)

    async def pause_music() -> dict[str, Any]:
        music = on_player()
        return _said(music.pause(), music)

    async def resume_music() -> dict[str, Any]:
        music = on_player()
        return _said(music.resume(), music)

    async def stop_music() -> dict[str, Any]:
        music = on_player()
        return _said(await music.stop("stopped by voice"), music)

    async def next_track() -> dict[str, Any]:
        music = on_player()
        return _said(await music.next(), music)

    async def now_playing() -> dict[str, Any]:
        return on_player().now()

    stations = tuple(station.name for station in config.stations)
    if stations:
        tools.append(
            Tool(
                "play_radio",
                "Play an internet radio station of this speaker. Stations: "
                + ", ".join(stations) + ".",
                play_radio,
                {"station": Param("STRING", "Which station.", enum=stations, noun="station")},
                timeout=PLAY_TIMEOUT_S,
            )
        )
    if config.library is not None:
        tools.append(
            Tool(
                "play_music",
                "Play music from this speaker's music library: the tracks whose artist, "
                "album or title match the words (e.g. an artist's name, an album, a song).",
                play_music,
                {"query": Param("STRING", "Words to search for.", max_length=200)},
                timeout=PLAY_TIMEOUT_S,
            )
        )
    tools += [
        Tool(
            "play_url",
            "Play an audio stream or file from an http:// or https:// URL the user gives.",
            play_url,
            {"url": Param("STRING", "The URL.", pattern=r"https?://\S+", max_length=2000)},
            timeout=PLAY_TIMEOUT_S,
        ),
        Tool("pause_music", "Pause the music or radio (it can be resumed).", pause_music),
        Tool("resume_music", "Resume the paused music or radio.", resume_music),
        Tool(
            "stop_music",
            "Stop the music or radio. Use it when the user says stop the music, "
            "turn off the radio, or enough music.",
            stop_music,
        ),
        Tool("next_track", "Skip to the next track of the music playing.", next_track),
        Tool(
            "now_playing",
            "What music or radio is playing now: title, artist, source (station), state.",
            now_playing,
        ),
    ]
    return tools


def _said(message: str, player: Player) -> dict[str, Any]:
    return {"message": message, "state": player.state}
