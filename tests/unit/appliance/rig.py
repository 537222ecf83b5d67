"""The appliance core on a virtual clock, with its own seams driven by the test.

The Appliance and Conversation classes run unmodified; what stands in is only
what they reach through the project's seams: the Live session (a scripted
`Session`), the speaker, the wake-word listener, the microphone and the clock.
Real Live sessions, audio and wake words are proven end to end in tests/e2e;
here the decisions are checked, thousands of interleavings a second.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from daemon.appliance.appliance import Appliance
from daemon.appliance.control_desk import ControlDesk
from daemon.appliance.conversation import Conversation
from daemon.config.schema import Config
from daemon.core.state import Change, State
from daemon.live.errors import FatalSessionError, SessionError
from daemon.media import Item, Player
from daemon.media.http_stream import StreamError
from daemon.memory import Memory
from daemon.timers import Timers
from daemon.wakeword.detector import Detection
from daemon.wakeword.stop_word import StopDetection
from hardware.audio.status import AudioStatus

SETUP_TIMEOUT = 10.0  # like LiveSession's: a session that never answers fails to open
SILENCE = bytes(1280)  # 40 ms of 16 kHz silence
SPEECH = (b"\x00\x20\x00\xe0") * 320  # 40 ms, loud (RMS 8192): the user talking
WAKE = b"WAKE" * 320  # what the scripted wake word "hears" as the wake word
STOP = b"STOP" * 320  # what the scripted stop word "hears" as "stop"
MUFFLED = b"\x64\x00\x9c\xff" * 320  # 40 ms at RMS 100: a voice AEC3 damped over the speaker
WALL_START = 1_780_000_000.0  # the wall clock (Unix seconds) when a rig starts: 2026-05-28


class VirtualClock:
    """Time stands still until the test advances it; timers fire in order."""

    def __init__(self) -> None:
        self._now = 1000.0
        self._timers: list[tuple[float, int, _Timer]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    def wall(self) -> float:
        """Unix seconds, moving with the virtual clock (what time.time() is to the loop)."""
        return WALL_START + self._now - 1000.0

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> _Timer:
        timer = _Timer(callback, args)
        heapq.heappush(self._timers, (self._now + max(0.0, delay), next(self._order), timer))
        return timer

    def advance(self, seconds: float) -> None:
        """Move time on, firing each due timer at its own moment."""
        until = self._now + seconds
        while self._timers and self._timers[0][0] <= until:
            at, _, timer = heapq.heappop(self._timers)
            self._now = max(self._now, at)
            timer.fire()
        self._now = until


class _Timer:
    def __init__(self, callback: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self._callback, self._args, self.cancelled = callback, args, False

    def cancel(self) -> None:
        self.cancelled = True

    def fire(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            self._callback(*self._args)


class ScriptedSession:
    """A Live session whose every event the test decides (daemon.appliance.conversation.Session)."""

    def __init__(self, clock: VirtualClock, *, tools: bool = True) -> None:
        self._clock = clock
        self.tools = tools
        """False: made to read out an announcement, declaring no tool."""
        self._start: asyncio.Future[None] | None = None
        self._events: asyncio.Queue[Any] = asyncio.Queue()
        self.started = False
        self.opened = False
        self.closed = False
        self.audio: list[bytes] = []
        self.texts: list[str] = []
        self.frames = 0

    async def start(self) -> None:
        self.started = True
        self._start = asyncio.get_running_loop().create_future()
        timeout = self._clock.call_later(
            SETUP_TIMEOUT, self.fail_to_open, SessionError("timed out waiting for the server")
        )
        try:
            await self._start
        finally:
            timeout.cancel()
        self.opened = True

    @property
    def opening(self) -> bool:
        return self._start is not None and not self._start.done() and not self.closed

    def open(self) -> None:
        if self.opening:
            assert self._start is not None
            self._start.set_result(None)

    def fail_to_open(self, error: SessionError) -> None:
        if self.opening:
            assert self._start is not None
            self._start.set_exception(error)

    def emit(self, event: Any) -> None:
        if not self.closed:
            self._events.put_nowait(event)

    async def send_audio(self, pcm: bytes) -> None:
        assert not self.closed, "audio sent on a closed session"
        self.audio.append(pcm)

    async def send_frame(self, jpeg: bytes, mime_type: str = "image/jpeg") -> None:
        self.frames += 1

    async def send_text(self, text: str) -> None:
        assert not self.closed, "text sent on a closed session"
        self.texts.append(text)

    async def events(self) -> Any:
        while True:
            event = await self._events.get()
            if event is None:
                return
            yield event

    async def close(self) -> None:
        self.closed = True
        self._events.put_nowait(None)


class ScriptedSpeaker:
    """Plays instantly into a list; drains when the test says the audio has been heard."""

    def __init__(self) -> None:
        self.played: list[bytes] = []
        self.sounds: list[str] = []
        self.flushes = 0
        self.volume = 100
        self._drained: asyncio.Future[None] | None = None

    @property
    def is_playing(self) -> bool:
        return self._drained is not None and not self._drained.done()

    def play(self, pcm: bytes, rate: int = 24000) -> None:
        self.played.append(pcm)
        if not self.is_playing:
            self._drained = asyncio.get_running_loop().create_future()

    def play_sound(self, sound: str) -> None:
        self.sounds.append(sound)

    def flush(self) -> None:
        self.flushes += 1
        self.drain()

    def drain(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    async def wait_drained(self) -> None:
        if self._drained is not None:
            await asyncio.shield(self._drained)

    def set_volume(self, percent: int) -> None:
        self.volume = percent

    # -- the background channel (music) ----------------------------------------------

    background_gain = 1.0
    background_paused = False
    background_fed = 0
    """Bytes of music fed since the last clear (what would still sound)."""

    def feed_background(self, pcm: bytes, rate: int) -> bool:
        self.background_fed += len(pcm)
        return True

    def set_background_gain(self, gain: float, ramp_s: float = 0.05) -> None:
        self.background_gain = gain

    def pause_background(self, paused: bool) -> None:
        self.background_paused = paused

    def clear_background(self) -> None:
        self.background_fed = 0


class ScriptedPlayer(Player):
    """The real player (ducking, pausing, stopping, its state) with playing scripted:
    an item "plays" by feeding one piece of silence and then lasting until stopped."""

    async def _probe(self, url: str) -> None:
        if url.endswith("/missing"):
            raise StreamError("example.org answered 404 Not Found: no such stream or file")

    async def _play_one(self, item: Item, started: asyncio.Future[str | None]) -> str | None:
        self._sink.feed_background(bytes(3200), self._rate())
        if not started.done():
            started.set_result(None)
        self._set_state("paused" if self._user_paused else "playing", force=True)
        await asyncio.get_running_loop().create_future()  # until stopped
        return None


STATIONS = [{"name": "Jazz", "url": "http://example.org/jazz"},
            {"name": "News", "url": "http://example.org/news"},
            {"name": "Gone", "url": "http://example.org/missing"}]  # fmt: skip


class ScriptedWakeWord:
    """Detects the wake word in WAKE chunks; remembers every chunk it scored."""

    def __init__(self) -> None:
        self.scored = 0
        self.scored_over_answer = 0
        self.recorded = 0
        self.passed_over = 0
        self.resets = 0
        self.quiet = False  # the speech gate: open, so the microphone hands over every chunk

    async def process(self, chunk: bytes, *, over_answer: bool = False) -> Detection | None:
        self.scored += 1
        self.scored_over_answer += over_answer
        if chunk == WAKE:
            return Detection("hey_jarvis", 0.97, 1.0)
        return None

    def record(self, chunk: bytes) -> None:
        self.recorded += 1

    def pass_over(self, chunk: bytes) -> None:
        self.passed_over += 1

    def reset(self) -> None:
        self.resets += 1

    def audio_since_wake(self, detection: Detection) -> bytes:
        return SPEECH  # "turn on the lamp", said in the same breath


class ScriptedStopWord:
    """Hears "stop" in STOP chunks; counts the chunks it was fed."""

    def __init__(self) -> None:
        self.fed = 0
        self.resets = 0

    def feed(self, chunk: bytes) -> StopDetection | None:
        self.fed += 1
        return StopDetection(0.9, 1.0) if chunk == STOP else None

    def reset(self) -> None:
        self.resets += 1


class ScriptedMicrophone:
    """Paused or not; the test hands chunks to Appliance.hear() itself."""

    def __init__(self) -> None:
        self.paused = False
        self.handover_chunks = 1

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    def __aiter__(self) -> ScriptedMicrophone:
        return self

    async def __anext__(self) -> bytes:
        await asyncio.get_running_loop().create_future()  # never: chunks come via hear()
        raise StopAsyncIteration


class ScriptedEchoCanceller:
    """What the appliance asks of the echo canceller: whether it removes the echo yet."""

    def __init__(self, *, removes_echo: bool = True) -> None:
        self.removes_echo = removes_echo


class ScriptedDevices:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.microphone = ScriptedMicrophone()
        self.speaker = ScriptedSpeaker()
        self.wake_word = ScriptedWakeWord()
        self.stop_word: ScriptedStopWord | None = ScriptedStopWord()
        self.relays: dict[str, Any] = {}
        self.camera_feeds = 0
        self.echo_canceller: ScriptedEchoCanceller | None = None  # set: the echo is cancelled

    def play_wake_sound(self) -> None:
        self.speaker.play_sound("chime")

    def play_error_sound(self) -> None:
        self.speaker.play_sound("buzz")

    def camera_started(self, conversation: Any) -> None:
        self.camera_feeds += 1

    def camera_stopped(self) -> None:
        self.camera_feeds -= 1

    async def grab_frame(self) -> str:
        return "no camera"


@dataclass
class CtlRequest:
    command: str
    task: asyncio.Task[dict[str, Any]]
    at: float


class Rig:
    """One appliance on a virtual clock, in an event loop of its own."""

    def __init__(
        self,
        config: dict[str, Any] | None = None,
        *,
        state_dir: Any = None,
        memory: bool = False,
        music: bool = False,
    ) -> None:
        """`state_dir`: give the appliance timers kept there (the real state file), and
        with `memory` its household memory too; `music`: a (scripted) music player with
        the stations of STATIONS."""
        self.loop = asyncio.new_event_loop()
        self.clock = VirtualClock()
        config = dict(config or {})
        if music:
            config["media"] = {"stations": STATIONS, **config.get("media", {})}
        self.config = Config.model_validate(config)
        self.devices = ScriptedDevices(self.config)
        self.sessions: list[ScriptedSession] = []
        self.conversations: list[Conversation] = []
        self.led: list[State] = []
        self.status_lines: list[str] = []
        self.requests: list[CtlRequest] = []
        self.timers = (
            None
            if state_dir is None
            else Timers(self.clock, state_dir, wall=self.clock.wall, zone=ZoneInfo("Europe/Berlin"))
        )
        self.memory = Memory(state_dir) if memory and state_dir is not None else None
        self.player: ScriptedPlayer | None = None
        if music:
            self.player = ScriptedPlayer(self.config.media, self.devices.speaker, rate=lambda: 24000)
        self.appliance: Appliance = self.run(self._build())
        self.appliance.machine.observe(lambda change: self.led.append(change.new))
        self.appliance.machine.observe(self._tell_systemd)
        self._running = self.loop.create_task(self.appliance.run())
        self.settle()

    async def _build(self) -> Appliance:
        return Appliance(
            self.config,
            self.devices,  # type: ignore[arg-type]
            self._new_session,
            clock=self.clock,
            timers=self.timers,
            memory=self.memory,
            media=self.player,
        )

    def _new_session(self, *, tools: bool = True) -> ScriptedSession:
        session = ScriptedSession(self.clock, tools=tools)
        self.sessions.append(session)
        return session

    def _tell_systemd(self, change: Change) -> None:
        self.status_lines.append(f"{change.new}: {change.reason}")

    # -- driving -------------------------------------------------------------------------

    def run(self, coro: Any) -> Any:
        result = self.loop.run_until_complete(coro)
        self.settle()
        return result

    def settle(self) -> None:
        """Let every task run until nothing is ready (time does not move)."""
        for _ in range(50):
            self.loop.run_until_complete(asyncio.sleep(0))
        conversation = self.appliance.conversation if hasattr(self, "appliance") else None
        if conversation is not None and conversation not in self.conversations:
            self.conversations.append(conversation)

    def advance(self, seconds: float) -> None:
        """Move time on; timers fire on the loop, as the loop's own call_later does."""

        async def on_the_loop() -> None:
            self.clock.advance(seconds)

        self.loop.run_until_complete(on_the_loop())
        self.settle()

    def press(self) -> None:
        """The button, as gpiozero's thread hands it to the loop."""
        self.loop.call_soon(self.appliance.button_pressed)
        self.settle()

    def hold(self) -> None:
        self.loop.call_soon(self.appliance.button_held)
        self.settle()

    def hear(self, chunk: bytes) -> None:
        self.run(self.appliance.hear(chunk))

    def ctl(self, command: str, *args: Any) -> CtlRequest:
        handler = getattr(ControlDesk(self.appliance), command)
        coro = handler(*args) if command != "status" else _sync(handler)
        request = CtlRequest(command, self.loop.create_task(coro), self.clock.now())
        self.requests.append(request)
        self.settle()
        return request

    @property
    def session(self) -> ScriptedSession | None:
        """The session of the open conversation, if any."""
        conversation = self.appliance.conversation
        if conversation is None or not conversation.is_open or not self.sessions:
            return None
        return self.sessions[-1]

    def emit(self, *events: Any) -> None:
        session = self.session
        assert session is not None
        for event in events:
            session.emit(event)
        self.settle()

    def open_session(self) -> None:
        assert self.session is not None
        self.session.open()
        self.settle()

    def fail_to_open(self, *, fatal: bool) -> None:
        assert self.session is not None
        error = FatalSessionError("API key not valid") if fatal else SessionError("no network")
        self.session.fail_to_open(error)
        self.settle()

    def audio_status(self, device: str, ok: bool) -> None:
        self.appliance.audio_status(
            AudioStatus("default", "ok" if ok else "error", f"{device} {'back' if ok else 'gone'}"),
            device,
        )
        self.settle()

    def timeline(self, caplog: Any) -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "speakerd.timeline"]

    # -- the end ---------------------------------------------------------------------------

    def stop(self) -> None:
        """Shut down as SIGTERM does; every task must be finished afterwards."""
        self.appliance.shutdown()
        self.loop.run_until_complete(asyncio.wait_for(self._running, 10))
        for request in self.requests:
            if not request.task.done():
                self.loop.run_until_complete(asyncio.wait_for(request.task, 10))
        self.settle()
        pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        self.loop.close()
        assert not pending, f"tasks left after stop: {pending}"


async def _sync(handler: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    return handler()


logging.getLogger("speakerd.timeline").setLevel(logging.INFO)
