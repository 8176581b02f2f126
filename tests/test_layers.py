"""The package's layers run one way (docs/architecture.md, issue #25).

The layers are read from the table in docs/architecture.md, so the document and the test cannot
disagree. Every import of every module counts: module-level, inside functions, under
`TYPE_CHECKING`. A failure names both files.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "components" / "acr_cache"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
CONCERNS = 2
"""The layer whose modules may only use the concerns listed before them."""


@dataclass(frozen=True)
class Layers:
    names: list[str]
    """Layer titles, bottom first."""
    patterns: list[list[str]]
    """Per layer, the module names as the table writes them (`plan.*` for a subpackage)."""

    def layer_of(self, module: str) -> int | None:
        """1-based layer of a module name below `acr_cache` (`registry`, `plan.runner`, `acr_cache`)."""
        for index, patterns in enumerate(self.patterns, start=1):
            for pattern in patterns:
                if pattern == module or (pattern.endswith(".*") and module.startswith(pattern[:-1])):
                    return index
        return None

    def order_in_layer(self, module: str) -> int:
        layer = self.layer_of(module)
        assert layer is not None
        return self.patterns[layer - 1].index(module) if module in self.patterns[layer - 1] else -1


def read_layers(document: Path = ARCHITECTURE) -> Layers:
    names, patterns = [], []
    for line in document.read_text().splitlines():
        match = re.fullmatch(r"\| (\d+)\. ([^|]+) \| [^|]+ \| ([^|]+) \|", line)
        if match:
            assert int(match[1]) == len(names) + 1, f"layers out of order at {line[:40]}"
            names.append(match[2].strip())
            patterns.append(re.findall(r"`([\w.*]+)`", match[3]))
    return Layers(names, patterns)


def module_name(path: Path, package: Path) -> str:
    """`registry`, `plan.runner`, `plan` (its __init__), `acr_cache` (the package's own __init__)."""
    parts = list(path.relative_to(package).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) or "acr_cache"


def imports_of(path: Path, package: Path, modules: set[str]) -> list[tuple[str, int]]:
    """The package's modules this file imports, with the line of each import."""
    tree = ast.parse(path.read_text(), str(path))
    own = module_name(path, package)
    own_package = own if path.name == "__init__.py" and own != "acr_cache" else own.rpartition(".")[0]
    found = []

    def resolve(dotted: str) -> str:
        # `acr_cache.plan.runner` -> `plan.runner`; a name inside a module resolves to the module.
        name = dotted.removeprefix("acr_cache").lstrip(".") or "acr_cache"
        while name not in modules and "." in name:
            name = name.rpartition(".")[0]
        return name if name in modules else "acr_cache"

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [
                (resolve(a.name), node.lineno) for a in node.names if a.name.split(".")[0] == "acr_cache"
            ]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = own_package.split(".") if own_package else []
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join(["acr_cache", *base, *([node.module] if node.module else [])])
            elif (node.module or "").split(".")[0] == "acr_cache":
                target = node.module or ""
            else:
                continue
            for alias in node.names:
                found.append((resolve(f"{target}.{alias.name}"), node.lineno))
    return [(name, line) for name, line in found if name != own]


def violations(package: Path, layers: Layers) -> list[str]:
    """Every upward import, cycle and unplaced module, as a sentence naming the files."""
    files = {module_name(p, package): p for p in sorted(package.rglob("*.py"))}
    modules = set(files)
    problems = [
        f"{files[m].relative_to(package.parent)}: no layer in docs/architecture.md places `{m}`: add it to "
        "the table"
        for m in sorted(modules)
        if layers.layer_of(m) is None
    ]
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        graph[module] = set()
        mine = layers.layer_of(module)
        for target, line in imports_of(path, package, modules):
            graph[module].add(target)
            theirs = layers.layer_of(target)
            if mine is None or theirs is None:
                continue
            where = f"{path.relative_to(package.parent)}:{line} imports {files[target].relative_to(package.parent)}"
            if theirs > mine:
                problems.append(
                    f"{where}: layer {mine} ({layers.names[mine - 1]}) imports from layer {theirs} "
                    f"({layers.names[theirs - 1]}) above it"
                )
            elif mine == theirs == CONCERNS and layers.order_in_layer(target) > layers.order_in_layer(module):
                problems.append(
                    f"{where}: a concern uses one listed after it in docs/architecture.md; move the "
                    "shared part down to layer 1, or reorder the concerns if the dependency is right"
                )
    for tied in _cycles(graph):
        ring = " -> ".join(str(files[m].relative_to(package.parent)) for m in _ring(tied, graph))
        more = f" ({len(tied)} modules tied in all)" if len(tied) > len(_ring(tied, graph)) - 1 else ""
        problems.append(f"import cycle: {ring}{more}")
    return problems


def _ring(tied: list[str], graph: dict[str, set[str]]) -> list[str]:
    """The shortest way from the first module of a cycle back to itself, through the tied ones."""
    start = tied[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target in sorted(graph[node] & set(tied)):
            if target == start:
                return [*paths[node], start]
            if target not in paths:
                paths[target] = [*paths[node], target]
                queue.append(target)
    raise AssertionError("not a cycle")  # _cycles only gives strongly connected modules


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (or a module importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_table_places_every_module_and_no_import_runs_against_it() -> None:
    layers = read_layers()
    assert len(layers.names) == 6, layers.names
    assert violations(PACKAGE, layers) == []


def test_no_concern_imports_the_stack_the_reader_the_program_or_the_tools() -> None:
    layers = read_layers()
    modules = {module_name(p, PACKAGE) for p in PACKAGE.rglob("*.py")}
    for module in layers.patterns[CONCERNS - 1]:
        path = PACKAGE / f"{module}.py"
        above = {t for t, _ in imports_of(path, PACKAGE, modules) if (layers.layer_of(t) or 0) > CONCERNS}
        assert above == set(), (module, above)


def test_a_component_loads_no_module_of_the_layers_above(tmp_path: Path) -> None:
    # What Python really loads, the package face included: one component and what is below it.
    layers = read_layers()
    script = textwrap.dedent(
        """
        import sys
        from acr_cache import Registry, ArtifactCache, Access, PrivateAccess, Replicas, ImageImports
        print("\\n".join(m for m in sys.modules if m.startswith("acr_cache")))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    loaded = {line.removeprefix("acr_cache.") for line in out.split()} - {""}
    above = sorted(m for m in loaded if (layers.layer_of(m) or 0) > CONCERNS and m != "acr_cache")
    assert above == []
    assert "registry" in loaded and "artifact_cache" in loaded


# --- The checker itself: it finds what it is for -------------------------------------------------


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    package = tmp_path / "acr_cache"
    for name, text in {"__init__.py": "", **files}.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(textwrap.dedent(text))
    return package


def _layers(tmp_path: Path) -> Layers:
    document = tmp_path / "architecture.md"
    document.write_text(
        "| Layer | What | Modules |\n|---|---|---|\n"
        "| 1. Facts | x | `base` |\n"
        "| 2. Concerns | x | `first`, `second` |\n"
        "| 3. Stack | x | `stack`, `acr_cache` |\n"
        "| 4. Tools | x | `tools.*`, `tools` |\n"
    )
    return read_layers(document)


_CASES = {
    "an upward import inside a function": (
        {"base.py": "def f():\n    from acr_cache.stack import S\n", "stack.py": "S = 1\n"},
        [
            "acr_cache/base.py:2 imports acr_cache/stack.py: layer 1 (Facts) imports from layer 3 (Stack) above it",
        ],
    ),
    "TYPE_CHECKING, relative imports and the package face": (
        {
            "first.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from acr_cache.stack import S\n",
            "second.py": "from acr_cache import Thing\n",
            "stack.py": "S = 1\n",
            "tools/__init__.py": "",
            "tools/run.py": "from . import helper\n",
            "tools/helper.py": "from .. import base\n",
        },
        [
            "acr_cache/first.py:3 imports acr_cache/stack.py: layer 2 (Concerns) imports from layer 3 (Stack) above it",
            "acr_cache/second.py:1 imports acr_cache/__init__.py: layer 2 (Concerns) imports from layer 3 (Stack) above it",
        ],
    ),
    "cycles, unplaced modules and concerns out of order": (
        {
            "first.py": "import acr_cache.second\n",
            "second.py": "from acr_cache.first import x\n",
            "stray.py": "",
        },
        [
            "acr_cache/stray.py: no layer in docs/architecture.md places `stray`: add it to the table",
            "acr_cache/first.py:1 imports acr_cache/second.py: a concern uses one listed after it in "
            "docs/architecture.md; move the shared part down to layer 1, or reorder the concerns if the "
            "dependency is right",
            "import cycle: acr_cache/first.py -> acr_cache/second.py -> acr_cache/first.py",
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(_CASES))
def test_the_checker_names_both_files_of_what_runs_against_the_layers(tmp_path: Path, case: str) -> None:
    files, expected = _CASES[case]
    package = _package(tmp_path, {"base.py": "", "first.py": "", "second.py": "", "stack.py": "", **files})
    assert violations(package, _layers(tmp_path)) == expected


@pytest.mark.parametrize("module", ["registry", "plan.runner", "acr_cache", "review.diff", "cli"])
def test_the_layers_of_some_modules(module: str) -> None:
    expected = {"registry": 2, "plan.runner": 5, "acr_cache": 3, "review.diff": 5, "cli": 6}
    assert read_layers().layer_of(module) == expected[module]
