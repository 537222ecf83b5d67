"""`speakerd run` as systemd runs it: exit codes, a rejected key, SIGTERM mid-answer."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from daemon.emulator import EmulatorThread, Turn
from daemon.sim.pulse import PulseAudioHarness
from tests.e2e.conftest import (
    REPO,
    Speech,
    appliance_config,
    os_environ_without_key,
    running_daemon,
    wait_until,
    write_config,
)

EX_CONFIG = 78


def run_speakerd(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "daemon", "run", "--config", str(config)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_without_an_api_key_it_exits_78_and_says_which_variable_to_set(
    workdir: Path, emulator: EmulatorThread
) -> None:
    config = write_config(workdir, appliance_config(workdir, emulator))
    done = run_speakerd(config, os_environ_without_key())
    assert done.returncode == EX_CONFIG
    assert "GEMINI_API_KEY" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_config_typo_exits_78_naming_the_file_and_the_key(
    workdir: Path, emulator: EmulatorThread
) -> None:
    settings = appliance_config(workdir, emulator, conversation={"follow_up_secs": 3})
    config = write_config(workdir, settings)
    done = run_speakerd(config, {**os_environ_without_key(), "GEMINI_API_KEY": "any"})
    assert done.returncode == EX_CONFIG
    assert str(config) in done.stderr or config.name in done.stderr
    assert "follow_up_secs" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_missing_wake_word_model_exits_78_naming_the_file(
    workdir: Path, emulator: EmulatorThread
) -> None:
    missing = workdir / "no_such_wake_word.onnx"
    settings = appliance_config(workdir, emulator, wake_word={"models": [str(missing)]})
    done = run_speakerd(write_config(workdir, settings),
                        {**os_environ_without_key(), "GEMINI_API_KEY": "any"})  # fmt: skip
    assert done.returncode == EX_CONFIG
    assert "no_such_wake_word.onnx" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_rejected_key_is_fatal_after_one_attempt_and_said_once(
    pulse: PulseAudioHarness, workdir: Path, speech: Speech
) -> None:
    wrong_key = "wrong-key-0123456789"
    with EmulatorThread(speech="tone", speech_pace=4.0, api_key="the-right-key") as emu:
        config = appliance_config(workdir, emu)
        with running_daemon(workdir, pulse, config, api_key=wrong_key) as daemon:
            pulse.speak_into_mic(speech.wav())
            status = wait_until(lambda: (s := daemon.status())["fatal"] and s, 15, "fatal")
            assert status["state"] == "error"

            # Woken again: no new attempt, no second log line; the refusal is said. (Not
            # at once: the detector ignores a wake word within wake_word.refractory_seconds
            # of the last one and for 1.4 s after its reset.)
            time.sleep(2.0)
            pulse.speak_into_mic(speech.wav())
            wait_until(lambda: "wake refused (wake word)" in daemon.log(), 10, "the refusal")
            said = daemon.ctl("say", "hello")
            shown = daemon.ctl("status")
            log = daemon.log()
        assert len(emu.sessions) == 1  # fatal until restarted: a new wake does not retry
        assert emu.sessions[0].close_code == 1007
    assert said.returncode == 2 and "not sent: cannot talk to Gemini" in said.stderr
    status = json.loads(shown.stdout)
    assert status["fatal"] is True and status["state"] == "error"
    assert log.count("Fix the key or the config") == 1  # the error is logged once...
    assert "wake refused (wake word): cannot talk to Gemini" in log  # ...each refusal is said
    assert wrong_key not in log and wrong_key not in shown.stdout


def test_sigterm_mid_answer_exits_0_and_tells_systemd_it_is_stopping(
    pulse: PulseAudioHarness, emu: EmulatorThread, workdir: Path
) -> None:
    emu.script([Turn(reply="Once upon a time there was a very long story. " * 3, tool_calls=[])])
    with running_daemon(workdir, pulse, appliance_config(workdir, emu)) as daemon:
        assert daemon.ctl("say", "tell me a story").returncode == 0
        daemon.wait_status_line(0, "speaking")
        assert daemon.terminate() == 0
        fields = daemon.notify.fields()
        log = daemon.log()
    assert "STOPPING=1" in fields
    assert fields.index("STOPPING=1") > fields.index("READY=1")
    assert "Traceback" not in log
    wait_until(lambda: emu.sessions[-1].closed, 5, "the session to close")
    assert emu.sessions[-1].closed_by == "client"
