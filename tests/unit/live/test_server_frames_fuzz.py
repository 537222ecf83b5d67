"""Fuzz the frames the server sends: whatever arrives, the conversation carries on.

Each example opens a LiveSession over the real SDK and TLS to one emulator
(shared by the module), has the emulator send one generated frame exactly as
given (emulator fault "raw"), then a marker frame, then runs a normal turn.
The frames are realistic serverContent / toolCall / goAway / ... messages with
mutated fields (wrong types, missing keys, huge numbers, deep nesting, unknown
keys, empty objects, base64 that is not base64, lone surrogates), truncated
JSON, bytes that are not UTF-8, and random text or bytes.

The properties, as a user would notice them: the session never fails or
raises out of its event stream; a frame that cannot be read is logged as one
error line naming the problem (no traceback, no dump of the frame); every
event the daemon gets can be played and written (whole 16-bit samples at a
playable rate, text that encodes as UTF-8); and the next turn is answered.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

import pytest
import pytest_asyncio
from hypothesis import event, given, settings
from hypothesis import strategies as st

from daemon.emulator import LiveEmulator, Turn
from daemon.live import LiveSession, ModelAudio, OutputTranscript, SessionFailed, TurnComplete
from daemon.live.connect_config import make_client
from daemon.live.messages import PLAYABLE_RATES
from tests.unit.fuzzing import fuzz
from tests.unit.live.conftest import API_KEY, Recorder, gemini_config

pytestmark = pytest.mark.asyncio(loop_scope="module")

MARKER = "-- marker: every frame before this one has been read --"
REPLY = "Still here."
SKIPPED = "skipped a malformed server frame"
WATCHED_LOGGERS = ("daemon.live", "google_genai", "websockets.client")
HOLE = "\x00hole\x00"  # stands where a raw JSON text is spliced into a frame

AUDIO = {"mimeType": "audio/pcm;rate=24000", "data": "AAABAAIAAwA="}
FRAMES: list[dict[str, Any]] = [
    {"serverContent": {"modelTurn": {"parts": [{"inlineData": AUDIO}]}}},
    {"serverContent": {"outputTranscription": {"text": "Hello there."}}},
    {"serverContent": {"inputTranscription": {"text": "what time is it"}}},
    {"serverContent": {"generationComplete": True}},
    {"serverContent": {"interrupted": True}},
    {
        "serverContent": {"turnComplete": True},
        "usageMetadata": {"promptTokenCount": 12, "responseTokenCount": 30, "totalTokenCount": 42},
    },
    {
        "serverContent": {
            "groundingMetadata": {
                "webSearchQueries": ["weather in Oslo"],
                "groundingChunks": [{"web": {"uri": "https://example.com/", "title": "Example"}}],
            }
        }
    },
    {"toolCall": {"functionCalls": [
        {"id": "call-1", "name": "set_relay", "args": {"name": "lamp", "on": True}}
    ]}},
    {"toolCallCancellation": {"ids": ["call-1"]}},
    {"sessionResumptionUpdate": {"newHandle": "handle-1", "resumable": True}},
    {"goAway": {"timeLeft": "5s"}},
    {"setupComplete": {}},
]


@dataclass(frozen=True)
class Frame:
    """A generated frame and what reading it must give."""

    payload: str | bytes
    problem: str | None = None
    """Must be logged as a bad frame with this word in the line; None: it may be
    read (then no error) or refused (then one clear line)."""


# ---- strategies ------------------------------------------------------------------------

odd_values = st.sampled_from(
    [None, True, False, 0, -1, 2**31, 10**30, -(10**30), 1.5e308, -0.0, "", "yes", "x" * 300,
     "\ud800", [], [1, "a"], {}, {"x": 1}, {"parts": None}],
)  # fmt: skip
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
raw_json_values = st.sampled_from(
    ["1e400", "-1e400", "NaN", "Infinity", "9" * 5000, "1" + "0" * 400, '"\\ud800\\udfff"',
     '"\\u0000\\u001b[2J"'],
)  # fmt: skip


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value (the root excluded)."""
    found: list[tuple[Any, ...]] = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(
        value, list) else ()  # fmt: skip
    for key, child in items:
        found.append((*prefix, key))
        found.extend(paths(child, (*prefix, key)))
    return found


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = replaced(copy[path[0]], path[1:], new)
    return copy


