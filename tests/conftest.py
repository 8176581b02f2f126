"""Shared fixtures: every test gets its own event loop and a clean Pulumi runtime."""

from __future__ import annotations

import asyncio
import atexit
import copy
import gc
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from acr_cache.config import NAMESPACE, parse_stack_config
from acr_cache.plan.runner import PlannedResource, ProgramRun, close_loop, run_program
from acr_cache.program import build
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir
from pulumi.runtime import resource as sdk_resource

ROOT = Path(__file__).resolve().parent.parent

# No test writes into the tree: two test processes (CI beside a developer's run, the mutation
# tool's jobs) must never see each other's files. Hypothesis keeps no example database here.
settings.register_profile("acr-cache", database=None)
settings.load_profile("acr-cache")
_HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="acr-cache-hypothesis-")
set_hypothesis_home_dir(_HYPOTHESIS_HOME)  # its caches, per process
atexit.register(shutil.rmtree, _HYPOTHESIS_HOME, ignore_errors=True)

VALID: dict[str, Any] = {
    "resourceGroup": {"name": "rg-acr-test", "create": True},
    "registry": {"name": "acrcachetest01", "location": "westeurope"},
    "protection": {"protect": True},
}


@pytest.fixture(autouse=True)
def fresh_loop() -> Iterator[asyncio.AbstractEventLoop]:
    # A registration that one test leaves behind must never run inside the next (pulumi#6561).
    thresholds = gc.get_threshold()
    sdk_stack_trace = sdk_resource._get_stack_trace
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield loop
    close_loop(loop)
    # The stack program tunes the collector for one run (acr_cache.performance); a test process
    # runs many, and must free what each leaves behind.
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    sdk_resource._get_stack_trace = sdk_stack_trace


DOCKER_HUB_SET: dict[str, Any] = {
    "dockerhub": {
        "loginServer": "docker.io",
        "username": {"secretName": "u"},
        "password": {"secretName": "p"},
    }
}
"""A Docker Hub credential set whose secrets exist in the vault already (`credentialSets`)."""

HUB_SET_FROM_CONFIG: dict[str, Any] = {
    "loginServer": "docker.io",
    "username": {"configKey": "hubUser"},
    "password": {"configKey": "hubToken"},
}
"""A Docker Hub credential set whose secrets the stack writes from config keys hubUser, hubToken."""
HUB_LIBRARY_RULE: dict[str, Any] = {
    "source": "docker.io/library/*",
    "target": "library/*",
    "credentialSet": "dockerhub",
}
"""Docker Hub's official images through the `dockerhub` set (`cacheRules.dockerhub-library`)."""


def sections(**changes: Any) -> dict[str, Any]:
    """A valid config document with sections replaced (None removes one)."""
    document = copy.deepcopy(VALID)
    for key, value in changes.items():
        if value is None:
            document.pop(key, None)
        else:
            document[key] = value
    return document


def as_pulumi_config(document: dict[str, Any]) -> dict[str, str]:
    """Config values the way the engine passes them: full keys, objects as JSON text."""
    return {f"{NAMESPACE}:{key}": json.dumps(value) for key, value in document.items()}


def run_stack(
    document: dict[str, Any], *, secrets: dict[str, str] | None = None, preview: bool = False
) -> ProgramRun:
    """Validate a config document (plus secret keys) and run the real program on it under the mocks."""
    values = as_pulumi_config(document)
    secret_keys = [f"{NAMESPACE}:{key}" for key in secrets or {}]
    values.update({f"{NAMESPACE}:{key}": value for key, value in (secrets or {}).items()})
    config = parse_stack_config(values, secret_keys)
    return run_program(
        lambda: _build(config),
        project="acr-cache",
        stack="test",
        config=values,
        secret_keys=secret_keys,
        preview=preview,
    )


def _build(config: Any) -> None:
    build(config)


def stack_plan(stack: str) -> dict[str, Any]:
    """`acr-cache plan STACK --format json` of a shipped stack, parsed."""
    import io
    from contextlib import redirect_stderr, redirect_stdout

    from acr_cache.cli import main

    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(io.StringIO()):
        assert main(["plan", stack, "--format", "json", "--cwd", str(ROOT)]) == 0
    return dict(json.loads(out.getvalue()))


def by_type(run: ProgramRun, type_token: str) -> list[PlannedResource]:
    return [r for r in run.resources if r.type == type_token]


def one(run: ProgramRun, type_token: str) -> PlannedResource:
    found = by_type(run, type_token)
    assert len(found) == 1, f"expected one {type_token}, got {[r.name for r in found]}"
    return found[0]


def refusal_ids(cases: list[tuple[Any, str, str]]) -> list[str]:
    """Test ids that say what each refusal case refuses: `<key path> <what the message says>`."""
    ids = []
    for _, key, fragment in cases:
        words = "-".join("".join(c if c.isalnum() else " " for c in fragment).split()[:6]).lower()
        ids.append(f"{key.partition(':')[2]} {words}")
    # Two cases can refuse the same key the same way: number the repeats.
    return [f"{i} #{ids[:n].count(i) + 1}" if ids.count(i) > 1 else i for n, i in enumerate(ids)]


@pytest.fixture
def loopback_entra(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Point azure-identity at the loopback server as Entra ID (AZURE_AUTHORITY_HOST, trusted
    through REQUESTS_CA_BUNDLE) and clear every login setting of this machine."""
    from acr_cache.azure_login import SETTINGS

    for variable in [*SETTINGS.values(), "AZURE_ENVIRONMENT", "AZURE_CLIENT_ID", "AZURE_TENANT_ID"]:
        monkeypatch.delenv(variable, raising=False)

    def trust(server: Any) -> None:
        monkeypatch.setenv("AZURE_AUTHORITY_HOST", server.endpoint)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.cert_path))

    return trust


def reviewed_snapshot(text: str, name: str) -> str:
    """tests/snapshots/<name> as reviewed, for `assert text == reviewed_snapshot(text, name)`; with
    ACR_CACHE_UPDATE_SNAPSHOTS=1 it is rewritten from `text` first (a reviewed change of the text)."""
    snapshot = ROOT / "tests" / "snapshots" / name
    if os.environ.get("ACR_CACHE_UPDATE_SNAPSHOTS") == "1":
        snapshot.write_text(text, encoding="utf-8")
    return snapshot.read_text(encoding="utf-8")
