#!/usr/bin/env python3
"""Mutation testing of the modules that decide what reaches Azure: does the suite catch the bug?

    python3 dev.py mutate [MODULE ...] [--jobs 2] [--limit N] [--json FILE]

For each module (default: every module in MODULES) it makes one small change at a time in the
source: a flipped comparison, `and`/`or` swapped, a condition (statement or inline) negated, a
boolean flipped, a number moved up or down, an index 0 made -1, a string emptied, a `raise` or a
call statement removed, a returned value (or a lambda's) replaced by None, arithmetic swapped,
`break`/`continue` swapped, a loop run zero times, a handler catching nothing, a decorator removed
(docs/mutation.md lists them, with the survey of mutmut and cosmic-ray behind the newer ones). Decorated functions (pydantic validators, properties) are mutated like any other:
the change is made in the module's text, not in imported objects.

The run works on a copy of the working tree, so editing while it runs changes nothing. One traced
run of the suite first maps which tests run which lines (bench/linemap.py, cached per state of the
tree); each mutant then runs, in a fresh process against its own copy of the package, only the tests
that run a line it changed (the whole suite for a line run at import: a constant, a field, a
default), the ones that caught earlier mutants first; a failing test kills it. A mutant that does
not even import is left out (not viable); one that no test reaches survives without a run.

Reports killed, survived and the score per module, and lists survivors with file, line, change and
how many tests reach them. Only the standard library; not part of CI.
"""

from __future__ import annotations

import argparse
import ast
import copy
import hashlib
import io
import json
import os
import queue
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tokenize
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

NOT_VIABLE = 99  # bench/forkserver.py: the mutated module does not import

ROOT = Path(__file__).resolve().parent.parent

# The modules that decide a wire value or refuse input. Each mutant runs the tests that run the
# line it changed (bench/linemap.py maps them), whichever file they are in.
MODULES = [
    "upstreams",
    "artifact_cache",
    "access",
    "network",
    "private_access",
    "registry",
    "replication",
    "key_vault",
    "image_import",
    "arm",
    "model",
    "stack",
    "protection",
    "config",
    "redaction",
    "monitoring",
    "webhooks",
    "purge",
    "health",
    "adoption",
    "encryption",
    "tokens",
    "token_password",
    "review.diff",
    "azure_types",
    "problems",
    "ip_rules",
    "roles",
    "review.cost",
    "review.graph",
    "review.matching",
    "azure_login",
    "references",
    "clients",
]


@dataclass
class Mutant:
    module: str
    line: int
    end_line: int
    change: str
    source: str
    statement: tuple[int, int] = (0, 0)
    """The lines of the statement holding the change: where a line of its own never runs (a
    constant folded into its tuple), the statement's do."""
    kind: str = "behaviour"
    """`message`: a string a person reads (refusal text, description); `behaviour`: anything else."""
    outcome: str = ""
    tests: int = 0
    """How many tests run the changed lines (0: none, so nothing can catch it)."""
    cached: bool = False
    """In a function whose results are cached (`functools.cache`): its lines run once per process,
    in whichever test calls it first, so the line map names too few tests for it."""


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


def snapshot(into: Path) -> Path:
    """A copy of the working tree (tracked and new files) to mutate and test: editing the tree while
    a run goes on changes neither the mutants nor the tests they meet."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    # The engine-seam tests start the dynamic provider the way its launcher does: from the
    # project's virtual environment, which the copy shares.
    (into / ".venv").symlink_to(ROOT / ".venv")
    return into


def package(work: Path) -> Path:
    return work / "components" / "acr_cache"


def source_file(module: str) -> str:
    """`review.diff` -> `review/diff.py`: a module's file in the package."""
    return module.replace(".", "/") + ".py"


# A line that says why no test can tell a change in it from the original (an optimisation, say)
# ends with this comment; its mutants are counted as marked, never run.
EQUIVALENT = "# mutation: equivalent"


def marked_lines(module: str, work: Path) -> set[int]:
    text = (package(work) / source_file(module)).read_text(encoding="utf-8")
    return {number for number, line in enumerate(text.splitlines(), 1) if EQUIVALENT in line}


