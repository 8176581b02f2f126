"""What the project knows of each azure-native resource type it registers: where it sits in ARM,
which input changes replace it instead of updating it, which Azure refuses in place, and what
deleting one loses. The components read it (what they register as `replace_on_changes`), and so do
the offline plan (ids the mocks give) and the review tools (what a change does): one table, several
readers.

Three sources decide a replacement, as the engine and azure-native do:

- azure-native's own replace keys (provider/pkg/provider/diff.go `calculateDetailedDiff`): every
  parameter of the PUT that is part of the resource's path (its name, its parents' names, its
  resource group or scope), and every property the REST spec marks create-only
  (`x-ms-mutability: [create, read]`), which for the types here is `location` (the common types'
  TrackedResource). Such a replacement deletes first: azure-native answers `DeleteBeforeReplace`
  whenever its diff has replace keys (provider.go `Diff`).
- properties Azure refuses to change in place although the spec does not mark them (below, each
  with its source). azure-native would send them as an update that fails, so the components
  register them as `replace_on_changes` with `delete_before_replace`; the diff checks that they do.
- the resource's own `replaceOnChanges` option (the engine's, pkg/resource/deploy/step_generator.go).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

# ARM id templates: provider path below the resource group, with `{wireInput}` placeholders.
# The last placeholder is the resource's own name.
# Extension resources: the path below their scope, and the input that names them.
EXTENSION_PATHS: dict[str, tuple[str, str]] = {
    "azure-native:authorization:RoleAssignment": (
        "Microsoft.Authorization/roleAssignments",
        "roleAssignmentName",
    ),
    "azure-native:authorization:ManagementLockByScope": ("Microsoft.Authorization/locks", "lockName"),
}
# Extension resources whose scope input is `resourceUri` (diagnostic settings).
URI_EXTENSION_PATHS: dict[str, tuple[str, str]] = {
    "azure-native:monitor:DiagnosticSetting": ("Microsoft.Insights/diagnosticSettings", "name"),
}

ARM_PATHS: dict[str, tuple[str, str]] = {
    "azure-native:containerregistry:Registry": (
        "Microsoft.ContainerRegistry/registries/{registryName}",
        "registryName",
    ),
    "azure-native:containerregistry:Replication": (
        "Microsoft.ContainerRegistry/registries/{registryName}/replications/{replicationName}",
        "replicationName",
    ),
    "azure-native:containerregistry:CacheRule": (
        "Microsoft.ContainerRegistry/registries/{registryName}/cacheRules/{cacheRuleName}",
        "cacheRuleName",
    ),
    "azure-native:containerregistry:CredentialSet": (
        "Microsoft.ContainerRegistry/registries/{registryName}/credentialSets/{credentialSetName}",
        "credentialSetName",
    ),
    "azure-native:network:VirtualNetwork": (
        "Microsoft.Network/virtualNetworks/{virtualNetworkName}",
        "virtualNetworkName",
    ),
    "azure-native:network:Subnet": (
        "Microsoft.Network/virtualNetworks/{virtualNetworkName}/subnets/{subnetName}",
        "subnetName",
    ),
    "azure-native:managedidentity:UserAssignedIdentity": (
        "Microsoft.ManagedIdentity/userAssignedIdentities/{resourceName}",
        "resourceName",
    ),
    "azure-native:network:PrivateEndpoint": (
        "Microsoft.Network/privateEndpoints/{privateEndpointName}",
        "privateEndpointName",
    ),
    "azure-native:network:PrivateDnsZoneGroup": (
        "Microsoft.Network/privateEndpoints/{privateEndpointName}/privateDnsZoneGroups/{privateDnsZoneGroupName}",
        "privateDnsZoneGroupName",
    ),
    "azure-native:privatedns:PrivateZone": (
        "Microsoft.Network/privateDnsZones/{privateZoneName}",
        "privateZoneName",
    ),
    "azure-native:privatedns:VirtualNetworkLink": (
        "Microsoft.Network/privateDnsZones/{privateZoneName}/virtualNetworkLinks/{virtualNetworkLinkName}",
        "virtualNetworkLinkName",
    ),
    "azure-native:keyvault:Vault": ("Microsoft.KeyVault/vaults/{vaultName}", "vaultName"),
    "azure-native:operationalinsights:Workspace": (
        "Microsoft.OperationalInsights/workspaces/{workspaceName}",
        "workspaceName",
    ),
    "azure-native:monitor:ActionGroup": (
        "Microsoft.Insights/actionGroups/{actionGroupName}",
        "actionGroupName",
    ),
    "azure-native:monitor:MetricAlert": ("Microsoft.Insights/metricAlerts/{ruleName}", "ruleName"),
    "azure-native:monitor:ScheduledQueryRule": (
        "Microsoft.Insights/scheduledQueryRules/{ruleName}",
        "ruleName",
    ),
    "azure-native:containerregistry:Webhook": (
        "Microsoft.ContainerRegistry/registries/{registryName}/webhooks/{webhookName}",
        "webhookName",
    ),
    "azure-native:containerregistry:AgentPool": (
        "Microsoft.ContainerRegistry/registries/{registryName}/agentPools/{agentPoolName}",
        "agentPoolName",
    ),
    "azure-native:containerregistry:Task": (
        "Microsoft.ContainerRegistry/registries/{registryName}/tasks/{taskName}",
        "taskName",
    ),
    "azure-native:containerregistry:ScopeMap": (
        "Microsoft.ContainerRegistry/registries/{registryName}/scopeMaps/{scopeMapName}",
        "scopeMapName",
    ),
    "azure-native:containerregistry:Token": (
        "Microsoft.ContainerRegistry/registries/{registryName}/tokens/{tokenName}",
        "tokenName",
    ),
    "azure-native:keyvault:Key": ("Microsoft.KeyVault/vaults/{vaultName}/keys/{keyName}", "keyName"),
    "azure-native:keyvault:Secret": (
        "Microsoft.KeyVault/vaults/{vaultName}/secrets/{secretName}",
        "secretName",
    ),
}


_ACR = "azure-rest-api-specs specification/containerregistry (Microsoft.ContainerRegistry)"


@dataclass(frozen=True)
class RefusedInPlace:
    """Properties Azure cannot update in place, with where that is written down."""

    paths: tuple[str, ...]
    source: str


REFUSED_IN_PLACE: dict[str, RefusedInPlace] = {
    "azure-native:containerregistry:Registry": RefusedInPlace(
        ("zoneRedundancy",),
        f"{_ACR}: RegistryUpdateParameters has no zoneRedundancy; Azure sets it at creation only "
        "(learn.microsoft.com/azure/container-registry/zone-redundancy; terraform azurerm marks "
        "zone_redundancy_enabled ForceNew)",
    ),
    "azure-native:containerregistry:Replication": RefusedInPlace(
        ("zoneRedundancy",),
        f"{_ACR}: ReplicationUpdateParameters holds regionEndpointEnabled and tags only; a PUT that "
        "changes zoneRedundancy is rejected (Azure/azure-rest-api-specs#18934)",
    ),
    "azure-native:containerregistry:CacheRule": RefusedInPlace(
        ("sourceRepository", "targetRepository"),
        f"{_ACR}: CacheRuleUpdateProperties holds credentialSetResourceId only",
    ),
    "azure-native:containerregistry:CredentialSet": RefusedInPlace(
        ("loginServer",),
        f"{_ACR}: CredentialSetUpdateProperties holds authCredentials only",
    ),
    "azure-native:containerregistry:AgentPool": RefusedInPlace(
        ("os", "tier", "virtualNetworkSubnetResourceId"),
        f"{_ACR} 2019-06-01-preview containerregistry_build.json: AgentPoolPropertiesUpdateParameters "
        "holds count only",
    ),
}
"""Create-only in practice: not marked in the spec azure-native reads, refused by the service."""


@dataclass(frozen=True)
class RefusedUpdate:
    """A change azure-native sends as an in-place update (nothing marks it force-new) that Azure
    refuses: `pulumi up` fails at it. `when` is `change` (any change), `unset` (a true value turned
    off or removed) or `toggle` (the property added, removed, or its `status` changed)."""

    path: str
    when: str
    fix: str
    source: str


_MOVE = (
    "Azure refuses a new location for an existing resource (ARM answers InvalidResourceLocation), "
    "and azure-native sends it as an update: {what}"
)
REFUSED_UPDATES: dict[str, tuple[RefusedUpdate, ...]] = {
    "azure-native:containerregistry:Webhook": (
        RefusedUpdate(
            "location",
            "change",
            "give the webhook a new name (key): the stack creates it in the new region and deletes the old",
            _MOVE.format(
                what="a webhook's location is its own property, not create-only in the spec "
                "(WebhookCreateParameters.location)"
            ),
        ),
    ),
    "azure-native:network:PrivateEndpoint": (
        RefusedUpdate(
            "location",
            "change",
            "add an endpoint under a new key in the new region, then remove the old one in a later deploy",
            _MOVE.format(what="network.json's Resource.location has no x-ms-mutability"),
        ),
    ),
    "azure-native:monitor:ScheduledQueryRule": (
        RefusedUpdate(
            "scopes",
            "change",
            "rename the alert rule (it is created anew and the old one deleted), or remove it in one "
            "deploy and add it back in the next",
            'Azure answers "Scope can not be updated" (pulumi/pulumi-azure-native#4839)',
        ),
    ),
    "azure-native:containerregistry:Registry": (
        RefusedUpdate(
            "encryption",
            "toggle",
            "a registry is encrypted with a customer-managed key at creation only: create a new registry "
            "with (or without) the key and import the images into it",
            "learn.microsoft.com/azure/container-registry/tutorial-customer-managed-keys: encryption "
            "with a customer-managed key is enabled when the registry is created and cannot be "
            "disabled (the key itself can be rotated: keyVaultProperties.keyIdentifier updates)",
        ),
    ),
    "azure-native:keyvault:Vault": (
        RefusedUpdate(
            "location",
            "change",
            "a vault cannot move: give it a new name in the new region (the old name stays taken "
            "while the old vault is soft-deleted) and point the credential sets at the new vault",
            _MOVE.format(
                what="keyvault.json 2024-11-01 VaultCreateOrUpdateParameters.location has no x-ms-mutability"
            ),
        ),
        RefusedUpdate(
            "properties.softDeleteRetentionInDays",
            "change",
            "keep the retention the vault was created with (remove the change)",
            "learn.microsoft.com/azure/key-vault/general/soft-delete-overview: the retention period "
            "is set when the vault is created and cannot be changed",
        ),
        RefusedUpdate(
            "properties.enablePurgeProtection",
            "unset",
            "keep purge protection on (Azure Policy and the customer-managed key need it anyway)",
            "learn.microsoft.com/azure/key-vault/general/soft-delete-overview: once enabled, purge "
            "protection cannot be disabled",
        ),
    ),
}
"""Updates azure-native sends that Azure refuses, by type."""

NO_EFFECT_IN_PLACE: dict[str, str] = {
    "azure-native:keyvault:Key": (
        "Microsoft.KeyVault keys.json `Keys_CreateIfNotExist`: an existing key is returned without "
        "any write, so a changed key property is never applied (rotate or make a new key instead)"
    ),
}
"""Types whose in-place update reaches Azure but changes nothing there."""

DATA_LOSS: dict[str, str] = {
    "azure-native:resources:ResourceGroup": "every resource in the group",
    "azure-native:containerregistry:Registry": "every image and cached layer in every region, the login server name until Azure frees it",
    "azure-native:containerregistry:Replication": "the region's copy of every image; pulls in that region go cross-region",
    "azure-native:keyvault:Vault": "the upstream credentials and keys (soft-deleted, purge-protected: the name stays taken)",
    "azure-native:keyvault:Key": "the customer-managed key: a registry encrypted with it cannot be read",
    "azure-native:operationalinsights:Workspace": "the collected logs",
    "azure-native:privatedns:PrivateZone": "private name resolution of the registry for every linked network",
    "azure-native:containerregistry:Token": "every client signed in with the token's passwords",
    "azure-native:managedidentity:UserAssignedIdentity": "the identity's role assignments and its principal id",
}
"""What deleting (or replacing) a resource of the type takes with it."""


def refused_in_place(typ: str) -> list[str]:
    """What a component lists in `replace_on_changes` (with `delete_before_replace`) for the type."""
    refused = REFUSED_IN_PLACE.get(typ)
    return list(refused.paths) if refused else []


@functools.cache
def force_new_table() -> dict[str, Any]:
    """azure-native 3.29's force-new properties per type, with their sources (data/force_new.json)."""
    document: dict[str, Any] = json.loads(
        resources.files("acr_cache").joinpath("data/force_new.json").read_text()
    )
    return document


