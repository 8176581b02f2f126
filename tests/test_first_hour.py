"""The first hour of a new user: every problem of a stack file in one pass and in file order, empty
entries meaning defaults, shape examples, the stack file's JSON Schema, `acr-cache init`, ESC."""

from __future__ import annotations

import io
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
    reordered = THREE_PROBLEMS.replace(
        "  acr-cache:replicas:\n    - northeurope\n", ""
    ) + "  acr-cache:replicas:\n    - northeurope\n"
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
    assert config.replicas["westus3"] == parse_stack_config(
        {**values, "acr-cache:replicas": {"westus3": {}}}
    ).replicas["westus3"]
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
