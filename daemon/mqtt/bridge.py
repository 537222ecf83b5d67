"""The MQTT client: state out on every change, commands in, never on the audio path.

The appliance only ever calls `_put()`, which stores the latest value of each
state topic and, while connected, marks it for sending; a writer task on the
connection sends what is marked. A state that changes faster than the broker
takes it is sent once, at its latest value; events beyond a few are dropped.
So a broker that is down, refuses the login, fails TLS or answers slowly
costs the appliance nothing and holds no growing backlog (the full state is
sent again on every connection). Commands take the appliance's own paths (the ones the button,
`ctl` and the model's tools take), so the state keeps one owner.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import ssl
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from daemon.config.mqtt import MqttConfig
from daemon.core.events import (
    ApplianceEvent,
    ButtonUsed,
    ErrorShown,
    Listener,
    MediaChanged,
    MemoryChanged,
    NextTimer,
    RelaySwitched,
    StopWordHeard,
    TimersChanged,
    TranscriptHeard,
    VolumeChanged,
    WakeWordHeard,
)
from daemon.core.safe_text import printable
from daemon.core.state import Change, Observer, State
from daemon.mqtt import commands, media
from daemon.mqtt.commands import BadPayload
from daemon.mqtt.discovery import discovery_payload
from daemon.mqtt.identity import OFF, OFFLINE, ON, ONLINE, Identity

log = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 1.0
LONGEST_RETRY_SECONDS = 60.0
EVENTS_WAITING = 32  # events (wake word, button) kept for a slow broker; older ones are dropped
PUBLISH_TIMEOUT = 10.0
CONNECT_TIMEOUT = 3.0
"""For the broker's CONNACK: after an outage, an attempt that gets no answer gives way
to the next one soon, rather than waiting out the publish timeout."""
QOS = 1
MAX_PACKET = commands.MAX_PAYLOAD + 1024
"""The largest packet the broker may send us (MQTT 5 Maximum Packet Size): a command's
longest payload and its topic. The broker drops a larger one instead of sending it, so
a 10 MiB "announcement" never reaches this process's memory."""


class Owner(Protocol):
    """What the bridge asks of the appliance: its public paths, the ones `ctl` takes."""

    @property
    def volume(self) -> int: ...
    @property
    def last_error(self) -> str | None: ...
    def relay_states(self) -> dict[str, bool]: ...
    def observe(self, observer: Observer) -> None: ...
    def listen(self, listener: Listener) -> None: ...
    async def switch_relay(self, name: str, on: bool) -> bool: ...
    async def mute(self, on: bool) -> bool: ...
    def set_volume(self, percent: int) -> None: ...
    def press(self) -> str | None: ...
    def announce(self, text: str) -> str | None: ...
    async def say(self, text: str) -> str | None: ...
    async def media_command(self, action: str, what: str = "") -> str: ...


