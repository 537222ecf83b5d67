"""The music player: stations, URLs and library tracks, decoded by ffmpeg, under the voice.

One item plays at a time, through one ffmpeg process, into the speaker's
background channel (a bounded queue the speaker's writer mixes under the
voice). Reading the decoder waits while that queue is full, so ffmpeg, and
behind it the network, are held back at the pace of playback: memory stays
the same on a stream that runs for days.

Starting is answered: play() returns a sentence once the first audio is
queued, or says why it cannot play (an unreachable host, a 404, a web page
instead of audio, a codec ffmpeg lacks). A live stream that drops later is
reconnected with back-off; that is logged once per outage, and once when it
is back.

Who may play, and whether it is ducked, is not the player's to decide: the
appliance derives it from its state and says so through hold().
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol
from urllib.parse import urlsplit

from daemon.config.schema import MediaConfig, StationConfig
from daemon.core.events import MediaChanged, MediaState
from daemon.media.decoder import DecodeError, Decoder
from daemon.media.http_stream import STALL_S, Response, StreamError
from daemon.media.library import AUDIO_SUFFIXES, Library
from daemon.media.sources import HlsStream, open_source
from hardware.audio.background import db_to_gain

log = logging.getLogger(__name__)
timeline = logging.getLogger("speakerd.timeline")

START_TIMEOUT_S = 15.0
PIECE_S = 0.1
"""Decoded audio is queued in pieces this long."""
DUCK_RAMP_S = 0.02
"""Down within this (20 dB in 20 ms is a fade, not a click). The speaker's device
buffer (three 50 ms periods) comes on top before a listener hears it: bench M2."""
RISE_RAMP_S = 0.5
"""Back up gently after the conversation."""
RETRY_FIRST_S = 1.0
RETRY_LONGEST_S = 30.0
RETRY_ATTEMPTS = 40
"""A dropped stream is tried this many times (about 20 minutes) before the player stops."""
MAX_QUEUE = 500


class Sink(Protocol):
    """The speaker's background channel (hardware.audio.speaker.Speaker)."""

    def feed_background(self, pcm: bytes, rate: int) -> bool: ...
    def set_background_gain(self, gain: float, ramp_s: float = ...) -> None: ...
    def pause_background(self, paused: bool) -> None: ...
    def clear_background(self) -> None: ...


@dataclass(frozen=True)
class Item:
    kind: Literal["stream", "file"]
    location: str
    """The URL of a stream, the path of a file."""
    title: str
    artist: str = ""
    source: str = "url"
    """The station's name, "library" or "url"."""


def volume_gain(percent: float) -> float:
    """Square law, like the speaker's volume: 50 % sounds about half as loud."""
    return (max(0.0, min(100.0, percent)) / 100.0) ** 2


