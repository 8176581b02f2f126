"""Which input changes replace a resource instead of updating it, and what deleting one loses.

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

from dataclasses import dataclass

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


def replace_keys(typ: str, inputs: dict[str, object]) -> dict[str, str]:
    """Input paths (arrays as `[]`) whose change replaces the resource, with the reason for each."""
    from acr_cache.plan.mocks import path_parameters  # the components import this module: stay light

    keys: dict[str, str] = {}
    if typ.startswith("azure-native:"):
        for name in path_parameters(typ):
            keys[name] = "part of the resource's ARM path (azure-native replaces on path parameters)"
        if "location" in inputs:
            keys["location"] = "create-only in the REST spec (TrackedResource location)"
    refused = REFUSED_IN_PLACE.get(typ)
    if refused:
        for path in refused.paths:
            keys.setdefault(path, f"Azure refuses it in place: {refused.source}")
    return keys


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
