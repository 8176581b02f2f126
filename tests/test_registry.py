"""The registry core: recorded wire inputs of the resources it registers."""

from __future__ import annotations

from typing import Any

import pytest
from acr_cache.config import ConfigError, parse_stack_config

from tests.conftest import as_pulumi_config, by_type, one, run_stack, sections

REGISTRY = "azure-native:containerregistry:Registry"
GROUP = "azure-native:resources:ResourceGroup"


def registry_inputs(**changes: object) -> dict:
    return one(run_stack(sections(**changes)), REGISTRY).inputs


def test_premium_registry_has_every_secure_default_on_the_wire() -> None:
    inputs = registry_inputs()
    assert inputs["registryName"] == "acrcachetest01"
    assert inputs["sku"] == {"name": "Premium"}
    assert inputs["location"] == "westeurope"
    assert inputs["adminUserEnabled"] is False
    assert inputs["anonymousPullEnabled"] is False
    assert inputs["zoneRedundancy"] == "Enabled"
    assert inputs["dataEndpointEnabled"] is False
    # Values the SDK would otherwise fill in by itself are sent explicitly.
    assert inputs["publicNetworkAccess"] == "Enabled"
    assert inputs["networkRuleBypassOptions"] == "AzureServices"
    assert inputs["networkRuleSet"] == {"defaultAction": "Allow"}
    assert inputs["policies"] == {
        "azureADAuthenticationAsArmPolicy": {"status": "disabled"},
        "exportPolicy": {"status": "enabled"},
        "retentionPolicy": {"days": 7, "status": "enabled"},
        "softDeletePolicy": {"retentionDays": 7, "status": "disabled"},
        "quarantinePolicy": {"status": "disabled"},
    }


def test_retention_days_and_tags_reach_the_registry() -> None:
    inputs = registry_inputs(
        registry={
            "name": "acrcachetest01",
            "location": "northeurope",
            "retentionDays": 30,
            "tags": {"env": "t"},
        }
    )
    assert inputs["policies"]["retentionPolicy"] == {"days": 30, "status": "enabled"}
    assert inputs["tags"] == {"env": "t"}
    assert inputs["location"] == "northeurope"


def test_tags_at_azures_limits_are_accepted() -> None:
    # Azure's limits: 50 tags per resource, names of 512 characters, values of 256.
    tags = {f"t{i}": "v" for i in range(48)} | {"k" * 512: "v", "owner": "x" * 256}
    inputs = registry_inputs(registry={"name": "acrcachetest01", "location": "westeurope", "tags": tags})
    assert inputs["tags"] == tags


def test_zone_redundancy_can_be_turned_off_on_premium() -> None:
    inputs = registry_inputs(
        registry={"name": "acrcachetest01", "location": "westeurope", "zoneRedundancy": False}
    )
    assert inputs["zoneRedundancy"] == "Disabled"


@pytest.mark.parametrize("sku", ["Basic", "Standard"])
def test_lower_tiers_get_no_premium_only_settings(sku: str) -> None:
    inputs = registry_inputs(registry={"name": "acrcachetest01", "location": "westeurope", "sku": sku})
    assert inputs["sku"] == {"name": sku}
    assert "networkRuleSet" not in inputs
    assert inputs["zoneRedundancy"] == "Disabled"
    assert inputs["policies"] == {
        "azureADAuthenticationAsArmPolicy": {"status": "disabled"},
        "softDeletePolicy": {"retentionDays": 7, "status": "disabled"},
    }
    assert inputs["adminUserEnabled"] is False and inputs["anonymousPullEnabled"] is False


def test_created_resource_group_and_registry_depend_in_order() -> None:
    run = run_stack(sections(resourceGroup={"name": "rg-acr-test", "tags": {"owner": "me"}}))
    group = one(run, GROUP)
    registry = one(run, REGISTRY)
    assert group.inputs == {
        "resourceGroupName": "rg-acr-test",
        "location": "westeurope",
        "tags": {"owner": "me"},
    }
    assert registry.inputs["resourceGroupName"] == "rg-acr-test"
    assert group.urn in registry.depends_on


def test_resource_group_location_can_differ_from_the_registry() -> None:
    run = run_stack(sections(resourceGroup={"name": "rg-acr-test", "location": "swedencentral"}))
    assert one(run, GROUP).inputs["location"] == "swedencentral"
    assert one(run, REGISTRY).inputs["location"] == "westeurope"


def test_existing_resource_group_is_looked_up_not_created() -> None:
    run = run_stack(sections(resourceGroup={"name": "rg-shared", "create": False}))
    assert by_type(run, GROUP) == []
    assert one(run, REGISTRY).inputs["resourceGroupName"] == "rg-shared"


@pytest.mark.parametrize("protect", [True, False])
def test_protect_follows_the_environment(protect: bool) -> None:
    run = run_stack(sections(protection={"protect": protect}))
    assert one(run, REGISTRY).protect is protect
    assert one(run, GROUP).protect is protect