class Player:
    def __init__(
        self,
        config: MediaConfig,
        sink: Sink,
        *,
        rate: Callable[[], int],
        library: Library | None = None,
        on_change: Callable[[MediaChanged], None] | None = None,
        start_timeout: float = START_TIMEOUT_S,
        retry_first: float = RETRY_FIRST_S,
        stall_timeout: float = STALL_S,
    ) -> None:
        """`rate()`: the rate to decode at (the speaker's device rate once it is open)."""
        self.config = config
        self._sink = sink
        self._rate = rate
        self.library = library
        self.on_change = on_change
        self.start_timeout = start_timeout
        self.retry_first = retry_first
        self.stall_timeout = stall_timeout
        self.volume = config.volume
        self.state: MediaState = "stopped"
        self.item: Item | None = None
        self.title: str | None = None
        self.artist: str | None = None
        self.last_error: str | None = None
        self._queue: deque[Item] = deque(maxlen=MAX_QUEUE)
        self._task: asyncio.Task[None] | None = None
        self._user_paused = False
        self._held = False
        self._blocked: str | None = None
        self._applied: tuple[float, bool] | None = None
        self._outage_since: float | None = None
        self._last: list[Item] = []
        self._starting = asyncio.Lock()  # one play starts at a time: no task is orphaned
        self._generation = 0  # moved on by stop(): a play still starting gives up
        self._preopened: tuple[Item, Response | HlsStream] | None = None
        self._apply()

    # -- what the owner asks for ----------------------------------------------------

    @property
    def stations(self) -> list[str]:
        return [station.name for station in self.config.stations]

    async def play(self, what: str) -> str:
        """`ctl play WHAT`: a station by name, a URL, a file or folder (an absolute path),
        else a search of the library."""
        what = what.strip()
        if urlsplit(what).scheme in ("http", "https"):
            return await self.play_url(what)
        if what.startswith("/"):
            return await self.play_path(Path(what))
        if self._station(what) is not None:
            return await self.play_station(what)
        if self.library is not None:
            return await self.play_search(what)
        return f"no station is called {what!r}; stations: {', '.join(self.stations) or 'none'}"

    async def play_station(self, name: str) -> str:
        station = self._station(name)
        if station is None:
            return f"no station is called {name!r}; stations: {', '.join(self.stations) or 'none'}"
        return await self._play([Item("stream", station.url, station.name, "", station.name)])

    async def play_url(self, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return f"cannot play {url!r}: only http:// and https:// URLs can be played"
        name = Path(parts.path).name or parts.hostname
        return await self._play([Item("stream", url, name, "", "url")])

    async def play_path(self, path: Path) -> str:
        """A local file, or every audio file of a folder (and its subfolders) in name order."""
        if path.is_dir():
            files = [f for f in sorted(path.rglob("*")) if f.suffix.lower() in AUDIO_SUFFIXES]
            if not files:
                return f"cannot play {path}: the folder holds no audio files"
        elif path.is_file():
            files = [path]
        else:
            return f"cannot play {path}: no such file or folder"
        items = [Item("file", str(f), f.stem, "", "file") for f in files[:MAX_QUEUE]]
        return await self._play(items)

    async def play_search(self, query: str) -> str:
        if self.library is None:
            return "there is no music library (media.library is not set)"
        tracks = self.library.search(query)
        if not tracks:
            scanning = "" if self.library.scanned else " (the library is still being indexed)"
            return f"nothing in the music library matches {query!r}{scanning}"
        items = [Item("file", t.path, t.title, t.artist, "library") for t in tracks]
        reply = await self._play(items)
        if len(items) > 1 and reply.startswith("playing"):
            reply += f" (1 of {len(items)} tracks found)"
        return reply

    async def replay(self) -> str:
        """A play button: resume what is paused, else play again what played last (else
        the first station)."""
        if self.state == "paused":
            return self.resume()
        if self.state == "playing":
            return "playing " + self.describe()
        if self._last:
            return await self._play(list(self._last))
        if self.stations:
            return await self.play_station(self.stations[0])
        return "nothing played yet, and no station is configured"

    def pause(self) -> str:
        if self.state != "playing":
            return "nothing is playing" if self.state == "stopped" else "the music is already paused"
        self._user_paused = True
        self._apply()
        self._set_state("paused")
        return "paused"

    def resume(self) -> str:
        if self.state != "paused":
            return "nothing is paused" if self.state == "stopped" else "the music is playing"
        if self._blocked is not None:
            return f"not resumed: {self._blocked}"
        self._user_paused = False
        self._apply()
        self._set_state("playing")
        return "playing " + self.describe()

    async def stop(self, why: str = "stopped") -> str:
        """Stop at once: the decoder is killed and nothing queued is heard."""
        self._generation += 1
        was = self.state
        self._queue.clear()
        await self._end_task()
        preopened, self._preopened = self._preopened, None
        if preopened is not None:
            await _close(preopened[1])
        self._sink.clear_background()
        self._user_paused = False
        self._apply()
        self.item, self.title, self.artist = None, None, None
        self._set_state("stopped")
        if was != "stopped":
            timeline.info("music %s", why)
        return "stopped" if was != "stopped" else "nothing is playing"

    async def next(self) -> str:
        if not self._queue:
            if self.state == "stopped":
                return "nothing is playing"
            return "there is no next track" if self.item and self.item.kind == "file" else (
                "a station has no next track; name another station"
            )
        return await self._play(list(self._queue))

    def now(self) -> dict[str, object]:
        """What is playing, for the model, `ctl now` and Home Assistant."""
        return {
            "state": self.state,
            "title": self.title,
            "artist": self.artist,
            "source": self.item.source if self.item else None,
            "volume": self.volume,
            "queued": len(self._queue),
            **({"last_error": self.last_error} if self.last_error else {}),
        }

    def describe(self) -> str:
        title = self.title or (self.item.title if self.item else "nothing")
        what = f"{title} by {self.artist}" if self.artist else title
        if self.item is not None and self.item.source not in ("library", "url", "file"):
            what = f"{self.item.source}" + (f": {what}" if self.title else "")
        return what

    def set_volume(self, percent: int) -> None:
        self.volume = max(0, min(100, int(percent)))
        self._apply()
        self._notify()

    # -- what the appliance decides -----------------------------------------------------

    def hold(self, ducked: bool, blocked: str | None = None) -> None:
        """Duck (or pause, by config) while `ducked`; stop and refuse while `blocked`
        (the reason, e.g. muted). Called at every change of the appliance's state."""
        starting_or_playing = self.state != "stopped" or self._task is not None
        if blocked is not None and self._blocked is None and starting_or_playing:
            self._spawn_stop(blocked)
        changed = (ducked, blocked) != (self._held, self._blocked)
        self._held, self._blocked = ducked, blocked
        if changed:
            self._apply()
            self._notify()

    @property
    def ducked(self) -> bool:
        return self._held

    @property
    def audible(self) -> bool:
        """Music is being fed to the speaker at full level (not ducked, paused or stopped)."""
        return self.state == "playing" and not self._held

    # -- playing -----------------------------------------------------------------------

    def _station(self, name: str) -> StationConfig | None:
        wanted = " ".join(name.casefold().split())
        for station in self.config.stations:
            if " ".join(station.name.casefold().split()) == wanted:
                return station
        return None

    async def _play(self, items: list[Item]) -> str:
        async with self._starting:
            return await self._start(items)

    async def _start(self, items: list[Item]) -> str:
        if self._blocked is not None:
            return f"not played: {self._blocked}"
        generation = self._generation
        first = items[0]
        # What can be known without decoding is asked first, so a typo, a dead
        # station or a missing file leaves what plays now playing.
        opened: Response | HlsStream | None = None
        try:
            if first.kind == "stream":
                opened = await self._probe(first.location)
            elif not Path(first.location).is_file():
                raise StreamError("the file does not exist")
        except StreamError as exc:
            return self._failed(first, str(exc))
        await self._end_task()
        if generation != self._generation or self._blocked is not None:
            if opened is not None:
                await _close(opened)
            return "not played: " + (self._blocked or "stopped meanwhile")
        self._preopened = (first, opened) if opened is not None else None
        self._sink.clear_background()
        self._user_paused = False
        self._apply()
        self._queue = deque(items[1:], maxlen=MAX_QUEUE)
        self._last = items[:MAX_QUEUE]
        started: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._run(items[0], started), name="media")
        try:
            failure = await asyncio.wait_for(asyncio.shield(started), self.start_timeout)
        except TimeoutError:
            await self.stop("did not start")
            failure = f"it did not start within {self.start_timeout:g} s"
        if failure is not None:
            return self._failed(items[0], failure)
        return "playing " + self.describe()

    def _failed(self, item: Item, why: str) -> str:
        self.last_error = f"cannot play {item.title}: {why}"
        timeline.info("music: %s", self.last_error)
        return self.last_error

    async def _probe(self, url: str) -> Response | HlsStream:
        """The stream at `url`, opened (through its playlist): StreamError says why not."""
        return await open_source(url)

    async def _run(self, item: Item, started: asyncio.Future[str | None]) -> None:
        try:
            current: Item | None = item
            while current is not None:
                self.item, self.title, self.artist = current, None, current.artist or None
                if current.kind == "file":
                    self.title = current.title
                failure = await self._play_one(current, started)
                if failure is not None:
                    if not started.done():
                        started.set_result(failure)
                        break
                    self.last_error = f"cannot play {current.title}: {failure}"
                    log.warning("music: %s", self.last_error)
                current = self._queue.popleft() if self._queue else None
        except Exception as exc:  # a bug here must not take the daemon down
            log.exception("music player failed")
            if not started.done():
                started.set_result(f"the player failed ({type(exc).__name__})")
        finally:
            if not started.done():
                started.set_result("it ended before any audio")
        if asyncio.current_task() is self._task:
            self._task = None
            self.item, self.title, self.artist = None, None, None
            self._set_state("stopped")

    async def _play_one(self, item: Item, started: asyncio.Future[str | None]) -> str | None:
        """Play one item to its end; why it could not be played, or None."""
        if item.kind == "file":
            decoder = Decoder(self.config.ffmpeg, self._rate(), source=Path(item.location))
            try:
                await decoder.start()
                played = await self._pump(decoder, started)
                failure = await decoder.failure()
            except DecodeError as exc:
                return str(exc)
            finally:
                await decoder.close()
            if failure is not None and not played:
                return failure
            return None
        return await self._play_stream(item, started)

    async def _play_stream(self, item: Item, started: asyncio.Future[str | None]) -> str | None:
        """A URL: a file played once, or a live stream kept up through drops."""
        delay = self.retry_first
        self._outage_since = None
        for _attempt in range(RETRY_ATTEMPTS):
            played, live, failure = await self._stream_once(item, started)
            if not started.done() and failure is not None:
                return failure
            if not live and failure is None:
                return None  # a file over HTTP, played to its end
            if played:
                delay = self.retry_first
            if self._outage_since is None:  # said once per outage
                self._outage_since = asyncio.get_running_loop().time()
                reason = failure or "the stream ended"
                timeline.info("music: %s dropped (%s); reconnecting", item.title, reason)
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(RETRY_LONGEST_S, delay * 2)
        return f"{item.title} stayed unreachable after {RETRY_ATTEMPTS} tries; stopped"

    async def _stream_once(
        self, item: Item, started: asyncio.Future[str | None]
    ) -> tuple[bool, bool, str | None]:
        """One connection: (audio was played, the stream is live, why it ended badly)."""
        preopened, self._preopened = self._preopened, None
        try:
            if preopened is not None and preopened[0] is item:
                response = preopened[1]
            else:
                if preopened is not None:
                    await _close(preopened[1])
                response = await open_source(item.location)
        except StreamError as exc:
            return False, True, str(exc)
        if isinstance(response, HlsStream):
            return await self._hls_once(response, started)
        decoder = Decoder(self.config.ffmpeg, self._rate())
        feeding: asyncio.Task[None] | None = None
        response.on_title = self._title_heard
        response.stall_s = self.stall_timeout
        if response.station_name and item.source == "url":
            self.item = Item(item.kind, item.location, response.station_name, "", item.source)
        try:
            await decoder.start()
            feeding = asyncio.create_task(self._feed(response, decoder))
            played = await self._pump(decoder, started)
            failure = await decoder.failure()
            if feeding.done() and not feeding.cancelled() and feeding.exception() is not None:
                failure = failure or str(feeding.exception())
            if failure is None and not played:
                failure = "the stream ended before any audio"
            return played, response.is_live, failure
        except DecodeError as exc:
            return False, response.is_live, str(exc)
        finally:
            if feeding is not None:
                feeding.cancel()
                with contextlib.suppress(BaseException):
                    await feeding
            await decoder.close()
            await response.close()

    async def _hls_once(
        self, hls: HlsStream, started: asyncio.Future[str | None]
    ) -> tuple[bool, bool, str | None]:
        """_stream_once for HLS: ffmpeg fetches the playlist and its segments itself; no
        audio for the stall timeout ends it like a stalled HTTP stream."""
        decoder = Decoder(self.config.ffmpeg, self._rate(), source=hls.url,
                          stall_s=self.stall_timeout)  # fmt: skip
        try:
            await decoder.start()
            played = await self._pump(decoder, started)
            failure = await decoder.failure()
        except DecodeError as exc:
            return False, hls.live, str(exc)
        finally:
            await decoder.close()
        if failure is None and not played:
            failure = "the stream ended before any audio"
        return played, hls.live, failure

    async def _feed(self, response: Response, decoder: Decoder) -> None:
        """HTTP body to ffmpeg's input; held back by ffmpeg's own pace (the pipe fills)."""
        try:
            async for piece in response.body():
                if not await decoder.feed(piece):
                    return
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            raise StreamError(f"the connection broke ({type(exc).__name__})") from None
        finally:
            await decoder.end_input()

    async def _pump(self, decoder: Decoder, started: asyncio.Future[str | None]) -> bool:
        """Decoded audio to the speaker, waiting while its queue is full; True if any played."""
        rate = self._rate()
        played = False
        async for pcm in decoder.pcm(int(rate * PIECE_S) * 2):
            while not self._sink.feed_background(pcm, rate):
                await asyncio.sleep(0.25)
            if not played:
                played = True
                self.last_error = None
                if self._outage_since is not None:
                    away = asyncio.get_running_loop().time() - self._outage_since
                    self._outage_since = None
                    timeline.info("music: %s is back after %.0f s", self.describe(), away)
                if not started.done():
                    started.set_result(None)
                self._set_state("paused" if self._user_paused else "playing", force=True)
        return played

    def _title_heard(self, title: str) -> None:
        """An ICY "now playing" title: "Artist - Title" is split."""
        if not title:
            return
        artist, sep, name = title.partition(" - ")
        new = (name.strip(), artist.strip()) if sep else (title, None)
        if new != (self.title, self.artist):
            self.title, self.artist = new
            timeline.info("music: now playing %s", self.describe())
            self._notify()

    # -- plumbing --------------------------------------------------------------------

    async def _end_task(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task

    def _spawn_stop(self, why: str) -> None:
        # Not awaited: hold() is called from the appliance's synchronous _show(). The
        # background is cleared and the level dropped now, the decoder killed next.
        self._sink.clear_background()
        self._sink.set_background_gain(0.0, DUCK_RAMP_S)
        task = asyncio.ensure_future(self.stop(why))
        task.add_done_callback(_log_failure)

    def _apply(self) -> None:
        """The speaker's background gain and pause from the volume, the duck and pauses."""
        config = self.config
        gain = volume_gain(self.volume)
        pausing = self._user_paused or self._blocked is not None
        if self._held:
            if config.duck_or_pause == "pause":
                pausing = True
            else:
                gain *= db_to_gain(-config.duck_db)
        applied = (gain, pausing)
        if applied == self._applied:
            return
        going_down = self._applied is None or gain < self._applied[0]
        self._applied = applied
        self._sink.set_background_gain(gain, DUCK_RAMP_S if going_down else RISE_RAMP_S)
        self._sink.pause_background(pausing)

    def _set_state(self, state: MediaState, *, force: bool = False) -> None:
        if state != self.state or force:
            changed = state != self.state
            self.state = state
            if changed or force:
                self._notify()

    def event(self) -> MediaChanged:
        """What plays now, as the appliance's listeners (MQTT) are told."""
        playing = self.state != "stopped"
        return MediaChanged(
            self.state,
            self.title if playing else None,
            self.artist if playing else None,
            self.item.source if self.item is not None and playing else None,
            self.volume,
            self._held,
        )

    def _notify(self) -> None:
        if self.on_change is None:
            return
        try:
            self.on_change(self.event())
        except Exception:
            log.exception("a media listener failed")


async def _close(opened: Response | HlsStream) -> None:
    if isinstance(opened, Response):
        await opened.close()


def _log_failure(task: asyncio.Future[str]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("music did not stop cleanly: %s", task.exception())
