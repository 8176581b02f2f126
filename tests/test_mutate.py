"""The mutation tool's own operators (bench/mutate.py): each change it makes, on a small module, as
the mutated source reads; and the equivalence marker that keeps a line's mutants out of the run."""

from __future__ import annotations

import ast
import importlib.util
import json
import queue
import sys
from pathlib import Path
from types import ModuleType

from tests.conftest import ROOT


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("acr_mutate", ROOT / "bench" / "mutate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["acr_mutate"] = module
    spec.loader.exec_module(module)
    return module


MUTATE = _tool()

SOURCE = '''\
"""A module."""
import functools


@functools.cache
def check(response, found, name, items, n):
    response.raise_for_status()
    found.add(name)
    first = items[0]
    label = "one" if n == 1 else "many"
    total = n + 2
    total -= 1
    for item in items:
        if item:
            break
        continue
    try:
        total = total * 3
    except ValueError:
        total = 0
    pick = lambda x: x[1]
    return first, label, total, pick
'''


def mutated(tmp_path: Path, source: str = SOURCE) -> dict[str, list[str]]:
    """change -> the unparsed sources of its mutants, for a module `sample` in a work tree."""
    package = tmp_path / "components" / "acr_cache"
    package.mkdir(parents=True, exist_ok=True)
    (package / "sample.py").write_text(source, encoding="utf-8")
    found: dict[str, list[str]] = {}
    for mutant in MUTATE.mutants("sample", tmp_path):
        found.setdefault(mutant.change, []).append(mutant.source)
    return found


def body_line(source: str, start: str) -> str:
    return next(line.strip() for line in source.splitlines() if line.strip().startswith(start))


def test_a_call_statement_is_removed(tmp_path: Path) -> None:
    sources = mutated(tmp_path)["call removed"]
    assert len(sources) == 2
    assert any("raise_for_status" not in s for s in sources)
    assert any("found.add" not in s and "raise_for_status" in s for s in sources)


def test_an_inline_condition_is_negated(tmp_path: Path) -> None:
    [source] = mutated(tmp_path)["conditional expression negated"]
    assert body_line(source, "label =") == "label = 'one' if not n == 1 else 'many'"


def test_numbers_move_both_ways_and_index_zero_becomes_the_last(tmp_path: Path) -> None:
    found = mutated(tmp_path)
    assert any(body_line(s, "total = n") == "total = n + 1" for s in found["2 -> 1"])
    assert any(body_line(s, "total = n") == "total = n + 3" for s in found["2 -> 3"])
    [last] = found["index 0 -> -1"]
    assert body_line(last, "first =") == "first = items[-1]"
    # `items[0]` -> `items[-1]` is the index change, not also a number change.
    assert all(body_line(s, "first =") != "first = items[-1]" for s in found.get("0 -> -1", []))
    # Other indexes move as numbers.
    assert any("x[0]" in s for s in found["1 -> 0"])


def test_arithmetic_loops_jumps_and_handlers(tmp_path: Path) -> None:
    found = mutated(tmp_path)
    assert any(body_line(s, "total = n") == "total = n - 2" for s in found["Add -> Sub"])
    assert body_line(found["augmented Sub -> Add"][0], "total +=") == "total += 1"
    assert any(body_line(s, "total = total") == "total = total / 3" for s in found["Mult -> Div"])
    assert "for item in []:" in found["loop runs zero times"][0]
    assert any("continue" in s and "break" not in s for s in found["break -> continue"])
    assert any(s.count("break") == 2 for s in found["continue -> break"])
    assert "except ():" in found["handler catches nothing"][0]
    assert "@functools.cache" not in found["decorator functools.cache removed"][0]
    assert "pick = lambda x: None" in found["lambda returns None"][0]


def test_the_earlier_operators_stay(tmp_path: Path) -> None:
    found = mutated(tmp_path)
    for change in ("Eq -> NotEq", "condition negated", "returns None", "string emptied"):
        assert change in found, change


def test_an_equivalence_mark_keeps_a_lines_mutants_out(tmp_path: Path) -> None:
    marked = SOURCE.replace(
        "    found.add(name)\n", "    found.add(name)  # mutation: equivalent (a cache)\n"
    )
    found = mutated(tmp_path, marked)
    assert len(found["call removed"]) == 1
    assert MUTATE.marked_count("sample", tmp_path) == 1


def test_a_mark_on_a_decorators_line_covers_its_removal_and_nothing_else(tmp_path: Path) -> None:
    # The removal is made on the function's node (its line is the `def`), so the mark on the
    # decorator's own line must reach it; the function's body keeps its mutants.
    assert len(mutated(tmp_path)["decorator functools.cache removed"]) == 1
    marked = SOURCE.replace("@functools.cache\n", "@functools.cache  # mutation: equivalent (a cache)\n")
    found = mutated(tmp_path, marked)
    assert "decorator functools.cache removed" not in found
    assert len(found["call removed"]) == 2
    assert MUTATE.marked_count("sample", tmp_path) == 1


def test_a_mark_after_a_wrapped_statement_covers_it_and_only_a_simple_one(tmp_path: Path) -> None:
    # ruff format puts the trailing comment of a wrapped assert after its closing parenthesis.
    source = (
        "def f(a, b, c):\n"
        "    assert (\n"
        "        a is not None and b is not None\n"
        "    )  # mutation: equivalent (narrows types)\n"
        "    if c:\n"
        "        return c == 1  # mutation: equivalent (the body's own line only)\n"
        "    return a\n"
    )
    found = mutated(tmp_path, source)
    # The `if` ends on the marked line too, but its condition stays mutated: a mark covers no block.
    assert {change: len(sources) for change, sources in found.items()} == {
        "condition negated": 1,
        "returns None": 1,
    }
    (unmarked,) = found["returns None"]
    assert "return c == 1" in unmarked and "return a" not in unmarked
    # and/or, two `is not` flips, == -> !=, 1 -> 2, 1 -> 0 and the returned comparison: all marked.
    assert MUTATE.marked_count("sample", tmp_path) == 7


def test_every_mutant_of_a_real_module_parses() -> None:
    # What the tool writes must be Python the forkserver can import (or it is "not viable").
    changes = set()
    for mutant in MUTATE.mutants("token_password", ROOT):
        ast.parse(mutant.source)
        changes.add(mutant.change)
    assert {
        "call removed",
        "raise removed",
        "index 0 -> -1",
        "handler catches nothing",
        "conditional expression negated",
        "lambda returns None",
    } <= changes


def test_a_change_in_a_cached_function_runs_every_test(tmp_path: Path) -> None:
    # Its lines run in whichever test calls it first; the others read the cache and the line map
    # never names them (review.diff's `_defaults` looked uncaught this way).
    found = list(MUTATE.mutants("sample", _work(tmp_path)))
    inside = [m for m in found if m.cached]
    assert inside and all(m.line >= 6 for m in inside)
    linemap = {
        "lines": {"sample": {"9": ["tests/test_a.py::first"]}},
        "durations": {"tests/test_a.py::first": 0.1, "tests/test_b.py::second": 0.2},
    }
    tests, first = MUTATE.tests_for(inside[0], linemap)
    assert tests == ["tests/test_a.py::first", "tests/test_b.py::second"] and first == 1


def _work(tmp_path: Path) -> Path:
    package = tmp_path / "components" / "acr_cache"
    package.mkdir(parents=True, exist_ok=True)
    (package / "sample.py").write_text(SOURCE, encoding="utf-8")
    return tmp_path


def test_every_change_names_its_operator(tmp_path: Path) -> None:
    # The report counts survivors per operator; a change no operator claims would be a crash there.
    operators = {MUTATE.operator_of(change) for change in mutated(tmp_path)}
    assert {"call removed", "number n+1", "number n-1", "index 0 -> -1", "arithmetic swapped"} <= operators
    assert MUTATE.operator_of("2 -> 3") == "number n+1" and MUTATE.operator_of("-1 -> -2") == "number n-1"
    assert MUTATE.operator_of("IsNot -> Is") == "comparison flipped"
    assert MUTATE.operator_of("augmented Sub -> Add") == "arithmetic swapped"
    assert MUTATE.operator_of("decorator functools.cache removed") in MUTATE.NEW_OPERATORS
    assert MUTATE.operator_of("string emptied") not in MUTATE.NEW_OPERATORS


def test_a_mark_added_later_keeps_the_source_hash(tmp_path: Path) -> None:
    # `--again` reruns only survivors of a module whose source is unchanged: marking a line
    # equivalent must not count as a change, any other edit must.
    work = _work(tmp_path)
    before = MUTATE.source_sha("sample", work)
    path = work / "components" / "acr_cache" / "sample.py"
    path.write_text(
        SOURCE.replace("    found.add(name)\n", "    found.add(name)  # mutation: equivalent (why)\n")
    )
    assert MUTATE.source_sha("sample", work) == before
    path.write_text(SOURCE.replace("found.add(name)", "found.discard(name)"))
    assert MUTATE.source_sha("sample", work) != before


def test_a_reworded_comment_keeps_the_hash_and_a_moved_line_does_not(tmp_path: Path) -> None:
    work = _work(tmp_path)
    path = work / "components" / "acr_cache" / "sample.py"
    commented = SOURCE.replace("    total -= 1\n", "    # one said\n    total -= 1  # why\n")
    path.write_text(commented)
    before = MUTATE.source_sha("sample", work)
    path.write_text(commented.replace("# one said", "# another said").replace("# why", "# because"))
    assert MUTATE.source_sha("sample", work) == before
    # A comment line more moves every line below it, where the earlier survivors were found.
    path.write_text(commented.replace("# one said\n", "# one said\n    # and more\n"))
    assert MUTATE.source_sha("sample", work) != before
    # A `#` inside a string is no comment.
    path.write_text(commented.replace('"one"', '"#one"'))
    assert MUTATE.source_sha("sample", work) != before
    # Reports of earlier versions of the tool hashed the file itself, or the file without its marks.
    import hashlib

    assert hashlib.sha256(commented.replace('"one"', '"#one"').encode()).hexdigest()[
        :16
    ] in MUTATE.earlier_shas("sample", work)


def test_the_report_keeps_the_first_figures_and_renders_them() -> None:
    # A module's entry keeps its figures with the first operator set (`before`) and its first run with
    # the new operators (`firstRun`) across later runs; --markdown renders both beside the current one.
    survivor = {"line": 3, "change": "call removed", "kind": "behaviour"}
    older = {"score": 0.9, "killed": 9, "survived": 1, "survivors": [{**survivor, "change": "Eq -> NotEq"}]}
    first = {"score": 0.5, "killed": 1, "survived": 1, "survivedByOperator": {"call removed": 1}}
    kept = MUTATE._history(older, first)
    assert kept["before"]["survivedByOperator"] == {"comparison flipped": 1} and kept["firstRun"] == first
    later = {"score": 1.0, "killed": 2, "survived": 0, "survivedByOperator": {}}
    entry = {**kept, "operators": MUTATE.OPERATOR_SET}
    assert MUTATE._history(entry, later) == kept
    report = {
        "roles": {**entry, "markedEquivalent": 1, **later, "survivors": []},
        "access": {**older, "markedEquivalent": 0},
    }
    table = MUTATE.markdown(report)
    assert "| `roles` | 90.0% (9/1) | 50.0% (1/1) | 100.0% (2/0) | 1 | none |" in table
    assert "| `access` | 90.0% (9/1) | not run | not run | | |" in table
    assert "| call removed (new) | 0 | 1 | 0 |" in table
    assert "| comparison flipped | 1 | 0 | 0 |" in table


def test_a_validators_classmethod_is_not_taken_away(tmp_path: Path) -> None:
    # pydantic turns a field or model validator into a classmethod itself; a plain classmethod's
    # decorator is still removed.
    source = (
        "from pydantic import field_validator\n\n\n"
        "class A:\n"
        "    @field_validator('x')\n"
        "    @classmethod\n"
        "    def _x(cls, value):\n"
        "        return value\n\n"
        "    @classmethod\n"
        "    def make(cls):\n"
        "        return cls()\n"
    )
    found = mutated(tmp_path, source)
    assert len(found["decorator classmethod removed"]) == 1
    assert "def make(cls)" in found["decorator classmethod removed"][0]
    assert "@classmethod\n    def make" not in found["decorator classmethod removed"][0]
    assert len(found["decorator field_validator removed"]) == 1


def test_the_mutation_page_shows_the_report() -> None:
    # docs/mutation.md's tables are the report's, rendered by `--markdown`: regenerate them after a run.
    page = (ROOT / "docs" / "mutation.md").read_text(encoding="utf-8")
    start, end = "<!-- mutation-table:start -->\n", "<!-- mutation-table:end -->"
    shown = page[page.index(start) + len(start) : page.index(end)]
    report = json.loads((ROOT / "bench" / "mutation.json").read_text(encoding="utf-8"))
    assert shown == MUTATE.markdown(report)


class _FakeServer:
    """Answers as bench/forkserver.py would: each stage's exit code, and the failure in its log."""

    def __init__(self, codes: list[int]) -> None:
        self.codes = codes
        self.asked: list[list[str]] = []

    def run(self, request: dict[str, object]) -> int:
        listed = str(request["args"][-1]).removeprefix("@")  # type: ignore[index]
        self.asked.append(Path(listed).read_text(encoding="utf-8").split())
        code = self.codes[len(self.asked) - 1]
        if code == 1:
            Path(str(request["log"])).write_text(f"FAILED {self.asked[-1][0]} - assert\n", encoding="utf-8")
        return code


def _run(tmp_path: Path, tests: list[str], codes: list[int]) -> tuple[str, _FakeServer, object]:
    work = _work(tmp_path)
    mutant = next(iter(MUTATE.mutants("sample", work)))
    server = _FakeServer(codes)
    servers: queue.Queue[object] = queue.Queue()
    servers.put(server)
    killers = MUTATE.Killers({test: 0.1 for test in tests})
    outcome = MUTATE.run_mutant(mutant, (tests, len(tests)), servers, killers, work)
    return outcome, server, killers


def test_the_likeliest_killers_run_before_the_rest_is_collected(tmp_path: Path) -> None:
    suite = [f"tests/test_{n // 10}.py::t{n:03}" for n in range(100)]
    head = MUTATE.FIRST_STAGE
    # Caught by the first stage: the rest is never collected.
    outcome, server, killers = _run(tmp_path / "a", suite, [1])
    assert outcome == "killed" and server.asked == [suite[:head]]
    assert killers.caught == {suite[0]: 1}  # type: ignore[attr-defined]
    # Caught by the second: every test ran, each once.
    outcome, server, _ = _run(tmp_path / "b", suite, [0, 1])
    assert outcome == "killed" and server.asked == [suite[:head], suite[head:]]
    outcome, server, _ = _run(tmp_path / "c", suite, [0, 0])
    assert outcome == "survived" and len(server.asked) == 2
    # A mutant that does not import is told at the first stage; a short selection runs in one.
    assert _run(tmp_path / "d", suite, [MUTATE.NOT_VIABLE])[0] == "not viable"
    short = suite[: 2 * head]
    outcome, server, _ = _run(tmp_path / "e", short, [0])
    assert outcome == "survived" and server.asked == [short]


class _StopAt(_FakeServer):
    """Kills every mutant of `sample`, then stops the run (Ctrl-C) at the first of any other module."""

    def run(self, request: dict[str, object]) -> int:
        if request["module"] != "sample":
            raise KeyboardInterrupt
        return super().run(request)


def test_a_stopped_run_keeps_the_figures_of_the_modules_it_did_not_reach(tmp_path: Path) -> None:
    import argparse

    import pytest

    work = _work(tmp_path)
    package = work / "components" / "acr_cache"
    (package / "later.py").write_text("def f(x):\n    return x == 1\n", encoding="utf-8")
    earlier = {
        name: {"score": 0.5, "killed": 1, "survived": 1, "notViable": 0, "survivors": [], "sourceSha": "old"}
        for name in ("sample", "later", "untouched")
    }
    again = tmp_path / "earlier.json"
    again.write_text(json.dumps(earlier), encoding="utf-8")
    written = tmp_path / "report.json"
    test = "tests/test_a.py::t"
    every_line = {str(n): [test] for n in range(1, 40)}
    linemap = {"lines": {"sample": every_line, "later": every_line}, "durations": {test: 0.1}}
    servers: queue.Queue[object] = queue.Queue()
    servers.put(_StopAt([1] * 1000))
    args = argparse.Namespace(
        modules=["sample", "later"], json=written, again=again, limit=0, sample=0, jobs=1
    )
    with pytest.raises(KeyboardInterrupt):
        MUTATE._measure(args, linemap, servers, work)
    report = json.loads(written.read_text(encoding="utf-8"))
    # The module measured has its new figures; the one the stop cut off and the one not named keep
    # theirs, so the report never loses a module.
    assert report["sample"]["survived"] == 0 and report["sample"]["killed"] > 1
    assert report["later"] == earlier["later"] and report["untouched"] == earlier["untouched"]
