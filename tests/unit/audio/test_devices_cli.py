"""`speakerd devices` over simulated ALSA devices."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.cli import build_parser
from daemon.sim import FileBackedAlsa


def run_devices(argv: list[str]) -> int:
    # In-process (the simulated devices are activated in this process), as main() would.
    args = build_parser(["devices"]).parse_args(["devices", *argv])
    return args.func(args)


def rows(text: str, section: str) -> dict[str, str]:
    """name -> full row, for the device rows under a section title."""
    block = text.split(section, 1)[1].split("\n\n", 1)[0]
    return {line.split()[1]: line for line in block.splitlines()[2:] if line.strip()[:1].isdigit()}


@pytest.fixture
def two_of_each(sim_alsa: FileBackedAlsa) -> FileBackedAlsa:
    sim_alsa.add_microphone("desk_mic")
    sim_alsa.add_microphone("usb_mic", rate=48000, channels=2)
    sim_alsa.add_speaker("hdmi_out")
    sim_alsa.add_speaker("jack_out")
    sim_alsa.set_default("desk_mic", "hdmi_out")
    return sim_alsa


def test_lists_inputs_and_outputs_and_marks_default_and_configured(
    two_of_each: FileBackedAlsa, tmp_path: Path, capsys
):
    config = tmp_path / "config.yaml"
    config.write_text("audio:\n  input_device: USB\n  output_device: jack_out\n")
    assert run_devices(["--config", str(config)]) == 0
    out = capsys.readouterr().out
    mics, speakers = rows(out, "Microphones"), rows(out, "Speakers")
    assert {"desk_mic", "usb_mic", "default"} <= set(mics)
    assert {"hdmi_out", "jack_out", "default"} <= set(speakers)
    assert "hdmi_out" not in mics and "desk_mic" not in speakers
    assert mics["usb_mic"].endswith("config") and "default" not in mics["usb_mic"]
    assert speakers["jack_out"].endswith("config")
    assert mics["default"].endswith("default")


def test_a_configured_device_that_is_missing_is_named_and_exits_1(
    two_of_each: FileBackedAlsa, tmp_path: Path, capsys
):
    config = tmp_path / "config.yaml"
    config.write_text("audio:\n  input_device: ReSpeaker\n")
    assert run_devices(["--config", str(config)]) == 1
    captured = capsys.readouterr()
    assert "audio.input_device" in captured.err and "'ReSpeaker'" in captured.err
    assert "desk_mic" in captured.err
    assert "audio.output_device is unset" in captured.out
