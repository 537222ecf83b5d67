"""Figure 3b: woken by `speakerd ctl wake` (no pre-roll to send), setupComplete to first mic audio.

With the wake word, the pre-roll is ready to go the moment the session is set
up; woken by the button or `ctl wake` there is none, so this is how long the
microphone's live audio takes to follow the setup.
"""

from __future__ import annotations

import time
from typing import Any

from bench.stage import Stage
from daemon.emulator import Turn


def run(stage: Stage, config_name: str, trials: int) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for _ in range(trials):
        index = len(stage.sessions)
        stage.emulator.clear_script()
        stage.emulator.script([Turn(reply="Yes?", tool_calls=[])])
        trial: dict[str, Any] = {"error": None}
        asked = time.monotonic()
        reply = stage.control(config_name, "wake")
        try:
            if not reply.get("ok"):
                raise RuntimeError(f"ctl wake refused: {reply}")
            stage.wait_for(lambda i=index: len(stage.sessions) > i
                           and "first_audio" in stage.sessions[i].marks, 15, "first mic audio")
            marks = stage.sessions[index].marks
            trial["ctl_to_setup_ms"] = (marks["setup_complete"] - asked) * 1000
            trial["setup_to_first_audio_ms"] = (marks["first_audio"] - marks["setup_complete"]) * 1000
        except (TimeoutError, RuntimeError) as exc:
            trial["error"] = str(exc)
        stage.control(config_name, "stop")
        if len(stage.sessions) > index:
            stage.wait_for(lambda i=index: stage.sessions[i].closed, 10, "the session to close")
        results.append(trial)
        time.sleep(1.5)  # back to idle, past the detector's warm-up
    stage.emulator.clear_script()
    return results
