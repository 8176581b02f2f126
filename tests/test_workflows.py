"""The GitHub Actions workflows users copy: schema-valid, zizmor-clean, and consistent with
themselves (jobs, reusable-workflow inputs, permissions, expressions, shell)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
BIN = Path(sys.executable).parent
FILES = sorted(WORKFLOWS.glob("*.yml"))
CONTEXTS = {"github", "vars", "inputs", "matrix", "needs", "steps", "env", "job", "runner", "strategy"}
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict), path
    # YAML 1.1 reads the key `on` as True.
    if True in document:
        document["on"] = document.pop(True)
    return document


def test_there_are_the_three_workflows() -> None:
    assert [p.name for p in FILES] == ["deploy.yml", "pull-request.yml", "pulumi.yml"]


def test_workflows_match_github_schema() -> None:
    done = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, FILES)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    dependabot = ROOT / ".github" / "dependabot.yml"
    done = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.dependabot", str(dependabot)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_finds_nothing() -> None:
    done = subprocess.run(
        [
            str(BIN / "zizmor"),
            "--offline",
            "--config",
            str(ROOT / ".github" / "zizmor.yml"),
            "--min-severity",
            "informational",
            "--format",
            "plain",
            str(ROOT / ".github"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout + done.stderr


def test_zizmor_run_here_does_report_an_injection(tmp_path: Path) -> None:
    """The check above can fail: the same invocation flags a pull request title run as shell."""
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "on: pull_request_target\npermissions: {}\njobs:\n  x:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ github.event.pull_request.title }}\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [
            str(BIN / "zizmor"),
            "--offline",
            "--config",
            str(ROOT / ".github" / "zizmor.yml"),
            str(tmp_path / ".github"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "template-injection" in done.stdout + done.stderr


def _expressions(node: Any) -> list[str]:
    if isinstance(node, str):
        return [m.strip() for m in EXPRESSION.findall(node)]
    if isinstance(node, dict):
        return [e for key, value in node.items() for e in _expressions(key) + _expressions(value)]
    if isinstance(node, list):
        return [e for item in node for e in _expressions(item)]
    return []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_expressions_use_known_contexts_and_no_stored_secrets(path: Path) -> None:
    document = load(path)
    for expression in _expressions(document) + [
        str(job.get("if")) for job in document["jobs"].values() if "if" in job
    ]:
        names = set(re.findall(r"(?<![\w.'\"])([a-z_]+)\.", expression))
        assert names <= CONTEXTS, f"{path.name}: {expression!r} uses {sorted(names - CONTEXTS)}"
    # OIDC only: no Azure or Pulumi credential is read from repository secrets.
    assert "secrets." not in path.read_text(encoding="utf-8")


def test_needs_and_step_ids_exist() -> None:
    for path in FILES:
        jobs = load(path)["jobs"]
        for name, job in jobs.items():
            needs = job.get("needs", [])
            for need in [needs] if isinstance(needs, str) else needs:
                assert need in jobs, f"{path.name}: {name} needs {need}"
            ids = {step.get("id") for step in job.get("steps", [])}
            for expression in _expressions(job):
                for step in re.findall(r"steps\.([\w-]+)\.", expression):
                    assert step in ids, f"{path.name}: {name} reads steps.{step}"


def test_calls_of_the_reusable_workflow_give_its_inputs_and_permissions() -> None:
    reusable = load(WORKFLOWS / "pulumi.yml")
    inputs = reusable["on"]["workflow_call"]["inputs"]
    required = {k for k, v in inputs.items() if v.get("required")}
    callee_permissions = reusable["jobs"]["pulumi"]["permissions"]
    calls = 0
    for path in FILES:
        for name, job in load(path)["jobs"].items():
            if job.get("uses") != "./.github/workflows/pulumi.yml":
                continue
            calls += 1
            given = set(job.get("with", {}))
            assert required <= given <= set(inputs), f"{path.name}: {name} passes {sorted(given)}"
            assert job["with"]["command"] in ("preview", "up")
            # A called workflow can only narrow the caller's token: the caller must grant id-token.
            for scope, level in callee_permissions.items():
                assert job.get("permissions", {}).get(scope) == level, f"{path.name}: {name} lacks {scope}"
    assert calls == 4  # the preview (a matrix of the three stacks) and the three deploys


def test_prod_is_deployed_behind_its_environment_after_dev() -> None:
    jobs = load(WORKFLOWS / "deploy.yml")["jobs"]
    assert jobs["prod"]["with"] == {"stack": "prod", "command": "up", "environment": "prod"}
    assert jobs["prod"]["needs"] == "dev"
    assert jobs["dev"]["needs"] == "test"
    assert load(WORKFLOWS / "deploy.yml")["on"] == {"push": {"branches": ["main"]}}
    job = load(WORKFLOWS / "pulumi.yml")["jobs"]["pulumi"]
    assert job["environment"] == "${{ inputs.environment }}"
    assert job["concurrency"]["cancel-in-progress"] is False
    assert job["env"]["ARM_USE_OIDC"] == "true"


def test_every_top_level_token_starts_with_no_permissions() -> None:
    for path in FILES:
        assert load(path)["permissions"] == {}, path.name


def _scripts() -> list[tuple[str, str]]:
    found = []
    for path in FILES:
        for name, job in load(path)["jobs"].items():
            for index, step in enumerate(job.get("steps", [])):
                if "run" in step:
                    found.append((f"{path.name}:{name}:{index}", step["run"]))
    return found


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize(("where", "script"), _scripts(), ids=[w for w, _ in _scripts()])
def test_run_scripts_are_valid_bash_without_inline_expressions(where: str, script: str) -> None:
    # Expressions in a script are template injection (zizmor's template-injection); values come in
    # through `env:`.
    assert "${{" not in script, where
    done = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
    assert done.returncode == 0, f"{where}: {done.stderr}"


def test_the_commands_the_workflows_run_exist() -> None:
    text = "\n".join(script for _, script in _scripts())
    assert "python3 dev.py test" in text
    assert 'acr-cache diff "$STACK" --base "origin/$BASE_REF" --format markdown --graph' in text
    assert (ROOT / "policy" / "PulumiPolicy.yaml").is_file()
    assert (ROOT / "policy" / "prod.json").is_file()
    for stack in ("dev", "prod", "corp"):
        assert (ROOT / f"Pulumi.{stack}.yaml").is_file()
