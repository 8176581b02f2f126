"""Config that fits real deployments: defaults that pass the default policy, and the keys that
adopting existing networks, vaults and credential sets needs, asserted on the wire inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from acr_cache.cli import main
from acr_cache.policy import CONTROLS, MANDATORY, evaluate, from_planned

from tests.conftest import by_type, one, run_stack, sections
from tests.test_artifact_cache import DOCKERHUB, SECRETS, cache
from tests.test_hostile_input import write_project

SUB = "00000000-0000-0000-0000-000000000000"
VNET = f"/subscriptions/{SUB}/resourceGroups/rg-hub/providers/Microsoft.Network/virtualNetworks/vnet-hub"
SET_ID = (
    f"/subscriptions/{SUB}/resourceGroups/rg-platform/providers/Microsoft.ContainerRegistry"
    "/registries/platformacr01/credentialSets/dockerhub"
)
REGISTRY = "azure-native:containerregistry:Registry"
ENDPOINT = "azure-native:network:PrivateEndpoint"
LINK = "azure-native:privatedns:VirtualNetworkLink"
RULE = "azure-native:containerregistry:CacheRule"
MIRROR_REASON = "Docker daemons on the build farm cannot sign in to a mirror."


def private(**endpoint: Any) -> dict[str, Any]:
    return {"endpoints": {"hub": {"subnetId": f"{VNET}/subnets/pe", **endpoint}}}


def test_private_endpoints_with_defaults_pass_the_default_policy() -> None:
    run = run_stack(sections(privateAccess=private()))
    policies = one(run, REGISTRY).inputs["policies"]
    assert one(run, REGISTRY).inputs["publicNetworkAccess"] == "Disabled"
    assert policies["exportPolicy"] == {"status": "disabled"}
    report = evaluate(from_planned(run.resources))
    assert [str(v) for v in report.violations if v.level == MANDATORY] == []


def test_exports_stay_on_for_a_public_registry_and_can_be_kept_on_for_a_private_one() -> None:
    assert one(run_stack(sections()), REGISTRY).inputs["policies"]["exportPolicy"] == {"status": "enabled"}
    registry = {"name": "acrcachetest01", "location": "westeurope", "exportEnabled": True}
    run = run_stack(sections(registry=registry, privateAccess=private()))
    assert one(run, REGISTRY).inputs["policies"]["exportPolicy"] == {"status": "enabled"}
    # The policy then says which key fixes it and how to relax it.
    found = [
        v for v in evaluate(from_planned(run.resources)).violations if v.policy == "acr-exports-disabled"
    ]
    assert len(found) == 1
    text = str(found[0])
    assert "fix: `acr-cache:registry.exportEnabled: false`" in text
    assert '`{"acr-exports-disabled": "advisory"}` in the policy pack config' in text


def test_every_control_names_the_config_that_satisfies_it() -> None:
    for control in CONTROLS:
        assert control.config_fix, control.name
        remedy = control.remedy()
        assert ("or relax:" in remedy) == control.relaxable, control.name


def test_untagged_retention_turns_off_without_soft_delete() -> None:
    registry = {"name": "acrcachetest01", "location": "westeurope", "untaggedRetention": False}
    policies = one(run_stack(sections(registry=registry)), REGISTRY).inputs["policies"]
    # (The SDK's RetentionPolicyArgs and SoftDeletePolicyArgs add their default `days` to the body.)
    assert policies["retentionPolicy"]["status"] == "disabled"
    assert policies["softDeletePolicy"]["status"] == "disabled"


@pytest.mark.parametrize(
    ("links", "expected"),
    [
        ({"hub": VNET}, {"link-hub": False}),
        (
            {"hub": {"vnetId": VNET, "registrationEnabled": True}, "spoke": {"vnetId": VNET + "2"}},
            {"link-hub": True, "link-spoke": False},
        ),
    ],
)
def test_auto_registration_is_chosen_per_vnet_link(links: dict[str, Any], expected: dict[str, bool]) -> None:
    run = run_stack(sections(privateAccess={**private(), "dnsZone": {"vnetLinks": links}}))
    found = {r.inputs["virtualNetworkLinkName"]: r.inputs["registrationEnabled"] for r in by_type(run, LINK)}
    assert found == expected
    ids = {r.inputs["virtualNetworkLinkName"]: r.inputs["virtualNetwork"]["id"] for r in by_type(run, LINK)}
    assert ids["link-hub"] == VNET


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ({}, "pe-acrcachetest01-hub-nic"),
        ({"name": "pe-legacy"}, "pe-legacy-nic"),
        ({"networkInterfaceName": "pe-legacy.nic.1b2c3d"}, "pe-legacy.nic.1b2c3d"),
        ({"networkInterfaceName": ""}, None),
    ],
)
def test_the_network_interface_name_can_be_set_or_left_to_azure(
    endpoint: dict[str, Any], expected: str | None
) -> None:
    inputs = one(run_stack(sections(privateAccess=private(**endpoint))), ENDPOINT).inputs
    assert inputs.get("customNetworkInterfaceName") == expected


@pytest.mark.parametrize(
    ("mirror_set", "expected"),
    [
        ({"credentialSetId": SET_ID}, SET_ID),
        (
            {"registryCredentialSet": "dockerhub"},
            f"/subscriptions/{SUB}/resourceGroups/rg-acr-test/providers/Microsoft.ContainerRegistry"
            "/registries/acrcachetest01/credentialSets/dockerhub",
        ),
    ],
)
def test_mirror_mode_can_use_a_credential_set_made_outside_the_stack(
    mirror_set: dict[str, str], expected: str
) -> None:
    mirror = {"enabled": True, "reason": MIRROR_REASON, **mirror_set}
    run = run_stack(sections(dockerMirror=mirror))
    rule = one(run, RULE).inputs
    assert rule["sourceRepository"] == "docker.io/*" and rule["targetRepository"] == "*"
    assert rule["credentialSetResourceId"] == expected
    assert by_type(run, "azure-native:containerregistry:CredentialSet") == []


def test_a_cache_rule_without_target_targets_its_source_as_written() -> None:
    rules = {
        "dotnet": {"source": "mcr.microsoft.com/dotnet/*"},
        "nginx": {"source": "docker.io/library/nginx", "credentialSet": "dockerhub"},
    }
    run = run_stack(cache(rules=rules), secrets=SECRETS)
    targets = {r.inputs["cacheRuleName"]: r.inputs["targetRepository"] for r in by_type(run, RULE)}
    assert targets == {"dotnet": "mcr.microsoft.com/dotnet/*", "nginx": "docker.io/library/nginx"}
    assert run.outputs["pullReferences"]["nginx"] == "acrcachetest01.azurecr.io/docker.io/library/nginx"


def test_outputs_with_nothing_in_them_are_not_exported() -> None:
    bare = run_stack(sections()).outputs
    assert {"credentialSetIds", "credentialSetPrincipalIds", "pullReferences", "importedImages"}.isdisjoint(
        bare
    )
    anonymous_only = run_stack(
        sections(cacheRules={"dotnet": {"source": "mcr.microsoft.com/dotnet/*"}})
    ).outputs
    assert "pullReferences" in anonymous_only and "credentialSetIds" not in anonymous_only
    with_sets = run_stack(cache(), secrets=SECRETS).outputs
    assert set(with_sets["credentialSetIds"]) == {"dockerhub"} and DOCKERHUB["loginServer"] == "docker.io"


@pytest.mark.parametrize(("export", "code"), [(None, 0), (True, 3)])
def test_through_the_cli_defaults_pass_and_a_violation_names_its_fix(
    export: bool | None, code: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry: dict[str, Any] = {"name": "acrcachetest01", "location": "westeurope"}
    if export is not None:
        registry["exportEnabled"] = export
    document = sections(registry=registry, privateAccess=private())
    write_project(tmp_path)
    config = {f"acr-cache:{key}": value for key, value in document.items()}
    (tmp_path / "Pulumi.pe.yaml").write_text(yaml.safe_dump({"config": config}))
    assert main(["plan", "pe", "--cwd", str(tmp_path)]) == code
    _, err = capsys.readouterr()
    policy_lines = [line for line in err.splitlines() if line.startswith("policy: [mandatory]")]
    if code == 0:
        assert policy_lines == []
    else:
        assert len(policy_lines) == 1
        assert "acr-exports-disabled" in policy_lines[0]
        assert "fix: `acr-cache:registry.exportEnabled: false`" in policy_lines[0]
        assert "--policy-config" in policy_lines[0]
