"""Pulumi mocks that answer like Azure, for the offline plan and the tests.

Every resource gets an ARM-style `id` and its `name`; registries get their `loginServer`, system
assigned identities a deterministic `principalId`. Invokes get documented placeholders. All values
derive from the inputs only, so the same config always gives the same answers.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs, Mocks

PLACEHOLDER_SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
"""Subscription id the mocks use: a real one is only known after `az login`."""
PLACEHOLDER_TENANT_ID = "11111111-1111-1111-1111-111111111111"
"""Tenant id the mocks use."""
PLACEHOLDER_CLIENT_OBJECT_ID = "22222222-2222-2222-2222-222222222222"
"""Object id of the signed-in principal the mocks report (`getClientConfig`)."""
PLACEHOLDER_CLIENT_ID = "33333333-3333-3333-3333-333333333333"
"""Client (application) id the mocks report (`getClientConfig`)."""

PLACEHOLDER_ACCESS_TOKEN = "offline-plan-placeholder-access-token"
"""What `getClientToken` answers under the mocks (a real one comes from azure-native's login)."""

# Stable namespace for the principal ids the mocks invent, so they never change between runs.
_PRINCIPAL_NAMESPACE = uuid.UUID("6f1d1f37-2f5a-4a57-9d1e-6b8f2c6b7a10")

# ARM id templates: provider path below the resource group, with `{wireInput}` placeholders.
# The last placeholder is the resource's own name.
# Extension resources: the path below their scope, and the input that names them.
_EXTENSION_PATHS: dict[str, tuple[str, str]] = {
    "azure-native:authorization:RoleAssignment": (
        "Microsoft.Authorization/roleAssignments",
        "roleAssignmentName",
    ),
    "azure-native:authorization:ManagementLockByScope": ("Microsoft.Authorization/locks", "lockName"),
}
# Extension resources whose scope input is `resourceUri` (diagnostic settings).
_URI_EXTENSION_PATHS: dict[str, tuple[str, str]] = {
    "azure-native:monitor:DiagnosticSetting": ("Microsoft.Insights/diagnosticSettings", "name"),
}

_ARM_PATHS: dict[str, tuple[str, str]] = {
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


def principal_id_for(urn_or_name: str) -> str:
    """The deterministic principal id the mocks give a system-assigned identity."""
    return str(uuid.uuid5(_PRINCIPAL_NAMESPACE, urn_or_name))


class AzureMocks(Mocks):
    """Answers resource registrations and invokes the way Azure would, deterministically."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        if not args.custom:
            return "", inputs
        state = dict(inputs)
        arm_id, name = self._arm_id(args.typ, args.name, inputs, args.resource_id)
        state["name"] = name
        state["id"] = arm_id
        if args.typ == "azure-native:containerregistry:Registry":
            state["loginServer"] = f"{name.lower()}.azurecr.io"
        if args.typ == "azure-native:managedidentity:UserAssignedIdentity":
            # A user-assigned identity is a service principal of its own (what AKS kubelets use).
            state["principalId"] = principal_id_for(arm_id)
            state["clientId"] = principal_id_for(f"{arm_id}/client")
            state["tenantId"] = PLACEHOLDER_TENANT_ID
        identity = inputs.get("identity")
        if isinstance(identity, dict) and "SystemAssigned" in str(identity.get("type", "")):
            state["identity"] = {
                **identity,
                "principalId": principal_id_for(arm_id),
                "tenantId": PLACEHOLDER_TENANT_ID,
            }
        return arm_id, state

    def call(self, args: MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        # A (result, failures) pair: `(dict, None)` would crash the mock monitor, hence [].
        if args.token == "azure-native:authorization:getClientConfig":
            return {
                "clientId": PLACEHOLDER_CLIENT_ID,
                "objectId": PLACEHOLDER_CLIENT_OBJECT_ID,
                "subscriptionId": PLACEHOLDER_SUBSCRIPTION_ID,
                "tenantId": PLACEHOLDER_TENANT_ID,
            }, []
        if args.token == "azure-native:authorization:getClientToken":
            # A token of azure-native's login context for the audience asked (ARM when none); the
            # program wraps it as a secret.
            endpoint = args.args.get("endpoint")
            return {
                "token": f"{PLACEHOLDER_ACCESS_TOKEN}-for-{endpoint}"
                if endpoint
                else PLACEHOLDER_ACCESS_TOKEN
            }, []
        if args.token == "azure-native:resources:getResourceGroup":
            name = args.args["resourceGroupName"]
            return {
                "id": f"/subscriptions/{PLACEHOLDER_SUBSCRIPTION_ID}/resourceGroups/{name}",
                "name": name,
                "type": "Microsoft.Resources/resourceGroups",
                "provisioningState": "Succeeded",
            }, []
        return dict(args.args), []

    @staticmethod
    def _arm_id(typ: str, logical: str, inputs: dict[str, Any], resource_id: str | None) -> tuple[str, str]:
        subscription = f"/subscriptions/{PLACEHOLDER_SUBSCRIPTION_ID}"
        if resource_id:
            return resource_id, resource_id.rstrip("/").rsplit("/", 1)[-1]
        if typ == "azure-native:resources:ResourceGroup":
            name = str(inputs.get("resourceGroupName") or logical)
            return f"{subscription}/resourceGroups/{name}", name
        group = f"{subscription}/resourceGroups/{inputs.get('resourceGroupName', 'unknown-group')}"
        if typ in _ARM_PATHS:
            template, name_key = _ARM_PATHS[typ]
            values = {k: str(v) for k, v in inputs.items() if isinstance(v, str | int)}
            values.setdefault(name_key, logical)
            name = values[name_key]
            try:
                return f"{group}/providers/{template.format(**values)}", name
            except KeyError:
                pass
        uri = inputs.get("resourceUri")
        if isinstance(uri, str) and uri.startswith("/") and typ in _URI_EXTENSION_PATHS:
            segment, name_key = _URI_EXTENSION_PATHS[typ]
            name = str(inputs.get(name_key) or logical)
            return f"{uri}/providers/{segment}/{name}", name
        scope = inputs.get("scope")
        if isinstance(scope, str) and scope.startswith("/") and typ in _EXTENSION_PATHS:
            # Extension resources live below the resource they guard, under their own name (a
            # role assignment's is the GUID the program chose).
            segment, name_key = _EXTENSION_PATHS[typ]
            name = str(inputs.get(name_key) or logical)
            return f"{scope}/providers/{segment}/{name}", name
        name = str(inputs.get("name") or logical)
        module, kind = typ.split(":")[1:3]
        if isinstance(scope, str) and scope.startswith("/"):
            # Extension resources (role assignments, locks) live below the resource they guard.
            return f"{scope}/providers/Microsoft.{module.capitalize()}/{kind}/{name}", name
        return f"{group}/providers/Microsoft.{module.capitalize()}/{kind}/{name}", name


def path_parameters(typ: str) -> tuple[str, ...]:
    """The wire inputs that make up the resource's ARM path (its name and its parents' names, its
    resource group or scope). azure-native replaces a resource when one of them changes
    (provider/pkg/provider/diff.go: every PUT parameter `in: path` is a replace key)."""
    if typ == "azure-native:resources:ResourceGroup":
        return ("resourceGroupName",)
    if typ in _ARM_PATHS:
        template, _ = _ARM_PATHS[typ]
        return ("resourceGroupName", *re.findall(r"\{(\w+)\}", template))
    if typ in _URI_EXTENSION_PATHS:
        return ("resourceUri", _URI_EXTENSION_PATHS[typ][1])
    if typ in _EXTENSION_PATHS:
        return ("scope", _EXTENSION_PATHS[typ][1])
    return ()
