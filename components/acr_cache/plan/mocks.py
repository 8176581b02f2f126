"""Pulumi mocks that answer like Azure, for the offline plan and the tests.

Every resource gets an ARM-style `id` and its `name`; registries get their `loginServer`, system
assigned identities a deterministic `principalId`. Invokes get documented placeholders. All values
derive from the inputs only, so the same config always gives the same answers.
"""

from __future__ import annotations

import uuid
from typing import Any

from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs, Mocks

from acr_cache.azure_types import ARM_PATHS, EXTENSION_PATHS, URI_EXTENSION_PATHS
from acr_cache.placement import PROVIDER_TYPE

PLACEHOLDER_SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
"""Subscription id the mocks use: a real one is only known after `az login`."""
PLACEHOLDER_TENANT_ID = "11111111-1111-1111-1111-111111111111"
"""Tenant id the mocks use."""
PLACEHOLDER_CLIENT_OBJECT_ID = "22222222-2222-2222-2222-222222222222"
"""Object id of the signed-in principal the mocks report (`getClientConfig`)."""
PLACEHOLDER_CLIENT_ID = "33333333-3333-3333-3333-333333333333"
"""Client (application) id the mocks report (`getClientConfig`)."""

# Stable namespace for the principal ids the mocks invent, so they never change between runs.
_PRINCIPAL_NAMESPACE = uuid.UUID("6f1d1f37-2f5a-4a57-9d1e-6b8f2c6b7a10")


def principal_id_for(urn_or_name: str) -> str:
    """The deterministic principal id the mocks give a system-assigned identity."""
    return str(uuid.uuid5(_PRINCIPAL_NAMESPACE, urn_or_name))


class AzureMocks(Mocks):
    """Answers resource registrations and invokes the way Azure would, deterministically.

    Resources get ids in the default provider's subscription (the stack's, when its config says it,
    else a placeholder), or in the subscription of the explicit provider they are registered with.
    """

    def __init__(self, subscription: str | None = None) -> None:
        self.subscription = (subscription or PLACEHOLDER_SUBSCRIPTION_ID).lower()
        self._provider_subscriptions: dict[str, str] = {}

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        if args.typ == PROVIDER_TYPE:
            subscription = str(inputs.get("subscriptionId") or self.subscription).lower()
            provider_id = f"provider-{subscription}"
            self._provider_subscriptions[provider_id] = subscription
            return provider_id, inputs
        if not args.custom:
            return "", inputs
        state = dict(inputs)
        # A provider reference is `<provider urn>::<provider id>`; none: the default provider.
        provider_id = (args.provider or "").rpartition("::")[2]
        subscription = self._provider_subscriptions.get(provider_id, self.subscription)
        arm_id, name = self._arm_id(args.typ, args.name, inputs, args.resource_id, subscription)
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
                "subscriptionId": self.subscription,
                "tenantId": PLACEHOLDER_TENANT_ID,
            }, []
        if args.token == "azure-native:authorization:getClientToken":
            # A live token would become a resource input and so part of the state: the program
            # never asks for one (the dynamic providers sign in themselves).
            raise ValueError("the program asked azure-native for an access token (getClientToken)")
        if args.token == "azure-native:resources:getResourceGroup":
            name = args.args["resourceGroupName"]
            return {
                "id": f"/subscriptions/{self.subscription}/resourceGroups/{name}",
                "name": name,
                "type": "Microsoft.Resources/resourceGroups",
                "provisioningState": "Succeeded",
            }, []
        return dict(args.args), []

    @staticmethod
    def _arm_id(
        typ: str, logical: str, inputs: dict[str, Any], resource_id: str | None, subscription_id: str
    ) -> tuple[str, str]:
        subscription = f"/subscriptions/{subscription_id}"
        if resource_id:
            return resource_id, resource_id.rstrip("/").rsplit("/", 1)[-1]
        if typ == "azure-native:resources:ResourceGroup":
            name = str(inputs.get("resourceGroupName") or logical)
            return f"{subscription}/resourceGroups/{name}", name
        group = f"{subscription}/resourceGroups/{inputs.get('resourceGroupName', 'unknown-group')}"
        if typ in ARM_PATHS:
            template, name_key = ARM_PATHS[typ]
            values = {k: str(v) for k, v in inputs.items() if isinstance(v, str | int)}
            values.setdefault(name_key, logical)
            name = values[name_key]
            try:
                return f"{group}/providers/{template.format(**values)}", name
            except KeyError:
                pass
        uri = inputs.get("resourceUri")
        if isinstance(uri, str) and uri.startswith("/") and typ in URI_EXTENSION_PATHS:
            segment, name_key = URI_EXTENSION_PATHS[typ]
            name = str(inputs.get(name_key) or logical)
            return f"{uri}/providers/{segment}/{name}", name
        scope = inputs.get("scope")
        if isinstance(scope, str) and scope.startswith("/") and typ in EXTENSION_PATHS:
            # Extension resources live below the resource they guard, under their own name (a
            # role assignment's is the GUID the program chose).
            segment, name_key = EXTENSION_PATHS[typ]
            name = str(inputs.get(name_key) or logical)
            return f"{scope}/providers/{segment}/{name}", name
        name = str(inputs.get("name") or logical)
        module, kind = typ.split(":")[1:3]
        if isinstance(scope, str) and scope.startswith("/"):
            # Extension resources (role assignments, locks) live below the resource they guard.
            return f"{scope}/providers/Microsoft.{module.capitalize()}/{kind}/{name}", name
        return f"{group}/providers/Microsoft.{module.capitalize()}/{kind}/{name}", name
