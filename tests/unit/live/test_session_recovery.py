"""Every row of docs/live-protocol.md's error table, goAway and drops, end to end.

Each test breaks the emulator the way the real service breaks and checks what
a user would notice: whether the conversation carries on (resumed or fresh),
whether what they said while it reconnected still arrived, or whether the
daemon stops with a clear, fatal error instead of hammering the service.
"""

import asyncio
import contextlib
import logging

import pytest

from daemon.emulator import LiveEmulator, Turn
from daemon.live import (
    FatalSessionError,
    LiveSession,
    SessionError,
    SessionFailed,
    SessionStateChanged,
    TurnComplete,
)
from tests.unit.live.conftest import API_KEY, Recorder, gemini_config, send_in_chunks, silence


async def one_turn(emu: LiveEmulator, session: LiveSession, recorder: Recorder) -> str:
    """Run a text turn and return the resumption handle it earned."""
    mark = recorder.mark()
    emu.script([Turn(reply="Sure.")])
    await session.send_text("remember the milk")
    await recorder.wait_for(TurnComplete, after=mark)
    record = emu.sessions[-1]
    await emu.wait_for(lambda: record.handles_issued, what="a handle")
    await emu.wait_for(lambda: session.resumption_handle == record.handles_issued[-1],
                       what="the client to keep the handle")  # fmt: skip
    return session.resumption_handle


async def talk_through_reconnect(
    emu: LiveEmulator, session: LiveSession, recorder: Recorder, mark: int
) -> bytes:
    """Send audio once the session is reconnecting; return it after the session reopens."""
    await recorder.wait_state("reconnecting", after=mark)
    said = silence(0.5) + b"\x07\x00" * 800
    await send_in_chunks(session, said)
    await recorder.wait_state("open", after=mark)
    return said


# ---- fatal: stop, tell, never retry ----------------------------------------------


async def test_1007_bad_key_is_fatal_with_exactly_one_connection(emu: LiveEmulator, caplog):
    caplog.set_level(logging.DEBUG)
    wrong_key = "AIzaSyWRONG-key-that-must-not-leak-42"
    session = LiveSession(gemini_config(emu), wrong_key)
    with pytest.raises(FatalSessionError) as failure:
        await session.start()
    assert "API key" in str(failure.value)
    assert wrong_key not in str(failure.value)
    assert len(emu.sessions) == 1
    assert emu.sessions[0].close_code == 1007
    assert session.state == "closed"
    client_side = [r for r in caplog.records if not r.name.startswith(("daemon.emulator",
                                                                       "websockets.server"))]  # fmt: skip
    assert client_side and all(wrong_key not in r.getMessage() for r in client_side)


async def test_1008_unknown_model_is_fatal_with_exactly_one_connection(emu: LiveEmulator):
    session = LiveSession(gemini_config(emu, model="gemini-0.1-nonexistent"), API_KEY)
    with pytest.raises(FatalSessionError, match=r"gemini\.model"):
        await session.start()
    assert len(emu.sessions) == 1
    assert emu.sessions[0].close_code == 1008


@pytest.mark.parametrize(
    ("code", "reason"),
    [(1007, "Request contains an invalid argument."), (1008, "Policy violation.")],
)
async def test_a_mid_session_1007_or_1008_ends_the_conversation_without_blaming_the_key(
    emu: LiveEmulator, open_session, code: int, reason: str
):
    # After a setupComplete with this very key, a 1007/1008 says nothing about the key:
    # that conversation ends with an error (not fatal), and nothing is retried.
    session, recorder = await open_session()
    emu.close_next(code, reason)
    failed = await recorder.wait_for(SessionFailed)
    assert not failed.fatal
    assert str(code) in failed.message and "API key" not in failed.message
    await recorder.wait_state("closed")
    assert len(emu.sessions) == 1
    assert session.state == "closed"


# ---- stale handle: start fresh ---------------------------------------------------


async def test_1007_invalid_handle_starts_a_fresh_session(emu: LiveEmulator, open_session):
    session, recorder = await open_session()
    await one_turn(emu, session, recorder)
    mark = recorder.mark()
    emu.close_next(1007, "Invalid session handle", when="setup")  # refuses the resume
    emu.drop_connection()

    reopened = await recorder.wait_state("open", after=mark)

    assert "new session" in reopened.detail
    assert [s.close_code for s in emu.sessions[:2]] == [1006, 1007]
    assert emu.sessions[1].resumed_from is not None
    assert emu.sessions[2].resumed_from is None
    assert not recorder.of(SessionFailed)
    await one_turn(emu, session, recorder)  # and the conversation goes on
    assert emu.sessions[2].handles_issued


