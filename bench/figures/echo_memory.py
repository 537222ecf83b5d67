"""Figure 9b: memory and CPU with echo cancellation on, the way figure 1 and 6 run.

Figures 1 and 6 run the daemon without echo cancellation, as Google's cookbook
client is run beside it. This one starts `bench.runner` with
`audio.echo_cancellation: auto` (the default: the WebRTC library is loaded when
the speaker first sounds, here the wake chime), plays the room sound into the
microphone, reads the peak RSS, then talks through the conversation clip (woken
by its wake phrase) and reads it again. No reference
client runs beside it, and the room has no echo: this is the canceller's cost,
not its work.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.procstat import cpu_seconds, peak_rss_mb
from bench.stage import Stage
from daemon.emulator import Turn

REPLY = "Here is a short answer for you."


def run(stage: Stage, room_wav: Path, talk_wav: Path) -> dict[str, Any]:
    config = stage.write_config("aec", camera=False, echo_cancellation="auto")
    daemon = stage.start_runner("aec", config)
    try:
        daemon.wait_ready()
        time.sleep(2.0)  # past the detector's warm-up frames
        stage.pulse.speak_into_mic(room_wav)
        idle_rss = peak_rss_mb(daemon.pid)
        stage.emulator.clear_script()
        stage.emulator.script([Turn(reply=REPLY, tool_calls=[]) for _ in range(200)])
        before, began = cpu_seconds(daemon.pid), time.monotonic()
        stage.pulse.speak_into_mic(talk_wav)
        cpu_pct = 100 * (cpu_seconds(daemon.pid) - before) / (time.monotonic() - began)
        stage.control("aec", "stop")
        conversation_rss = peak_rss_mb(daemon.pid)
    finally:
        daemon.stop()
    return {
        "aec_idle_peak_rss_mb": round(idle_rss, 1),
        "aec_conversation_peak_rss_mb": round(conversation_rss, 1),
        "aec_talk_cpu_pct": round(cpu_pct, 1),
    }
