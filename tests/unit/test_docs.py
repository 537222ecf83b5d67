"""The documents point at things that exist, and the layer picture shows the layer table."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [
    "README.md",
    "CHANGELOG.md",
    "bench/results.md",
    *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md")),
]
TOP = ("daemon/", "hardware/", "scripts/", "tests/", "bench/", "docs/", "config/", "systemd/")


def mentioned_paths(doc: Path) -> set[str]:
    """Repository paths in `code spans` and the targets of relative links."""
    text = doc.read_text()
    spans = {s for s in re.findall(r"`([^`\s]+)`", text) if s.startswith(TOP) and "<" not in s}
    links = {
        str((doc.parent / target).resolve().relative_to(ROOT))
        for target in re.findall(r"\]\(([^)#:]+)\)", text)
    }
    return spans | links


@pytest.mark.parametrize("name", DOCS)
def test_every_path_a_document_mentions_exists(name: str) -> None:
    missing = sorted(p for p in mentioned_paths(ROOT / name) if not (ROOT / p).exists())
    assert missing == [], f"{name} mentions paths that do not exist: {missing}"


def test_the_layer_picture_shows_every_layer_of_the_table() -> None:
    """docs/layers.svg is drawn from docs/layers.toml: redraw it (python3 docs/layers.py)
    after changing the table."""
    svg = (ROOT / "docs" / "layers.svg").read_text()
    layers = tomllib.loads((ROOT / "docs" / "layers.toml").read_text())["layer"]
    for rank, layer in enumerate(layers, start=1):
        assert f">{rank}. {layer['name']}<" in svg, layer["name"]
        for package in layer["packages"]:
            assert package.replace(".", "/") in svg, package


def test_the_readme_is_written_for_users() -> None:
    """No issue numbers or measurement stories: those belong in bench/results.md."""
    text = (ROOT / "README.md").read_text()
    assert not re.search(r"\bissue \d+|#\d{2,}\b", text)
    assert "before the last changes" not in text
