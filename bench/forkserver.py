"""A fork server for bench/mutate.py: pytest in a fresh child per mutant, without the start-up.

    python bench/forkserver.py     (requests on stdin, one JSON object per line; answers on stdout)

Starting Python, pytest, Pulumi and azure-native costs about two seconds, more than most mutants'
tests. The server imports the third-party modules the package uses once, then forks a child per
request: the child puts the mutant's copy of the package first on sys.path, imports the mutated
module (a mutant that does not import is not viable), runs pytest and exits. The server itself
never imports the package, so every child imports the mutant's own copy.

Each request is `{"path": <dir holding acr_cache>, "cwd": ..., "module": ..., "args": [...],
"timeout": seconds, "log": <file for the child's output>}`; each answer `{"rc": <exit code>}`,
where -1 is a timeout (the mutant made the tests hang) and 99 a mutant that does not import.
One request at a time: the server has one thread, so forking is safe.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

NOT_VIABLE = 99
TIMED_OUT = -1


def preload() -> None:
    """Import what the package imports from outside itself, in a throwaway interpreter's view."""
    probe = (
        "import sys, acr_cache.program, acr_cache.cli, acr_cache.plan.runner\n"
        "print('\\n'.join(m for m in sys.modules if not m.startswith(('acr_cache', '__main__'))))"
    )
    names = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    for name in ["pytest", "hypothesis", *names.split()]:
        # A module that only imports on some platform, or half-made by another: the child retries.
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    leaked = [m for m in sys.modules if m.startswith("acr_cache")]
    if leaked:
        raise SystemExit(
            f"the fork server imported the package itself ({leaked[0]}): mutants would not be seen"
        )


def child(request: dict[str, object]) -> None:
    log = os.open(str(request["log"]), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.chdir(str(request["cwd"]))
    # The child ends with os._exit, so nothing it leaves in the temporary directory (the suite's
    # per-process caches) is removed by it: it writes into the mutant's own, which the tool removes.
    tempfile.tempdir = os.path.dirname(str(request["log"]))
    sys.path.insert(0, str(request["path"]))
    sys.path.insert(0, str(request["cwd"]))  # `python -m pytest` puts the directory first: tests.engine
    os.environ["PYTHONPATH"] = str(request["path"])
    try:
        importlib.import_module(f"acr_cache.{request['module']}")
    except BaseException:
        os._exit(NOT_VIABLE)
    import pytest

    code = pytest.main([str(arg) for arg in request["args"]])  # type: ignore[attr-defined]
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(code))


def serve() -> None:
    preload()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            try:
                child(request)
            finally:
                os._exit(70)
        deadline = time.monotonic() + float(request["timeout"])
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                code = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                code = TIMED_OUT
                break
            time.sleep(0.01)
        print(json.dumps({"rc": code}), flush=True)


if __name__ == "__main__":
    serve()
