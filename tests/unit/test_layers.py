"""Every import in daemon/ and hardware/ runs down the layers of docs/layers.toml.

A module may import its own package and any package of a lower layer: never
one of its own layer, never one above. Imports made only for type checking,
or inside a function, count the same: they are the same dependency.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "docs" / "layers.toml"


def layers() -> list[dict[str, object]]:
    return tomllib.loads(TABLE.read_text())["layer"]


def rank_of_package() -> dict[str, int]:
    return {package: rank for rank, layer in enumerate(layers()) for package in layer["packages"]}  # type: ignore[attr-defined]


def package_of(module: str, ranks: dict[str, int]) -> str | None:
    """The table's package a dotted module name belongs to (the longest that matches)."""
    matches = [p for p in ranks if module == p or module.startswith(p + ".")]
    return max(matches, key=len) if matches else None


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, imported module) for every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(), str(path))
    is_package = path.name == "__init__.py"
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # `from daemon import x` may name a module x: count daemon.x as well.
            found.append((node.lineno, target))
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
    return found


def violations(root: Path) -> list[str]:
    ranks = rank_of_package()
    names = [layer["name"] for layer in layers()]
    problems = []
    for top in ("daemon", "hardware"):
        for path in sorted((root / top).rglob("*.py")):
            module = module_name(path, root)
            own = package_of(module, ranks)
            if own is None:
                if module != "daemon":
                    problems.append(f"{module}: in no layer of docs/layers.toml")
                continue
            for line, target in imports_of(path, module):
                other = package_of(target, ranks)
                if other is None or other == own:
                    continue
                target = other  # `from daemon.live import events` and the like: one line
                if ranks[other] >= ranks[own]:
                    where = "the same layer" if ranks[other] == ranks[own] else "a higher layer"
                    problems.append(
                        f"{path.relative_to(root)}:{line}: {own} ({names[ranks[own]]}) imports "
                        f"{target}, of {where} ({names[ranks[other]]})"
                    )
    return sorted(set(problems))


def test_every_import_runs_down_the_layers() -> None:
    assert violations(ROOT) == []


def test_every_package_in_the_table_exists() -> None:
    for package in rank_of_package():
        path = ROOT / package.replace(".", "/")
        assert path.is_dir() or path.with_suffix(".py").is_file(), f"{package} is not in the tree"


@pytest.mark.parametrize(
    ("where", "line", "expected"),
    [
        ("hardware/gpio/planted.py", "from daemon.core import state", "a higher layer"),
        ("daemon/core/planted.py", "import daemon.config.schema", "a higher layer"),
        ("daemon/timers/planted.py", "from daemon.live import events", "the same layer"),
        ("daemon/mqtt/planted.py", "from ..appliance.appliance import Appliance", "a higher layer"),
    ],
)
def test_a_planted_violation_is_found(tmp_path: Path, where: str, line: str, expected: str) -> None:
    """The check itself can fail: copy the tree, plant one import, and it is named."""
    for top in ("daemon", "hardware"):
        for path in (ROOT / top).rglob("*.py"):
            copy = tmp_path / path.relative_to(ROOT)
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_text(path.read_text())
    (tmp_path / where).write_text(line + "\n")
    found = violations(tmp_path)
    assert len(found) == 1 and where in found[0] and expected in found[0], found
