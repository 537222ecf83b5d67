"""The configuration: one typed model (schema), its loader, and the API key source."""

from daemon.config.loader import EX_CONFIG, ConfigError, Problem, default_config_path, load_config
from daemon.config.schema import Config
from daemon.config.secrets import ApiKeyError, api_key_source, resolve_api_key

__all__ = [
    "EX_CONFIG",
    "ApiKeyError",
    "Config",
    "ConfigError",
    "Problem",
    "api_key_source",
    "default_config_path",
    "load_config",
    "resolve_api_key",
]
