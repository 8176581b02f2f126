"""The first hour of a new user: every problem of a stack file in one pass and in file order, empty
entries meaning defaults, shape examples, the stack file's JSON Schema, `acr-cache init`, ESC."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
import yaml
from acr_cache.cli import main
from acr_cache.config import ConfigError, offline_placeholders, parse_stack_config

from tests.conftest import ROOT

THREE_PROBLEMS = """\
config:
  acr-cache:resourceGroup:
    name: rg-acr-staging
  acr-cache:registry:
    name: acr_staging
    location: westeurope
  acr-cache:replicas:
    - northeurope
  acr-cache:cacheRules:
    Dotnet_Images:
      source: mcr.microsoft.com/dotnet/*
      target: dotnet/*
"""


def problems_of(text: str) -> list[str]:
    values = yaml.safe_load(text)["config"]
    with offline_placeholders(), pytest.raises(ConfigError) as caught:
        parse_stack_config({k: v for k, v in values.items()})
    return [str(p) for p in caught.value.problems]


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_three_problems_in_one_pass_in_file_order() -> None:
    # Before: the rule name was checked only once the registry name and the replicas were fixed.
    assert problems_of(THREE_PROBLEMS) == [
        "acr-cache:registry.name: 'acr_staging' is not a valid registry name: use 5-50 letters and digits only "
        "(no hyphens or underscores); the name must be unique across all of Azure",
        "acr-cache:replicas: expected an object (a YAML mapping), e.g. `replicas: {westus3: {zoneRedundancy: "
        "true}}`",
        "acr-cache:cacheRules.Dotnet_Images: 'Dotnet_Images' is not a valid rule name: 5-50 letters, digits "
        "and hyphens",
    ]


def test_the_order_is_the_files_not_the_alphabets() -> None:
    reordered = (
        THREE_PROBLEMS.replace("  acr-cache:replicas:\n    - northeurope\n", "")
        + "  acr-cache:replicas:\n    - northeurope\n"
    )
    keys = [p.partition(":")[2].partition(":")[0] for p in problems_of(reordered)]
    assert keys == ["registry.name", "cacheRules.Dotnet_Images", "replicas"]


STANDARD_WITH_PREMIUM_SECTIONS = """\
config:
  acr-cache:resourceGroup:
    name: rg-acr-std
  acr-cache:registry:
    name: acrstd01
    location: westeurope
    sku: Standard
    zoneRedundancy: true
    retentionDays: 7
    quarantine: true
  acr-cache:replicas:
    westus3:
  acr-cache:network:
    publicAccess: Restricted
    ipRules: [203.0.113.0/24]
  acr-cache:privateAccess:
    endpoints:
      hub:
        subnetId: /subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/snet-pe
"""


def test_a_standard_registry_hears_of_every_premium_section_at_once() -> None:
    # A model's rule stops at its first problem; the loader sets it aside and validates again.
    keys = [p.split(": ", 1)[0] for p in problems_of(STANDARD_WITH_PREMIUM_SECTIONS)]
    assert keys == [
        "acr-cache:registry.zoneRedundancy",
        "acr-cache:registry.retentionDays",
        "acr-cache:registry.quarantine",
        "acr-cache:replicas",
        "acr-cache:network.ipRules",
        "acr-cache:privateAccess.endpoints",
    ]


def test_what_is_set_aside_does_not_speak_again() -> None:
    # The misspelt key is reported; "give either name or existingId" about the key meant is not.
    text = THREE_PROBLEMS.replace("acr_staging", "acrstaging01").replace("Dotnet_Images", "dotnet")
    text = text.replace("    - northeurope\n", "    northeurope: {}\n")
    text += "  acr-cache:keyVault:\n    nmae: kv-acr-staging\n"
    problems = problems_of(text)
    assert len(problems) == 1 and problems[0].startswith("acr-cache:keyVault.nmae: unknown key (did you mean")
    # A rule set aside is not reported as missing by what names it.
    text = text.replace("    nmae: kv-acr-staging\n", "    name: kv-acr-staging\n")
    text = text.replace("      target: dotnet/*\n", "      target: dotnet/*\n      bogus: 1\n")
    text += "  acr-cache:purge:\n    dotnet: {}\n"
    assert [p.split(": ", 1)[0] for p in problems_of(text)] == ["acr-cache:cacheRules.dotnet.bogus"]


@pytest.mark.parametrize("empty", ["westus3:", "westus3: {}", "westus3: null"])
def test_an_empty_entry_takes_its_defaults(empty: str) -> None:
    text = THREE_PROBLEMS.replace("acr_staging", "acrstaging01").replace("Dotnet_Images", "dotnet")
    text = text.replace("    - northeurope\n", f"    {empty}\n")
    values = yaml.safe_load(text)["config"]
    config = parse_stack_config(values)
    assert (
        config.replicas["westus3"]
        == parse_stack_config({**values, "acr-cache:replicas": {"westus3": {}}}).replicas["westus3"]
    )
    assert config.replicas["westus3"].model_dump() == type(config.replicas["westus3"])().model_dump()


@pytest.mark.parametrize(
    ("section", "value", "shape"),
    [
        ("registry", "acrname", "e.g. `registry: {name: contosocache, location: westeurope}`"),
        ("network", ["Open"], "e.g. `network: {publicAccess: Open}`"),
        ("credentialSets", "dockerhub", "e.g. `credentialSets: {name: {loginServer: "),
    ],
)
def test_every_expected_an_object_shows_the_shape(section: str, value: Any, shape: str) -> None:
    text = THREE_PROBLEMS.replace("acr_staging", "acrstaging01").replace("Dotnet_Images", "dotnet")
    values = yaml.safe_load(text.replace("    - northeurope\n", "    northeurope: {}\n"))["config"]
    values[f"acr-cache:{section}"] = value
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(values)
    message = next(str(p) for p in caught.value.problems if str(p).startswith(f"acr-cache:{section}: "))
    assert "expected an object" in message and shape in message


def test_an_expected_list_shows_the_shape() -> None:
    text = THREE_PROBLEMS.replace("acr_staging", "acrstaging01").replace("Dotnet_Images", "dotnet")
    values = yaml.safe_load(text.replace("    - northeurope\n", "    northeurope: {}\n"))["config"]
    values["acr-cache:network"] = {"publicAccess": "Restricted", "ipRules": "203.0.113.7"}
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(values)
    assert [str(p) for p in caught.value.problems] == [
        "acr-cache:network.ipRules: expected a list (a YAML sequence), e.g. `ipRules: [value]`"
    ]


def test_the_cli_reports_all_three_and_exits_2(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.staging.yaml").write_text(THREE_PROBLEMS, encoding="utf-8")
    code, out, err = cli("plan", "--config", str(tmp_path / "Pulumi.staging.yaml"), "--cwd", str(ROOT))
    assert code == 2 and out == ""
    assert "invalid stack configuration (3 problems)" in err and "Traceback" not in err


# --- The stack file's JSON Schema, as editors and check-jsonschema read it --------------------------

SCHEMA = ROOT / "schemas" / "stack.schema.json"


def schema_check(*files: Path) -> tuple[int, str]:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--schemafile", str(SCHEMA), *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def test_every_shipped_stack_names_the_schema_and_passes_it() -> None:
    stacks = sorted(ROOT.glob("Pulumi.*.yaml"))
    assert {p.name for p in stacks} >= {"Pulumi.dev.yaml", "Pulumi.prod.yaml", "Pulumi.corp.yaml"}
    for stack in stacks:
        assert stack.read_text(encoding="utf-8").splitlines()[0] == (
            "# yaml-language-server: $schema=./schemas/stack.schema.json"
        )
    code, output = schema_check(*stacks)
    assert code == 0, output


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (
            "  acr-cache:registry: {name: acrstaging01, location: westeurope, colour: red}\n",
            "'colour' was unexpected",
        ),
        ("  acr-cache:registry: {name: acr_staging, location: westeurope}\n", "does not match"),
        ("  acr-cache:registry: {name: acrstaging01, location: westeurope, sku: Premum}\n", "is not one of"),
        ("  acr-cache:registry: {name: acrstaging01, location: West Europe}\n", "does not match"),
        (
            "  acr-cache:registry: {name: acrstaging01, location: westeurope}\n  acr-cache:replicas: [westus3]\n",
            "is not of type",
        ),
        (
            "  acr-cache:registry: {name: acrstaging01, location: westeurope}\n  acr-cache:cacheRules: {Bad_Name: {source: mcr.microsoft.com/dotnet/*}}\n",
            "does not match",
        ),
        ("  acr-cache:registry: {name: acrstaging01}\n", "'location' is a required property"),
        (
            "  acr-cache:registry: {name: acrstaging01, location: westeurope}\n  acr-cache:replicas: {West Europe: {}}\n",
            "does not match",
        ),
    ],
    ids=[
        "unknown-key",
        "registry-name",
        "enum",
        "region",
        "list-for-map",
        "rule-name",
        "required",
        "region-key",
    ],
)
def test_the_schema_refuses_what_the_loader_refuses(tmp_path: Path, body: str, complaint: str) -> None:
    stack = tmp_path / "Pulumi.staging.yaml"
    stack.write_text("config:\n  acr-cache:resourceGroup: {name: rg-acr}\n" + body, encoding="utf-8")
    code, output = schema_check(stack)
    assert code == 1 and complaint in output, output


def test_the_schema_takes_secure_values_empty_entries_and_other_namespaces(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.staging.yaml"
    stack.write_text(
        "environment:\n  - acr-cache/staging\n"
        "config:\n"
        "  azure-native:location: westeurope\n"
        "  acr-cache:resourceGroup: {name: rg-acr}\n"
        "  acr-cache:registry: {name: acrstaging01, location: westeurope}\n"
        "  acr-cache:replicas:\n    westus3:\n"
        "  acr-cache:dockerhub-user: octocat\n"
        "  acr-cache:dockerhub-token:\n    secure: AAABAPlaceholderCipherText==\n",
        encoding="utf-8",
    )
    code, output = schema_check(stack)
    assert code == 0, output
    # A section is never a secret value.
    stack.write_text(
        "config:\n  acr-cache:resourceGroup: {name: rg-acr}\n"
        "  acr-cache:registry:\n    secure: AAABAPlaceholderCipherText==\n",
        encoding="utf-8",
    )
    assert schema_check(stack)[0] == 1


def test_the_schema_describes_every_section_with_camel_case_keys() -> None:
    import json

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    sections = schema["properties"]["config"]["properties"]
    assert "acr-cache:cacheRules" in sections and "acr-cache:privateAccess" in sections
    assert all(body.get("description") for body in sections.values())
    registry = schema["$defs"]["RegistryConfig"]
    assert registry["additionalProperties"] is False and "zoneRedundancy" in registry["properties"]
    assert registry["properties"]["sku"] == {
        "$ref": "#/$defs/Sku",
        "default": "Premium",
        **{k: v for k, v in registry["properties"]["sku"].items() if k not in ("$ref", "default")},
    }
    assert schema["$defs"]["Sku"]["enum"] == ["Basic", "Standard", "Premium"]


# --- acr-cache init --------------------------------------------------------------------------------

SUBNET = (
    "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-net/providers/"
    "Microsoft.Network/virtualNetworks/vnet-hub/subnets/snet-pe"
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project (program, Pulumi.yaml, the stack file's schema) as a new user has it."""
    import shutil

    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "stacks", tmp_path / "stacks")
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    return tmp_path


@pytest.mark.parametrize(
    "flags",
    [
        [],
        ["--replica", "northeurope", "--replica", "swedencentral"],
        [
            "--access",
            "restricted",
            "--ip-rule",
            "203.0.113.0/24",
            "--upstream",
            "ghcr.io",
            "--credentials",
            "ghcr.io",
        ],
        [
            "--access",
            "private",
            "--subnet-id",
            SUBNET,
            "--upstream",
            "registry.k8s.io",
            "--upstream",
            "quay.io",
        ],
        ["--upstream", "mcr.microsoft.com"],
    ],
    ids=["defaults", "replicas", "restricted", "private", "anonymous-only"],
)
def test_init_writes_a_stack_that_plans_clean(project: Path, flags: list[str]) -> None:
    import json

    code, out, err = cli("init", "staging", "--yes", "--cwd", str(project), *flags)
    assert code == 0, err
    stack = project / "Pulumi.staging.yaml"
    assert f"wrote {stack}" in out and "acr-cache plan staging" in out
    text = stack.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=./schemas/stack.schema.json\n")
    assert schema_check(stack) == (0, "ok -- validation done\n")
    code, out, err = cli("plan", "staging", "--cwd", str(project), "--format", "json")
    # Exit 0: no config problem, no schema problem (exit 1), no mandatory policy violation (exit 3).
    assert code == 0 and "schema problem" not in err, err
    plan = json.loads(out)
    assert plan["stack"] == "staging"
    types = {r["type"] for r in plan["resources"]}
    assert "azure-native:containerregistry:Registry" in types
    assert ("azure-native:network:PrivateEndpoint" in types) == ("private" in flags)
    # A credential set for Docker Hub (the default upstreams) or an upstream asked to use one.
    needs_set = "--upstream" not in flags or "--credentials" in flags
    assert ("azure-native:containerregistry:CredentialSet" in types) == needs_set
    if "--credentials" in flags:
        assert "pulumi config set --secret ghcrToken" in text
    assert "warning" not in err


def test_init_asks_at_a_terminal(project: Path) -> None:
    from acr_cache.stack_init import Answers, ask, stack_file

    replies = iter(
        ["acrteam01", "swedencentral", "norwayeast", "docker.io,ghcr.io", "-", "restricted", "198.51.100.7"]
    )
    asked: list[str] = []

    def read(prompt: str) -> str:
        asked.append(prompt)
        return next(replies)

    text = stack_file(ask(Answers("team"), read))
    config = yaml.safe_load(text)["config"]
    assert config["acr-cache:registry"] == {
        "name": "acrteam01",
        "location": "swedencentral",
        "sku": "Premium",
    }
    assert config["acr-cache:replicas"] == {"norwayeast": {}}
    assert config["acr-cache:network"] == {"publicAccess": "Restricted", "ipRules": ["198.51.100.7"]}
    assert set(config["acr-cache:cacheRules"]) == {"dockerhub-library", "ghcr-images"}
    assert "credentialSet" not in config["acr-cache:cacheRules"]["ghcr-images"]
    assert len(asked) == 7 and asked[0].startswith("Registry name (unique across Azure) [acrcacheteam]")


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (
            ["--region", "West Europe"],
            "error: --region: acr-cache:registry.location: 'West Europe' is not an Azure region name",
        ),
        (
            ["--replica", "westeurop"],
            "error: --replica: acr-cache:replicas.westeurop: 'westeurop' is not an Azure region",
        ),
        (["--upstream", "docker.hub"], "error: --upstream docker.hub: not an upstream `init` knows"),
        (["--access", "restricted"], "error: --access restricted: give the addresses"),
        (["--access", "private"], "error: --access private: give the subnet"),
        (
            ["--access", "private", "--subnet-id", "/subscriptions/x/vnet"],
            "error: --subnet-id: acr-cache:privateAccess",
        ),
        (
            ["--credentials", "mcr.microsoft.com"],
            "error: --credentials mcr.microsoft.com: Microsoft Artifact Registry serves",
        ),
        (
            ["--registry-name", "acr-team"],
            "error: --registry-name: acr-cache:registry.name: 'acr-team' is not a valid",
        ),
    ],
    ids=[
        "region",
        "replica",
        "upstream",
        "restricted-no-rules",
        "private-no-subnet",
        "bad-subnet",
        "anonymous-creds",
        "name",
    ],
)
def test_init_refuses_bad_answers_by_flag_and_writes_nothing(
    project: Path, flags: list[str], said: str
) -> None:
    code, out, err = cli("init", "staging", "--yes", "--cwd", str(project), *flags)
    assert code == 2 and out == "" and said in err, err
    assert not (project / "Pulumi.staging.yaml").exists() and "Traceback" not in err


def test_init_keeps_an_existing_stack_file(project: Path) -> None:
    (project / "Pulumi.staging.yaml").write_text("config: {}\n", encoding="utf-8")
    code, _, err = cli("init", "staging", "--yes", "--cwd", str(project))
    assert code == 2 and "exists: pick another stack name, or pass --force" in err
    assert (project / "Pulumi.staging.yaml").read_text(encoding="utf-8") == "config: {}\n"
    assert cli("init", "staging", "--yes", "--force", "--cwd", str(project))[0] == 0
    assert cli("init", "Bad/Name/x/y", "--yes", "--cwd", str(project))[0] == 2


# --- Pulumi ESC --------------------------------------------------------------------------------------


def esc_stack(project: Path, environment: str) -> Path:
    code, _, err = cli("init", "staging", "--yes", "--cwd", str(project))
    assert code == 0, err
    stack = project / "Pulumi.staging.yaml"
    stack.write_text(environment + stack.read_text(encoding="utf-8"), encoding="utf-8")
    return stack


@pytest.mark.parametrize(
    ("environment", "named"),
    [
        ("environment:\n  - acr-cache/staging\n", "acr-cache/staging"),
        (
            "environment:\n  imports:\n    - shared/dockerhub\n  values:\n    pulumiConfig:\n"
            "      acr-cache:dockerhubUsername: octocat\n",
            "shared/dockerhub",
        ),
    ],
    ids=["imports", "inline-definition"],
)
def test_a_stack_with_esc_plans_with_placeholders_and_says_so(
    project: Path, environment: str, named: str
) -> None:
    stack = esc_stack(project, environment)
    assert schema_check(stack)[0] == 0
    code, _, err = cli("plan", "staging", "--cwd", str(project))
    assert code == 0, err
    assert f"the stack imports Pulumi ESC environments ({named})" in err
    assert "must set them under `values.pulumiConfig`" in err
    assert "acr-cache:dockerhubToken, acr-cache:dockerhubUsername" in err
    # ESC provides them: no advice to set them with the CLI.
    assert "pulumi config set" not in err


def test_without_esc_the_plan_says_to_set_the_secrets(project: Path) -> None:
    esc_stack(project, "")
    code, _, err = cli("plan", "staging", "--cwd", str(project))
    assert code == 0 and "set them with `pulumi config set --secret <key> <value>`" in err
    assert "ESC" not in err


# --- The command line ------------------------------------------------------------------------------


def test_plan_takes_a_stack_files_path(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    esc_stack(project, "")
    monkeypatch.chdir(project)
    for given in (str(project / "Pulumi.staging.yaml"), "./Pulumi.staging.yaml", "Pulumi.staging.yaml"):
        code, out, err = cli("plan", given)
        assert code == 0, err
        assert "acr-registry" in out


def test_an_unknown_stack_lists_the_stacks_there(project: Path) -> None:
    code, out, err = cli("plan", "stagin", "--cwd", str(project))
    assert code == 2 and "there is no stack here yet" in err and "acr-cache init stagin" in err
    esc_stack(project, "")
    (project / "Pulumi.prod.yaml").write_text("config: {}\n", encoding="utf-8")
    code, out, err = cli("plan", "stagin", "--cwd", str(project))
    assert code == 2 and out == ""
    assert "the stacks here are prod, staging" in err


def test_version_names_the_sdks() -> None:
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert re.fullmatch(
        r"acr-cache \S+ \(pulumi 3\.\d+\.\d+, pulumi-azure-native 3\.\d+\.\d+\)\n", out.getvalue()
    ), out.getvalue()


def test_every_command_describes_itself_its_options_and_its_exit_codes() -> None:
    import argparse

    from acr_cache.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(commands.choices) == {
        "plan",
        "health",
        "diff",
        "cost",
        "graph",
        "docs",
        "schema",
        "init",
        "clients",
    }
    for name, command in commands.choices.items():
        assert command.description, name
        assert (command.epilog or "").startswith("exit codes"), name
        for action in command._actions:
            if not isinstance(action, argparse._HelpAction):
                assert action.help, f"{name} {action.dest}"
        text = command.format_help()
        assert "  0  " in text and "  2  " in text, name
    assert parser.format_usage().startswith("usage: acr-cache [-h] [--version] COMMAND")


def test_the_docs_run_the_command_one_way() -> None:
    import re

    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert ".venv/bin/acr-cache" not in text, page.name
        assert not re.search(r"python3? -m acr_cache", text), page.name
        # dev.py plans the dev stack on a fresh machine (the README's first command); after it, the
        # command is `acr-cache`.
        assert not re.search(
            r"dev\\.py (plan|run) (?!dev\\b)",
            text.replace("dev.py run acr-cache health prod --format json", ""),
        ), page.name
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert ". .venv/bin/activate" in readme and readme.index("acr-cache init") < readme.index(
        "### The offline plan"
    )


def test_the_readme_pins_only_refs_that_exist() -> None:
    import re
    import subprocess

    tags = set(
        subprocess.run(
            ["git", "tag", "--list"], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.split()
    )
    for text in (
        (ROOT / "README.md").read_text(encoding="utf-8"),
        (ROOT / "examples/consumer/pyproject.toml").read_text(encoding="utf-8"),
    ):
        for ref in re.findall(r"acr-cache(?:\.git|/components)@([^\s\"`]+)", text):
            assert ref == "<commit-sha>" or ref in tags, ref


# --- The picture -----------------------------------------------------------------------------------


def picture_of(project: Path, *flags: str, change: str = "") -> tuple[str, str]:
    from acr_cache.review.graph import mermaid, svg

    code, _, err = cli("init", "pic", "--yes", "--force", "--cwd", str(project), *flags)
    assert code == 0, err
    stack = project / "Pulumi.pic.yaml"
    if change:
        stack.write_text(stack.read_text(encoding="utf-8") + change, encoding="utf-8")
    code, out, err = cli("plan", "pic", "--cwd", str(project), "--format", "json")
    assert code == 0, err
    import json

    plan = json.loads(out)
    return mermaid(plan), svg(plan)


def test_a_restricted_registry_is_drawn_restricted_with_its_ip_rules(project: Path) -> None:
    text, picture = picture_of(
        project, "--access", "restricted", "--ip-rule", "203.0.113.0/24", "--ip-rule", "198.51.100.7"
    )
    assert "public access Restricted (2 IP rules)<br/>203.0.113.0/24<br/>198.51.100.7" in text
    assert "Enabled" not in text
    # The SVG wraps what is wider than its box, and cuts nothing.
    assert ">public access Restricted (2 IP</text>" in picture and ">rules)</text>" in picture
    assert ">198.51.100.7</text>" in picture


def test_many_ip_rules_are_counted_past_eight(project: Path) -> None:
    rules = [arg for n in range(12) for arg in ("--ip-rule", f"203.0.113.{n}")]
    text, _ = picture_of(project, "--access", "restricted", *rules)
    assert "public access Restricted (12 IP rules)" in text and "203.0.113.7<br/>and 4 more" in text
    assert "203.0.113.8" not in text


def test_public_and_private_registries_say_so(project: Path) -> None:
    text, _ = picture_of(project)
    assert "public access Open" in text
    text, _ = picture_of(project, "--access", "private", "--subnet-id", SUBNET)
    assert "public access Disabled<br/>private endpoints only" in text


def test_an_existing_zone_is_drawn_with_its_records(project: Path) -> None:
    zone = (
        "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-dns-hub/providers/"
        "Microsoft.Network/privateDnsZones/privatelink.azurecr.io"
    )
    text, _ = picture_of(project, "--access", "private", "--subnet-id", SUBNET)
    assert "existing private DNS zone" not in text
    stack = project / "Pulumi.pic.yaml"
    body = stack.read_text(encoding="utf-8")
    start = body.index("    dnsZone:")
    end = body.index("    endpoints:")
    stack.write_text(
        body[:start] + f"    dnsZone:\n      mode: existing\n      zoneId: {zone}\n" + body[end:],
        encoding="utf-8",
    )
    code, out, err = cli("graph", "pic", "--cwd", str(project))
    assert code == 0, err
    assert "privatelink.azurecr.io<br/>existing private DNS zone<br/>in rg-dns-hub" in out
    assert "-.->|A records| pe_" in out


def test_no_name_is_cut_short_in_the_svg(project: Path) -> None:
    from acr_cache.review.graph import _wrapped

    long_vault = "a-key-vault-with-a-long-name-x"
    name = "acrcachewithaverylongregistrynamethatgoesonandon01"
    _, picture = picture_of(project, "--registry-name", name, "--region", "germanywestcentral")
    assert "…" not in picture
    assert f">{name[:36]}" in picture or name in picture.replace("</text>", "")
    # Lines are broken, never shortened: joined again they give the whole text.
    for text in (name, f"Key Vault {long_vault}", "private endpoint spoke-aks-northeurope-weu-01"):
        parts = _wrapped(text)
        assert all(len(p) <= 36 for p in parts)
        assert "".join(parts).replace(" ", "") == text.replace(" ", "")


# --- The reuse API ---------------------------------------------------------------------------------

REGISTRY_ID = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
    "Microsoft.ContainerRegistry/registries/acrplatform01"
)


def test_type_hints_resolve_on_every_args_type() -> None:
    import importlib
    import typing

    checked = 0
    for module in (
        "component_args",
        "access",
        "artifact_cache",
        "image_import",
        "private_access",
        "registry",
        "replication",
    ):
        loaded = importlib.import_module(f"acr_cache.{module}")
        for name, value in vars(loaded).items():
            if isinstance(value, type) and name.endswith("Args") and value.__module__ == loaded.__name__:
                hints = typing.get_type_hints(value)
                assert hints, name
                checked += 1
    assert checked >= 20
    from acr_cache import ArtifactCacheArgs

    registry_id = typing.get_type_hints(ArtifactCacheArgs)["registry_id"]
    import pulumi

    assert pulumi.Output[str] in typing.get_args(registry_id)


def component_failure(build: Any) -> ConfigError:
    from acr_cache.plan.runner import ProgramFailed, run_program

    with pytest.raises(ProgramFailed) as caught:
        run_program(build, project="team", stack="t", config={})
    assert isinstance(caught.value.cause, ConfigError)
    assert [r for r in caught.value.resources if r.custom] == []
    return caught.value.cause


def test_a_bad_argument_is_named_as_python_writes_it() -> None:
    from acr_cache import ArtifactCache

    error = component_failure(
        lambda: ArtifactCache(
            "team-b",
            {
                "registry_id": REGISTRY_ID,
                "cache_rules": {
                    "team-b-redis": {
                        "source": "docker.io/library/redis",
                        "target": "team-b/redis",
                        "credential_set": "dockerhub",
                    },
                    "team-b-nginx": {"source": "docker.io/library/nginx", "target": "team-b/nginx"},
                },
            },
        )
    )
    assert error.headline == "invalid arguments to ArtifactCache('team-b') (2 problems):"
    assert [str(p) for p in error.problems] == [
        "ArtifactCache('team-b').args.cache_rules[\"team-b-nginx\"].credential_set: Docker Hub only serves "
        "authenticated pulls to the cache (Azure refuses it: EnforceDockerAuthentication): add `credential_set` "
        "naming a set whose loginServer is docker.io",
        "ArtifactCache('team-b').args.cache_rules[\"team-b-redis\"].credential_set: no credential set 'dockerhub' "
        "in args.credential_sets (defined: none): define it there, or name a set that already exists on the "
        "registry (another stack's) with `registry_credential_set` instead",
    ]
    assert "stack config" not in str(error) and "stack config" not in error.fix
    assert (
        error.fix == "fix the arguments above where the program creates ArtifactCache('team-b') and run again"
    )


def test_a_map_key_with_dots_is_one_key_in_the_path() -> None:
    from acr_cache.component_args import ImageArgs  # noqa: F401 (the entry type the walk reads)
    from acr_cache.component_base import args_path
    from acr_cache.image_import import ImageImportsArgs

    assert (
        args_path("args.images.base/alpine:3.20.source", ImageImportsArgs)
        == 'args.images["base/alpine:3.20"].source'
    )
    assert args_path("args.images.base/alpine:3.20", ImageImportsArgs) == 'args.images["base/alpine:3.20"]'
    assert args_path("args.registry_id", ImageImportsArgs) == "args.registry_id"


def test_the_cli_says_to_fix_the_program_for_a_component(tmp_path: Path) -> None:
    import shutil

    project = tmp_path / "consumer"
    shutil.copytree(ROOT / "examples" / "consumer", project)
    main_file = project / "__main__.py"
    main_file.write_text(
        main_file.read_text(encoding="utf-8").replace(
            '"registry_credential_set": "dockerhub"', '"credential_set": "dockerhub"', 1
        ),
        encoding="utf-8",
    )
    code, _, err = cli("plan", "team-a", "--cwd", str(project))
    assert code == 2, err
    assert "error: invalid arguments to ArtifactCache('team-a') (1 problem):" in err
    assert 'args.cache_rules["team-a-postgres"].credential_set' in err
    assert (
        "nothing was planned: fix the arguments above where the program creates ArtifactCache('team-a')"
        in err
    )
    assert "stack config" not in err


def test_children_are_not_named_twice_and_keep_their_resources() -> None:
    from acr_cache import Access, ArtifactCache
    from acr_cache.plan.runner import run_program

    def build() -> None:
        ArtifactCache(
            "team-b",
            {
                "registry_id": REGISTRY_ID,
                "cache_rules": {
                    "team-b-otel": {"source": "ghcr.io/open-telemetry/*", "target": "team-b/otel/*"},
                    "quay-tools": {"source": "quay.io/tools/*", "target": "team-b/tools/*"},
                },
            },
        )
        Access(
            "team-b",
            {
                "registry_id": REGISTRY_ID,
                "grants": {
                    "team-b-aks": {
                        "principal_id": "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                        "principal_type": "ServicePrincipal",
                    }
                },
            },
        )

    run = run_program(build, project="team", stack="t", config={})
    named = {r.name: r for r in run.resources if r.custom}
    assert set(named) == {"team-b-otel", "team-b-quay-tools", "team-b-aks"}
    # The name the resource had before keeps it: an alias spec with that name only, which the engine
    # completes with the resource's own type and parent (pkg/resource/deploy/step_generator.go,
    # `collapseAliasToUrn`, called by `generateAliases`), i.e. the URN the doubled name had.
    for resource, former in (
        (named["team-b-otel"], "team-b-team-b-otel"),
        (named["team-b-aks"], "team-b-team-b-aks"),
    ):
        specs = [spec for spec in resource.alias_specs if spec["name"]]
        assert (former, "", "") in [(spec["name"], spec["type"], spec["parentUrn"]) for spec in specs]
        assert resource.urn.rsplit("::", 1)[0] + f"::{former}" == resource.urn.replace(resource.name, former)
    assert "team-b-team-b-quay-tools" not in [spec["name"] for spec in named["team-b-quay-tools"].alias_specs]


def test_a_shortened_name_never_takes_another_keys_name() -> None:
    from acr_cache.component_base import ChildNames

    names = ChildNames("team-b", ["team-b-redis", "redis", "team-b-otel"])
    assert names["redis"] == "team-b-redis"
    assert names["team-b-redis"] == "team-b-team-b-redis"
    assert names["team-b-otel"] == "team-b-otel"
    assert names.aliases("redis") is None and names.aliases("team-b-redis") is None


# --- Roles -------------------------------------------------------------------------------------------

BUILT_IN = __import__("json").loads(
    (ROOT / "tests" / "data" / "builtin_container_roles.json").read_text(encoding="utf-8")
)["roles"]
PULLER = "0c2f4b9a-7d3e-4e1f-8a6b-5c9d0e1f2a33"


def test_every_role_id_is_azures() -> None:
    from acr_cache import roles

    for name, role_id in {**roles.REGISTRY_ROLES, **roles.REPOSITORY_ROLES}.items():
        assert BUILT_IN[name] == role_id, name
    assert (
        BUILT_IN["Owner"],
        BUILT_IN["Contributor"],
        BUILT_IN["User Access Administrator"],
    ) == (roles.OWNER, roles.CONTRIBUTOR, roles.USER_ACCESS_ADMINISTRATOR)


@pytest.mark.parametrize(
    "role",
    ["AcrPull", "AcrPush", "AcrDelete", "AcrImageSigner", "AcrQuarantineReader", "AcrQuarantineWriter"],
)
def test_a_grant_takes_every_registry_role_by_name(role: str) -> None:
    from tests.conftest import one, run_stack, sections

    run = run_stack(
        sections(access={"team": {"principalId": PULLER, "principalType": "Group", "role": role}})
    )
    grant = one(run, "azure-native:authorization:RoleAssignment")
    assert grant.inputs["roleDefinitionId"].endswith(
        f"/providers/Microsoft.Authorization/roleDefinitions/{BUILT_IN[role]}"
    )
    assert grant.inputs["principalType"] == "Group" and grant.inputs["scope"].endswith(
        "/registries/acrcachetest01"
    )


@pytest.mark.parametrize(
    ("role", "said"),
    [
        ("Owner", "Owner on the registry can delete it"),
        ("contributor", "Contributor on the registry can delete it"),
        ("User Access Administrator", "User Access Administrator on the registry can delete it"),
        ("18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", "User Access Administrator on the registry"),
        ("Container Registry Repository Reader", "is honoured only by a registry in ACR's ABAC mode"),
        ("container registry repository writer", "Container Registry Repository Writer is honoured only"),
        ("AcrPul", "is not a registry role here (did you mean `AcrPull`?)"),
        (
            "Reader",
            "use one of `AcrPull`, `AcrPush`, `AcrDelete`, `AcrImageSigner`, `AcrQuarantineReader`, `AcrQuarantineWriter`",
        ),
    ],
)
def test_broad_roles_and_repository_roles_are_refused_with_the_fix(role: str, said: str) -> None:
    from tests.conftest import as_pulumi_config, sections

    with pytest.raises(ConfigError) as caught:
        parse_stack_config(
            as_pulumi_config(
                sections(access={"ops": {"principalId": PULLER, "principalType": "User", "role": role}})
            )
        )
    [problem] = caught.value.problems
    assert problem.key == "acr-cache:access.ops.role" and said in problem.message


def test_the_policy_pack_refuses_user_access_administrator_too() -> None:
    from acr_cache.policy import PolicyConfig, evaluate
    from acr_cache.policy.controls import Res

    scope = REGISTRY_ID
    for role, refused in ((BUILT_IN["User Access Administrator"], True), (BUILT_IN["AcrDelete"], False)):
        assignment = Res(
            "urn:pulumi:t::p::azure-native:authorization:RoleAssignment::ops",
            "azure-native:authorization:RoleAssignment",
            "ops",
            {
                "scope": scope,
                "roleDefinitionId": f"/subscriptions/x/providers/Microsoft.Authorization/roleDefinitions/{role}",
            },
        )
        report = evaluate([assignment], PolicyConfig())
        assert any(v.policy == "no-owner-contributor-on-registry" for v in report.mandatory) == refused


# --- Smaller holes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "said"),
    [
        ("0 25 * * *", "hour 25 is out of range (hours go 0-23)"),
        ("61 * * * *", "minute 61 is out of range (minutes go 0-59)"),
        ("0 0 0 * *", "day 0 is out of range (days go 1-31)"),
        ("0 0 * 13 *", "month 13 is out of range (months go 1-12)"),
        ("0 0 * * 7", "weekday 7 is out of range (weekdays go 0-6)"),
        ("*/0 * * * *", "a step is at least 1"),
        # A step equal to the number before it does not make that number a step: hour 30 is out.
        ("0 30/30 * * *", "hour 30 is out of range (hours go 0-23)"),
        ("0 1-30/2 * * *", "hour 30 is out of range (hours go 0-23)"),
        ("0,5/0 * * * *", "minute 0 is out of range (minutes go 0-59, and a step is at least 1)"),
        ("0 5-2 * * *", "the hour range 5-2 runs backwards"),
        ("every day", "is not a cron schedule: five fields"),
    ],
)
def test_a_purge_schedule_must_be_a_valid_cron_expression(schedule: str, said: str) -> None:
    from tests.conftest import HUB_LIBRARY_RULE, HUB_SET_FROM_CONFIG, as_pulumi_config, sections

    document = sections(
        keyVault={"name": "kv-acrtest01"},
        credentialSets={"dockerhub": HUB_SET_FROM_CONFIG},
        cacheRules={"dockerhub-library": HUB_LIBRARY_RULE},
        purge={"dockerhub-library": {"schedule": schedule}},
    )
    with offline_placeholders(), pytest.raises(ConfigError) as caught:
        parse_stack_config(as_pulumi_config(document))
    [problem] = caught.value.problems
    assert problem.key == "acr-cache:purge.dockerhub-library.schedule" and said in problem.message
    assert problem.message.startswith(f"'{schedule}' is not a")