def removed(value: Any, path: tuple[Any, ...]) -> Any:
    copy = dict(value) if isinstance(value, dict) else list(value)
    if len(path) == 1:
        del copy[path[0]]
    else:
        copy[path[0]] = removed(copy[path[0]], path[1:])
    return copy


def inside(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


def splice(frame: dict[str, Any], raw: str) -> str:
    """The frame's JSON with the HOLE value replaced by raw JSON text."""
    return json.dumps(frame).replace(json.dumps(HOLE), raw)


@st.composite
def mutated(draw: st.DrawFn) -> Frame:
    """A realistic frame with a few fields broken in place."""
    frame: Any = draw(st.sampled_from(FRAMES))
    raw = None
    for _ in range(draw(st.integers(1, 3))):
        places = paths(frame)
        path = draw(st.sampled_from(places)) if places else ()
        how = draw(st.sampled_from(["odd", "random", "drop", "unknown", "empty", "raw", "deep"]))
        if how == "odd" and path:
            frame = replaced(frame, path, draw(odd_values))
        elif how == "random" and path:
            frame = replaced(frame, path, draw(json_values))
        elif how == "drop" and path:
            frame = removed(frame, path)
        elif how == "unknown":
            holder = path if path and isinstance(inside(frame, path), dict) else ()
            extra = {draw(st.sampled_from(["zzUnknown", "serverContentV2", "x"])): draw(json_values)}
            frame = replaced(frame, holder, {**inside(frame, holder), **extra})
        elif how == "empty" and path and isinstance(inside(frame, path), dict | list):
            frame = replaced(frame, path, type(inside(frame, path))())
        elif how in ("raw", "deep") and path and raw is None:
            depth = draw(st.integers(2, 300))
            opener = draw(st.sampled_from(["[", '{"a":']))
            closer = "]" if opener == "[" else "}"
            deep = opener * depth + "1" + closer * depth
            raw = deep if how == "deep" else draw(raw_json_values)
            frame = replaced(frame, path, HOLE)
    text = splice(frame, raw) if raw is not None else json.dumps(frame, allow_nan=True)
    return Frame(text)


@st.composite
def truncated(draw: st.DrawFn) -> Frame:
    text = json.dumps(draw(st.sampled_from(FRAMES)))
    return Frame(text[: draw(st.integers(1, len(text) - 1))], "JSON")


@st.composite
def not_utf8(draw: st.DrawFn) -> Frame:
    data = json.dumps(draw(st.sampled_from(FRAMES))).encode()
    at = draw(st.integers(1, len(data) - 1))
    bad = draw(st.sampled_from([b"\xff", b"\x80", b"\xc3\x28", b"\xf8\x88\x80\x80\x80", b"\xfe"]))
    return Frame(data[:at] + bad + data[at:], "UTF-8")


@st.composite
def not_base64(draw: st.DrawFn) -> Frame:
    junk = draw(st.text(alphabet="!#$%&*()<>?@[]^{}|~ ", min_size=1, max_size=40))
    part = {"inlineData": {"mimeType": "audio/pcm;rate=24000", "data": junk}}
    return Frame(json.dumps({"serverContent": {"modelTurn": {"parts": [part]}}}), "base64")


@st.composite
def too_deep(draw: st.DrawFn) -> Frame:
    depth = draw(st.integers(2000, 20000))
    frame = {"toolCall": {"functionCalls": [{"id": "c", "name": "n", "args": {"a": HOLE}}]}}
    return Frame(splice(frame, "[" * depth + "]" * depth), "nested too deeply")


@st.composite
def junk(draw: st.DrawFn) -> Frame:
    payload: str | bytes = draw(st.text(max_size=200) | st.binary(max_size=200))
    if not payload:
        return Frame(payload)  # the SDK reads an empty frame as an empty message
    try:  # as the SDK reads it: bytes, whose encoding json.loads guesses
        value = json.loads(payload.encode() if isinstance(payload, str) else payload)
    except UnicodeDecodeError:
        return Frame(payload, " text (byte 0x")
    except (ValueError, RecursionError):
        return Frame(payload, "JSON")
    return Frame(payload, _problem_of_top_level(value))


@st.composite
def not_an_object(draw: st.DrawFn) -> Frame:
    value = draw(json_scalars | st.lists(json_values, max_size=3))
    return Frame(json.dumps(value), _problem_of_top_level(value))


def _problem_of_top_level(value: Any) -> str | None:
    """The SDK reads null, 0, false, "" and [] as an empty message; other non-objects
    must be refused."""
    return "not a Live API message" if value and not isinstance(value, dict) else None


frames = st.one_of(mutated(), truncated(), not_utf8(), not_base64(), too_deep(), junk(),
                   not_an_object(), st.sampled_from(FRAMES).map(lambda f: Frame(json.dumps(f))))  # fmt: skip


# ---- the emulator and one example ------------------------------------------------------


class Captured(logging.Handler):
    """Every log record from the client side while an example runs."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(WATCHED_LOGGERS):
            self.records.append(record)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def frames_emu() -> AsyncIterator[LiveEmulator]:
    async with LiveEmulator(api_key=API_KEY, speech="tone", speech_pace=0) as emulator:
        yield emulator


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_client(frames_emu: LiveEmulator) -> Any:
    """One genai client for every example (building one loads the CA store)."""
    return make_client(gemini_config(frames_emu), API_KEY)


async def run_example(
    emu: LiveEmulator, client: Any, frame: Frame, when: str = "now"
) -> tuple[list[Any], list[logging.LogRecord]]:
    """Send the frame (between turns, or half way through the answer), then check
    the events, the log and the answer."""
    if when == "mid_turn":
        events, records = await converse_after(emu, client, [], during_answer=[frame.payload])
    else:
        events, records = await converse_after(emu, client, [frame.payload])
    check_events(events)
    check_log(records, frame)
    return events, records


async def converse_after(
    emu: LiveEmulator, client: Any, payloads: list[str | bytes],
    during_answer: list[str | bytes] = (),  # type: ignore[assignment]
) -> tuple[list[Any], list[logging.LogRecord]]:  # fmt: skip
    """Open a session, have the emulator send the frames and a marker, then run a
    normal turn (it must be answered, whole, even with during_answer sent half way
    through it); the session's events and the client's log."""
    captured = Captured()
    root, live_log = logging.getLogger(), logging.getLogger("daemon.live")
    root.addHandler(captured)
    level = live_log.level
    live_log.setLevel(logging.DEBUG)  # every line the session would write
    session = LiveSession(gemini_config(emu), API_KEY, client=client, reconnect_timeout_s=5.0)
    recorder = Recorder(session)
    try:
        await session.start()
        started = await recorder.wait_state("open")
        opened = recorder.events.index(started) + 1
        for payload in payloads:
            emu.send_raw(payload)
        emu.send_raw(json.dumps({"serverContent": {"outputTranscription": {"text": MARKER}}}))
        seen = await recorder.wait_for(
            object, after=opened, timeout=10,
            where=lambda e: (isinstance(e, OutputTranscript) and e.text == MARKER)
            or isinstance(e, SessionFailed) or getattr(e, "state", None) == "reconnecting",
        )  # fmt: skip
        if getattr(seen, "state", None) == "reconnecting":  # a goAway, or only garbage
            await recorder.wait_state("open", after=recorder.events.index(seen))
        read = recorder.mark()
        emu.script([Turn(reply=REPLY)])
        for payload in during_answer:
            emu.send_raw(payload, when="mid_turn")
        await session.send_text("are you still there?")

        def answered() -> bool:
            return whole_reply([e.text for e in recorder.of(OutputTranscript, read)],
                               spare=len(during_answer))  # fmt: skip

        await recorder.wait_for(TurnComplete, after=read, timeout=10,
                                where=lambda _e: answered() or not during_answer)  # fmt: skip
        heard = [e.text for e in recorder.of(OutputTranscript, read)]
        assert answered(), f"the turn after the frame was not answered whole: {heard!r}"
    finally:
        emu.faults.clear()  # none left armed for the next example
        await session.close()
        await recorder.stop()
        root.removeHandler(captured)
        live_log.setLevel(level)
        await all_closed(emu, payloads)
    return recorder.events, captured.records


def whole_reply(pieces: list[str], spare: int) -> bool:
    """The reply's transcript arrived whole, give or take `spare` pieces that frames
    sent in the middle of it added (a frame adds at most one)."""
    if "".join(pieces) == REPLY:
        return True
    return spare > 0 and any(
        whole_reply(pieces[:i] + pieces[i + 1 :], spare - 1) for i in range(len(pieces))
    )


async def all_closed(emu: LiveEmulator, payloads: list[str | bytes]) -> None:
    """Every emulator session of the example has ended (the client closed them all)."""
    try:
        await emu.wait_for(lambda: all(r.closed for r in emu.sessions), what="sessions closed")
    except TimeoutError:
        left = [(i, r.messages, r.texts, r.tool_responses) for i, r in enumerate(emu.sessions)
                if not r.closed]  # fmt: skip
        raise AssertionError(f"connections left open {left} after {payloads!r:.300}") from None


def check_events(events: list[Any]) -> None:
    assert not [e for e in events if isinstance(e, SessionFailed)], events
    for each in events:
        if isinstance(each, ModelAudio):
            assert len(each.pcm) % 2 == 0 and each.rate in PLAYABLE_RATES, each
        for text in strings_in(each):
            text.encode("utf-8")  # the log, the control socket and MQTT write it


def strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if is_dataclass(value):
        return [s for f in fields(value) for s in strings_in(getattr(value, f.name))]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in strings_in(k) + strings_in(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in strings_in(v)]
    return []


def check_log(records: list[logging.LogRecord], frame: Frame) -> None:
    for record in records:
        record.getMessage().encode("utf-8")  # the journal gets UTF-8: no "Logging error"
    loud = [r for r in records if r.levelno >= logging.WARNING]
    for record in loud:
        message = record.getMessage()
        assert record.exc_info is None, f"traceback logged: {message}"
        assert "\n" not in message and len(message) < 600, f"not one short line: {message!r}"
        assert "could not act on a server frame" not in message, message
    skipped = [r.getMessage() for r in loud if SKIPPED in r.getMessage()]
    assert len(skipped) <= 1, skipped
    if frame.problem is not None:
        assert skipped, f"a bad frame was not reported: {frame.payload!r:.200}"
        assert frame.problem in skipped[0], skipped[0]
        assert skipped[0].startswith("connection "), skipped[0]


# ---- the properties --------------------------------------------------------------------


@settings(fuzz, max_examples=fuzz.max_examples * 5)  # ~10 ms an example: a broader sample
@given(frame=frames, when=st.sampled_from(["now", "mid_turn"]))
async def test_fuzz_a_server_frame_never_stops_the_conversation(
    frames_emu: LiveEmulator, shared_client: Any, frame: Frame, when: str
) -> None:
    _, records = await run_example(frames_emu, shared_client, frame, when)
    refused = any(SKIPPED in r.getMessage() for r in records)
    event(f"{'must be refused' if frame.problem else 'may be read'}: {'refused' if refused else 'read'}")


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ('{"serverContent": {"modelTurn": ', "not valid JSON"),
        (b'{"serverContent": \xff}', "not UTF-8"),
        ('{"serverContent": {"turnComplete": [1]}}', "field serverContent.turnComplete"),
        ('{"code": 1007, "message": "not a close"}', "an error report (code 1007)"),
        ('{"error": {"code": 400}}', "not a Live API message"),
        (  # 3.11's json refuses it; 3.13's reads it, and the session cannot walk it
            '{"toolCall": {"functionCalls": [{"id": "c", "name": "n", "args": {"a": '
            + "[" * 5000 + "]" * 5000 + "}}]}}",
            "nested too deeply",
        ),
        ("[" * 5000 + "]" * 5000, "skipped a malformed server frame"),  # either reason
        ("true", "not a Live API message"),
    ],
)
async def test_a_bad_frame_is_named_in_one_line_and_the_turn_after_it_is_answered(
    frames_emu: LiveEmulator, shared_client: Any, payload: str | bytes, problem: str
) -> None:
    await run_example(frames_emu, shared_client, Frame(payload, problem))


@pytest.mark.parametrize(
    "frame",
    [
        {"toolCallCancellation": {"ids": ["\ud800"]}},  # found by the fuzz
        {"serverContent": {"outputTranscription": {"text": "caf\udce9"}}},
        {"toolCall": {"functionCalls": [{"id": "\udfff", "name": "n\ud800", "args": {"\ud800": ["\udc00"]}}]}},
        {"goAway": {"timeLeft": "\ud800s"}},
    ],
)
async def test_lone_surrogates_the_sdk_accepts_reach_the_daemon_as_writable_text(
    frames_emu: LiveEmulator, shared_client: Any, frame: dict[str, Any]
) -> None:
    """JSON may escape half a surrogate pair; such text cannot be written as UTF-8
    (the log, ctl, MQTT), so the events carry U+FFFD instead (check_events)."""
    await run_example(frames_emu, shared_client, Frame(json.dumps(frame)))


async def test_an_error_report_frame_is_not_mistaken_for_a_close(
    frames_emu: LiveEmulator, shared_client: Any
) -> None:
    """`{"code": 1008}` in a frame while the WebSocket stays open: before, the session
    took it for a mid-session 1008 close and ended the conversation."""
    before = len(frames_emu.sessions)
    await run_example(frames_emu, shared_client, Frame('{"code": 1008}', "code 1008"))
    assert len(frames_emu.sessions) == before + 1  # no reconnect either


async def test_a_server_sending_only_garbage_gets_a_new_connection_and_a_bounded_log(
    frames_emu: LiveEmulator, shared_client: Any
) -> None:
    """50 unreadable frames in a row: the connection is given up (resumed on a new
    one); the log holds 10 lines about them and a note, not 60."""
    before = len(frames_emu.sessions)
    events, records = await converse_after(frames_emu, shared_client, ["{"] * 60)
    check_events(events)
    lines = [r.getMessage() for r in records if r.levelno >= logging.ERROR]
    assert len([line for line in lines if SKIPPED in line]) == 10
    assert [line for line in lines if "logged at debug level only" in line]
    assert any("only malformed frames" in r.getMessage() for r in records)
    assert len(frames_emu.sessions) == before + 2


async def test_closing_the_session_also_closes_a_connection_still_draining_after_go_away(
    frames_emu: LiveEmulator, shared_client: Any
) -> None:
    """Found by the fuzz: a goAway in the middle of an answer leaves the old connection
    finishing that answer; closing the session used to leave it open for good."""
    payload = json.dumps({"serverContent": {"outputTranscription": {"text": "Half an "}},
                          "goAway": {"timeLeft": "30s"}})  # fmt: skip
    before = len(frames_emu.sessions)
    await run_example(frames_emu, shared_client, Frame(payload))
    assert len(frames_emu.sessions) == before + 2  # the old one and its successor, both closed


@pytest.mark.parametrize(
    ("mime_type", "data", "logged", "played"),
    [
        ("audio/pcm;rate=1", "AAABAA==", "names no playable rate", []),
        ("audio/pcm;rate=" + "9" * 5000, "AAABAA==", "names no playable rate", []),
        ("audio/pcm;rate=16000", "AAAB", "not whole 16-bit samples",
         [ModelAudio(b"\x00\x00", 16000)]),
    ],
)  # fmt: skip
async def test_audio_the_speaker_cannot_play_is_mended_or_dropped_with_an_error(
    frames_emu: LiveEmulator, shared_client: Any, mime_type: str, data: str, logged: str,
    played: list[ModelAudio],
) -> None:  # fmt: skip
    """Odd-length PCM fails np.frombuffer in the speaker's writer thread; a rate of
    1 Hz asks its resampler for 24000 samples per sample."""
    part = {"inlineData": {"mimeType": mime_type, "data": data}}
    payload = json.dumps({"serverContent": {"modelTurn": {"parts": [part]}}})
    events, records = await run_example(frames_emu, shared_client, Frame(payload))
    assert [r.getMessage() for r in records if logged in r.getMessage()]
    assert [e for e in events if isinstance(e, ModelAudio) and e.rate != 24000] == played