class MqttBridge:
    """One speaker on one broker: `start()` once the appliance runs, `stop()` before it ends."""

    def __init__(
        self,
        config: MqttConfig,
        appliance: Owner,
        relays: dict[str, str],
        *,
        identity: Identity | None = None,
        stations: Sequence[str] = (),
    ) -> None:
        """`relays`: each relay's name and its description; `stations`: the radio
        stations' names (the music source select)."""
        self.config = config
        self.identity = identity or Identity.of(config)
        self._appliance = appliance
        self._relays = dict(relays)
        self._stations = tuple(stations)
        self._latest: dict[str, str] = {}  # retained state, by topic: re-sent on every connection
        self._unsent: dict[str, str] = {}  # state not yet sent on this connection (latest wins)
        self._events: deque[tuple[str, str]] = deque(maxlen=EVENTS_WAITING)
        self._something_to_send = asyncio.Event()
        self._client: aiomqtt.Client | None = None
        self._task: asyncio.Task[None] | None = None
        self._commands: set[asyncio.Task[Any]] = set()
        self.connected = asyncio.Event()
        self._handlers = self._command_handlers()

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        appliance = self._appliance
        for name, is_on in appliance.relay_states().items():
            self._relay_changed(name, is_on)
        self._put(self.identity.topics.control("volume", "state"), _number(appliance.volume))
        if appliance.last_error is not None:
            self._error(appliance.last_error)
        appliance.observe(self._state_changed)  # tells the current state at once
        appliance.listen(self._heard)  # tells the timers at once
        self._task = asyncio.create_task(self._run(), name="mqtt")

    async def stop(self) -> None:
        """Say `offline` (the last will covers a crash), then disconnect."""
        client = self._client
        if client is not None and self.connected.is_set():
            with contextlib.suppress(Exception):
                await client.publish(
                    self.identity.topics.availability, OFFLINE, qos=QOS, retain=True, timeout=2.0
                )
        for task in [*self._commands, self._task]:
            if task is not None:
                task.cancel()
        await asyncio.gather(*self._commands, return_exceptions=True)
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    # -- the connection ----------------------------------------------------------------

    async def _run(self) -> None:
        where = f"{self.config.host}:{self.config.port}"
        delay = FIRST_RETRY_SECONDS
        outage: str | None = "not connected yet"
        while True:
            try:
                async with await self._new_client() as client:
                    client.timeout = PUBLISH_TIMEOUT
                    self._client = client
                    log.info(
                        "MQTT: connected to %s as %s; Home Assistant device %r (%s)",
                        where, self.identity.client_id, self.identity.name, self.identity.node_id,
                    )  # fmt: skip
                    outage, delay = None, FIRST_RETRY_SECONDS
                    await self._serve(client)
            except (aiomqtt.MqttError, OSError, _SetupError) as exc:
                reason = _reason(exc, self.config)
                if outage is None:
                    log.warning(
                        "MQTT: lost the connection to %s: %s; reconnecting with backoff",
                        where,
                        reason,
                    )
                elif outage == "not connected yet":
                    log.warning(
                        "MQTT: cannot connect to %s: %s; retrying with backoff "
                        "(logged again once connected)", where, reason,
                    )  # fmt: skip
                else:
                    log.debug("MQTT: still cannot connect to %s: %s", where, reason)
                outage = reason
            finally:
                self._client = None
                self.connected.clear()
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(LONGEST_RETRY_SECONDS, delay * 2)

    async def _new_client(self) -> aiomqtt.Client:
        """A client for one connection attempt; files are read anew so a fix needs no restart."""
        config = self.config
        password, tls = await asyncio.to_thread(_read_secrets, config)
        return aiomqtt.Client(
            config.host,
            config.port,
            username=config.username,
            password=password,
            identifier=self.identity.client_id,
            keepalive=config.keepalive_seconds,
            will=aiomqtt.Will(self.identity.topics.availability, OFFLINE, qos=QOS, retain=True),
            tls_context=tls,
            timeout=CONNECT_TIMEOUT,
            protocol=aiomqtt.ProtocolVersion.V5,
            properties=_connect_properties(),
        )

    async def _serve(self, client: aiomqtt.Client) -> None:
        """One connection: subscribe, announce everything, then serve both directions."""
        await client.subscribe([(topic, QOS) for topic in self._handlers])
        await client.subscribe(self._ha_status_topic, QOS)
        self._unsent.clear()  # _publish_all sends it; events of the outage are stale
        self._events.clear()
        await self._publish_all(client)
        self.connected.set()
        # Either side failing (the broker gone, a publish unanswered) ends the connection.
        sides = {
            asyncio.create_task(self._read(client), name="mqtt-reader"),
            asyncio.create_task(self._write(client), name="mqtt-writer"),
        }
        try:
            done, _ = await asyncio.wait(sides, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for side in sides:
                side.cancel()
            await asyncio.gather(*sides, return_exceptions=True)
        for side in done:
            side.result()  # raises what ended it
        raise aiomqtt.MqttError("the broker ended the connection")

    async def _read(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            self._received(message)

    async def _publish_all(self, client: aiomqtt.Client) -> None:
        topics = self.identity.topics
        payload = json.dumps(
            discovery_payload(
                self.identity, self._relays, self._stations,
                area=self.config.area, configuration_url=self.config.configuration_url,
            )
        )  # fmt: skip
        await client.publish(self.identity.discovery_topic, payload, qos=QOS, retain=True)
        for topic, value in list(self._latest.items()):
            await client.publish(topic, value, qos=QOS, retain=True)
        await client.publish(topics.availability, ONLINE, qos=QOS, retain=True)

    async def _write(self, client: aiomqtt.Client) -> None:
        while True:
            await self._something_to_send.wait()
            self._something_to_send.clear()
            while self._events or self._unsent:
                if self._events:
                    topic, payload = self._events.popleft()
                    await client.publish(topic, payload, qos=QOS, retain=False)
                else:
                    topic = next(iter(self._unsent))
                    await client.publish(topic, self._unsent.pop(topic), qos=QOS, retain=True)

    @property
    def _ha_status_topic(self) -> str:
        return f"{self.config.discovery_prefix}/status"

    # -- state out ---------------------------------------------------------------------

    def _put(self, topic: str, payload: str, *, retain: bool = True) -> None:
        """Publish soon if connected; retained state is also kept for the next connection."""
        if retain:
            self._latest[topic] = payload
        if not self.connected.is_set():
            return  # events of an outage are stale by the time it ends; state is re-sent
        if retain:
            self._unsent.pop(topic, None)  # keep the order of changes: it moves to the end
            self._unsent[topic] = payload
        else:
            self._events.append((topic, payload))
        self._something_to_send.set()

    def _state_changed(self, change: Change) -> None:
        topics = self.identity.topics
        self._put(topics.state, change.new.value)
        self._put(topics.control("mute", "state"), ON if change.new is State.MUTED else OFF)

    def _heard(self, event: ApplianceEvent) -> None:
        topics = self.identity.topics
        match event:
            case TranscriptHeard(role=role, text=text, at=at):
                self._put(topics.transcript(role), json.dumps({"text": text, "at": _iso(at)}))
            case RelaySwitched(name=name, is_on=is_on):
                self._relay_changed(name, is_on)
            case VolumeChanged(percent=percent):
                self._put(topics.control("volume", "state"), _number(percent))
            case WakeWordHeard(model=model, score=score):
                detected = {"event_type": "detected", "model": model, "score": round(score, 3)}
                self._put(topics.event("wake_word"), json.dumps(detected), retain=False)
            case StopWordHeard(score=score):
                stopped = {"event_type": "detected", "score": round(score, 3)}
                self._put(topics.event("stop_word"), json.dumps(stopped), retain=False)
            case ButtonUsed(action=action):
                self._put(topics.event("button"), json.dumps({"event_type": action}), retain=False)
            case ErrorShown(message=message):
                self._error(message)
            case TimersChanged(next=next_timer, pending=pending):
                self._timers_changed(next_timer, pending)
            case MemoryChanged(count=count):
                self._put(topics.memory, _number(count))
            case MediaChanged():
                media.publish(topics, event, self._put, self._stations)

    def _relay_changed(self, name: str, is_on: bool) -> None:
        self._put(self.identity.topics.relay(name, "state"), ON if is_on else OFF)

    def _timers_changed(self, next_timer: NextTimer | None, pending: int) -> None:
        """The next-timer sensor: when it rings (ISO 8601 with zone) or null, and what it is."""
        state: dict[str, Any] = {"at": None, "label": None, "id": None, "kind": None}
        if next_timer is not None:
            state = {
                "at": next_timer.at,
                "label": next_timer.label,
                "id": next_timer.id,
                "kind": next_timer.kind,
            }
        state["pending"] = pending
        self._put(self.identity.topics.next_timer, json.dumps(state))

    def _error(self, message: str) -> None:
        self._put(
            self.identity.topics.last_error, json.dumps({"text": message, "at": _iso(time.time())})
        )

    # -- commands in -------------------------------------------------------------------

    def _command_handlers(self) -> dict[str, Callable[[bytes], Awaitable[None]]]:
        topics = self.identity.topics
        handlers: dict[str, Callable[[bytes], Awaitable[None]]] = {
            topics.control("mute", "set"): self._mute,
            topics.control("volume", "set"): self._volume,
            topics.start: self._start_conversation,
            topics.announce: self._announce,
        }
        for name in self._relays:
            handlers[topics.relay(name, "set")] = _bound(self._switch_relay, name)
        handlers.update(media.handlers(topics, self._appliance, self._stations))
        return handlers

    def _received(self, message: aiomqtt.Message) -> None:
        topic = str(message.topic)
        raw = message.payload
        if isinstance(raw, bytes | bytearray) and len(raw) > commands.MAX_PAYLOAD:
            # A broker that ignores Maximum Packet Size: refused on its length alone.
            log.warning(
                "MQTT: refused %d bytes on %s (at most %d); nothing changed",
                len(raw), printable(topic, 120), commands.MAX_PAYLOAD,
            )  # fmt: skip
            return
        payload = bytes(raw) if isinstance(raw, bytes | bytearray) else str(raw or "").encode()
        if topic == self._ha_status_topic:
            if payload == ONLINE.encode() and self._client is not None:
                log.info("MQTT: Home Assistant is back; sending the discovery and state again")
                self._spawn(self._publish_all(self._client), topic)
            return
        handler = self._handlers.get(topic)
        if handler is None:
            return
        if message.retain:
            log.warning(
                "MQTT: refused a retained command on %s (publish commands without retain)", topic
            )
            return
        log.info("MQTT: command on %s", topic)
        self._spawn(handler(payload), topic)

    def _spawn(self, coro: Awaitable[None], topic: str) -> None:
        async def guarded() -> None:
            try:
                await coro
            except BadPayload as exc:
                log.warning("MQTT: refused the command on %s: %s; nothing changed", topic, exc)
            except aiomqtt.MqttError as exc:
                log.debug("MQTT: %s not answered: %s", topic, exc)
            except Exception:
                log.exception("MQTT: the command on %s failed", topic)

        task = asyncio.ensure_future(guarded())
        self._commands.add(task)
        task.add_done_callback(self._commands.discard)

    async def _switch_relay(self, name: str, payload: bytes) -> None:
        await self._appliance.switch_relay(name, commands.switch(payload))

    async def _mute(self, payload: bytes) -> None:
        on = commands.switch(payload)
        await self._appliance.mute(on)
        self._put(self.identity.topics.control("mute", "state"), ON if on else OFF)

    async def _volume(self, payload: bytes) -> None:
        self._appliance.set_volume(commands.volume(payload))

    async def _start_conversation(self, payload: bytes) -> None:
        commands.press(payload)
        _log_refusal("start conversation", self._appliance.press())

    async def _announce(self, payload: bytes) -> None:
        text = commands.announcement(payload)
        log.info("MQTT: announcement of %d characters", len(text))
        refusal = self._appliance.announce(text)  # the appliance logs why (once per burst)
        if refusal is not None:
            log.debug("MQTT: announcement refused: %s", refusal)


class _SetupError(Exception):
    """A local file the connection needs cannot be used (password, CA, certificate)."""


def _read_secrets(config: MqttConfig) -> tuple[str | None, ssl.SSLContext | None]:
    password = None
    if config.password_file is not None:
        try:
            password = config.password_file.read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            raise _SetupError(
                f"cannot read the password file {config.password_file}: {reason}"
            ) from None
    tls = None
    if config.tls.enabled:
        try:
            tls = ssl.create_default_context(
                cafile=str(config.tls.ca_file) if config.tls.ca_file else None
            )
            if config.tls.cert_file is not None:
                tls.load_cert_chain(config.tls.cert_file, config.tls.key_file)
        except (OSError, ssl.SSLError) as exc:
            raise _SetupError(f"cannot load the TLS files: {exc}") from None
    return password, tls


def _reason(exc: BaseException, config: MqttConfig) -> str:
    """What went wrong, in words an owner can act on (never the password)."""
    if isinstance(exc, aiomqtt.MqttCodeError) and exc.rc in (4, 134, 135, 5):
        user = f"user {config.username!r}" if config.username else "no user name"
        return f"the broker refused the login ({user}): {exc}; check username and password_file"
    text = str(exc) or type(exc).__name__
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return f"TLS: the broker's certificate is not trusted ({text}); check tls.ca_file"
    return text


def _connect_properties() -> Properties:
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.MaximumPacketSize = MAX_PACKET
    return properties


def _log_refusal(what: str, refusal: str | None) -> None:
    if refusal is not None:
        log.warning("MQTT: %s refused: %s", what, refusal)


def _iso(seconds: float) -> str:
    """Unix seconds as ISO 8601 in the local zone, e.g. 2026-12-07T14:05:09+01:00."""
    return datetime.fromtimestamp(seconds).astimezone().isoformat(timespec="seconds")


def _number(value: float) -> str:
    return str(round(value))


def _bound(
    handler: Callable[[str, bytes], Awaitable[None]], name: str
) -> Callable[[bytes], Awaitable[None]]:
    return lambda payload: handler(name, payload)
