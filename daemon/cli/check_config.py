"""`speakerd check-config [PATH]`: validate the file an owner just edited."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from daemon.cli.common import add_config_arg, print_problems
from daemon.config import (
    EX_CONFIG,
    ApiKeyError,
    Config,
    ConfigError,
    Problem,
    api_key_source,
    default_config_path,
    load_config,
    resolve_api_key,
)
from daemon.config.files import file_warnings
from daemon.config.model_rules import model_warnings
from daemon.config.tools import ToolConfig
from daemon.core.models import profile_for
from daemon.core.safe_text import printable


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser], summary: str) -> None:
    parser = subparsers.add_parser(
        "check-config",
        help=summary,
        description="Validate a configuration file. Exit 0 when usable, 78 when not.",
    )
    parser.add_argument("path", nargs="?", type=Path, help="file to check (same as --config)")
    add_config_arg(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    path: Path = args.path or args.config or default_config_path()
    shown = printable(path, 300)
    try:
        config = load_config(path)
        models_problem = _wake_word_models(config)
        # Files the config names are its problem; where bundled models are found
        # depends on the service's environment ($SPEAKERD_MODELS_DIR): a warning.
        if models_problem and _names_model_files(config):
            raise ConfigError([Problem(str(path), None, "wake_word", models_problem)])
        stop_problem = _stop_word_model(config)
        if stop_problem and config.stop_word.model is not None:
            raise ConfigError([Problem(str(path), None, "stop_word.model", stop_problem)])
    except ConfigError as exc:
        print_problems(exc)
        count = exc.total
        print(
            f"{shown}: {count} problem{'s' if count != 1 else ''}; nothing was started",
            file=sys.stderr,
        )
        return EX_CONFIG
    print(f"{shown}: OK")
    for line in summary(config):
        print(f"  {printable(line, 300)}")
    warnings = file_warnings(config) + model_warnings(config)
    try:
        resolve_api_key(config.gemini)
    except ApiKeyError as exc:
        if not exc.permission_denied:  # file_warnings says so already
            warnings.append(f"{exc}; `speakerd run` will refuse to start")
    if models_problem:
        warnings.append(models_problem)
    if stop_problem:
        warnings.append(stop_problem)
    if camera_problem := _camera_problem(config):
        warnings.append(camera_problem)
    for warning in warnings:
        print(f"warning: {printable(warning, 500)}", file=sys.stderr)
    return 0


def _names_model_files(config: Config) -> bool:
    wake = config.wake_word
    if wake.engine == "microwakeword":  # its built-ins ship inside pymicro-wakeword
        return any(m.endswith(".json") for m in wake.models)
    return wake.models_dir is not None or any(m.endswith(".onnx") for m in wake.models)


def _stop_word_model(config: Config) -> str | None:
    """Why the stop word would be off (its model missing or damaged); None when it is fine or off."""
    if not config.stop_word.enabled:
        return None
    from daemon.wakeword.stop_word import stop_model_problem

    problem = stop_model_problem(config.stop_word, config.wake_word.models_dir)
    return f"{problem}; `speakerd run` would carry on without the stop word" if problem else None


def _micro_models(config: Config) -> str | None:
    from daemon.wakeword.micro import read_spec, tflite_problem
    from daemon.wakeword.micro_engine import resolve_micro_models
    from daemon.wakeword.models import WakeWordModelError

    try:
        for path in resolve_micro_models(config.wake_word).wake_words.values():
            problem = tflite_problem(read_spec(path).tflite_path)
            if problem:
                raise WakeWordModelError(problem)
    except WakeWordModelError as exc:
        return f"{exc}; `speakerd run` would refuse to start"
    except ImportError as exc:
        return f"the microwakeword engine needs pymicro-wakeword: {exc}"
    return None


def _wake_word_models(config: Config) -> str | None:
    from daemon.config.schema import BUNDLED_WAKE_WORDS
    from daemon.wakeword.models import WakeWordModelError, custom_model_problem, resolve_models

    if config.wake_word.engine == "microwakeword":
        return _micro_models(config)
    if config.wake_word.engine == "both" and (problem := _micro_models(config)):
        return problem
    try:
        files = resolve_models(config.wake_word)
        for entry, path in zip(config.wake_word.models, files.wake_words.values(), strict=True):
            if entry not in BUNDLED_WAKE_WORDS and (problem := custom_model_problem(path)):
                raise WakeWordModelError(problem)
    except WakeWordModelError as exc:
        return f"{exc}; `speakerd run` would refuse to start"
    except (OSError, ValueError) as exc:
        return f"the wake-word models cannot be checked: {exc}"
    return None


def _camera_problem(config: Config) -> str | None:
    """The config asks for the camera but picamera2 (apt, Raspberry Pi OS only) won't import."""
    if not config.camera.enabled:
        return None
    try:
        import picamera2  # noqa: F401  (the import the daemon's camera makes)
    except Exception as exc:  # ImportError, or a binary mismatch such as NumPy 1 vs 2
        return (
            f"camera.enabled is true but picamera2 cannot be imported ({type(exc).__name__}: "
            f"{exc}); install python3-picamera2 (Raspberry Pi OS archive only) or set "
            "camera.enabled: false. The daemon runs without the camera meanwhile"
        )
    return None