@pytest.mark.parametrize(
    "schedule", ["0 3 * * *", "*/15 * * * *", "0 0 * * 1-5", "30 2 1,15 * *", "0 */6 * * 0"]
)
def test_valid_cron_schedules_pass(schedule: str) -> None:
    from acr_cache.purge import PurgeConfig

    assert PurgeConfig(schedule=schedule).schedule == schedule


def test_policy_messages_name_the_real_key(project: Path) -> None:
    import json

    from acr_cache.plan import make_plan
    from acr_cache.plan.stackfile import load_stack_files
    from acr_cache.policy import PolicyConfig, evaluate, from_planned

    code, _, err = cli("init", "staging", "--yes", "--cwd", str(project), "--replica", "westus3")
    assert code == 0, err
    stack = project / "Pulumi.staging.yaml"
    text = stack.read_text(encoding="utf-8").replace(
        "    westus3: {}\n", "    westus3:\n      zoneRedundancy: false\n"
    )
    stack.write_text(text, encoding="utf-8")
    plan = make_plan(load_stack_files("staging", None, project))
    report = evaluate(from_planned(plan.run.resources), PolicyConfig())
    zone = [str(v) for v in report.violations if v.policy == "acr-zone-redundant"]
    assert (
        len(zone) == 1
        and "fix: `acr-cache:replicas.westus3.zoneRedundancy: true` (it replaces the replica)" in zone[0]
    )
    assert "<region>" not in zone[0]
    assert json.dumps([str(v) for v in report.violations]).count("<") == 0


def test_policy_fixes_name_the_rule_and_the_grant() -> None:
    from acr_cache.policy import PolicyConfig, evaluate
    from acr_cache.policy.controls import Res

    rule = Res(
        "urn:pulumi:t::p::azure-native:containerregistry:CacheRule::cache-hub",
        "azure-native:containerregistry:CacheRule",
        "cache-hub",
        {"cacheRuleName": "hub-nginx", "sourceRepository": "docker.io/library/nginx"},
    )
    grant = Res(
        "urn:pulumi:t::p::azure-native:authorization:RoleAssignment::access-ops",
        "azure-native:authorization:RoleAssignment",
        "access-ops",
        {
            "scope": REGISTRY_ID,
            "roleDefinitionId": f"/subscriptions/x/providers/Microsoft.Authorization/roleDefinitions/{BUILT_IN['Owner']}",
            "description": "Owner on acrplatform01 for ops-team",
        },
    )
    said = " ".join(str(v) for v in evaluate([rule, grant], PolicyConfig()).violations)
    assert "fix: `acr-cache:cacheRules.hub-nginx.credentialSet` naming a set" in said
    assert "fix: `acr-cache:access.ops-team.role: AcrPull`" in said
