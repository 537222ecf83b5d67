"""The appliance: the one owner of its state; routes the microphone, opens conversations.

Idle, the microphone feeds only the wake-word detector (and its pre-roll):
nothing leaves the device. A wake word, the button or `ctl say` opens a
Conversation, which then receives the audio from the end of the wake word on.

Everything that happens (a wake word, the button, a `ctl` request, a
conversation's phase, a failure, a device error, a timer) is reported here,
and the state the user sees is derived in one place, `_show()`, from what is
true now: ringing, muted, the open conversation's phase, an error on display.
Nothing else writes the state machine.

Ringing (a timer or alarm fell due) shows over everything else, because it is
what the button, the wake word and `ctl stop` act on first: each of them stops
the ring and does nothing more (the wake word is listened for while it rings,
even during a conversation). A ring does not end an open conversation.
While muted a ring still sounds (mute closes the microphone, not the speaker);
it is stopped by the button or `ctl stop`, and not announced. When online it
is announced through a Live session ("Say briefly: your tea timer is done");
while it rings that announcement only speaks: the microphone feeds the wake
word (to stop the ring), not the session. Offline the sound alone rings.

An announcement from outside (MQTT, `announce()`) is text someone else wrote:
it is read out in a session that declares no tool at all (no functions, no
Google Search), framed as words to read and not instructions, and it never
listens: the microphone feeds the wake word only, and the conversation ends
when the model's turn has played, with no follow-up window. One that arrives
while a conversation is open waits for it to end (it never enters a session
that has tools); daemon.appliance.announcements keeps the few that wait.
Music (daemon.media) is ducked, or paused, whenever a conversation is open
(the wake word, the button, `ctl wake`, `say`, an announcement) or it rings,
and stopped and refused while muted: `_media_hold()` derives both from the
same facts as the state, and `_show()` applies them at every change, so the
music drops in the same turn of the loop that opens the conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from daemon.appliance.announcements import WaitingAnnouncements, announcement_prompt
from daemon.appliance.conversation import Conversation, Phase, Transcript
from daemon.appliance.devices import Devices
from daemon.appliance.failures import FailureBook
from daemon.appliance.mic_routing import MicRouter
from daemon.appliance.ringing import Ringing
from daemon.appliance.snapshot import ApplianceStatus, timers_changed
from daemon.config.schema import Config
from daemon.core.clock import Clock, LoopClock
from daemon.core.events import (
    ApplianceEvent,
    ButtonUsed,
    ErrorShown,
    Listener,
    MediaChanged,
    MemoryChanged,
    RelaySwitched,
    StopWordHeard,
    TranscriptHeard,
    VolumeChanged,
    WakeWordHeard,
)
from daemon.core.safe_text import user_text_problem
from daemon.core.state import Change, Observer, State, StateMachine
from daemon.media import Player
from daemon.media.commands import media_command
from daemon.memory import Memory
from daemon.timers import Ring, Timers
from daemon.wakeword.stop_word import StopDetection
from hardware.audio.status import AudioStatus

log = logging.getLogger(__name__)
timeline = logging.getLogger("speakerd.timeline")

CLOSE_WAIT_SECONDS = 5.0

SessionFactory = Callable[..., Any]
"""(*, tools: bool = True) -> daemon.live.LiveSession; tools=False: one that declares no
tool at all (no functions, no Google Search), for reading out text from outside."""

_PHASE_STATE = {
    Phase.OPENING: State.WAKE,
    Phase.LISTENING: State.LISTENING,
    Phase.THINKING: State.THINKING,
    Phase.SPEAKING: State.SPEAKING,
    Phase.RECONNECTING: State.ERROR,
}


class Appliance:
    """The running daemon minus process concerns (signals, systemd, CLI)."""

    def __init__(
        self,
        config: Config,
        devices: Devices,
        new_session: SessionFactory,
        *,
        clock: Clock | None = None,
        timers: Timers | None = None,
        memory: Memory | None = None,
        media: Player | None = None,
    ) -> None:
        self.config = config
        self.devices = devices
        self.machine = StateMachine()
        self.clock = clock or LoopClock()
        self._new_session = new_session
        self._conversation: Conversation | None = None
        self._conversation_task: asyncio.Task[None] | None = None
        self._muted = False
        self._transcripts: deque[Transcript] = deque(maxlen=10)
        self._listeners: list[Listener] = []
        self._last_error: str | None = None
        self.failures = FailureBook(self.clock, self._show)
        self._audio_errors: dict[str, str] = {}
        self._stopping = asyncio.Event()
        self._background: set[asyncio.Future[Any]] = set()
        self.timers = timers
        self._announcement: Conversation | None = None
        self._waiting_announcements = WaitingAnnouncements()
        self._router = MicRouter(devices)
        self._last_stop: float | None = None  # Unix time "stop" was last heard
        if timers is not None:
            timers.observe(self._timers_changed)
        self.ringing = Ringing(
            config.timers,
            self.clock,
            devices.speaker.play_sound,
            on_change=self._show,
            model_talking=self._model_talking,
        )
        self.media = media
        """The music player, when the daemon has one (tools, ctl and MQTT reach it here)."""
        if media is not None:
            media.on_change = self._media_changed
        self.machine.observe(self._log_state)
        # The household memory: the model's tools and `ctl memory` change it; it never
        # changes the state, only what MQTT shows.
        self.memory = memory
        if memory is not None:
            memory.observe(self._memory_changed)

    @property
    def conversation(self) -> Conversation | None:
        """The latest conversation (open or not); None before the first."""
        return self._conversation

    # -- lifecycle ---------------------------------------------------------------------

    async def run(self) -> None:
        """Route microphone audio until shutdown(); returns after a clean shutdown."""
        audio = asyncio.create_task(self._route_audio(), name="route-audio")
        if self.timers is not None:
            self.timers.start(self._timers_due)
        await self._stopping.wait()
        if self.timers is not None:
            self.timers.close()
        self.ringing.close()
        audio.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await audio
        await self._close_conversation("the daemon is stopping")
        if self.media is not None:
            await self.media.stop("stopped: the daemon is stopping")
        self.failures.hide()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    def shutdown(self) -> None:
        """Stop the daemon (SIGTERM); run() returns once the conversation is closed."""
        self._stopping.set()

    async def _route_audio(self) -> None:
        async for chunk in self.devices.microphone:
            try:
                await self.hear(chunk)
            except Exception:  # one bad chunk or a bug must not leave the mic unheard
                log.exception("could not handle a microphone chunk")

    async def hear(self, chunk: bytes) -> None:
        """One piece of microphone audio: to the open conversation, else the wake word."""
        if self._muted:
            return
        conversation = self._conversation
        if conversation is not None and conversation.is_open:
            if conversation.speak_only:
                await self._hear_over_announcement(chunk, conversation)
                return
            if not self.ringing.active:
                heard = await self._router.conversing(chunk, conversation)
                if heard.stop is not None:
                    self._stop_word_heard(heard.stop)
                return
            if conversation is not self._announcement:
                await self._hear_while_ringing(chunk, conversation)
                return
            # A ring's own announcement only speaks: the wake word hears, to stop the ring.
        await self._hear_idle(chunk)

    async def _hear_over_announcement(self, chunk: bytes, announcement: Conversation) -> None:
        """An announcement never listens: the wake word alone hears, to stop a ring or
        to cut the announcement short and open a conversation, and "stop" (over an
        echo-cancelled voice) ends a ring, else the announcement."""
        heard = await self._router.idle(
            chunk, stoppable=self.ringing.active or self._router.voice_stoppable(announcement)
        )
        if heard.stop is not None:
            self._stop_word_heard(heard.stop)
            return
        detection = heard.wake
        if detection is None:
            return
        self._tell(WakeWordHeard(detection.model, detection.score))
        if not self._stop_ringing("wake word"):
            timeline.info("wake word %s over an announcement", detection.model)
            announcement.end("a wake word over the announcement", flush=True)
            self._open("wake word", first_audio=self.devices.wake_word.audio_since_wake(detection))

    async def _hear_while_ringing(self, chunk: bytes, conversation: Conversation) -> None:
        """A conversation is open and a timer rings: the wake word or "stop" ends the ring."""
        heard = await self._router.while_ringing(chunk, conversation)
        if heard.wake is not None:
            self._stop_ringing("wake word")
        elif heard.stop is not None:
            self._stop_word_heard(heard.stop)

    async def _hear_idle(self, chunk: bytes) -> None:
        heard = await self._router.idle(
            chunk, stoppable=self.ringing.active or self._music_stoppable()
        )
        if heard.stop is not None:
            self._stop_word_heard(heard.stop)
            return
        detection = heard.wake
        if detection is None:
            return
        timeline.info(
            "wake word %s (%s, score %.2f) at %.2f s",
            detection.model, detection.engine, detection.score, detection.time,
        )
        self._tell(WakeWordHeard(detection.model, detection.score))
        if not self._stop_ringing("wake word"):
            self._open("wake word", first_audio=self.devices.wake_word.audio_since_wake(detection))

    def _stop_word_heard(self, stop: StopDetection) -> None:
        """"Stop" said while something could be stopped: the ring, else the answer."""
        timeline.info("stop word (score %.2f)", stop.score)
        self._last_stop = time.time()
        self._tell(StopWordHeard(stop.score))
        if self._stop_ringing("stop word"):
            return
        conversation = self._conversation
        if conversation is not None and conversation.is_open:
            conversation.stop_talking("stop word")
        elif self._music_stoppable() and self.media is not None:
            self._spawn(self.media.stop("stopped: the stop word"))

    def _music_stoppable(self) -> bool:
        """Music plays and its sound is removed from the microphone: "stop" is listened
        for over it (in half duplex a song that sings "stop" would stop itself)."""
        canceller = self.devices.echo_canceller
        return (
            self.media is not None
            and self.media.state == "playing"
            and canceller is not None
            and canceller.removes_echo
        )

    # -- conversations -----------------------------------------------------------------

    def _open(
        self,
        source: str,
        *,
        first_audio: bytes = b"",
        first_text: str | None = None,
        announcing: str | None = None,
    ) -> Conversation | str:
        """The open conversation (a new one if none is): or why a wake was refused.

        `announcing`: the words to read out, in a speak-only session without tools."""
        if self._conversation is not None and self._conversation.is_open:
            return self._conversation
        refusal = self._refusal()
        if refusal is not None:
            timeline.info("wake refused (%s): %s", source, refusal)
            self.devices.play_error_sound()
            return refusal
        self.failures.hide()
        if announcing is not None:
            first_text = announcement_prompt(announcing)
        if first_text is None:
            self.devices.play_wake_sound()
        conversation = Conversation(
            self.config,
            self._new_session(tools=False) if announcing is not None else self._new_session(),
            self.devices.speaker,
            self.clock,
            first_audio=first_audio,
            first_text=first_text,
            on_phase=self._conversation_moved,
            on_transcript=self._transcript_arrived,
            on_fault=self._conversation_fault,
            speak_only=announcing is not None,
            first_shown=announcing,
        )
        self._conversation = conversation
        self._router.conversation_opened()
        self._conversation_task = self._spawn(conversation.run())
        self.devices.camera_started(conversation)  # frames flow only while it is open
        self._show(f"woken ({source})")
        return conversation

    def _refusal(self) -> str | None:
        """Why a wake cannot open a conversation now, or None when it can."""
        if self._muted:
            return "muted: unmute first"
        return self.failures.refusal()

    def _conversation_moved(self, conversation: Conversation) -> None:
        """A conversation reports a new phase; only the current one is listened to."""
        if conversation is not self._conversation:
            return
        if conversation.phase is Phase.ENDED:
            self._conversation_ended(conversation)
        else:
            self._show(conversation.phase.value)

    def _conversation_ended(self, conversation: Conversation) -> None:
        reason = conversation.end_reason or "ended"
        timeline.info(
            "conversation over after %.1f s: %s", self.clock.now() - conversation.started_at, reason
        )
        self.devices.camera_stopped()
        self.devices.wake_word.reset()
        if self._waiting_announcements:
            asyncio.get_running_loop().call_soon(self._announce_next)
        failure = conversation.failure
        if failure is None:
            self.failures.succeeded()
            self._show(reason)
            return
        if conversation is self._announcement or conversation.speak_only:
            # Offline, or the key is refused: the ring alone tells the user; a wake
            # will find out (and show) what is wrong.
            timeline.info("not announced: %s", failure.message)
            self._show(reason)
            return
        self.last_error = failure.message
        self.devices.play_error_sound()
        self.failures.failed(failure)
        self._show(f"failed: {failure.message}")

    def _conversation_fault(self, detail: str) -> None:
        """A recovered fault (the session is reconnecting): tell the user by sound."""
        self.last_error = detail
        self.devices.play_error_sound()

    async def _close_conversation(self, reason: str, *, flush: bool = True) -> None:
        conversation, task = self._conversation, self._conversation_task
        if conversation is None or task is None:
            return
        conversation.end(reason, flush=flush)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(task), CLOSE_WAIT_SECONDS)

    async def say(self, text: str) -> str | None:
        """Typed words to the model (`ctl say`): into the open conversation, else a new one.

        Returns why they were not sent, or None once they were. The text passes the
        one rule for typed text (daemon.core.safe_text), whichever door it came by."""
        problem = user_text_problem(text)
        if problem is not None:
            return problem
        conversation = self._conversation
        if conversation is not None and conversation.is_open and conversation.speak_only:
            # The owner's words go to a session with tools, never into an announcement's.
            conversation.end("the owner typed over the announcement", flush=True)
        if conversation is not None and conversation.is_open:
            sent = await conversation.say(text)
        else:
            opened = self._open("ctl say", first_text=text)
            if isinstance(opened, str):
                return opened
            conversation = opened
            sent = await conversation.opened()  # it sends the text as soon as it is open
        return None if sent else (conversation.end_reason or "the conversation ended")

    def announce(self, text: str) -> str | None:
        """Read `text` out (an MQTT announcement): None once it is on its way, else why not.

        The text is someone else's: it is read in a session that can call no tool,
        then the conversation ends without listening. While another conversation
        is open it waits for it to end (daemon.appliance.announcements)."""
        problem = user_text_problem(text)
        if problem is not None:
            return self._waiting_announcements.refuse(problem)
        text = text.strip()
        conversation = self._conversation
        if self._waiting_announcements or (conversation is not None and conversation.is_open):
            return self._waiting_announcements.wait(text)
        refusal = self._refusal()
        if refusal is not None:
            return self._waiting_announcements.refuse(refusal)
        self._waiting_announcements.started()
        opened = self._open("announcement", announcing=text)
        return opened if isinstance(opened, str) else None

    def _announce_next(self) -> None:
        """A conversation ended: the oldest waiting announcement, unless one opened since."""
        if self._stopping.is_set():
            self._waiting_announcements.drop()
            return
        conversation = self._conversation
        if conversation is not None and conversation.is_open:
            return  # a wake came first; its end calls again
        refusal = self._refusal()
        if refusal is not None:
            self._waiting_announcements.drop(refusal)
            return
        text = self._waiting_announcements.next()
        if text is not None:
            self._open("announcement", announcing=text)

    async def stop(self) -> str:
        """Stop a ring, else end the conversation, else stop the music (`ctl stop`); what
        was done, in words."""
        if self._stop_ringing("ctl stop"):
            return "stopped ringing"
        if self._conversation is None or not self._conversation.is_open:
            if self.media is not None and self.media.state != "stopped":
                await self.media.stop("stopped from the control socket")
                return "stopped the music"
            return "no conversation open"
        await self._close_conversation("stopped from the control socket")
        return "stopped"

    async def media_command(self, action: str, what: str = "") -> str:
        """`ctl play|pause|resume|next|now` and Home Assistant's media controls: a sentence."""
        if self.media is None:
            return "there is no music player"
        return await media_command(self.media, action, what)

    def status(self) -> ApplianceStatus:
        """A snapshot of what the owner may see (`ctl status`, the tests)."""
        conversation = self._conversation
        is_open = conversation is not None and conversation.is_open
        return ApplianceStatus(
            state=self.machine.state,
            muted=self._muted,
            fatal=self.failures.fatal is not None,
            relays=self.relay_states(),
            transcripts=tuple(self._transcripts),
            session_uptime=(
                round(self.clock.now() - conversation.started_at, 1)
                if conversation is not None and is_open
                else None
            ),
            last_error=self.last_error,
            ringing=tuple(ring.spoken() for ring in self.ringing.rings),
            timers=tuple(self.timers.list()) if self.timers is not None else (),
            announcing=conversation is not None
            and is_open
            and (conversation is self._announcement or conversation.speak_only),
            stop_word=(
                "off" if self.devices.stop_word is None
                else "listening" if self._router.stop_word_listening else "ready"
            ),
            last_stop=self._last_stop,
            announcements_waiting=len(self._waiting_announcements),
            music=self.media.now() if self.media is not None else None,
        )

    # -- what the user sees ------------------------------------------------------------

    def _show(self, reason: str) -> None:
        """Derive the state from what is true now; the only writer of the machine."""
        conversation = self._conversation
        if self.ringing.active:
            state = State.RINGING
        elif self._muted:
            state = State.MUTED
        elif conversation is not None and conversation.is_open:
            state = _PHASE_STATE[conversation.phase]
        elif self.failures.showing or self._audio_errors:
            state = State.ERROR
        else:
            state = State.IDLE
        if self.media is not None:
            self.media.hold(*self._media_hold())
        self.machine.set(state, reason)

    def _media_hold(self) -> tuple[bool, str | None]:
        """Whether music is ducked now (or paused, by config), and why it may not play at
        all: the one place that decides it, from what is true now."""
        conversation = self._conversation
        ducked = self.ringing.active or (conversation is not None and conversation.is_open)
        return ducked, ("muted: unmute first" if self._muted else None)

    # -- device health -----------------------------------------------------------------

    def audio_status(self, status: AudioStatus, role: str) -> None:
        """The microphone or the speaker (role) failed (it is retried) or came back."""
        if status.state == "error":
            self.last_error = status.message
            self._audio_errors[role] = status.message
            self._show(status.message)
        elif self._audio_errors.pop(role, None) is not None:
            timeline.info("audio device back: %s", status.message)
            self._show("audio device back")

    # -- the button --------------------------------------------------------------------

    def button_pressed(self) -> str | None:
        """Idle: start talking. Model talking: stop it. Listening: end the conversation.

        Ringing: stop the ring, nothing more. Returns why a wake was refused, or None."""
        self._tell(ButtonUsed("press"))
        return self.press()

    def press(self) -> str | None:
        """The button's action, also taken by `ctl wake` and MQTT's "start conversation"."""
        if self._stop_ringing("button"):
            return None
        if self._muted:
            return "muted: unmute first"
        conversation = self._conversation
        if conversation is None or not conversation.is_open:
            timeline.info("button: start a conversation")
            opened = self._open("button")
            return opened if isinstance(opened, str) else None
        if not conversation.stop_talking():
            timeline.info("button: end the conversation")
            conversation.end("ended with the button", flush=True)
        return None

    def button_held(self) -> None:
        self._tell(ButtonUsed("hold"))
        self._spawn(self.mute(not self._muted))

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    # -- the tools' context (daemon.tools.ToolContext) ---------------------------------

    async def switch_relay(self, name: str, on: bool) -> bool:
        """Switch a relay as the model's set_relay does (MQTT); KeyError for an unknown name."""
        relay = self.devices.relays[name]
        is_on = await asyncio.to_thread(_switch, relay, on)  # a pin driver may block
        self.relay_changed(name, is_on)
        return is_on

    @property
    def volume(self) -> int:
        return round(self.devices.speaker.volume)

    def relay_changed(self, name: str, is_on: bool) -> None:
        timeline.info("relay %s switched %s", name, "on" if is_on else "off")
        self._tell(RelaySwitched(name, is_on))

    def set_volume(self, percent: int) -> None:
        self.devices.speaker.set_volume(percent)
        self._tell(VolumeChanged(percent))

    def end_conversation(self) -> None:
        if self._conversation is not None:
            self._conversation.end("the model ended the conversation")

    async def look(self) -> str:
        return await self.devices.grab_frame()

    # -- mute (the button held, `ctl mute`, MQTT) ----------------------------------------

    @property
    def muted(self) -> bool:
        return self._muted

    async def mute(self, on: bool) -> bool:
        """Close (or open) the microphone; False when it already was."""
        if on == self._muted:
            return False
        self._muted = on
        if on:
            self.devices.microphone.pause()
            self.devices.wake_word.reset()
            timeline.info("muted: microphone closed")
            self._show("muted")
            await self._close_conversation("muted")
        else:
            self.devices.microphone.resume()
            timeline.info("unmuted: listening for the wake word")
            self._show("unmuted")
        return True

    # -- timers ------------------------------------------------------------------------

    def _timers_due(self, rings: list[Ring]) -> None:
        """Timers or alarms fell due: ring (once for all) and say what rang."""
        self.ringing.due(rings)
        self._announce("; ".join(ring.spoken() for ring in rings))

    def _announce(self, what: str) -> None:
        if not self.config.timers.announce or self._muted:
            return
        prompt = f"Say briefly, in one short sentence: {what}."
        conversation = self._conversation
        if conversation is not None and conversation.is_open and conversation.speak_only:
            timeline.info("not announced (an announcement is being read): the sound rings")
            return
        if conversation is not None and conversation.is_open:
            self._spawn(conversation.say(prompt))  # heard without ending the conversation
            return
        refusal = self._refusal()
        if refusal is not None:
            timeline.info("not announced (%s): the sound alone rings", refusal)
            return
        opened = self._open("timer", first_text=prompt)
        if isinstance(opened, Conversation):
            self._announcement = opened

    def _stop_ringing(self, how: str) -> bool:
        if not self.ringing.stop(how):
            return False
        conversation = self._conversation
        if conversation is None or not conversation.is_open:
            self.devices.speaker.flush()  # cut the beep now; a conversation's voice stays
        return True

    def _model_talking(self) -> bool:
        conversation = self._conversation
        return conversation is not None and conversation.is_open and (
            conversation.phase is Phase.SPEAKING
        )

    # -- observers ---------------------------------------------------------------------

    def observe(self, observer: Observer) -> None:
        """Be told every state change (and the state now, at once): LEDs, STATUS=, MQTT."""
        self.machine.observe(observer)

    def relay_states(self) -> dict[str, bool]:
        return {name: relay.is_on for name, relay in self.devices.relays.items()}

    def listen(self, listener: Listener) -> None:
        """Be told what the state machine does not carry (daemon.core.events); MQTT uses it.

        The timers' state is told at once, so a new listener shows the next timer."""
        self._listeners.append(listener)
        if self.timers is not None:
            self._timers_changed()
        if self.memory is not None:
            self._memory_changed()
        if self.media is not None:
            self._tell_one(listener, self.media.event())

    @property
    def last_error(self) -> str | None:
        return self._last_error

    @last_error.setter
    def last_error(self, message: str | None) -> None:
        self._last_error = message
        if message is not None:
            self._tell(ErrorShown(message))

    def _transcript_arrived(self, transcript: Transcript) -> None:
        self._transcripts.append(transcript)
        if transcript.role == "announcement":
            return  # its sender knows the words; it is not what the user said
        self._tell(TranscriptHeard(transcript.role, transcript.text, transcript.at))

    def _media_changed(self, event: MediaChanged) -> None:
        self._tell(event)

    def _timers_changed(self) -> None:
        if self.timers is not None:
            self._tell(timers_changed(self.timers))

    def _memory_changed(self) -> None:
        if self.memory is not None:
            self._tell(MemoryChanged(len(self.memory)))

    def _tell(self, event: ApplianceEvent) -> None:
        for listener in self._listeners:
            self._tell_one(listener, event)

    @staticmethod
    def _tell_one(listener: Listener, event: ApplianceEvent) -> None:
        try:
            listener(event)
        except Exception:  # a broker glitch must not stop the appliance
            log.exception("appliance listener %r failed on %s", listener, type(event).__name__)

    def _log_state(self, change: Change) -> None:
        if change.old is not change.new:
            timeline.info("state %s -> %s", change.old, change.new)


def _switch(relay: Any, on: bool) -> bool:
    relay.on() if on else relay.off()
    return bool(relay.is_on)