async def test_1008_session_not_found_starts_a_fresh_session(emu: LiveEmulator, open_session):
    session, recorder = await open_session()
    await one_turn(emu, session, recorder)
    mark = recorder.mark()
    emu.expire_handles()  # as if hours had passed
    emu.drop_connection()

    reopened = await recorder.wait_state("open", after=mark)

    assert "new session" in reopened.detail
    assert emu.sessions[1].close_code == 1008
    assert emu.sessions[1].close_reason == "session not found"
    assert emu.sessions[2].resumed_from is None
    assert not recorder.of(SessionFailed)


# ---- transient: resume with the handle -------------------------------------------


@pytest.mark.parametrize(
    ("code", "reason"),
    [(1011, "Internal error encountered."), (1000, "")],
)
async def test_close_resumes_with_the_handle_and_keeps_the_users_audio(
    emu: LiveEmulator, open_session, code, reason
):
    session, recorder = await open_session()
    handle = await one_turn(emu, session, recorder)
    mark = recorder.mark()
    emu.delay_setup(0.3)  # the reconnect takes a moment; the user keeps talking
    emu.close_next(code, reason)

    said = await talk_through_reconnect(emu, session, recorder, mark)

    assert emu.sessions[0].close_code == code
    assert emu.sessions[1].resumed_from == handle
    await emu.wait_for(lambda: len(emu.sessions[1].audio) >= len(said), what="the audio")
    assert bytes(emu.sessions[1].audio) == said
    opened = recorder.of(SessionStateChanged, mark)[-1]
    assert opened.state == "open" and "resumed" in opened.detail


async def test_go_away_mid_turn_moves_before_the_server_closes(emu: LiveEmulator, open_session):
    session, recorder = await open_session()
    await one_turn(emu, session, recorder)
    mark = recorder.mark()
    emu.delay_setup(0.3)
    emu.send_go_away(time_left="5s", when="mid_turn")
    emu.script([Turn(reply="A long answer that gets moved to a new connection.")])
    await session.send_text("tell me something")

    said = await talk_through_reconnect(emu, session, recorder, mark)

    old, new = emu.sessions[0], emu.sessions[1]
    assert new.resumed_from in old.handles_issued
    await emu.wait_for(lambda: old.closed, what="the old connection to close")
    assert old.closed_by == "client"  # we left before the 5 s ran out
    await emu.wait_for(lambda: len(new.audio) >= len(said), what="the audio")
    assert bytes(new.audio) == said
    assert len(emu.sessions) == 2
    assert not recorder.of(SessionFailed)


async def test_dropped_connection_mid_turn_resumes_and_keeps_the_users_audio(
    emu: LiveEmulator, open_session
):
    session, recorder = await open_session()
    handle = await one_turn(emu, session, recorder)
    mark = recorder.mark()
    emu.delay_setup(0.3)
    emu.drop_connection(when="mid_turn")
    emu.script([Turn(reply="This answer is cut off by a dropped connection.")])
    await session.send_text("what is the weather")

    said = await talk_through_reconnect(emu, session, recorder, mark)

    assert emu.sessions[0].closed_by == "drop"
    assert emu.sessions[1].resumed_from == handle
    await emu.wait_for(lambda: len(emu.sessions[1].audio) >= len(said), what="the audio")
    assert bytes(emu.sessions[1].audio) == said
    await one_turn(emu, session, recorder)  # the conversation goes on


async def test_gives_up_after_a_bounded_time_when_the_service_stays_away(
    emu: LiveEmulator, open_session
):
    session, recorder = await open_session(reconnect_timeout_s=1.0)
    await emu.stop()  # connection refused from now on

    failed = await recorder.wait_for(SessionFailed, timeout=20)

    assert not failed.fatal
    assert "gave up" in failed.message
    assert session.state == "closed"


async def test_setup_that_never_completes_is_a_retryable_error(emu: LiveEmulator):
    emu.delay_setup(1.0)
    session = LiveSession(gemini_config(emu), API_KEY, setup_timeout_s=0.3)
    with pytest.raises(SessionError) as failure:
        await session.start()
    assert not isinstance(failure.value, FatalSessionError)


async def test_the_key_never_appears_in_logs_or_events(emu: LiveEmulator, open_session, caplog):
    caplog.set_level(logging.DEBUG)
    session, recorder = await open_session()
    await one_turn(emu, session, recorder)
    mark = recorder.mark()
    emu.close_next(1011, f"Internal error encountered. key={API_KEY}")
    await recorder.wait_state("open", after=mark)
    emu.close_next(1007, f"API key not valid: {API_KEY}")
    await recorder.wait_for(SessionFailed)

    client_side = [
        r for r in caplog.records
        if not r.name.startswith(("daemon.emulator", "websockets.server"))
    ]  # fmt: skip
    assert any(r.name.startswith("websockets.client") for r in client_side)
    for record in client_side:
        assert API_KEY not in record.getMessage(), record.name
    for event in recorder.events:
        assert API_KEY not in repr(event)


