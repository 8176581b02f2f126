"""The ARM facts of each azure-native type (acr_cache.azure_types) against two sources that do not
derive from it: the azure-native SDK's `*Args` classes (the wire names a path parameter must be)
and the id rules `acr_cache.arm` checks a user's ids with (what a real id of the kind looks like).
The offline plan's ids come from these templates; a wrong one would give every reader (the diff,
the graph, the cost) ids Azure never issues."""

from __future__ import annotations

import importlib
import re

import pytest
from acr_cache import arm
from acr_cache.azure_types import ARM_PATHS, EXTENSION_PATHS, URI_EXTENSION_PATHS, path_parameters
from acr_cache.plan.mocks import AzureMocks
from pulumi._types import input_type_py_to_pulumi_names

SUB = "00000000-0000-0000-0000-000000000000"
# The resource provider namespace of each azure-native module (ARM's, as its ids spell it).
NAMESPACES = {
    "authorization": "Microsoft.Authorization",
    "containerregistry": "Microsoft.ContainerRegistry",
    "keyvault": "Microsoft.KeyVault",
    "managedidentity": "Microsoft.ManagedIdentity",
    "monitor": "Microsoft.Insights",
    "network": "Microsoft.Network",
    "operationalinsights": "Microsoft.OperationalInsights",
    "privatedns": "Microsoft.Network",
}


def wire_names(typ: str) -> set[str]:
    _, module, kind = typ.split(":")
    sdk = importlib.import_module(f"pulumi_azure_native.{module}")
    # Where a nested type already has the name `<Kind>Args` (network.SubnetArgs), the SDK names
    # the resource's own `<Kind>InitArgs`.
    args = getattr(sdk, f"{kind}InitArgs", None) or getattr(sdk, f"{kind}Args")
    return set(input_type_py_to_pulumi_names(args).values())


@pytest.mark.parametrize("typ", sorted(ARM_PATHS))
def test_each_arm_path_is_made_of_the_types_own_inputs(typ: str) -> None:
    template, name_key = ARM_PATHS[typ]
    placeholders = re.findall(r"\{(\w+)\}", template)
    # The resource's own name is the last parameter of its path; its parents' names come before.
    assert placeholders[-1] == name_key
    assert {*placeholders, "resourceGroupName"} <= wire_names(typ)
    assert template.startswith(NAMESPACES[typ.split(":")[1]] + "/")
    # Segments alternate a type and its name, as in every ARM id.
    segments = template.split("/")[1:]
    assert [s.startswith("{") for s in segments] == [i % 2 == 1 for i in range(len(segments))]
    assert path_parameters(typ) == ("resourceGroupName", *placeholders)


@pytest.mark.parametrize("typ", sorted({**EXTENSION_PATHS, **URI_EXTENSION_PATHS}))
def test_each_extension_resource_is_named_by_its_own_input_below_its_scope(typ: str) -> None:
    segment, name_key = {**EXTENSION_PATHS, **URI_EXTENSION_PATHS}[typ]
    scope = "resourceUri" if typ in URI_EXTENSION_PATHS else "scope"
    assert {name_key, scope} <= wire_names(typ)
    assert segment.startswith(NAMESPACES[typ.split(":")[1]] + "/") and segment.count("/") == 1
    assert path_parameters(typ) == (scope, name_key)


def test_the_resource_group_and_unknown_types() -> None:
    assert path_parameters("azure-native:resources:ResourceGroup") == ("resourceGroupName",)
    assert path_parameters("azure-native:storage:StorageAccount") == ()
    assert path_parameters("acr-cache:index:Registry") == ()


# What the stack takes as an id of a kind from a user, by the azure-native type that has it.
KINDS = {
    "azure-native:network:VirtualNetwork": arm.VIRTUAL_NETWORK,
    "azure-native:network:Subnet": arm.SUBNET,
    "azure-native:privatedns:PrivateZone": arm.PRIVATE_DNS_ZONE,
    "azure-native:keyvault:Vault": arm.KEY_VAULT,
    "azure-native:containerregistry:Registry": arm.REGISTRY,
    "azure-native:containerregistry:CredentialSet": arm.CREDENTIAL_SET,
    "azure-native:operationalinsights:Workspace": arm.LOG_ANALYTICS_WORKSPACE,
    "azure-native:monitor:ActionGroup": arm.ACTION_GROUP,
    "azure-native:managedidentity:UserAssignedIdentity": arm.USER_ASSIGNED_IDENTITY,
}


@pytest.mark.parametrize("typ", sorted(KINDS))
def test_the_offline_plans_ids_are_ids_the_stack_itself_would_take(typ: str) -> None:
    inputs = {name: f"name{index}x" for index, name in enumerate(path_parameters(typ))}
    if typ == "azure-native:privatedns:PrivateZone":
        inputs["privateZoneName"] = "privatelink.azurecr.io"  # the one zone the stack takes
    arm_id, name = AzureMocks._arm_id(typ, "logical", inputs, None, SUB)
    parsed = arm.parse_arm_id(arm_id, KINDS[typ])
    assert name == inputs[ARM_PATHS[typ][1]]
    assert arm_id.startswith(f"/subscriptions/{SUB}/resourceGroups/{inputs['resourceGroupName']}/providers/")
    assert parsed.name == name
