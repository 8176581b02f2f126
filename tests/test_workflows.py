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


# --- Identities, concurrency and pins (issue #27) ------------------------------------------------


def evaluate(expression: str, contexts: dict[str, Any]) -> Any:
    """A GitHub Actions expression with the operators these workflows use (`==`, `!=`, `&&`, `||`,
    `format()`), evaluated as GitHub does: `&&` and `||` give an operand, as Python's and/or."""
    inner = expression.strip()
    if inner.startswith("${{"):
        inner = inner[3:-2]
    python = inner.replace("&&", " and ").replace("||", " or ")
    python = re.sub(r"!(?!=)", " not ", python)

    class Context(dict):  # type: ignore[type-arg]
        def __getattr__(self, name: str) -> Any:
            value = self.get(name, "")
            return Context(value) if isinstance(value, dict) else value

    def format_(template: str, *values: Any) -> str:
        return re.sub(r"\{(\d+)\}", lambda m: str(values[int(m.group(1))]), template)

    names = {key: Context(value) for key, value in contexts.items()}
    return eval(python, {"__builtins__": {}}, {**names, "format": format_})


def _contexts(command: str, ref: str = "refs/pull/7/merge", environment: str = "") -> dict[str, Any]:
    return {
        "inputs": {"stack": "prod", "command": command, "environment": environment},
        "github": {"ref": ref},
        "vars": {"AZURE_CLIENT_ID": "deploy-prod-id", "AZURE_PREVIEW_CLIENT_ID": "preview-id"},
    }


def test_previews_and_deploys_never_share_a_concurrency_group() -> None:
    job = load(WORKFLOWS / "pulumi.yml")["jobs"]["pulumi"]
    group, cancel = job["concurrency"]["group"], job["concurrency"]["cancel-in-progress"]
    deploy = evaluate(group, _contexts("up", "refs/heads/main", "prod"))
    previews = {
        evaluate(group, _contexts("preview", ref)) for ref in ("refs/pull/7/merge", "refs/pull/8/merge")
    }
    assert deploy == "deploy-prod" and deploy not in previews and len(previews) == 2
    # A queued deploy is never cancelled; a newer push replaces a branch's running preview.
    assert evaluate(cancel, _contexts("up")) is False and evaluate(cancel, _contexts("preview")) is True
    # The pull request workflow's own group is per pull request, never a deploy's.
    assert load(WORKFLOWS / "pull-request.yml")["concurrency"]["group"].startswith("pr-")
    assert "concurrency" not in load(WORKFLOWS / "deploy.yml")


def test_previews_sign_in_as_the_read_only_identity_and_deploys_as_their_environments() -> None:
    env = load(WORKFLOWS / "pulumi.yml")["jobs"]["pulumi"]["env"]
    for key in ("ARM_CLIENT_ID", "AZURE_CLIENT_ID"):
        assert evaluate(env[key], _contexts("preview")) == "preview-id"
        assert evaluate(env[key], _contexts("up", "refs/heads/main", "prod")) == "deploy-prod-id"
    preview = load(WORKFLOWS / "pull-request.yml")["jobs"]["preview"]
    assert "vars.AZURE_PREVIEW_CLIENT_ID != ''" in preview["if"] and preview["with"]["command"] == "preview"
    assert "environment" not in preview["with"]
    for name in ("dev", "prod", "corp"):
        assert load(WORKFLOWS / "deploy.yml")["jobs"][name]["with"]["environment"] == name


def _guard() -> str:
    (step,) = [
        s
        for s in load(WORKFLOWS / "pulumi.yml")["jobs"]["pulumi"]["steps"]
        if s.get("name", "").startswith("Deploys only")
    ]
    return str(step["run"])


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize(
    ("command", "ref", "environment", "client", "code"),
    [
        ("up", "refs/heads/main", "prod", "id", 0),
        ("preview", "refs/pull/7/merge", "", "id", 0),
        ("up", "refs/heads/feature", "prod", "id", 2),  # a branch that is not the default
        ("up", "refs/heads/main", "", "id", 2),  # a deploy outside its environment
        ("destroy", "refs/heads/main", "prod", "id", 2),
        ("preview", "refs/pull/7/merge", "", "", 2),  # no identity configured
    ],
)
def test_the_deploy_guard(command: str, ref: str, environment: str, client: str, code: int) -> None:
    done = subprocess.run(
        ["bash", "-e", "-c", _guard()],
        env={
            "PATH": "/usr/bin:/bin",
            "COMMAND": command,
            "GITHUB_REF": ref,
            "ENVIRONMENT": environment,
            "ARM_CLIENT_ID": client,
            "DEFAULT_BRANCH": "main",
        },
        capture_output=True,
        text=True,
    )
    assert done.returncode == code, done.stdout + done.stderr


def _uses() -> list[str]:
    return [
        str(step["uses"])
        for path in FILES
        for job in load(path)["jobs"].values()
        for step in job.get("steps", [])
        if "uses" in step
    ]