def _innermost_statements(tree: ast.AST) -> dict[int, ast.stmt]:
    """Node id -> the innermost statement holding it."""
    statement_of: dict[int, ast.stmt] = {}
    for outer in ast.walk(tree):  # outer statements first: inner ones overwrite them
        if isinstance(outer, ast.stmt):
            for inner in ast.walk(outer):
                statement_of[id(inner)] = outer
    return statement_of


def _marked_nodes(tree: ast.AST, marked: set[int], statement_of: dict[int, ast.stmt]) -> set[int]:
    """Nodes a mark covers: those on its line, and those whose innermost statement it opens or, for
    a statement without a body of its own, closes (the formatter moves a trailing comment of a
    wrapped `assert (...)` after its closing parenthesis)."""

    def covers(statement: ast.stmt) -> bool:
        closes = not hasattr(statement, "body") and statement.end_lineno in marked
        return statement.lineno in marked or closes

    return {
        id(node)
        for node in ast.walk(tree)
        if getattr(node, "lineno", 0) in marked
        or (id(node) in statement_of and covers(statement_of[id(node)]))
    }


def marked_count(module: str, work: Path) -> int:
    """How many mutants the lines marked equivalent would have given."""
    tree = ast.parse((package(work) / source_file(module)).read_text(encoding="utf-8"))
    skipped = _marked_nodes(tree, marked_lines(module, work), _innermost_statements(tree))
    indexes = _index_constants(tree)
    count = 0
    for node in ast.walk(tree):
        every = sum(1 for _ in _changes(node, set(), indexes))
        # A node the marks cover gives none of its changes; another can lose some to a mark on a
        # part of it (a decorator's removal is made on its function's node): `_changes` knows which.
        count += (
            every if id(node) in skipped else every - sum(1 for _ in _changes(node, set(), indexes, skipped))
        )
    return count


_CACHING = {"cache", "lru_cache", "cached_property"}


def _cached_spans(tree: ast.AST) -> list[tuple[int, int]]:
    """The lines of functions whose results are cached (`@functools.cache`, `@lru_cache(...)`)."""
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names = {ast.unparse(d).split("(", 1)[0].rsplit(".", 1)[-1] for d in node.decorator_list}
            if names & _CACHING:
                spans.append((node.lineno, node.end_lineno or node.lineno))
    return spans


def _index_constants(tree: ast.AST) -> set[int]:
    return {
        id(node.slice)
        for node in ast.walk(tree)
        if isinstance(node, ast.Subscript)
        and isinstance(node.slice, ast.Constant)
        and type(node.slice.value) is int
    }


def mutants(module: str, work: Path) -> Iterator[Mutant]:
    path = package(work) / source_file(module)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    marked = marked_lines(module, work)
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
    statement_of = _innermost_statements(tree)
    skipped = _marked_nodes(tree, marked, statement_of)
    indexes = _index_constants(tree)
    cached = _cached_spans(tree)
    for index, node in enumerate(points):
        if id(node) in skipped:
            continue
        for change, apply in _changes(node, docstrings, indexes, skipped):
            mutated = copy.deepcopy(tree)
            target = [n for n in ast.walk(mutated)][index]
            if apply(target):
                kind = "message" if id(node) in messages else "behaviour"
                line = getattr(node, "lineno", 0)
                end = getattr(node, "end_lineno", None) or line
                holder = statement_of.get(id(node))
                statement = (holder.lineno, holder.end_lineno or holder.lineno) if holder else (line, end)
                in_cache = any(start <= line <= stop for start, stop in cached)
                yield Mutant(
                    module,
                    line,
                    end,
                    change,
                    ast.unparse(mutated),
                    kind=kind,
                    statement=statement,
                    cached=in_cache,
                )


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


