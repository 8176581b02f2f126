#!/usr/bin/env python3
"""Developer entry point that needs nothing but Python 3.11+ (standard library only).

    python3 dev.py plan dev            offline plan of the dev stack (acr-cache plan dev)
    python3 dev.py test                lint, type-check and run the tests
    python3 dev.py run CMD [ARGS...]   any command inside the project's locked environment
    python3 dev.py mutate [MODULE...]  mutation testing of the modules that decide wire values
                                       (bench/mutate.py; minutes per module, not part of CI)

On first use it installs uv (pinned) into .tools/ unless uv is already on PATH, then creates .venv
from uv.lock with exactly the locked versions. Later runs reuse both.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
UV_VERSION = "0.13.9"
BIN = "Scripts" if os.name == "nt" else "bin"
EXE = ".exe" if os.name == "nt" else ""


def _uv() -> str:
    found = shutil.which("uv")
    if found:
        return found
    tools = ROOT / ".tools" / "uv"
    uv = tools / BIN / f"uv{EXE}"
    if not uv.exists():
        print(f"dev.py: installing uv {UV_VERSION} into {tools.relative_to(ROOT)}/", file=sys.stderr)
        venv.EnvBuilder(with_pip=True, clear=True).create(tools)
        subprocess.run(
            [str(tools / BIN / f"python{EXE}"), "-m", "pip", "install", "--quiet", f"uv=={UV_VERSION}"],
            check=True,
        )
    return str(uv)


def _sync() -> Path:
    env = dict(os.environ, UV_PYTHON_DOWNLOADS="never")
    # --locked: fail instead of silently re-resolving when pyproject.toml and uv.lock disagree.
    # --compile-bytecode: write every .pyc once (about 10 s, first sync only), so that no run pays
    # for compiling pulumi-azure-native from source, even where PYTHONDONTWRITEBYTECODE is set.
    subprocess.run(
        [_uv(), "sync", "--locked", "--quiet", "--compile-bytecode", "--python", sys.executable],
        cwd=ROOT,
        env=env,
        check=True,
    )
    bin_dir = ROOT / ".venv" / BIN
    # The project's own modules are installed editable, so the sync compiles none of them; with
    # PYTHONDONTWRITEBYTECODE set, every run would compile them again (about 0.15 s per process).
    # compileall writes what is missing or stale and leaves the rest alone.
    subprocess.run(
        [str(bin_dir / f"python{EXE}"), "-m", "compileall", "-q", "components", "stacks", "policy"],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return bin_dir


def _run(*commands: list[str]) -> int:
    for command in commands:
        code = subprocess.run(command, cwd=ROOT).returncode
        if code != 0:
            return code
    return 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    verb, rest = argv[0], argv[1:]
    if verb not in ("plan", "test", "run", "mutate"):
        print(f"dev.py: unknown command {verb!r}\n{__doc__}", file=sys.stderr)
        return 2
    bin_dir = _sync()
    python = str(bin_dir / f"python{EXE}")
    if verb == "plan":
        return subprocess.run([str(bin_dir / f"acr-cache{EXE}"), "plan", *rest]).returncode
    if verb == "mutate":
        return subprocess.run([python, str(ROOT / "bench" / "mutate.py"), *rest]).returncode
    if verb == "run":
        if not rest:
            print("dev.py run: name a command", file=sys.stderr)
            return 2
        executable = bin_dir / f"{rest[0]}{EXE}"
        return subprocess.run([str(executable) if executable.exists() else rest[0], *rest[1:]]).returncode
    return _run(
        [python, "-m", "ruff", "check", "."],
        [python, "-m", "ruff", "format", "--check", "."],
        [python, "-m", "mypy"],
        [python, "-m", "pytest", *rest],
    )


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except subprocess.CalledProcessError as exc:
        command = " ".join(map(str, exc.cmd))
        print(f"dev.py: {command} failed with exit status {exc.returncode}", file=sys.stderr)
        sys.exit(exc.returncode)