def test_every_action_is_pinned_to_a_commit_with_its_version_named() -> None:
    texts = "\n".join(path.read_text(encoding="utf-8") for path in FILES)
    for uses in _uses():
        _, _, ref = uses.partition("@")
        assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{uses} is not pinned to a commit"
        assert re.search(rf"{re.escape(uses)} # v\d+\.\d+\.\d+", texts), f"{uses} has no version comment"
    # Dependabot proposes new SHAs for them.
    dependabot = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    assert [u["package-ecosystem"] for u in dependabot["updates"]] == ["github-actions"]


def test_the_pulumi_cli_is_the_version_of_the_locked_sdk() -> None:
    lock = (ROOT / "uv.lock").read_text(encoding="utf-8")
    locked = re.search(r'\[\[package\]\]\nname = "pulumi"\nversion = "([^"]+)"', lock)
    assert locked is not None
    (step,) = [
        s
        for s in load(WORKFLOWS / "pulumi.yml")["jobs"]["pulumi"]["steps"]
        if "pulumi/actions" in str(s.get("uses"))
    ]
    assert str(step["with"]["pulumi-version"]) == locked.group(1)


def test_only_the_comment_step_holds_the_token_that_can_comment() -> None:
    for path in FILES:
        document = load(path)
        assert "github.token" not in str(document.get("env", "")), path.name
        for name, job in document["jobs"].items():
            assert "github.token" not in str(job.get("env", "")), f"{path.name}: {name}"
            holders = [s.get("name") for s in job.get("steps", []) if "github.token" in str(s.get("env", ""))]
            assert holders in ([], ["Comment on the pull request"]), f"{path.name}: {name}: {holders}"


def _comment_step() -> dict[str, Any]:
    (step,) = [
        s
        for s in load(WORKFLOWS / "pull-request.yml")["jobs"]["review"]["steps"]
        if s.get("name") == "Comment on the pull request"
    ]
    return step


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize(
    "diff", ["", "### acr-cache diff `acr-cache/dev`\n\nno changes\n"], ids=["empty", "small"]
)
def test_the_comment_step_posts_nothing_for_an_empty_diff(tmp_path: Path, diff: str) -> None:
    # `gh` is GitHub's CLI; this one records what it is asked and answers no existing comment.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    (bin_dir / "gh").write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    (bin_dir / "gh").chmod(0o755)
    (bin_dir / "python3").symlink_to(sys.executable)
    (tmp_path / ".ci").symlink_to(ROOT / ".ci")
    (tmp_path / "diff.md").write_text(diff)
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", _comment_step()["run"]],
        cwd=tmp_path,
        env={
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "STACK": "dev",
            "PR_NUMBER": "7",
            "GITHUB_REPOSITORY": "org/repo",
            "RUN_URL": "https://github.com/org/repo/actions/runs/1",
            "GH_TOKEN": "t",
        },
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    posted = calls.read_text().splitlines() if calls.exists() else []
    if not diff:
        assert posted == []
    else:
        assert posted[-1] == "api --method POST repos/org/repo/issues/7/comments -F body=@comment.md"
        assert (
            (tmp_path / "comment.md")
            .read_text()
            .startswith("<!-- acr-cache diff dev -->\n### acr-cache diff")
        )


def test_a_thousand_rule_diff_fits_a_comment_and_points_to_the_summary() -> None:
    sys.path.insert(0, str(ROOT / ".ci"))
    try:
        from pr_comment import GITHUB_LIMIT, comment
    finally:
        sys.path.remove(str(ROOT / ".ci"))
    rows = "".join(
        f"| +- replace | `cache-mcr-team{i:04d}` | CacheRule | delete first, then create<br>`targetRepository`: "
        f"`team{i}/app` → `team{i}/app-v2` (replaces) |\n"
        for i in range(1000)
    )
    diff = (
        "### acr-cache diff `acr-cache/prod`\n\n**1000 to replace**\n\n| | Resource | Type | Changes |\n|---|---|---|---|\n"
        + rows
        + "\n**Estimated monthly cost: $50.70 -> $50.70**\n\n<sub>Offline.</sub>\n"
    )
    assert len(diff) > GITHUB_LIMIT
    body = comment(diff, "<!-- m -->", "https://github.com/o/r/actions/runs/9")
    assert body is not None and len(body) <= GITHUB_LIMIT
    shown = body.count("| +- replace |")
    assert 100 < shown < 1000
    assert (
        f"| … | {1000 - shown} more change(s) not shown | | [the full diff is in the job summary](https://github.com/o/r/actions/runs/9) |"
        in body
    )
    assert body.endswith("**Estimated monthly cost: $50.70 -> $50.70**\n\n<sub>Offline.</sub>\n")
    assert comment("short\n", "<!-- m -->", "u") == "<!-- m -->\nshort\n"
    assert comment("  \n", "<!-- m -->", "u") is None