def test_children_are_named_after_the_component_and_parented_to_it() -> None:
    run = run_stack(sections())
    component = one(run, "acr-cache:index:Registry")
    for resource in (one(run, REGISTRY), one(run, GROUP)):
        assert resource.parent == component.urn
        assert resource.name.startswith(f"{component.name}-")
    assert one(run, REGISTRY).urn == (
        "urn:pulumi:test::acr-cache::acr-cache:index:Registry$azure-native:containerregistry:Registry"
        "::acr-registry"
    )


def test_stack_outputs_carry_id_name_and_login_server() -> None:
    outputs = run_stack(sections()).outputs
    assert outputs.pop("endpoints") == {
        "westeurope": {"loginServer": "acrcachetest01.azurecr.io", "dataEndpoint": "*.blob.core.windows.net"}
    }
    assert outputs == {
        "loginServer": "acrcachetest01.azurecr.io",
        "registryId": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-acr-test"
        "/providers/Microsoft.ContainerRegistry/registries/acrcachetest01",
        "registryName": "acrcachetest01",
        "resourceGroupName": "rg-acr-test",
    }


def test_login_server_is_lowercase_for_a_mixed_case_name() -> None:
    outputs = run_stack(sections(registry={"name": "AcrCacheTest01", "location": "westeurope"})).outputs
    assert outputs["loginServer"] == "acrcachetest01.azurecr.io"


def test_soft_delete_replaces_the_retention_policy() -> None:
    inputs = registry_inputs(
        registry={"name": "acrcachetest01", "location": "westeurope", "softDeleteDays": 14}
    )
    assert inputs["policies"]["softDeletePolicy"] == {"retentionDays": 14, "status": "enabled"}
    # Azure refuses both policies at once.
    assert inputs["policies"]["retentionPolicy"] == {"days": 7, "status": "disabled"}


def _registry_problems(**registry: Any) -> list[str]:
    try:
        parse_stack_config(
            as_pulumi_config(
                sections(registry={"name": "acrcachetest01", "location": "westeurope", **registry})
            )
        )
    except ConfigError as exc:
        return [str(p) for p in exc.problems]
    return []


@pytest.mark.parametrize(
    ("registry", "problem"),
    [
        (
            {"sku": "Standard", "zoneRedundancy": True},
            "acr-cache:registry.zoneRedundancy: zone redundancy can only be enabled on Premium (sku is Standard): "
            "set `sku: Premium` or remove `zoneRedundancy`",
        ),
        (
            {"sku": "Basic", "retentionDays": 7},
            "acr-cache:registry.retentionDays: the retention policy is a Premium feature (sku is Basic): set "
            "`sku: Premium` or remove `retentionDays`",
        ),
        (
            {"untaggedRetention": False, "retentionDays": 7},
            "acr-cache:registry.retentionDays: `untaggedRetention: false` turns the retention policy off: remove "
            "`retentionDays`, or `untaggedRetention: false`",
        ),
        (
            {"softDeleteDays": 7, "retentionDays": 7},
            "acr-cache:registry.softDeleteDays: Azure does not allow the soft delete policy beside the retention "
            "policy: remove `retentionDays` (soft delete then replaces it) or `softDeleteDays`",
        ),
        (
            {"sku": "Standard", "exportEnabled": False},
            "acr-cache:registry.exportEnabled: disabling exports is a Premium feature (sku is Standard): set "
            "`sku: Premium` or remove `exportEnabled`",
        ),
        (
            {"name": "acr_cache_01"},
            "acr-cache:registry.name: 'acr_cache_01' is not a valid registry name: use 5-50 letters and digits only "
            "(no hyphens or underscores); the name must be unique across all of Azure",
        ),
        (
            {"aliases": ["urn:pulumi:prod::acr-cache::azure-native:containerregistry:Replication::acr"]},
            "acr-cache:registry.aliases[0]: 'urn:pulumi:prod::acr-cache::azure-native:containerregistry:"
            "Replication::acr' is not the URN of a registry: expected urn:pulumi:<stack>::<project>::[<parent "
            "types>$]azure-native:containerregistry:Registry::<name> (`pulumi stack --show-urns` lists them)",
        ),
    ],
)
def test_registry_refusals_in_full(registry: dict[str, Any], problem: str) -> None:
    assert problem in _registry_problems(**registry)


@pytest.mark.parametrize(
    "registry",
    [
        {"sku": "Standard"},  # no Premium setting given: the non-Premium defaults are accepted
        {"sku": "Standard", "zoneRedundancy": False, "exportEnabled": True},
        {"softDeleteDays": 7, "untaggedRetention": False},
        {"name": "a" * 50},
        {"name": "abcde"},
        {
            "aliases": [
                "urn:pulumi:prod::acr-cache::azure-native:containerregistry:Registry::acr",
                "urn:pulumi:prod::acr-cache::acr-cache:index:Registry$azure-native:containerregistry:Registry::acr",
            ]
        },
    ],
)
def test_registry_settings_at_the_edge_are_accepted(registry: dict[str, Any]) -> None:
    assert _registry_problems(**registry) == []