def provider_replace_keys(typ: str) -> dict[str, str]:
    """What azure-native itself replaces the resource on (its Diff), with the reason for each: every
    path parameter of the PUT and every force-new property (provider/pkg/provider/diff.go
    `calculateDetailedDiff`; provider/pkg/gen/properties.go `forceNew`)."""
    keys: dict[str, str] = {}
    for name in path_parameters(typ):
        keys[name] = "part of the resource's ARM path (azure-native replaces on path parameters)"
    entry = force_new_table()["types"].get(typ, {})
    for path, source in entry.get("forceNew", {}).items():
        keys.setdefault(path, f"force-new in azure-native ({source})")
    return keys


def replace_keys(typ: str, inputs: dict[str, object] | None = None) -> dict[str, str]:
    """Input paths (arrays as `[]`) whose change replaces the resource, with the reason for each:
    azure-native's own, and what Azure refuses in place (which the components list in
    `replace_on_changes`)."""
    keys = provider_replace_keys(typ)
    refused = REFUSED_IN_PLACE.get(typ)
    if refused:
        for path in refused.paths:
            keys.setdefault(path, f"Azure refuses it in place: {refused.source}")
    return keys


def keyed_arrays(typ: str) -> dict[str, tuple[str, ...]]:
    """Arrays azure-native compares as sets, by the properties that identify an element (the spec's
    x-ms-identifiers; provider/pkg/provider/diff.go `diffKeyedArrays`)."""
    entry = force_new_table()["types"].get(typ, {})
    return {path: tuple(spec["keys"]) for path, spec in entry.get("keyedArrays", {}).items()}


