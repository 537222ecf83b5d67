"""Read a small file and parse YAML with the work bounded, whatever is at the path.

A config file is a few kilobytes. Without limits, a 420-byte alias bomb costs
minutes and gigabytes, a FIFO hangs, /dev/zero never ends and a megabyte of
`[1,1,1,...]` takes twenty seconds. So: only regular files, at most MAX_BYTES,
no aliases, merge keys or tags, at most MAX_NODES values nested at most MAX_DEPTH
deep. Each refusal is a ReadError naming the line where it can.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.composer import Composer
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent
from ruamel.yaml.nodes import ScalarNode

MAX_BYTES = 64 * 1024
MAX_NODES = 2000
MAX_DEPTH = 32
MERGE_TAG = "tag:yaml.org,2002:merge"


class ReadError(Exception):
    """The file cannot be read or parsed; `line` (1-based) when one is to blame."""

    def __init__(self, message: str, line: int | None = None, *, missing: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.missing = missing


def _kind_of(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def read_small_file(path: Path, limit: int = MAX_BYTES, what: str = "YAML file") -> bytes:
    """The bytes of a regular file of at most `limit` bytes; ReadError for anything else.

    Opened non-blocking so a FIFO cannot hang us, and checked after opening so
    a file swapped in between cannot either.
    """
    try:
        kind = _kind_of(os.stat(path).st_mode)
        if kind is not None:
            raise ReadError(f"is {kind}, not a {what}")
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    except FileNotFoundError:
        dangling = os.path.islink(path)
        message = "is a symbolic link to a missing file" if dangling else "file not found"
        raise ReadError(message, missing=True) from None
    except PermissionError:
        raise ReadError("cannot be read (permission denied); check its owner and mode") from None
    except (OSError, ValueError) as exc:
        raise ReadError(f"cannot be read: {_reason(exc)}") from None
    try:
        info = os.fstat(fd)
        kind = _kind_of(info.st_mode)
        if kind is not None:
            raise ReadError(f"is {kind}, not a {what}")
        if info.st_size > limit:
            raise ReadError(f"is {info.st_size} bytes; a {what} may have at most {limit}")
        data = os.read(fd, limit + 1)
        if len(data) > limit:  # grew while we looked
            raise ReadError(f"is over {limit} bytes; a {what} may have at most {limit}")
        return data
    except OSError as exc:
        raise ReadError(f"cannot be read: {_reason(exc)}") from None
    finally:
        os.close(fd)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno == errno.ELOOP:
        return "a loop of symbolic links"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__


def decode_utf8(data: bytes) -> str:
    """Strict UTF-8, with the line of the first bad byte in the error."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ReadError(f"is not UTF-8 text (byte 0x{data[exc.start]:02x})", line) from None


class _BoundedComposer(Composer):
    """ruamel's composer, refusing aliases, merge keys, too many or too deep nodes."""

    def __init__(self, loader: Any = None) -> None:
        super().__init__(loader)
        self._nodes = 0
        self._keys: list[str] = []  # the mapping keys down to the node being composed

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        line = event.start_mark.line + 1 if event.start_mark else None
        if isinstance(event, AliasEvent):
            raise ReadError(
                f"YAML aliases (*{event.anchor}) are not allowed here; write the value out", line
            )
        key = str(index.value) if isinstance(index, ScalarNode) else None
        tag = getattr(event, "tag", None)
        if tag is not None:
            # `!!int fifty` failed deep in ruamel with no line; the schema types every
            # value itself, so an explicit tag is never needed.
            shown = str(tag).replace("tag:yaml.org,2002:", "!!")
            where = ".".join([*self._keys, key] if key is not None else self._keys)
            raise ReadError(
                f"{where + ': ' if where else ''}YAML tags ({shown}) are not used in this "
                "file; write the plain value (quote it to make it text)",
                line,
            )
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise ReadError(f"more than {MAX_NODES} values; a config file is much smaller", line)
        if self.depth >= MAX_DEPTH:
            raise ReadError(f"nested more than {MAX_DEPTH} levels deep", line)
        if key is None:
            return super().compose_node(parent, index)
        self._keys.append(key)
        try:
            return super().compose_node(parent, index)
        finally:
            self._keys.pop()

    def compose_scalar_node(self, anchor: Any) -> Any:
        node: ScalarNode = super().compose_scalar_node(anchor)
        if str(node.tag) == MERGE_TAG:
            line = node.start_mark.line + 1 if node.start_mark else None
            raise ReadError("YAML merge keys (<<) are not allowed; write the keys out", line)
        return node


def parse_yaml(text: str) -> Any:
    """The round-trip YAML tree (it keeps line numbers), or ReadError."""
    yaml = YAML(typ="rt")
    yaml.Composer = _BoundedComposer
    try:
        return yaml.load(text)
    except ReadError:
        raise
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "invalid YAML"
        raise ReadError(f"YAML syntax error: {what}", mark.line + 1 if mark else None) from None
    except YAMLError as exc:  # e.g. a ReaderError for a control character
        raise ReadError(
            f"YAML error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
            _line_of(text, getattr(exc, "position", None)),
        ) from None
    except RecursionError:
        raise ReadError(f"nested more than {MAX_DEPTH} levels deep") from None
    except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
        # ruamel raises a few plain errors on odd input (bad tags, timestamps, ...)
        raise ReadError(f"YAML error: {type(exc).__name__}: {exc}") from None


def _line_of(text: str, position: object) -> int | None:
    if isinstance(position, int) and 0 <= position <= len(text):
        return text.count("\n", 0, position) + 1
    return None
