"""`acr-cache plan`: both formats, determinism, bad config and bad files, secrets."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from acr_cache.cli import main
from acr_cache.plan.stackfile import PLACEHOLDER_SECRET, StackFileError, _read_yaml

from tests.conftest import ROOT


def plan(capsys: pytest.CaptureFixture[str], *args: str, cwd: Path = ROOT) -> tuple[int, str, str]:
    code = main(["plan", *args, "--cwd", str(cwd)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project files (program + Pulumi.yaml) where tests write stack configs."""
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copy(ROOT / "__main__.py", tmp_path / "__main__.py")
    shutil.copytree(ROOT / "stacks", tmp_path / "stacks")
    return tmp_path


def write_stack(project: Path, name: str, body: str) -> Path:
    path = project / f"Pulumi.{name}.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


GOOD = """\
config:
  acr-cache:resourceGroup:
    name: rg-acr-t
  acr-cache:registry:
    name: acrcachet01
    location: westeurope
"""


def test_dev_plan_json_follows_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = plan(capsys, "dev", "--format", "json")
    assert code == 0, err
    document = json.loads(out)
    assert set(document) == {"project", "stack", "resources", "outputs"}
    assert (document["project"], document["stack"]) == ("acr-cache", "dev")
    for resource in document["resources"]:
        always = {"urn", "type", "name", "parent", "inputs", "dependsOn", "protect", "retainOnDelete"}
        # What `acr-cache diff` reads, each only when set (README, "The offline plan").
        when_set = {
            "id",
            "importId",
            "replaceOnChanges",
            "deleteBeforeReplace",
            "ignoreChanges",
            "aliases",
            "propertyDependencies",
            "secretDigests",
        }
        assert always <= set(resource) <= always | when_set
    registry = next(
        r for r in document["resources"] if r["type"] == "azure-native:containerregistry:Registry"
    )
    inputs = registry["inputs"]
    assert inputs["adminUserEnabled"] is False
    assert inputs["anonymousPullEnabled"] is False
    assert inputs["policies"]["azureADAuthenticationAsArmPolicy"] == {"status": "disabled"}
    assert inputs["policies"]["exportPolicy"] == {"status": "enabled"}
    assert inputs["policies"]["retentionPolicy"] == {"days": 7, "status": "enabled"}
    assert inputs["zoneRedundancy"] == "Enabled"
    assert inputs["publicNetworkAccess"] == "Enabled"
    assert inputs["networkRuleBypassOptions"] == "AzureServices"
    assert inputs["sku"] == {"name": "Premium"}
    group = next(r for r in document["resources"] if r["type"] == "azure-native:resources:ResourceGroup")
    assert registry["dependsOn"] == [group["urn"]]
    component = next(r for r in document["resources"] if r["type"] == "acr-cache:index:Registry")
    assert registry["parent"] == component["urn"] and component["parent"] is None
    assert document["outputs"]["loginServer"] == "acrcachedev01.azurecr.io"
    assert document["outputs"]["registryId"].endswith(
        "/providers/Microsoft.ContainerRegistry/registries/acrcachedev01"
    )


def test_plan_is_byte_identical_across_runs(capsys: pytest.CaptureFixture[str]) -> None:
    first = plan(capsys, "dev", "--format", "json")
    second = plan(capsys, "dev", "--format", "json")
    assert first[0] == 0 and first[1] == second[1]
    table = plan(capsys, "dev")
    assert table[1] == plan(capsys, "dev")[1]