def _changes(
    node: ast.AST,
    docstrings: set[int],
    indexes: frozenset[int] | set[int] = frozenset(),
    marked: frozenset[int] | set[int] = frozenset(),
) -> Iterator[tuple[str, Change]]:
    """Every change the tool makes to one node: `indexes` are the ids of integer constants that index
    a subscript (`x[0]`), whose change to -1 is the index operator's; `marked` the ids of nodes an
    equivalence mark covers (a decorator on a marked line is not removed)."""
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
        yield "condition negated", _negate_test
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
            if not (value == 0 and id(node) in indexes):  # `x[0]` -> `x[-1]` is the index change
                yield f"{value} -> {value - 1}", _set_constant(value - 1)
        elif isinstance(value, str) and value:
            yield "string emptied", _set_constant("")
    elif isinstance(node, ast.Subscript) and id(node.slice) in indexes and _is_zero(node.slice):

        def last(n: ast.AST) -> bool:
            assert isinstance(n, ast.Subscript)
            n.slice = ast.Constant(value=-1)
            return True

        yield "index 0 -> -1", last
    elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call | ast.Await):
        # A call made for what it does (`response.raise_for_status()`, `found.add(name)`).
        yield "call removed", _to_pass
    elif isinstance(node, ast.IfExp):
        yield "conditional expression negated", _negate_test
    elif isinstance(node, ast.BinOp | ast.AugAssign) and type(node.op) in _ARITHMETIC:
        swapped = _ARITHMETIC[type(node.op)]
        augmented = "augmented " if isinstance(node, ast.AugAssign) else ""

        def swap_arithmetic(n: ast.AST, swapped: type = swapped) -> bool:
            assert isinstance(n, ast.BinOp | ast.AugAssign)
            n.op = swapped()
            return True

        yield f"{augmented}{type(node.op).__name__} -> {swapped.__name__}", swap_arithmetic
    elif isinstance(node, ast.Break | ast.Continue):
        other_jump = ast.Continue if isinstance(node, ast.Break) else ast.Break

        def jump(n: ast.AST, other_jump: type = other_jump) -> bool:
            n.__class__ = other_jump
            return True

        yield f"{type(node).__name__.lower()} -> {other_jump.__name__.lower()}", jump
    elif isinstance(node, ast.For | ast.AsyncFor):

        def zero_iterations(n: ast.AST) -> bool:
            assert isinstance(n, ast.For | ast.AsyncFor)
            n.iter = ast.List(elts=[], ctx=ast.Load())
            return True

        yield "loop runs zero times", zero_iterations
    elif isinstance(node, ast.ExceptHandler) and node.type is not None:

        def catch_nothing(n: ast.AST) -> bool:
            # `except ():` is valid and matches no exception: the handler never runs.
            assert isinstance(n, ast.ExceptHandler)
            n.type = ast.Tuple(elts=[], ctx=ast.Load())
            return True

        yield "handler catches nothing", catch_nothing
    elif isinstance(node, ast.Raise):
        yield "raise removed", _to_pass
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
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        names = [ast.unparse(d).split("(", 1)[0] for d in node.decorator_list]
        for position, name in enumerate(names):
            if id(node.decorator_list[position]) in marked:
                continue  # its own line says why taking it away changes nothing (a cache, say)
            if name == "classmethod" and any(other.endswith("_validator") for other in names):
                # pydantic makes a field or model validator a classmethod itself (its docs: the
                # `@classmethod` is optional), so taking it away changes nothing.
                continue

            def undecorate(n: ast.AST, position: int = position) -> bool:
                assert isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                del n.decorator_list[position]
                return True

            yield f"decorator {name} removed", undecorate
    if isinstance(node, ast.Lambda) and not (isinstance(node.body, ast.Constant) and node.body.value is None):

        def lambda_none(n: ast.AST) -> bool:
            assert isinstance(n, ast.Lambda)
            n.body = ast.Constant(value=None)
            return True

        yield "lambda returns None", lambda_none


# Arithmetic swapped both ways, as mutmut and cosmic-ray do (`a + b` -> `a - b`, `a * b` -> `a / b`).
_ARITHMETIC: dict[type, type] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
    ast.Mod: ast.FloorDiv,
}


def _negate_test(n: ast.AST) -> bool:
    """`if c`, `while c` and `x if c else y` with `not c`."""
    assert isinstance(n, ast.If | ast.While | ast.IfExp)
    n.test = ast.UnaryOp(op=ast.Not(), operand=n.test)
    return True