class FreezingProxy:
    """A TCP relay to the emulator that can go silent without closing (Wi-Fi gone)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._links: list[dict[str, bool]] = []
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> "FreezingProxy":
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()

    def freeze_current(self) -> None:
        """Existing connections stop carrying bytes (nothing is closed); new ones work."""
        for link in self._links:
            link["frozen"] = True

    async def _relay(self, client_r, client_w) -> None:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        link = {"frozen": False}
        self._writers += [client_w, server_w]
        self._links.append(link)

        async def pipe(reader, writer):
            with contextlib.suppress(Exception):
                while data := await reader.read(65536):
                    if not link["frozen"]:
                        writer.write(data)
                        await writer.drain()

        await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w))


async def test_a_silently_vanished_network_is_noticed_by_keepalive_and_resumed(
    emu: LiveEmulator,
):
    async with FreezingProxy(emu.port) as proxy:
        config = gemini_config(emu, base_url=f"https://127.0.0.1:{proxy.port}")
        session = LiveSession(
            config, API_KEY, ping_interval_s=0.3, ping_timeout_s=0.3, close_timeout_s=0.3
        )
        recorder = Recorder(session)
        await session.start()
        try:
            handle = await one_turn(emu, session, recorder)
            mark = recorder.mark()
            proxy.freeze_current()  # no FIN, no RST: only missing pongs tell
            reopened = await recorder.wait_state("open", after=mark)
            assert "resumed" in reopened.detail
            assert emu.sessions[-1].resumed_from == handle
        finally:
            await session.close()
            await recorder.stop()


async def test_go_away_mid_answer_lets_the_old_connection_finish_the_answer(
    emu: LiveEmulator, open_session
):
    # The old connection keeps working for timeLeft: the answer being spoken when
    # the goAway came arrives whole (audio, transcript, turnComplete) before the
    # old connection is closed, and the next turn runs on the new connection.
    from daemon.live import ModelAudio, OutputTranscript

    reply = "Once upon a time there was a speaker that never cut an answer short. Done."
    session, recorder = await open_session()
    await one_turn(emu, session, recorder)
    mark = recorder.mark()
    emu.speech_pace = 4.0  # the answer takes a while: the new connection opens mid-answer
    emu.send_go_away(time_left="20s", when="mid_turn")
    emu.script([Turn(reply=reply)])
    await session.send_text("tell me a story")

    await recorder.wait_for(TurnComplete, after=mark)
    heard = "".join(e.text for e in recorder.of(OutputTranscript, mark)).strip()
    assert heard == reply
    old = emu.sessions[0]
    assert old.model_turns[-1].reply == reply and not old.model_turns[-1].interrupted
    await emu.wait_for(lambda: len(emu.sessions) == 2, what="the new connection")
    await emu.wait_for(lambda: old.closed, what="the old connection to close")
    assert old.closed_by == "client"  # after its answer, well before the 20 s ran out
    audio_after_go_away = sum(len(e.pcm) for e in recorder.of(ModelAudio, mark))
    assert audio_after_go_away > 0

    mark = recorder.mark()
    emu.speech_pace = 0
    emu.script([Turn(reply="Next answer.")])
    await session.send_text("and then?")
    await recorder.wait_for(TurnComplete, after=mark)
    assert "".join(e.text for e in recorder.of(OutputTranscript, mark)).strip() == "Next answer."
    assert emu.sessions[1].texts == ["and then?"]
    assert not recorder.of(SessionFailed)


async def test_a_connection_whose_answer_never_ends_after_a_go_away_is_closed_anyway(
    emu: LiveEmulator, open_session, caplog, monkeypatch
):
    # A server that sends half an answer and a goAway, then neither completes the
    # turn nor closes at timeLeft: the client closes the old connection itself
    # (the grace after timeLeft is shortened here; 5 s in the daemon).
    import json

    from daemon.live import session as live_session

    monkeypatch.setattr(live_session, "DRAIN_GRACE_S", 0.3)
    caplog.set_level(logging.INFO, "daemon.live")
    session, recorder = await open_session()
    await one_turn(emu, session, recorder)
    half = {"serverContent": {"outputTranscription": {"text": "Once upon a "}}}
    emu.send_raw(json.dumps(half))
    emu.send_raw(json.dumps({"goAway": {"timeLeft": "0.5s"}}))
    await emu.wait_for(lambda: len(emu.sessions) == 2, what="the new connection")
    old = emu.sessions[0]
    await emu.wait_for(lambda: old.closed, timeout=10, what="the old connection to close")
    assert old.closed_by == "client"
    assert any("did not complete within 1 s of the goAway" in r.getMessage() for r in caplog.records)

    mark = recorder.mark()
    emu.script([Turn(reply="Still here.")])
    await session.send_text("are you there?")
    await recorder.wait_for(TurnComplete, after=mark)
    assert not recorder.of(SessionFailed)
