"""The typed model of /etc/speakerd/config.yaml.

Every field has a default, so an owner's file only says what differs. Every
model forbids unknown keys so that a typo is an error, not a silent no-op.
Field descriptions double as the documentation of config/speakerd.yaml.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from daemon.config.mqtt import MqttConfig
from daemon.config.tools import ToolConfig
from daemon.core.models import DEFAULT_MODEL
from daemon.core.state import State
from hardware.gpio.looks import Effect

# A BCP-47 tag as the Live API takes it: th-TH, en-US, pt-BR, cmn-Hans-CN.
_LANGUAGE = r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$"
MAX_VOCABULARY = 100

# The prebuilt voices of the Live API; an unknown voice fails the setup.
VOICES: tuple[str, ...] = (
    "Zephyr", "Puck", "Charon", "Kore", "Fenrir", "Leda", "Orus", "Aoede",
    "Callirrhoe", "Autonoe", "Enceladus", "Iapetus", "Umbriel", "Algieba",
    "Despina", "Erinome", "Algenib", "Rasalgethi", "Laomedeia", "Achernar",
    "Alnilam", "Schedar", "Gacrux", "Pulcherrima", "Achird", "Zubenelgenubi",
    "Vindemiatrix", "Sadachbia", "Sadaltager", "Sulafat",
)  # fmt: skip

# Wake-word models shipped by scripts/fetch-models (openWakeWord v0.5.1).
BUNDLED_WAKE_WORDS: tuple[str, ...] = ("hey_jarvis", "alexa", "hey_mycroft", "hey_rhasspy")
# Wake-word models built into pymicro-wakeword (microWakeWord v2, Apache-2.0).
MICRO_WAKE_WORDS: tuple[str, ...] = ("hey_jarvis", "okay_nabu", "alexa", "hey_mycroft")
WAKE_ENGINES: tuple[str, ...] = ("openwakeword", "microwakeword")

# Sounds made in code (hardware/audio/sounds.py); anything else is a WAV path.
BUILT_IN_SOUNDS: tuple[str, ...] = ("chime", "buzz", "alarm")

# A Unix socket address holds 108 bytes, the last one the closing NUL.
MAX_SOCKET_PATH_BYTES = 107

# BCM numbers of the GPIOs on the 40-pin header of every Raspberry Pi since the B+.
MAX_GPIO = 27
GpioPin = Annotated[int, Field(ge=0, le=MAX_GPIO)]
Percent = Annotated[int, Field(ge=0, le=100)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
NAMED_COLORS: dict[str, tuple[float, float, float]] = {
    "off": (0, 0, 0), "white": (1, 1, 1), "red": (1, 0, 0), "green": (0, 1, 0),
    "blue": (0, 0, 1), "yellow": (1, 1, 0), "cyan": (0, 1, 1), "magenta": (1, 0, 1),
    "orange": (1, 0.5, 0), "purple": (0.5, 0, 1),
}  # fmt: skip


class Section(BaseModel):
    """Base of every section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class CompressionConfig(Section):
    enabled: bool = True
    """Slide the context window so conversations can run past ~15 minutes."""
    trigger_tokens: int = Field(25600, ge=1000)
    """Compress when the context reaches this many tokens."""
    target_tokens: int = Field(12800, ge=500)
    """Keep this many tokens after compressing."""

    @model_validator(mode="after")
    def _target_below_trigger(self) -> CompressionConfig:
        if self.target_tokens >= self.trigger_tokens:
            raise ValueError(
                f"target_tokens ({self.target_tokens}) must be below "
                f"trigger_tokens ({self.trigger_tokens})"
            )
        return self


