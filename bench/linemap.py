"""A pytest plugin for bench/mutate.py: which tests run which lines of the package.

    python -m pytest -p bench.linemap ...   (with ACR_CACHE_LINEMAP=<output file>)

A mutant can only be caught by a test that runs the line it changed, so the mutation tool runs
those tests alone instead of the whole suite for every mutant. Lines run outside any test (module
and class bodies, decorators, default arguments: everything done at import) are recorded under
the key `""`; a mutant there can change what every test of its module sees.

Only the standard library (`sys.settrace`, no coverage package); the trace is limited to the
package's own files, so the rest of the run keeps near its normal speed.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

PACKAGE = str(Path(__file__).resolve().parent.parent / "components" / "acr_cache") + os.sep

_current = ""  # the test running now ("" outside any test)
_lines: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
_durations: dict[str, float] = {}
_ours: dict[str, str | None] = {}  # co_filename -> module name, or None when not in the package


def _module_of(filename: str) -> str | None:
    if filename not in _ours:
        # The mutation tool points PYTHONPATH at a copy; the map is made on the tree itself.
        _ours[filename] = (
            filename[len(PACKAGE) :].removesuffix(".py").replace(os.sep, ".")
            if filename.startswith(PACKAGE) and filename.endswith(".py")
            else None
        )
    return _ours[filename]


def _at_import(frame: FrameType) -> bool:
    """A module body, or what it runs while its module is imported (a class body, a default's
    factory): imported inside a test (the package imports some modules lazily), it still runs once
    for every test that comes after."""
    caller: FrameType | None = frame
    while caller is not None:
        if caller.f_code.co_name == "<module>":
            return _module_of(caller.f_code.co_filename) is not None
        caller = caller.f_back
    return False


def _global(frame: FrameType, event: str, arg: Any) -> Any:
    module = _module_of(frame.f_code.co_filename)
    if module is None:
        return None
    seen = _lines[module]
    # Lines run at import are keyed by "" (not by the test that happened to import the module).
    key = "" if _at_import(frame) else _current
    # The call itself reaches the `def` line's frame; the body's lines come as line events.
    seen[frame.f_lineno].add(key)

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line":
            seen[frame.f_lineno].add(key)
        return local

    return local


# From the plugin's own import on, before the conftest imports the package: its module bodies are
# what runs at import. The event loop's executor threads (which run the mocks) are traced too.
sys.settrace(_global)
threading.settrace(_global)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    global _current
    _current = item.nodeid
    start = time.perf_counter()
    yield
    _durations[item.nodeid] = time.perf_counter() - start
    _current = ""


def pytest_unconfigure(config: pytest.Config) -> None:
    sys.settrace(None)
    threading.settrace(None)
    target = os.environ.get("ACR_CACHE_LINEMAP")
    if not target:
        return
    document = {
        "lines": {
            module: {str(line): sorted(tests) for line, tests in lines.items()}
            for module, lines in _lines.items()
        },
        "durations": _durations,
    }
    Path(target).write_text(json.dumps(document), encoding="utf-8")
