"""What every config-reading subcommand shares: the --config flag and loading."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from daemon.config import EX_CONFIG, Config, ConfigError, default_config_path, load_config


def add_config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="PATH",
        help="configuration file (default: $SPEAKERD_CONFIG or /etc/speakerd/config.yaml)",
    )


def config_path(args: argparse.Namespace) -> Path:
    return args.config or default_config_path()


def load_config_or_exit(args: argparse.Namespace) -> Config:
    """The config, or every problem printed to stderr and exit 78 (systemd won't loop)."""
    path = config_path(args)
    try:
        return load_config(path)
    except ConfigError as exc:
        print_problems(exc)
        raise SystemExit(EX_CONFIG) from None


def print_problems(error: ConfigError) -> None:
    """One line per problem on stderr (each already escaped and bounded by Problem)."""
    for problem in error.problems:
        print(problem, file=sys.stderr)