def _is_zero(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int and node.value == 0


def _to_pass(n: ast.AST) -> bool:
    """The statement becomes `pass` in place (its parent's list keeps its position)."""
    for field in list(n._fields):
        if hasattr(n, field):
            delattr(n, field)
    n.__class__ = ast.Pass
    return True


def _set_constant(value: bool | int | str) -> Change:
    def apply(n: ast.AST) -> bool:
        assert isinstance(n, ast.Constant)
        n.value = value
        return True

    return apply


def line_map(python: str, work: Path) -> dict[str, Any]:
    """Which tests run which lines (bench/linemap.py), made once per state of the package and tests."""
    digest = hashlib.sha256()
    # Everything the suite reads, which is all of the copy but the mutation tool itself, and the
    # tracer that makes the map.
    for path in sorted(
        p for p in work.rglob("*") if p.is_file() and p.parts[len(work.parts)] not in ("bench", ".venv")
    ):
        digest.update(path.relative_to(work).as_posix().encode() + b"\0" + path.read_bytes())
    digest.update((work / "bench" / "linemap.py").read_bytes())
    cached = Path(tempfile.gettempdir()) / f"acr-cache-linemap-{digest.hexdigest()[:16]}.json"
    if not cached.exists():
        print("mapping which tests run which lines (one traced run of the suite) ...", flush=True)
        start = time.perf_counter()
        env = {
            **os.environ,
            "ACR_CACHE_LINEMAP": str(cached),
            "PYTHONPATH": str(work / "components"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        result = subprocess.run(
            [python, "-m", "pytest", "-q", "-p", "bench.linemap", "-p", "no:cacheprovider", "-o", "addopts="],
            env=env,
            cwd=work,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0 or not cached.exists():
            cached.unlink(missing_ok=True)
            raise SystemExit(f"the suite must pass before mutating it:\n{result.stdout[-3000:]}")
        print(f"  mapped in {time.perf_counter() - start:.0f} s", flush=True)
    document: dict[str, Any] = json.loads(cached.read_text(encoding="utf-8"))
    return document


def tests_for(mutant: Mutant, linemap: dict[str, Any]) -> tuple[list[str], int]:
    """The tests that can catch the change: those that run the changed lines.

    A change in a line run at import (a constant, a model's field and its default, a decorator)
    reaches every test that uses what the module defines, whether or not it runs a line of the
    module: those mutants run the whole suite, the tests that run the module's lines first.
    """
    lines: dict[str, list[str]] = linemap["lines"].get(mutant.module, {})
    if mutant.cached:
        # A cached function's lines ran in one test per process: any test that calls it can catch
        # the change, so the whole suite runs, the module's users first.
        users = {test for tests in lines.values() for test in tests if test}
        others = [test for test in linemap["durations"] if test not in users]
        return [*sorted(users), *others], len(users)
    chosen: set[str] = set()
    span = range(mutant.line, mutant.end_line + 1)
    if not any(str(line) in lines for line in span):
        span = range(mutant.statement[0], mutant.statement[1] + 1)
    for line in span:
        tests = lines.get(str(line), [])
        if "" in tests:
            users = {test for tests in lines.values() for test in tests if test}
            others = [test for test in linemap["durations"] if test not in users]
            return [*sorted(users), *others], len(users)
        chosen.update(tests)
    return sorted(chosen), len(chosen)


class Killers:
    """Tests that caught earlier mutants of a module run first: `-x` stops at the first failure, so
    a mutant that is caught costs one test, not the suite up to the one that catches it."""

    def __init__(self, durations: dict[str, float]) -> None:
        self.durations = durations
        self.caught: dict[str, int] = {}
        self.lock = threading.Lock()

    def order(self, tests: list[str], first: int) -> list[str]:
        """`tests[:first]` are the likelier ones (they run the module's lines); each part fastest first."""
        with self.lock:
            caught = dict(self.caught)
        rank = {
            test: (-caught.get(test, 0), index >= first, self.durations.get(test, 0.0))
            for index, test in enumerate(tests)
        }
        return sorted(tests, key=lambda test: (rank[test], test))

    def record(self, test: str) -> None:
        with self.lock:
            self.caught[test] = self.caught.get(test, 0) + 1


class ForkServer:
    """One bench/forkserver.py process: pytest runs forked from an interpreter that already holds
    Pulumi, azure-native and pytest, instead of a new interpreter per mutant."""

    def __init__(self, python: str, work: Path) -> None:
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        env.pop("PYTHONPATH", None)
        self.process = subprocess.Popen(
            [python, str(work / "bench" / "forkserver.py")],
            cwd=work,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None and self.process.stdin is not None
        self.stdin, self.stdout = self.process.stdin, self.process.stdout
        if json.loads(self.stdout.readline() or "{}").get("ready") is not True:
            raise SystemExit("the fork server did not start (bench/forkserver.py)")

    def run(self, request: dict[str, object]) -> int:
        self.stdin.write(json.dumps(request) + "\n")
        self.stdin.flush()
        return int(json.loads(self.stdout.readline())["rc"])

    def close(self) -> None:
        self.stdin.close()
        self.process.wait()


FIRST_STAGE = 20
"""Tests run on their own before the rest (see `stages`)."""


def stages(ordered: list[str]) -> list[list[str]]:
    """The likeliest killers first, on their own, then the rest.

    pytest imports every test file it is given before it runs a test, about ten seconds for the
    whole suite, while most mutants fall to one of the first few tests: a mutant of a line run at
    import (which selects the whole suite) should not wait for the collection of files whose tests
    it never reaches. A mutant that survives the first stage runs the rest in a second child.
    """
    if len(ordered) <= 2 * FIRST_STAGE:
        return [ordered]
    return [ordered[:FIRST_STAGE], ordered[FIRST_STAGE:]]


def run_mutant(
    mutant: Mutant,
    selection: tuple[list[str], int],
    servers: queue.Queue[ForkServer],
    killers: Killers,
    work: Path,
) -> str:
    tests, first = selection
    if not tests:
        return "survived"  # no test runs the line: nothing can catch the change
    with tempfile.TemporaryDirectory(prefix="acr-mutant-") as tmp:
        copy_root = Path(tmp) / "components"
        shutil.copytree(package(work), copy_root / "acr_cache", ignore=shutil.ignore_patterns("__pycache__"))
        (copy_root / "acr_cache" / source_file(mutant.module)).write_text(mutant.source, encoding="utf-8")
        log = Path(tmp) / "pytest.log"
        for stage, chosen in enumerate(stages(killers.order(tests, first))):
            # The test ids go through a file: a module's import-time mutants select the whole suite.
            listed = Path(tmp) / f"tests-{stage}.txt"
            listed.write_text("\n".join(chosen) + "\n", encoding="utf-8")
            # A mutant can make a loop endless: one that runs far past its tests' time is caught.
            budget = 60 + 5 * sum(killers.durations.get(test, 1.0) for test in chosen)
            server = servers.get()
            try:
                code = server.run(
                    {
                        "path": str(copy_root),
                        "cwd": str(work),
                        "module": mutant.module,
                        "args": ["-q", "-x", "-p", "no:cacheprovider", "-o", "addopts=", f"@{listed}"],
                        "timeout": budget,
                        "log": str(log),
                    }
                )
            finally:
                servers.put(server)
            if code == NOT_VIABLE:
                return "not viable"
            # 5: no test collected (a selected id that no longer exists): an error, never a survivor.
            if code == 5:
                raise SystemExit(f"the line map is stale for {mutant.module}:{mutant.line}; run again")
            if code != 0:
                failed = re.search(r"^(?:FAILED|ERROR) (\S+)", log.read_text(errors="replace"), re.MULTILINE)
                if failed:
                    killers.record(failed.group(1))
                return "killed"
        return "survived"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", default=list(MODULES))
    parser.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 2)))
    parser.add_argument("--limit", type=int, default=0, help="at most this many mutants per module")
    parser.add_argument(
        "--sample",
        type=int,
        default=0,
        help="this many mutants per module, drawn at random (the same each run)",
    )
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument(
        "--again",
        type=Path,
        default=None,
        help="an earlier --json report: of a module unchanged since, only its survivors run again",
    )
    parser.add_argument(
        "--markdown",
        type=Path,
        default=None,
        help="print the per-module and per-operator tables of a --json report and run nothing",
    )
    args = parser.parse_args()
    if args.markdown:
        print(markdown(json.loads(args.markdown.read_text(encoding="utf-8"))), end="")
        return 0
    python = sys.executable
    unknown = [module for module in args.modules if module not in MODULES]
    if unknown:
        print(f"unknown module {unknown[0]!r}; the modules are {', '.join(MODULES)}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="acr-mutate-") as tmp:
        return measure(args, python, snapshot(Path(tmp)))


def measure(args: argparse.Namespace, python: str, work: Path) -> int:
    linemap = line_map(python, work)
    servers: queue.Queue[ForkServer] = queue.Queue()
    started = [ForkServer(python, work) for _ in range(args.jobs)]
    for server in started:
        servers.put(server)
    try:
        return _measure(args, linemap, servers, work)
    finally:
        for server in started:
            server.close()


def run_all(
    module: str,
    found: list[Mutant],
    selections: list[tuple[list[str], int]],
    servers: queue.Queue[ForkServer],
    killers: Killers,
    work: Path,
    jobs: int,
) -> list[str]:
    done = iter(range(1, len(found) + 1))

    def one(mutant: Mutant, selection: tuple[list[str], int]) -> str:
        outcome = run_mutant(mutant, selection, servers, killers, work)
        count = next(done)  # one step of a shared iterator: safe across the pool's threads
        if count % 50 == 0:
            print(f"  {module}: {count} of {len(found)} mutants run", flush=True)
        return outcome

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, found, selections))


def source_sha(module: str, work: Path) -> str:
    """The module's source without its comments: a comment reworded, or a line marked equivalent
    after a run (a mark is a comment), leaves every mutant on the line it was, so `--again` keeps
    their results instead of running the module whole. A comment line added or removed moves the
    lines below it, and changes the hash."""
    text = (package(work) / source_file(module)).read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT:
            row, column = token.start
            lines[row - 1] = lines[row - 1][:column].rstrip() + "\n"
    return hashlib.sha256("".join(lines).encode()).hexdigest()[:16]


def earlier_shas(module: str, work: Path) -> set[str]:
    """The hashes reports written by earlier versions of the tool hold for this source: the file's
    own, and the file without its equivalence marks."""
    text = (package(work) / source_file(module)).read_text(encoding="utf-8")
    unmarked = "".join(
        line.split(EQUIVALENT, 1)[0].rstrip() + "\n" if EQUIVALENT in line else line
        for line in text.splitlines(keepends=True)
    )
    return {hashlib.sha256(form.encode()).hexdigest()[:16] for form in (text, unmarked)}


# The operator behind each change the tool makes (`Mutant.change` -> operator), for the per-operator
# counts of the report. Those after the blank line came with issue #31.
_OPERATORS: list[tuple[str, str]] = [
    (r"(Eq|NotEq|Lt|LtE|Gt|GtE|In|NotIn|Is|IsNot) -> ", "comparison flipped"),
    (r"(And|Or) -> ", "and/or swapped"),
    (r"condition negated$", "condition negated"),
    (r"`not` removed$", "`not` removed"),
    (r"(True|False) -> ", "boolean flipped"),
    (r"string emptied$", "string emptied"),
    (r"raise removed$", "raise removed"),
    (r"returns None$", "returns None"),
    (r"(-?\d+) -> (-?\d+)$", "number"),  # split into n+1 and n-1 below
    (r"call removed$", "call removed"),
    (r"conditional expression negated$", "inline condition negated"),
    (r"index 0 -> -1$", "index 0 -> -1"),
    (r"(augmented )?(Add|Sub|Mult|Div|FloorDiv|Mod) -> ", "arithmetic swapped"),
    (r"(break|continue) -> ", "break/continue swapped"),
    (r"loop runs zero times$", "loop runs zero times"),
    (r"handler catches nothing$", "handler catches nothing"),
    (r"decorator .* removed$", "decorator removed"),
    (r"lambda returns None$", "lambda returns None"),
]
NEW_OPERATORS = frozenset(
    {
        "number n-1",
        "call removed",
        "inline condition negated",
        "index 0 -> -1",
        "arithmetic swapped",
        "break/continue swapped",
        "loop runs zero times",
        "handler catches nothing",
        "decorator removed",
        "lambda returns None",
    }
)
"""The operators issue #31 added; the others are the tool's first set."""


OPERATOR_SET = "issue-31"
"""Written into each module's report: the operators it was measured with."""


def operator_of(change: str) -> str:
    for pattern, name in _OPERATORS:
        found = re.match(pattern, change)
        if found is None:
            continue
        if name == "number":
            return "number n+1" if int(found.group(2)) > int(found.group(1)) else "number n-1"
        return name
    raise ValueError(f"no operator makes the change {change!r}")


def _killed_behaviour(entry: dict[str, Any]) -> int:
    """Killed mutants that change behaviour in an earlier report (older reports give only scores)."""
    if "killedBehaviour" in entry:
        return int(entry["killedBehaviour"])
    survived = sum(s["kind"] == "behaviour" for s in entry["survivors"])
    candidates = [
        k
        for k in range(int(entry["killed"]) + 1)
        if round(k / max(1, k + survived), 3) == entry["behaviourScore"]
    ]
    return candidates[-1] if candidates else int(entry["killed"])


def _summary(entry: dict[str, Any]) -> dict[str, Any]:
    """An earlier report's figures for a module, with its survivors counted per operator."""
    return {
        "score": entry["score"],
        "killed": int(entry["killed"]),
        "survived": int(entry["survived"]),
        "survivedByOperator": dict(
            sorted(Counter(operator_of(s["change"]) for s in entry["survivors"]).items())
        ),
    }


def _history(before: dict[str, Any] | None, now: dict[str, Any]) -> dict[str, Any]:
    """What a module's entry keeps of earlier runs: `before`, its figures with the first operator set
    (the last report made without issue #31's operators), and `firstRun`, its first run with them
    (before the tests that closed what they found)."""
    if before is None:
        return {"firstRun": now}
    if before.get("operators") != OPERATOR_SET:
        return {"before": _summary(before), "firstRun": now}
    kept: dict[str, Any] = {"firstRun": now}
    kept.update((key, before[key]) for key in ("before", "firstRun") if key in before)
    return kept


def _figure(summary: dict[str, Any] | None) -> str:
    if not summary:
        return "not run"
    return f"{summary['score']:.1%} ({summary['killed']}/{summary['survived']})"


def _by_operator(counts: dict[str, int]) -> str:
    return ", ".join(
        f"{name} {count}" for name, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    )


def markdown(report: dict[str, Any]) -> str:
    """The per-module table (score as killed/survived: with the first operator set, with issue #31's
    on their first run, now) and the survivors per operator before and now, for docs/mutation.md."""
    lines = [
        "| Module | First operators | New operators, first run | Now | Marked equivalent | Survivors now, by operator |",
        "|---|---:|---:|---:|---:|---|",
    ]
    totals: dict[str, Counter[str]] = {"before": Counter(), "firstRun": Counter(), "now": Counter()}
    killed = survived = 0
    for module in MODULES:
        entry = report.get(module)
        if entry is None or entry.get("operators") != OPERATOR_SET:
            lines.append(f"| `{module}` | {_figure(entry and _summary(entry))} | not run | not run | | |")
            continue
        now = _summary(entry)
        killed, survived = killed + now["killed"], survived + now["survived"]
        for key, summary in (
            ("before", entry.get("before")),
            ("firstRun", entry.get("firstRun")),
            ("now", now),
        ):
            totals[key].update((summary or {}).get("survivedByOperator", {}))
        lines.append(
            f"| `{module}` | {_figure(entry.get('before'))} | {_figure(entry.get('firstRun'))} | "
            f"{_figure(now)} | {entry['markedEquivalent']} | {_by_operator(now['survivedByOperator']) or 'none'} |"
        )
    total = f"{killed / (killed + survived):.1%}" if killed + survived else "n/a"
    lines += [
        "",
        f"Over the modules measured with them: {killed} killed, {survived} survived, {total}.",
        "",
        "| Operator | Survivors, first operators | Survivors, first run with the new ones | Survivors now |",
        "|---|---:|---:|---:|",
    ]
    names = sorted({name for _, name in _OPERATORS if name != "number"} | {"number n+1", "number n-1"})
    for name in names:
        counts = [totals[key][name] for key in ("before", "firstRun", "now")]
        new = " (new)" if name in NEW_OPERATORS else ""
        lines.append(f"| {name}{new} | {counts[0]} | {counts[1]} | {counts[2]} |")
    return "\n".join(lines) + "\n"


def _measure(
    args: argparse.Namespace, linemap: dict[str, Any], servers: queue.Queue[ForkServer], work: Path
) -> int:
    earlier: dict[str, Any] = json.loads(args.again.read_text(encoding="utf-8")) if args.again else {}
    # Modules not run now, or not reached by a run that stops, keep their earlier figures: the
    # report stays whole.
    report: dict[str, dict[str, object]] = dict(earlier)
    for module in args.modules:
        found = list(mutants(module, work))
        if args.limit:
            found = found[: args.limit]
        if args.sample and args.sample < len(found):
            # The same mutants every time for the same source: a figure others can reproduce.
            chosen = set(random.Random(f"{module}:{args.sample}").sample(range(len(found)), args.sample))
            found = [mutant for index, mutant in enumerate(found) if index in chosen]
        sha = source_sha(module, work)
        before = earlier.get(module)
        carried = {"killed": 0, "killedBehaviour": 0, "notViable": 0}
        unchanged = before is not None and before.get("sourceSha") in {sha, *earlier_shas(module, work)}
        if before is not None and unchanged and not (args.limit or args.sample):
            # The module is as it was: what was killed stays killed (tests were only added), so only
            # the survivors (by line and change) run again.
            wanted = Counter((s["line"], s["change"]) for s in before["survivors"])
            # A report from before issue #31's operators never made their mutants: they all run.
            older = before.get("operators") != OPERATOR_SET
            found = [
                m
                for m in found
                if wanted[(m.line, m.change)] > 0 or (older and operator_of(m.change) in NEW_OPERATORS)
            ]
            # A line and change can name several mutants (two strings on one line), of which only
            # the survivors' number survived: the others were killed then and run again now, so
            # they leave the carried count (killed or not, they are counted by this run).
            again = Counter((m.line, m.change, m.kind) for m in found if wanted[(m.line, m.change)] > 0)
            before_kinds = Counter((s["line"], s["change"], s["kind"]) for s in before["survivors"])
            extra = {kind: 0 for kind in ("behaviour", "message")}
            for (line, change, kind), count in again.items():
                extra[kind] += count - before_kinds[(line, change, kind)]
            carried = {
                "killed": int(before["killed"]) - sum(extra.values()),
                "killedBehaviour": _killed_behaviour(before) - extra["behaviour"],
                "notViable": int(before["notViable"]),
            }
        elif before is not None:
            print(f"{module}: changed since the earlier report; all of its mutants run", flush=True)
        start = time.perf_counter()
        selections = [tests_for(mutant, linemap) for mutant in found]
        for mutant, (tests, _) in zip(found, selections, strict=True):
            mutant.tests = len(tests)
        outcomes = run_all(module, found, selections, servers, Killers(linemap["durations"]), work, args.jobs)
        for mutant, outcome in zip(found, outcomes, strict=True):
            mutant.outcome = outcome
        viable = [m for m in found if m.outcome != "not viable"]
        survivors = [m for m in viable if m.outcome == "survived"]
        killed = carried["killed"] + sum(m.outcome == "killed" for m in viable)
        killed_behaviour = carried["killedBehaviour"] + sum(
            m.outcome == "killed" and m.kind == "behaviour" for m in viable
        )
        not_viable = carried["notViable"] + len(found) - len(viable)
        survived_behaviour = sum(m.kind == "behaviour" for m in survivors)
        score = killed / (killed + len(survivors)) if killed + len(survivors) else 1.0
        behaviour_score = (
            killed_behaviour / (killed_behaviour + survived_behaviour)
            if killed_behaviour + survived_behaviour
            else 1.0
        )
        marked = marked_count(module, work)
        print(
            f"{module}: {killed} killed, {len(survivors)} survived, {not_viable} not viable, "
            f"{marked} marked equivalent; "
            f"score {score:.0%}, without message texts {behaviour_score:.0%} "
            f"({time.perf_counter() - start:.0f} s)",
            flush=True,
        )
        for mutant in survivors:
            reach = f"{mutant.tests} tests run it" if mutant.tests else "no test runs it"
            print(
                f"  survived: components/acr_cache/{source_file(module)}:{mutant.line}: {mutant.change} "
                f"({mutant.kind}; {reach})",
                flush=True,
            )
        now = {
            "score": round(score, 3),
            "killed": killed,
            "survived": len(survivors),
            "survivedByOperator": dict(sorted(Counter(operator_of(m.change) for m in survivors).items())),
        }
        report[module] = {
            **_history(before, now),
            "sourceSha": sha,
            "killed": killed,
            "killedBehaviour": killed_behaviour,
            "survived": len(survivors),
            "notViable": not_viable,
            "markedEquivalent": marked,
            "score": round(score, 3),
            "sample": args.sample or None,
            "behaviourScore": round(behaviour_score, 3),
            "operators": OPERATOR_SET,
            "survivedByOperator": now["survivedByOperator"],
            "survivors": [{k: v for k, v in asdict(m).items() if k != "source"} for m in survivors],
        }
        if args.json:  # after each module: a long run that stops keeps what it measured
            args.json.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