def summary(config: Config) -> list[str]:
    """A few lines an owner can eyeball to confirm the file says what they meant."""
    gemini, wake, leds = config.gemini, config.wake_word, config.leds
    relays = ", ".join(f"{r.name} (pin {r.pin})" for r in config.relays) or "none"
    led_pins = ", ".join(f"{k} {v}" for k, v in leds.used_pins().items())
    return [
        f"model {gemini.model} (Live {profile_for(gemini.model).generation}), voice {gemini.voice}, "
        f"key from {api_key_source(gemini)}"
        + (f", service {gemini.base_url}" if gemini.base_url else ""),
        f"wake words {', '.join(wake.models)} ({wake.engine}, threshold "
        + (f"{wake.threshold})" if wake.engine == "openwakeword" or "threshold" in wake.model_fields_set
           else "each model's own)"),
        "stop word " + (f"on (threshold {config.stop_word.threshold})" if config.stop_word.enabled else "off"),
        f"microphone {_device(config.audio.input_device)}, speaker {_device(config.audio.output_device)}, "
        f"echo cancellation {config.audio.echo_cancellation}, barge-in "
        + ("follows it" if config.audio.barge_in is None else "on" if config.audio.barge_in else "off"),
        f"button {'pin ' + str(config.button.pin) if config.button.pin is not None else 'none'}, "
        f"LEDs {leds.kind}" + (f" ({led_pins})" if led_pins else ""),
        f"relays: {relays}",
        f"camera {'on at ' + str(config.camera.fps) + ' fps' if config.camera.enabled else 'off'}",
        f"follow-up {config.conversation.follow_up_seconds:g} s, "
        f"longest conversation {config.conversation.max_seconds:g} s, control socket {config.control.socket}",
        f"timers kept in {config.timers.state_dir}, ring up to {config.timers.ring_seconds:g} s",
        _memory_line(config),
        f"your tools: {', '.join(_tool_line(tool) for tool in config.tools) or 'none'}",
        _mqtt_line(config),
    ]


def _memory_line(config: Config) -> str:
    memory = config.memory
    if not memory.enabled:
        return "household memory off"
    where = memory.state_dir or config.timers.state_dir
    return f"household memory kept in {where}/memory.json, up to {memory.max_facts} facts"


def _tool_line(tool: ToolConfig) -> str:
    action = "command" if tool.command else "http" if tool.http else "gpio input"
    return f"{tool.name} ({action})"


def _mqtt_line(config: Config) -> str:
    mqtt = config.mqtt
    if not mqtt.enabled:
        return "Home Assistant over MQTT: off"
    return (
        f"Home Assistant over MQTT: {mqtt.host}:{mqtt.port}"
        + (" with TLS" if mqtt.tls.enabled else "")
        + (f" as {mqtt.username}" if mqtt.username else "")
    )


def _device(device: int | str | None) -> str:
    return "default" if device is None else repr(device)
