#!/usr/bin/env python3
"""Mutation testing of the modules that decide what reaches Azure: does the suite catch the bug?

    python3 dev.py mutate [MODULE ...] [--jobs 2] [--limit N] [--json FILE]

For each module (default: every module in MODULES) it makes one small change at a time in the
source: a flipped comparison, `and`/`or` swapped, a condition negated, a boolean or number
changed, a string emptied, a `raise` removed (a check that no longer refuses), a returned value
replaced by None. Decorated functions (pydantic validators, properties) are mutated like any other:
the change is made in the module's text, not in imported objects. Each mutant runs the module's
tests in a fresh process against a copy of the package; a failing test kills it. A mutant that
does not even import counts as killed by nothing and is left out (not viable).

Reports killed, survived and the score per module, and lists survivors with file, line and change.
Only the standard library; not part of CI (it takes minutes per module).
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "components" / "acr_cache"

# Tests every module answers to: the generated reference (descriptions), the engine seams (URNs and
# aliases) and the corpus through the CLI (messages and key paths).
_SHARED = ["tests/test_docs.py", "tests/test_engine_seams.py", "tests/test_hardening.py"]
# Module -> the tests that exercise it (a mutant is killed by any failure among them).
MODULES: dict[str, list[str]] = {
    "upstreams": ["tests/test_artifact_cache.py", "tests/test_cache_properties.py"],
    "artifact_cache": [
        "tests/test_artifact_cache.py",
        "tests/test_cache_properties.py",
        "tests/test_package.py",
    ],
    "access": ["tests/test_access_imports_protection.py", "tests/test_package.py"],
    "network": ["tests/test_network.py"],
    "private_access": ["tests/test_network.py", "tests/test_package.py"],
    "registry": ["tests/test_registry.py", "tests/test_config.py"],
    "replication": ["tests/test_network.py", "tests/test_registry.py"],
    "key_vault": ["tests/test_artifact_cache.py"],
    "image_import": ["tests/test_image_import.py", "tests/test_access_imports_protection.py"],
    "arm": ["tests/test_network.py", "tests/test_artifact_cache.py", "tests/test_hostile_input.py"],
    "model": ["tests/test_config.py", "tests/test_hostile_input.py"],
    "stack": ["tests/test_config.py", "tests/test_network.py", "tests/test_artifact_cache.py"],
    "protection": ["tests/test_access_imports_protection.py"],
}


@dataclass
class Mutant:
    module: str
    line: int
    change: str
    source: str
    kind: str = "behaviour"
    """`message`: a string a person reads (refusal text, description); `behaviour`: anything else."""
    outcome: str = ""


_FLIPS: dict[type, type] = {
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Lt: ast.GtE,
    ast.GtE: ast.Lt,
    ast.Gt: ast.LtE,
    ast.LtE: ast.Gt,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}


def mutants(module: str) -> Iterator[Mutant]:
    path = PACKAGE / f"{module}.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    # Docstrings, and the string statements that document an attribute: prose, never behaviour.
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }
    # Punctuation between an f-string's values (`'`, `: `) carries nothing worth a mutant.
    docstrings |= {
        id(part)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for part in node.values
        if isinstance(part, ast.Constant) and not any(c.isalnum() for c in str(part.value))
    }
    messages = _message_strings(tree)
    points = [node for node in ast.walk(tree)]
    for index, node in enumerate(points):
        for change, apply in _changes(node, docstrings):
            mutated = copy.deepcopy(tree)
            target = [n for n in ast.walk(mutated)][index]
            if apply(target):
                kind = "message" if id(node) in messages else "behaviour"
                yield Mutant(module, getattr(node, "lineno", 0), change, ast.unparse(mutated), kind=kind)


# Calls whose string arguments are what a person reads (a refusal, a description), not what Azure
# receives: their survivors are counted apart.
_MESSAGE_CALLS = {"ValueError", "ConfigProblem", "field_error", "StackFileError", "ConfigError", "Field"}


def _message_strings(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for call in ast.walk(tree):
        if not isinstance(call, ast.Call):
            continue
        name = call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", "")
        if name not in _MESSAGE_CALLS:
            continue
        if name == "ConfigProblem":
            arguments = call.args[1:]  # the first is the key path, which is contract
        elif name == "Field":
            arguments = [k.value for k in call.keywords if k.arg == "description"]
        else:
            arguments = [*call.args, *(k.value for k in call.keywords)]
        for argument in arguments:
            found |= {
                id(n) for n in ast.walk(argument) if isinstance(n, ast.Constant) and isinstance(n.value, str)
            }
    return found


Change = Callable[[ast.AST], bool]


def _changes(node: ast.AST, docstrings: set[int]) -> Iterator[tuple[str, Change]]:
    if isinstance(node, ast.Compare):
        for position, op in enumerate(node.ops):
            if type(op) in _FLIPS:
                flipped = _FLIPS[type(op)]

                def flip(n: ast.AST, position: int = position, flipped: type = flipped) -> bool:
                    assert isinstance(n, ast.Compare)
                    n.ops[position] = flipped()
                    return True

                yield f"{type(op).__name__} -> {flipped.__name__}", flip
    elif isinstance(node, ast.BoolOp):
        other = ast.Or if isinstance(node.op, ast.And) else ast.And

        def swap(n: ast.AST, other: type = other) -> bool:
            assert isinstance(n, ast.BoolOp)
            n.op = other()
            return True

        yield f"{type(node.op).__name__} -> {other.__name__}", swap
    elif isinstance(node, ast.If | ast.While):

        def negate(n: ast.AST) -> bool:
            assert isinstance(n, ast.If | ast.While)
            n.test = ast.UnaryOp(op=ast.Not(), operand=n.test)
            return True

        yield "condition negated", negate
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):

        def drop_not(n: ast.AST) -> bool:
            assert isinstance(n, ast.UnaryOp)
            n.op = ast.UAdd()  # `+x` of a bool is its int: truthiness kept, `not` gone
            return True

        yield "`not` removed", drop_not
    elif isinstance(node, ast.Constant) and id(node) not in docstrings:
        value = node.value
        if isinstance(value, bool):
            yield f"{value} -> {not value}", _set_constant(not value)
        elif isinstance(value, int) and not isinstance(value, bool):
            yield f"{value} -> {value + 1}", _set_constant(value + 1)
        elif isinstance(value, str) and value:
            yield "string emptied", _set_constant("")
    elif isinstance(node, ast.Raise):

        def remove(n: ast.AST) -> bool:
            # The statement becomes `pass` in place (its parent's list keeps its position).
            assert isinstance(n, ast.Raise)
            n.__class__ = ast.Pass  # type: ignore[assignment]
            for field in ("exc", "cause"):
                if hasattr(n, field):
                    delattr(n, field)
            return True

        yield "raise removed", remove
    elif (
        isinstance(node, ast.Return)
        and node.value is not None
        and not (isinstance(node.value, ast.Constant) and node.value.value is None)
    ):

        def none(n: ast.AST) -> bool:
            assert isinstance(n, ast.Return)
            n.value = ast.Constant(value=None)
            return True

        yield "returns None", none


def _set_constant(value: bool | int | str) -> Change:
    def apply(n: ast.AST) -> bool:
        assert isinstance(n, ast.Constant)
        n.value = value
        return True

    return apply


def run_mutant(mutant: Mutant, tests: list[str], python: str) -> str:
    tests = [*dict.fromkeys([*tests, *_SHARED])]
    with tempfile.TemporaryDirectory(prefix="acr-mutant-") as tmp:
        copy_root = Path(tmp) / "components"
        shutil.copytree(PACKAGE, copy_root / "acr_cache", ignore=shutil.ignore_patterns("__pycache__"))
        (copy_root / "acr_cache" / f"{mutant.module}.py").write_text(mutant.source, encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(copy_root), "PYTHONDONTWRITEBYTECODE": "1"}
        probe = subprocess.run(
            [python, "-c", f"import acr_cache.{mutant.module}"], env=env, cwd=ROOT, capture_output=True
        )
        if probe.returncode != 0:
            return "not viable"
        result = subprocess.run(
            [python, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-o", "addopts=", *tests],
            env=env,
            cwd=ROOT,
            capture_output=True,
        )
        return "killed" if result.returncode != 0 else "survived"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", default=list(MODULES))
    parser.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 2)))
    parser.add_argument("--limit", type=int, default=0, help="at most this many mutants per module")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args()
    python = sys.executable
    report: dict[str, dict[str, object]] = {}
    for module in args.modules:
        if module not in MODULES:
            print(f"unknown module {module!r}; the modules are {', '.join(MODULES)}", file=sys.stderr)
            return 2
        found = list(mutants(module))
        if args.limit:
            found = found[: args.limit]
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            tests = MODULES[module]
            outcomes = list(pool.map(lambda m, tests=tests: run_mutant(m, tests, python), found))
        for mutant, outcome in zip(found, outcomes, strict=True):
            mutant.outcome = outcome
        viable = [m for m in found if m.outcome != "not viable"]
        killed = sum(m.outcome == "killed" for m in viable)
        score = killed / len(viable) if viable else 1.0
        behaviour = [m for m in viable if m.kind == "behaviour"]
        behaviour_score = sum(m.outcome == "killed" for m in behaviour) / len(behaviour) if behaviour else 1.0
        survivors = [m for m in viable if m.outcome == "survived"]
        print(
            f"{module}: {killed} killed, {len(survivors)} survived, {len(found) - len(viable)} not viable; "
            f"score {score:.0%}, without message texts {behaviour_score:.0%} "
            f"({time.perf_counter() - start:.0f} s)"
        )
        for mutant in survivors:
            print(
                f"  survived: components/acr_cache/{module}.py:{mutant.line}: {mutant.change} ({mutant.kind})"
            )
        report[module] = {
            "killed": killed,
            "survived": len(survivors),
            "notViable": len(found) - len(viable),
            "score": round(score, 3),
            "behaviourScore": round(behaviour_score, 3),
            "survivors": [{k: v for k, v in asdict(m).items() if k != "source"} for m in survivors],
        }
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