def test_table_shows_the_tree_and_key_properties(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = plan(capsys, "dev")
    assert code == 0
    assert "+ acr-cache:index:Registry  acr" in out
    assert "+ azure-native:containerregistry:Registry  acr-registry" in out
    assert "adminUserEnabled: false" in out
    assert "policies.azureADAuthenticationAsArmPolicy.status: disabled" in out
    assert "loginServer: acrcachedev01.azurecr.io" in out
    assert "Schema problems: 0" in out


def test_config_option_reads_any_stack_file(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    path = write_stack(project, "team-a", GOOD)
    code = main(["plan", "--config", str(path), "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    document = json.loads(out)
    assert document["stack"] == "team-a"
    assert document["outputs"]["loginServer"] == "acrcachet01.azurecr.io"


@pytest.mark.parametrize(
    ("registry", "expected"),
    [
        (
            "    name: ab\n    location: westeurope\n",
            "acr-cache:registry.name: 'ab' is not a valid registry name",
        ),
        (
            "    name: acrcachet01\n    location: westeurope\n    colour: blue\n",
            "acr-cache:registry.colour: unknown key",
        ),
        (
            "    name: acrcachet01\n    location: westeurope\n    retentionDays: [1]\n",
            "acr-cache:registry.retentionDays: Input should be a valid integer",
        ),
    ],
)
def test_bad_config_exits_2_naming_the_key(
    capsys: pytest.CaptureFixture[str], project: Path, registry: str, expected: str
) -> None:
    write_stack(
        project,
        "bad",
        f"config:\n  acr-cache:resourceGroup:\n    name: rg\n  acr-cache:registry:\n{registry}",
    )
    code, out, err = plan(capsys, "bad", cwd=project)
    assert code == 2
    assert out == ""
    assert expected in err
    assert "Traceback" not in err


def test_bad_config_registers_nothing(project: Path) -> None:
    from acr_cache.config import ConfigError
    from acr_cache.plan import make_plan
    from acr_cache.plan.runner import ProgramFailed
    from acr_cache.plan.stackfile import load_stack_files

    write_stack(project, "bad", "config:\n  acr-cache:registry:\n    name: ab\n")
    with pytest.raises(ProgramFailed) as caught:
        make_plan(load_stack_files("bad", None, project))
    assert isinstance(caught.value.cause, ConfigError)
    assert caught.value.resources == []


@pytest.mark.parametrize(
    ("files", "args", "fragment"),
    [
        ({}, ["missing"], "Pulumi.missing.yaml does not exist"),
        ({"Pulumi.broken.yaml": "config: [unclosed\n"}, ["broken"], "not valid YAML"),
        ({"Pulumi.list.yaml": "config: [1, 2]\n"}, ["list"], "`config` must be a mapping"),
    ],
)
def test_unreadable_stack_files_exit_2(
    capsys: pytest.CaptureFixture[str], project: Path, files: dict[str, str], args: list[str], fragment: str
) -> None:
    for name, text in files.items():
        (project / name).write_text(text, encoding="utf-8")
    code, _, err = plan(capsys, *args, cwd=project)
    assert code == 2 and fragment in err and "Traceback" not in err


def test_encrypted_values_become_placeholder_secrets(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    write_stack(project, "sec", GOOD + "  acr-cache:dockerHubToken:\n    secure: v1:AAAABBBBCCCC\n")
    code, out, err = plan(capsys, "sec", "--format", "json", cwd=project)
    assert code == 0, err
    assert "acr-cache:dockerHubToken" in err and "placeholder" in err
    assert "AAAABBBBCCCC" not in out + err and PLACEHOLDER_SECRET not in out


def test_secret_outputs_print_as_secret_placeholder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: demo\nruntime: python\nmain: prog.py\n")
    (tmp_path / "prog.py").write_text(
        "import pulumi\n"
        "from pulumi_azure_native import resources\n"
        "cfg = pulumi.Config()\n"
        "rg = resources.ResourceGroup('rg', resource_group_name='rg-demo', location='westeurope',\n"
        "    tags={'token': cfg.require_secret('token')})\n"
        "pulumi.export('token', cfg.require_secret('token'))\n"
        "pulumi.export('later', rg.managed_by)\n"
    )
    (tmp_path / "Pulumi.s.yaml").write_text("config:\n  demo:token:\n    secure: v1:ZZZZ\n")
    code, out, err = plan(capsys, "s", "--format", "json", cwd=tmp_path)
    assert code == 0, err
    document = json.loads(out)
    assert document["outputs"] == {"later": "[unknown]", "token": "[secret]"}
    assert document["resources"][0]["inputs"]["tags"] == {"token": "[secret]"}
    assert PLACEHOLDER_SECRET not in out


def test_console_script_runs_without_traceback(tmp_path: Path, project: Path) -> None:
    write_stack(project, "bad", "config:\n  acr-cache:registry:\n    name: ab\n    location: westeurope\n")
    script = Path(sys.executable).parent / "acr-cache"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    bad = subprocess.run([str(script), "plan", "bad"], cwd=project, capture_output=True, text=True, env=env)
    assert bad.returncode == 2
    assert "acr-cache:registry.name" in bad.stderr and "Traceback" not in bad.stderr
    good = subprocess.run(
        [str(script), "plan", "dev", "--format", "json"], cwd=ROOT, capture_output=True, text=True, env=env
    )
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["stack"] == "dev"


def test_prod_plan_is_private_geo_replicated_and_clean(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = plan(capsys, "prod", "--format", "json")
    assert code == 0, err
    resources = json.loads(out)["resources"]

    def of(kind: str) -> list[dict]:
        return [r for r in resources if r["type"] == kind]

    registry = of("azure-native:containerregistry:Registry")[0]
    assert registry["protect"] is True
    assert registry["inputs"]["publicNetworkAccess"] == "Disabled"
    assert registry["inputs"]["networkRuleBypassOptions"] == "AzureServices"
    assert registry["inputs"]["dataEndpointEnabled"] is True
    replicas = of("azure-native:containerregistry:Replication")
    assert sorted(r["inputs"]["location"] for r in replicas) == ["northeurope", "swedencentral"]
    endpoints = of("azure-native:network:PrivateEndpoint")
    assert len(endpoints) == 2
    for endpoint in endpoints:
        assert {r["urn"] for r in replicas} <= set(endpoint["dependsOn"])
    groups = of("azure-native:network:PrivateDnsZoneGroup")
    assert sorted(g["inputs"]["privateEndpointName"] for g in groups) == sorted(
        e["inputs"]["privateEndpointName"] for e in endpoints
    )
    (zone,) = of("azure-native:privatedns:PrivateZone")
    assert zone["inputs"]["privateZoneName"] == "privatelink.azurecr.io" and zone["protect"] is True
    assert len(of("azure-native:privatedns:VirtualNetworkLink")) == 2
    pulls = [
        g
        for g in of("azure-native:authorization:RoleAssignment")
        if g["inputs"]["roleDefinitionId"].endswith("7f951dda-4ed3-4680-a7ca-43fe172d538d")
    ]
    assert len(pulls) == 3 and all(g["inputs"]["principalType"] == "ServicePrincipal" for g in pulls)
    imports = of("pulumi-python:dynamic/acr-cache:ImageImport")
    assert len(imports) == 2 and all("@sha256:" in i["inputs"]["source"] for i in imports)
    locks = of("azure-native:authorization:ManagementLockByScope")
    assert sorted(lock["inputs"]["level"] for lock in locks) == ["CanNotDelete", "CanNotDelete"]


def test_network_refusal_exits_2_through_the_cli(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    write_stack(project, "bad", GOOD + "  acr-cache:replicas:\n    westeurope: {}\n")
    code, out, err = plan(capsys, "bad", cwd=project)
    assert code == 2 and out == ""
    assert "acr-cache:replicas.westeurope: 'westeurope' is the registry's home region" in err


def test_duplicate_yaml_keys_are_refused(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    write_stack(project, "dup", GOOD + "  acr-cache:replicas:\n    northeurope: {}\n    northeurope: {}\n")
    code, _, err = plan(capsys, "dup", cwd=project)
    assert code == 2
    assert "the key 'northeurope' appears twice in one mapping" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ("a: 1\nb: 2\na: 3\n", 3, "a"),
        ("config:\n  x: {b: 1, b: 2}\n", 2, "b"),
        ("config:\n  - {c: 1}\n  - {d: 1,\n     d: 2}\n", 4, "d"),
    ],
)
def test_a_duplicate_key_is_named_with_its_line(tmp_path: Path, text: str, line: int, key: str) -> None:
    path = tmp_path / "Pulumi.dup.yaml"
    path.write_text(text)
    with pytest.raises(StackFileError, match=rf"line {line}: the key '{key}' appears twice"):
        _read_yaml(path)


def test_distinct_keys_read_as_yaml_reads_them(tmp_path: Path) -> None:
    text = 'config:\n  1: int\n  "1": str\n  list: [{a: 1}, {a: 2}]\n  nested: {a: {a: 1}}\n'
    (tmp_path / "Pulumi.ok.yaml").write_text(text)
    assert _read_yaml(tmp_path / "Pulumi.ok.yaml") == yaml.safe_load(text)


def test_merge_keys_are_refused_as_before(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.m.yaml").write_text("base: &b {x: 1}\nc:\n  <<: *b\n  y: 2\n")
    with pytest.raises(StackFileError, match="merge keys"):
        _read_yaml(tmp_path / "Pulumi.m.yaml")