def normalized(path: str) -> str:
    """`a[3].b` -> `a[].b`: how replace keys name a property of any element."""
    out, depth = [], 0
    for char in path:
        if char == "[":
            depth += 1
            out.append("[]")
        elif char == "]":
            depth -= 1
        elif depth == 0:
            out.append(char)
    return "".join(out)


def covered(path: str, keys: dict[str, str] | list[str] | tuple[str, ...]) -> str | None:
    """The replace key that `path` (or a parent of it) is, if any. `*` covers every path."""
    if "*" in keys:
        return "*"
    plain = normalized(path)
    for key in keys:
        if plain == key or plain.startswith(key + ".") or plain.startswith(key + "[]"):
            return key
    return None


def path_parameters(typ: str) -> tuple[str, ...]:
    """The wire inputs that make up the resource's ARM path (its name and its parents' names, its
    resource group or scope). azure-native replaces a resource when one of them changes
    (provider/pkg/provider/diff.go: every PUT parameter `in: path` is a replace key)."""
    if typ == "azure-native:resources:ResourceGroup":
        return ("resourceGroupName",)
    if typ in ARM_PATHS:
        template, _ = ARM_PATHS[typ]
        return ("resourceGroupName", *re.findall(r"\{(\w+)\}", template))
    if typ in URI_EXTENSION_PATHS:
        return ("resourceUri", URI_EXTENSION_PATHS[typ][1])
    if typ in EXTENSION_PATHS:
        return ("scope", EXTENSION_PATHS[typ][1])
    return ()
