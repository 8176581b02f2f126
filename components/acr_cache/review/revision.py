"""The plan of a stack as it was at a git revision: the stack file and the program of that revision,
planned by that revision's own code, so that the base of a diff is what was deployed from it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from acr_cache.redaction import one_line
from acr_cache.review.diff import PlanDocumentError, load_plan


class RevisionError(Exception):
    """The revision could not be read or planned; the message says what to do."""


def _git(args: list[str], cwd: Path) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise RevisionError("`git` is not installed: --base needs it (or diff two JSON plans)") from None
    if done.returncode != 0:
        message = one_line(done.stderr.decode(errors="replace").strip())
        raise RevisionError(f"git {args[0]} failed: {message}")
    return done.stdout


def plan_at_revision(revision: str, stack: str | None, config: Path | None, cwd: Path) -> dict[str, Any]:
    """The JSON plan of the stack at `revision`. A stack file the revision lacks plans as empty (the
    stack is new: everything in the head is a create)."""
    if revision.startswith("-"):
        raise RevisionError(f"--base {revision!r}: not a git revision")
    root = Path(_git(["rev-parse", "--show-toplevel"], cwd).decode().strip())
    try:
        # Not --quiet: git's own reason (an unknown name, an ambiguous one, a shallow clone that
        # lacks the commit) is what the user needs to see.
        commit = (
            _git(["rev-parse", "--verify", "--end-of-options", f"{revision}^{{commit}}"], root)
            .decode()
            .strip()
        )
    except RevisionError as exc:
        reason = str(exc).removeprefix("git rev-parse failed: ") or "no such commit"
        raise RevisionError(
            f"--base {revision!r} is not a commit here (git: {reason}): give a branch, tag or commit "
            "that this clone has (`git fetch` it first in a shallow clone)"
        ) from None
    where = cwd.resolve().relative_to(root.resolve())
    stack_file = config.resolve() if config else (cwd / f"Pulumi.{stack}.yaml").resolve()
    name = stack_file.name.removeprefix("Pulumi.").removesuffix(".yaml")
    try:
        inside = stack_file.relative_to(root.resolve())
    except ValueError:
        raise RevisionError(f"{stack_file} is not in the git repository at {root}") from None
    archive = _git(["archive", "--format=tar", commit], root)
    with tempfile.TemporaryDirectory(prefix="acr-cache-base-") as directory:
        tree = Path(directory)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            # `git archive` of our own repository; the "data" filter (Python 3.11.4 and later) also
            # refuses links out of the tree, where the interpreter has it.
            if hasattr(tarfile, "data_filter"):
                tar.extractall(tree, filter="data")
            else:  # Python 3.11.0 to 3.11.3
                tar.extractall(tree)
        if not (tree / inside).is_file():
            return {"project": "", "stack": name, "resources": [], "outputs": {}, "missing": True}
        environment = dict(os.environ)
        library = tree / "components"
        if library.is_dir():
            # The revision's own library first: its program and components plan the base.
            environment["PYTHONPATH"] = os.pathsep.join(
                [str(library), *filter(None, [environment.get("PYTHONPATH")])]
            )
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "acr_cache.cli",
                "plan",
                "--config",
                str(tree / inside),
                "--cwd",
                str(tree / where),
                "--format",
                "json",
            ],
            capture_output=True,
            env=environment,
            check=False,
        )
    if not done.stdout.strip():
        detail = one_line(done.stderr.decode(errors="replace").strip()[-600:])
        raise RevisionError(
            f"the stack {name} at {revision} could not be planned (exit {done.returncode}): {detail}"
        )
    try:
        return load_plan(done.stdout.decode(), f"the plan of {name} at {revision}")
    except PlanDocumentError as exc:
        raise RevisionError(str(exc)) from None