class GeminiConfig(Section):
    model: str = DEFAULT_MODEL
    """Live API model: gemini-3.8-live (stable), gemini-3.8-live-extended-thinking or gemini-2.5-flash-native-audio-preview-12-2025."""
    voice: str = "Kore"
    """Prebuilt voice the model speaks with."""
    system_instruction: str = (
        "You are a helpful smart speaker in the home. Answer briefly, in one or two "
        "spoken sentences. Use the tools to switch devices when asked."
    )
    """What the model is told about its role before every conversation."""
    api_key_env: str = Field("GEMINI_API_KEY", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    """Environment variable that holds the API key."""
    api_key_file: Path | None = None
    """File holding the API key (owner root, group speakerd, mode 0640; takes precedence over api_key_env)."""
    base_url: str | None = None
    """Override the service URL (a proxy, or the local emulator: https://127.0.0.1:PORT)."""
    ca_file: Path | None = None
    """Extra CA certificate (PEM) to trust for base_url, e.g. the emulator's."""
    transcription: bool = True
    """Ask for transcripts of what the user and the model said (logged and on the socket)."""
    silence_duration_ms: int = Field(500, ge=100, le=5000)
    """Silence that ends the user's turn (server-side activity detection)."""
    session_resumption: bool = True
    """Resume the conversation after a network drop or a server goAway."""
    compression: CompressionConfig = CompressionConfig()
    """Context-window compression."""
    language: str | None = Field(None, pattern=_LANGUAGE)
    """Language the user speaks, e.g. th-TH (speech and transcription); null: automatic."""
    vocabulary: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=MAX_VOCABULARY
    )
    """Words transcription should favour (names, brands); relay names and the wake word are added. 3.8 only."""
    google_search: bool = True
    """Let the model search Google to answer (weather, news, scores, prices); sources go to the log."""
    proactive_audio: bool | None = None
    """The model may choose not to answer what was not meant for it. null: the model's default (always on for 3.8; false is refused there)."""
    affective_dialog: bool | None = None
    """Adapt the voice to the user's tone (2.5 only; 3.8 refuses it). null: off."""
    thinking_budget: int | None = Field(None, ge=0, le=24576)
    """Tokens the model may think before answering (2.5 only; 3.8 refuses it). null: the model's default."""
    thinking_level: Literal["low", "medium", "high"] | None = None
    """How hard gemini-3.8-live-extended-thinking thinks: low, medium or high (other models refuse it). null: the model's default."""

    @field_validator("voice")
    @classmethod
    def _known_voice(cls, value: str) -> str:
        if value not in VOICES:
            raise ValueError(f"unknown voice {value!r}; allowed: {', '.join(VOICES)}")
        return value

    @field_validator("base_url")
    @classmethod
    def _url_scheme(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^(https?|wss?)://[^/\s]+", value):
            raise ValueError(f"{value!r} is not a URL like https://host:port")
        return value


class WakeWordConfig(Section):
    engine: Literal["both", "openwakeword", "microwakeword"] = "both"
    """Wake-word engine: both (openWakeWord and microWakeWord side by side, either one waking: hears the most in noise, see the README), openwakeword (ONNX) or microwakeword (pymicro-wakeword's TensorFlow Lite models). Unset: both, unless a model is one engine's only (a file, hey_rhasspy, okay_nabu): then that engine."""
    models: list[str] = Field(default_factory=lambda: ["hey_jarvis"], min_length=1)
    """Model names: both: hey_jarvis, alexa, hey_mycroft; openwakeword: those, hey_rhasspy or a path to a .onnx file; microwakeword: hey_jarvis, okay_nabu, alexa, hey_mycroft or a path to a microWakeWord .json."""
    threshold: Probability = 0.5
    """Score above which a model counts as a detection (both: openWakeWord's, see micro_threshold; microwakeword: each model's own cutoff unless this is set)."""
    thresholds: dict[str, Probability] = Field(default_factory=dict)
    """Per-model thresholds that override `threshold`, e.g. {alexa: 0.7}."""
    micro_threshold: Probability = 0.2
    """engine both: microWakeWord's threshold beside openWakeWord's `threshold` (raise both if it wakes on the TV; 0.2 added recall in noise with no false accept in an hour of talk)."""
    threshold_over_answer: Probability = 0.2
    """With echo cancellation, the threshold while the model's voice plays (the lower of it and a model's own): the canceller damps a voice said over the answer (see the README)."""
    refractory_seconds: float = Field(2.0, ge=0.0, le=30.0)
    """After a detection, ignore further detections this long (one utterance, one wake)."""
    models_dir: Path | None = None
    """Where the bundled models live; unset: $SPEAKERD_MODELS_DIR, ./models, /opt/speakerd/models."""

    @model_validator(mode="before")
    @classmethod
    def _engine_of_the_models(cls, data: Any) -> Any:
        """An unset engine is both, unless the models say otherwise: a config written
        before both was the default, naming a model file, keeps working."""
        if not isinstance(data, dict) or "engine" in data:
            return data
        models = data.get("models") or ["hey_jarvis"]
        if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
            return data  # the field's own check names the problem
        if all(m in BUNDLED_WAKE_WORDS and m in MICRO_WAKE_WORDS for m in models):
            return data
        micro = any(m.endswith(".json") or (m not in BUNDLED_WAKE_WORDS and m in MICRO_WAKE_WORDS)
                    for m in models)
        return {**data, "engine": "microwakeword" if micro else "openwakeword"}

    @field_validator("models")
    @classmethod
    def _model_names(cls, value: list[str], info: ValidationInfo) -> list[str]:
        engine = info.data.get("engine", "both")
        if engine == "both":
            shared = [name for name in BUNDLED_WAKE_WORDS if name in MICRO_WAKE_WORDS]
            for name in value:
                if name not in shared:
                    raise ValueError(
                        f"wake word {name!r} is not one both engines have; allowed with engine both: "
                        f"{', '.join(shared)} (a model file belongs to one engine)"
                    )
            return value
        names, suffix = (
            (MICRO_WAKE_WORDS, ".json") if engine == "microwakeword" else (BUNDLED_WAKE_WORDS, ".onnx")
        )
        for name in value:
            if not name.endswith(suffix) and name not in names:
                raise ValueError(
                    f"unknown wake word {name!r} for engine {engine}; allowed: {', '.join(names)} "
                    f"or a path to a {suffix} file"
                )
        return value

    @model_validator(mode="after")
    def _thresholds_name_models(self) -> WakeWordConfig:
        names = {model_name(m) for m in self.models}
        for name in self.thresholds:
            if name not in names:
                raise ValueError(
                    f"thresholds names {name!r}, which is not in models ({', '.join(sorted(names))})"
                )
        return self


def model_name(model: str) -> str:
    """The name a wake-word model reports detections under (file stem, version cut)."""
    stem = Path(model).name.removesuffix(".onnx").removesuffix(".json")
    return re.sub(r"_v\d+(\.\d+)*$", "", stem)


class StopWordConfig(Section):
    enabled: bool = True
    """Listen for "stop" without the wake word (while an answer plays or a timer rings); off if its model is missing, with one warning."""
    threshold: Probability = 0.5
    """Score above which "stop" counts (the model's own cutoff is 0.5; raise it if words like "shop" stop answers)."""
    refractory_seconds: float = Field(1.0, ge=0.0, le=30.0)
    """After a stop, ignore further ones this long ("stop, stop" is one stop)."""
    check_sound: bool = True
    """When the model fires, check the sound of the last 1.2 s (a long /s/ before an "ah") so "shop", "top" and "step" said alone do not stop; off: the model alone decides."""
    model: Path | None = None
    """The microWakeWord .json of the stop model (its .tflite beside it); unset: stop.json in the wake-word models directory."""

    @field_validator("model")
    @classmethod
    def _json(cls, value: Path | None) -> Path | None:
        if value is not None and value.suffix != ".json":
            raise ValueError(f"{str(value)!r} is not a microWakeWord model description (.json)")
        return value


Device = int | str | None


class AudioConfig(Section):
    input_device: Device = None
    """Microphone: a substring of the device name, or its index; unset: the default device."""
    output_device: Device = None
    """Speaker: a substring of the device name, or its index; unset: the default device."""
    chunk_ms: int = Field(40, ge=10, le=100)
    """Length of each microphone chunk sent to the model (20-40 ms recommended)."""
    volume: Percent = 80
    """Output volume in percent (software gain on the model's voice and sounds)."""
    echo_cancellation: Literal["auto", "on", "off"] = "auto"
    """Remove the speaker's sound from the mic (WebRTC AEC3, livekit package) so a voice can interrupt the model: auto (if it loads), on (log an error if it cannot run), off (half duplex: the mic is closed while the model talks)."""
    noise_suppression: bool = False
    """WebRTC noise suppression on the mic whenever echo cancellation runs (see the README before turning it on)."""
    barge_in: bool | None = None
    """Send the mic while the model talks, so a voice can interrupt it; unset: on exactly when echo cancellation runs."""
    half_duplex_tail_ms: int = Field(300, ge=0, le=3000)
    """With barge_in off, keep the mic closed this long after the speaker stops."""
    wake_sound: str | None = "chime"
    """Sound on wake: `chime` (built in), a path to a WAV file, or null for none."""
    error_sound: str | None = "buzz"
    """Sound on errors: `buzz` (built in), a path to a WAV file, or null for none."""

    @field_validator("input_device", "output_device")
    @classmethod
    def _device(cls, value: Device) -> Device:
        if isinstance(value, int) and value < 0:
            raise ValueError("a device index is 0 or more")
        if isinstance(value, str) and not value.strip():
            raise ValueError("a device name must not be empty (use null for the default)")
        return value


class CameraConfig(Section):
    enabled: bool = False
    """Send Pi Camera frames to the model during conversations."""
    fps: float = Field(1.0, gt=0.0, le=1.0)
    """Frames per second while a conversation is open (the Live API takes at most 1)."""
    continuous: bool | None = None
    """true: frames all conversation long; false: only when the model calls look(). null: the model's choice (2.5: all along; 3.8: while the user speaks and on look(), as every frame sent is billed context)."""
    media_resolution: Literal["low", "medium", "high"] = "low"
    """Detail the model sees in each frame (more detail costs more tokens per frame)."""
    resolution: tuple[
        Annotated[int, Field(ge=64, le=4096)], Annotated[int, Field(ge=64, le=4096)]
    ] = (
        640,
        480,
    )
    """Width and height of the frames sent, in pixels."""
    jpeg_quality: int = Field(80, ge=1, le=100)
    """JPEG quality, 1-100."""


class ButtonConfig(Section):
    pin: GpioPin | None = 23
    """BCM pin of the push button; null for none."""
    pull_up: bool = True
    """The button connects the pin to ground (internal pull-up on)."""
    hold_seconds: float = Field(2.0, ge=0.5, le=10.0)
    """Holding the button this long toggles mute."""
    bounce_ms: int = Field(50, ge=0, le=500)
    """Debounce time."""


class LedLook(Section):
    effect: Effect = "on"
    """off, on, blink or pulse."""
    color: str = "white"
    """Colour for an RGB LED: a name (red, green, blue, ...) or #rrggbb."""

    @field_validator("color")
    @classmethod
    def _color(cls, value: str) -> str:
        if value not in NAMED_COLORS and not _COLOR.match(value):
            raise ValueError(
                f"unknown colour {value!r}; allowed: {', '.join(NAMED_COLORS)} or #rrggbb"
            )
        return value


# What each appliance state shows by default, and what the state means.
DEFAULT_LOOKS: dict[State, tuple[LedLook, str]] = {
    State.IDLE: (LedLook(effect="off", color="off"), "Waiting for the wake word."),
    State.WAKE: (LedLook(effect="on", color="white"), "The wake word was heard, the session is opening."),
    State.LISTENING: (LedLook(effect="on", color="blue"), "The conversation is open and the microphone is sent."),
    State.THINKING: (LedLook(effect="pulse", color="cyan"), "The user stopped talking; waiting for the answer."),
    State.SPEAKING: (LedLook(effect="on", color="green"), "The model is talking."),
    State.MUTED: (LedLook(effect="on", color="red"), "Microphone closed, wake word off."),
    State.ERROR: (LedLook(effect="blink", color="orange"), "Something is wrong (network, device, key)."),
    State.RINGING: (LedLook(effect="blink", color="yellow"), "A timer or alarm is ringing (press the button to stop it)."),
}  # fmt: skip
if set(DEFAULT_LOOKS) != set(State):
    raise RuntimeError(f"DEFAULT_LOOKS must give every state a look: {set(State) - set(DEFAULT_LOOKS)}")

# One field per appliance state, made from State so that the two cannot disagree.
LedStates = create_model(
    "LedStates",
    __base__=Section,
    **{
        state.value: (LedLook, Field(default=look, description=meaning))
        for state, (look, meaning) in DEFAULT_LOOKS.items()
    },
)  # type: ignore[call-overload]


class LedPins(Section):
    led: GpioPin | None = 25
    """Pin of a single LED (kind: single)."""
    red: GpioPin | None = None
    """Red pin of an RGB LED (kind: rgb)."""
    green: GpioPin | None = None
    """Green pin of an RGB LED (kind: rgb)."""
    blue: GpioPin | None = None
    """Blue pin of an RGB LED (kind: rgb)."""


class LedsConfig(Section):
    kind: Literal["single", "rgb", "none"] = "single"
    """single LED, rgb LED, or none."""
    pins: LedPins = LedPins()
    """BCM pins: `led` for single, `red`/`green`/`blue` for rgb."""
    active_high: bool = True
    """The LED lights when the pin is high."""
    states: LedStates = LedStates()
    """What each appliance state shows."""

    @model_validator(mode="after")
    def _pins_for_kind(self) -> LedsConfig:
        if self.kind == "single" and self.pins.led is None:
            raise ValueError("kind single needs pins.led")
        if self.kind == "rgb":
            missing = [c for c in ("red", "green", "blue") if getattr(self.pins, c) is None]
            if missing:
                raise ValueError(f"kind rgb needs pins.{', pins.'.join(missing)}")
        return self

    def used_pins(self) -> dict[str, int]:
        """Pins this section drives, by key (only those of the chosen kind)."""
        names = {"single": ("led",), "rgb": ("red", "green", "blue"), "none": ()}[self.kind]
        return {n: getattr(self.pins, n) for n in names if getattr(self.pins, n) is not None}


class RelayConfig(Section):
    name: str
    """Identifier the model uses (lowercase letters, digits, underscores)."""
    pin: GpioPin
    """BCM pin."""
    active_high: bool = True
    """The relay closes when the pin is high (many relay boards are active-low: false)."""
    initial: Literal["on", "off"] = "off"
    """State at start-up."""
    safe_state: Literal["on", "off"] = "off"
    """State on shutdown."""
    description: str = ""
    """What it switches, told to the model, e.g. "the floor lamp in the living room"."""

    @field_validator("name")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not _IDENTIFIER.match(value):
            raise ValueError(
                f"relay name {value!r} is not a simple identifier "
                "(lowercase letter first, then letters, digits or _; at most 32)"
            )
        return value


class ConversationConfig(Section):
    follow_up_seconds: float = Field(8.0, ge=0.0, le=120.0)
    """After the model's answer, listen this long for a follow-up without the wake word."""
    max_seconds: float = Field(300.0, ge=10.0, le=3600.0)
    """Close any conversation after this long."""


class TimersConfig(Section):
    state_dir: Path = Path("/var/lib/speakerd")
    """Where timers and alarms are kept across restarts (the unit's StateDirectory=)."""
    sound: str = "alarm"
    """Sound while ringing: `alarm` (built in) or a path to a WAV file."""
    pause_seconds: float = Field(1.2, ge=0.2, le=30.0)
    """Silence between two plays of the sound."""
    ring_seconds: float = Field(600.0, ge=5.0, le=3600.0)
    """Stop ringing by itself after this long."""
    missed_grace_seconds: float = Field(3600.0, ge=0.0, le=7 * 24 * 3600.0)
    """A timer that fell due while speakerd was down rings at start-up if at most this late."""
    announce: bool = True
    """Say what rang through a Live session when online (offline: the sound only)."""


class MemoryConfig(Section):
    enabled: bool = True
    """Let the model remember facts the household tells it (kept on this device, given to every Live session)."""
    state_dir: Path | None = None
    """Where memory.json is kept (mode 0600). null: timers.state_dir."""
    max_facts: int = Field(200, ge=1, le=1000)
    """The most facts kept; a new one beyond it pushes out the oldest (logged)."""
    max_bytes: int = Field(32 * 1024, ge=1024, le=256 * 1024)
    """The most text kept, in bytes; the oldest facts go first beyond it."""


_MEDIA_SCHEMES = ("http", "https")


class StationConfig(Section):
    name: str = Field(min_length=1, max_length=60)
    """What the owner says to play it, e.g. "jazz radio" (also the Home Assistant source name)."""
    url: str = Field(max_length=2000)
    """The stream (http:// or https://): MP3, AAC, Ogg/Vorbis or Opus, or a .m3u/.pls playlist."""

    @field_validator("url")
    @classmethod
    def _stream_url(cls, value: str) -> str:
        scheme = value.split(":", 1)[0].lower() if ":" in value else ""
        if scheme not in _MEDIA_SCHEMES or not re.match(r"^[A-Za-z]+://[^/\s?#]+", value):
            raise ValueError(f"{value!r} is not an http:// or https:// URL")
        if any(c.isspace() or ord(c) < 32 for c in value):
            raise ValueError("a station URL must not contain spaces or control characters")
        return value


class MediaConfig(Section):
    stations: list[StationConfig] = Field(default_factory=list, max_length=200)
    """Internet radio stations the model, `ctl play` and Home Assistant can play by name."""
    library: Path | None = None
    """A folder of music files (searched by artist, album and title tags); null for none."""
    duck_db: float = Field(20.0, ge=0.0, le=60.0)
    """How far the music drops (dB) while a conversation is open, a timer rings or an announcement speaks."""
    duck_or_pause: Literal["duck", "pause"] = "duck"
    """duck: play on, quieter, under the voice; pause: hold the music and go on after."""
    volume: Percent = 60
    """Music volume in percent, under the speaker's own volume (audio.volume)."""
    ffmpeg: str = "ffmpeg"
    """The ffmpeg program that decodes streams and files (in its own process)."""

    @model_validator(mode="after")
    def _unique_station_names(self) -> MediaConfig:
        seen: set[str] = set()
        for station in self.stations:
            key = station.name.casefold()
            if key in seen:
                raise ValueError(f"two stations are named {station.name!r}")
            seen.add(key)
        return self


class ControlConfig(Section):
    socket: Path = Path("/run/speakerd/control.sock")
    """Unix socket for `speakerd ctl` (mode 0660)."""

    @field_validator("socket")
    @classmethod
    def _bindable(cls, value: Path) -> Path:
        if not value.is_absolute():
            # Relative, it would name a different socket for `speakerd run` (cwd / under
            # systemd) and for the owner's `speakerd ctl` run from wherever they stand.
            raise ValueError(
                f"the socket path must be absolute (like /run/speakerd/control.sock), not {value}"
            )
        if "\0" in str(value):
            raise ValueError("a socket path cannot contain a NUL character")
        try:
            size = len(os.fsencode(value))
        except UnicodeError:
            raise ValueError("the socket path is not valid Unicode text") from None
        if size > MAX_SOCKET_PATH_BYTES:
            raise ValueError(
                f"the socket path is {size} bytes long; "
                f"a Unix socket path has at most {MAX_SOCKET_PATH_BYTES}"
            )
        return value


class Config(Section):
    """The whole file."""

    gemini: GeminiConfig = GeminiConfig()
    """Gemini Live connection and model."""
    wake_word: WakeWordConfig = WakeWordConfig()
    """Wake-word detector."""
    stop_word: StopWordConfig = StopWordConfig()
    """The stop word: "stop" heard without the wake word."""
    audio: AudioConfig = AudioConfig()
    """Microphone, speaker and sounds."""
    camera: CameraConfig = CameraConfig()
    """Pi Camera frames."""
    button: ButtonConfig = ButtonConfig()
    """Push button: press to talk or stop, hold to mute."""
    leds: LedsConfig = LedsConfig()
    """Status LEDs."""
    relays: list[RelayConfig] = Field(default_factory=list)
    """Named relays the model can switch."""
    tools: list[ToolConfig] = Field(default_factory=list)
    """Your own tools: commands, HTTP calls and GPIO inputs the model can use."""
    conversation: ConversationConfig = ConversationConfig()
    """Conversation timing."""
    timers: TimersConfig = TimersConfig()
    """Timers, alarms and reminders."""
    memory: MemoryConfig = MemoryConfig()
    """The household memory: facts the model was asked to remember."""
    control: ControlConfig = ControlConfig()
    """Local control socket."""
    mqtt: MqttConfig = MqttConfig()
    """Home Assistant over MQTT (off by default)."""
    media: MediaConfig = MediaConfig()
    """Music and internet radio, mixed under the voice."""
