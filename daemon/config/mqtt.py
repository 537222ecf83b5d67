"""The `mqtt:` section: the broker Home Assistant (or any MQTT tool) listens on.

Off by default. The password lives in a file only the service can read, never
in the YAML, so the config file can be shared or pasted into a bug report.
Which files exist is checked by daemon/config/loader.py (like gemini.ca_file).

This module stands alone (daemon/config/schema.py imports it), so it repeats
the two-line section base rather than import it back.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Topic levels: no wildcards, no empty level, no leading or trailing slash.
_TOPIC = re.compile(r"^[^/#+\s]+(/[^/#+\s]+)*$")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class MqttTlsConfig(_Section):
    enabled: bool = False
    """Connect over TLS (usually port 8883); the broker's name is checked."""
    ca_file: Path | None = None
    """CA certificate (PEM) that signed the broker's; unset: the system's CAs."""
    cert_file: Path | None = None
    """Client certificate (PEM), for brokers that require one (needs key_file)."""
    key_file: Path | None = None
    """Private key of cert_file (PEM), readable only by the service."""

    @model_validator(mode="after")
    def _cert_and_key(self) -> MqttTlsConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together: set both or neither")
        files = [k for k in ("ca_file", "cert_file", "key_file") if getattr(self, k) is not None]
        if files and not self.enabled:
            raise ValueError(f"{', '.join(files)} set but TLS is off: add `enabled: true`")
        return self

    def files(self) -> dict[str, Path]:
        """The files this section names, by key (the loader checks they exist)."""
        keys = ("ca_file", "cert_file", "key_file")
        return {k: getattr(self, k) for k in keys if getattr(self, k) is not None}


class MqttConfig(_Section):
    enabled: bool = False
    """Publish this speaker to an MQTT broker (Home Assistant discovery)."""
    host: str = "localhost"
    """Broker host name or address."""
    port: int = Field(1883, ge=1, le=65535)
    """Broker port (1883 plain, 8883 usually with TLS)."""
    tls: MqttTlsConfig = MqttTlsConfig()
    """TLS to the broker."""
    username: str | None = None
    """User name at the broker; null for an anonymous broker."""
    password_file: Path | None = None
    """File holding the password (mode 0600); the password is never put in this file."""
    client_id: str | None = None
    """MQTT client id; null: speakerd-<this speaker's id>."""
    discovery_prefix: str = "homeassistant"
    """Home Assistant's discovery prefix."""
    base_topic: str | None = None
    """Where state and commands live; null: speakerd/<this speaker's id>."""
    device_name: str | None = None
    """Name of the device in Home Assistant; null: the host name."""
    keepalive_seconds: int = Field(30, ge=5, le=3600)
    """The broker declares the speaker offline this long (x1.5) after it stops answering."""
    area: str | None = Field(None, min_length=1, max_length=60)
    """The area Home Assistant suggests for the device, e.g. Kitchen; null: none."""
    configuration_url: str | None = Field(None, pattern=r"^https?://\S+$", max_length=500)
    """A link shown on the device page (e.g. your notes on this speaker); null: none."""

    @field_validator("discovery_prefix", "base_topic")
    @classmethod
    def _topic(cls, value: str | None) -> str | None:
        if value is not None and not _TOPIC.match(value):
            raise ValueError(
                f"{value!r} is not a topic like speakerd/kitchen "
                "(no +, #, spaces, empty levels or leading/trailing /)"
            )
        return value

    @field_validator("client_id")
    @classmethod
    def _client_id(cls, value: str | None) -> str | None:
        if value is not None and not _CLIENT_ID.match(value):
            raise ValueError(f"client_id {value!r}: use 1-64 letters, digits, '_', '.' or '-'")
        return value

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if not value.strip() or any(c.isspace() for c in value) or "/" in value:
            raise ValueError(f"{value!r} is not a host name or address")
        return value

    @field_validator("device_name")
    @classmethod
    def _device_name(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("device_name must not be empty (use null for the host name)")
        return value

    @model_validator(mode="after")
    def _password_needs_user(self) -> MqttConfig:
        if self.password_file is not None and self.username is None:
            raise ValueError("password_file is set but username is not")
        return self

    def files(self) -> dict[str, Path]:
        """Files this section names, by dotted key below `mqtt` (checked by the loader)."""
        found = {f"tls.{k}": v for k, v in self.tls.files().items()}
        if self.password_file is not None:
            found["password_file"] = self.password_file
        return found