def test_an_existing_resource_group_keeps_its_own_settings() -> None:
    for extra, problem in (
        (
            {"location": "westeurope"},
            "acr-cache:resourceGroup.location: an existing resource group keeps its own region: remove `location`, "
            "or set `create: true` to let the stack create the group",
        ),
        (
            {"tags": {"a": "b"}},
            "acr-cache:resourceGroup.tags: the stack never modifies an existing resource group: remove `tags`, or "
            "set `create: true` to let the stack create the group",
        ),
    ):
        with pytest.raises(ConfigError) as caught:
            parse_stack_config(
                as_pulumi_config(sections(resourceGroup={"name": "rg-acr", "create": False, **extra}))
            )
        assert [str(p) for p in caught.value.problems] == [problem]


# --- Issue #17: the registry's managed identities ---------------------------------------------------

UAI = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-acr"
BASE = {"name": "acrcachetest01", "location": "westeurope"}


def test_no_identity_unless_asked() -> None:
    run = run_stack(sections())
    assert "identity" not in one(run, REGISTRY).inputs
    assert not {"registryPrincipalId", "registryUserAssignedIdentityIds"} & set(run.outputs)


@pytest.mark.parametrize(
    ("identity", "wire"),
    [
        ({"systemAssigned": True}, {"type": "SystemAssigned"}),
        ({"userAssignedIds": [UAI]}, {"type": "UserAssigned", "userAssignedIdentities": {UAI: {}}}),
        (
            {"systemAssigned": True, "userAssignedIds": [UAI]},
            {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {UAI: {}}},
        ),
    ],
)
def test_identities_reach_the_registry(identity: dict[str, Any], wire: dict[str, Any]) -> None:
    run = run_stack(sections(registry={**BASE, "identity": identity}))
    assert one(run, REGISTRY).inputs["identity"] == wire
    if identity.get("systemAssigned"):
        # The principal id the mocks give the registry's identity, as Azure would give one.
        assert run.outputs["registryPrincipalId"] == "73c87041-e150-5472-a7dd-efb2963ec254"
    else:
        assert "registryPrincipalId" not in run.outputs
    assert run.outputs.get("registryUserAssignedIdentityIds") == identity.get("userAssignedIds")


@pytest.mark.parametrize(
    ("identity", "problem"),
    [
        (
            {"systemAssigned": False},
            "acr-cache:registry.identity.systemAssigned: an identity section needs `systemAssigned: true` or "
            "`userAssignedIds`",
        ),
        (
            {"userAssignedIds": [UAI, UAI.upper().replace("/SUBSCRIPTIONS/", "/subscriptions/")]},
            "acr-cache:registry.identity.userAssignedIds: an identity is listed twice (ARM ids compare without case)",
        ),
        (
            {"userAssignedIds": ["id-acr"]},
            "acr-cache:registry.identity.userAssignedIds[0]: 'id-acr' is not the ARM id of a user-assigned "
            "managed identity: expected /subscriptions/<guid>/resourceGroups/<group>/providers/"
            "Microsoft.ManagedIdentity/userAssignedIdentities/<name> (`az identity show -g <group> -n <name> "
            "--query id -o tsv` prints it)",
        ),
    ],
)
def test_identity_refusals(identity: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(as_pulumi_config(sections(registry={**BASE, "identity": identity})))
    assert [str(p) for p in caught.value.problems] == [problem]


def test_quarantine_is_sent_as_chosen_on_premium() -> None:
    inputs = one(run_stack(sections(registry={**BASE, "quarantine": True})), REGISTRY).inputs
    assert inputs["policies"]["quarantinePolicy"] == {"status": "enabled"}


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (
            sections(registry={**BASE, "sku": "Standard", "quarantine": True}),
            "acr-cache:registry.quarantine: the quarantine policy is a Premium feature (sku is Standard)",
        ),
        (
            sections(registry={**BASE, "repositoryPermissions": True}),
            "acr-cache:registry.repositoryPermissions: repository permissions by ABAC need the registry API "
            "2025-11-01 or later, and azure-native 3.x deploys 2023-01-01-preview: remove it, and grant "
            "`AcrPull`/`AcrPush` on the registry (`acr-cache:access`) or use scope-map tokens",
        ),
        (
            sections(network={"tasksBypass": True}),
            "acr-cache:network.tasksBypass: the firewall bypass for tasks needs the registry API 2025-11-01 or "
            "later, and azure-native 3.x deploys 2023-01-01-preview: remove it, and run tasks on a dedicated "
            "agent pool (`acr-cache:agentPools`, docs/operations.md)",
        ),
    ],
    ids=["quarantine-standard", "abac", "tasks-bypass"],
)
def test_features_the_deployed_api_lacks_are_refused_not_ignored(
    document: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(as_pulumi_config(document))
    assert [str(p) for p in caught.value.problems] == [problem]
