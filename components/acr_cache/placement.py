"""Which azure-native provider deploys a resource: the one of the subscription its ids name.

Azure puts some resources in the subscription of another resource, whatever the deployer's default:

- a private endpoint (and the network interface Azure makes for it) in its virtual network's
  subscription: "The private endpoint must be deployed in the same region and subscription as the
  virtual network" (MicrosoftDocs/azure-docs articles/private-link/private-endpoint-overview.md),
  and so its DNS zone group, which is a child of the endpoint;
- a private DNS zone's virtual network links in the zone's subscription (they are its children),
  while the linked VNet may be in another subscription (Azure PowerShell's
  New-AzPrivateDnsVirtualNetworkLink takes `-RemoteVirtualNetworkId` for one; a link references
  its VNet by id);
- a Key Vault's secrets and keys in the vault's subscription (children of the vault).

The stack's default azure-native provider deploys into one subscription (`azure-native:subscriptionId`,
else `ARM_SUBSCRIPTION_ID`, else the Azure CLI's). Resources whose place is in another subscription
go through an explicit provider for that subscription: one per subscription, named
`subscription-<id>`, configured with the same login settings as the default provider (the
`azure-native:*` stack config, which the engine gives only to default providers, is passed on; the
`ARM_*` variables reach every provider process anyway). Resources in the stack's own subscription
keep the default provider, so a stack that has them all there sees no provider change.

Without a known stack subscription (neither `azure-native:subscriptionId` nor
`acr-cache:subscriptionId`), everything keeps the default provider, as before; `report()` then says
which resources name other subscriptions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pulumi

PROVIDER_TYPE = "pulumi:providers:azure-native"
# azure-native's provider settings (stack config name -> Provider argument, kind) that a provider
# of another subscription must share with the default one; `subscriptionId` is its own.
_SETTINGS: dict[str, tuple[str, str]] = {
    "clientId": ("client_id", "text"),
    "tenantId": ("tenant_id", "text"),
    "clientSecret": ("client_secret", "secret"),
    "clientCertificatePath": ("client_certificate_path", "text"),
    "clientCertificatePassword": ("client_certificate_password", "secret"),
    "useOidc": ("use_oidc", "flag"),
    "oidcToken": ("oidc_token", "secret"),
    "oidcTokenFilePath": ("oidc_token_file_path", "text"),
    "oidcRequestToken": ("oidc_request_token", "secret"),
    "oidcRequestUrl": ("oidc_request_url", "text"),
    "useMsi": ("use_msi", "flag"),
    "msiEndpoint": ("msi_endpoint", "text"),
    "useDefaultAzureCredential": ("use_default_azure_credential", "flag"),
    "auxiliaryTenantIds": ("auxiliary_tenant_ids", "list"),
    "environment": ("environment", "text"),
    "metadataHost": ("metadata_host", "text"),
    "location": ("location", "text"),
    "partnerId": ("partner_id", "text"),
    "disablePulumiPartnerId": ("disable_pulumi_partner_id", "flag"),
    "disableInstanceDiscovery": ("disable_instance_discovery", "flag"),
}


def provider_name(subscription: str) -> str:
    """The stable name of the provider of a subscription (its URN never changes)."""
    return f"subscription-{subscription.lower()}"


class Placement:
    """The providers of the subscriptions a program's resources live in."""

    def __init__(self, stack_subscription: str | None) -> None:
        self.stack_subscription = stack_subscription.lower() if stack_subscription else None
        """The default provider's subscription, when the config says it; None: unknown."""
        self._providers: dict[str, pulumi.ProviderResource] = {}
        self._unplaced: dict[str, list[str]] = {}

    @property
    def providers(self) -> dict[str, pulumi.ProviderResource]:
        """The explicit providers made so far, by subscription."""
        return dict(self._providers)

    def elsewhere(self, subscription: str | None) -> bool:
        """Whether a resource of this subscription goes through a provider of its own."""
        return bool(
            subscription and self.stack_subscription and subscription.lower() != self.stack_subscription
        )

    def provider(self, subscription: str | None, what: str = "") -> pulumi.ProviderResource | None:
        """The provider for a resource of `subscription`; None: the default provider. `what` names
        the resource for `report()` when the stack's subscription is unknown."""
        if not subscription:
            return None
        key = subscription.lower()
        if self.stack_subscription is None:
            if what:
                self._unplaced.setdefault(key, []).append(what)
            return None
        if key == self.stack_subscription:
            return None
        if key not in self._providers:
            self._providers[key] = _provider(key)
        return self._providers[key]

    def report(self) -> None:
        """Warn once when resources name other subscriptions than an unknown default one."""
        if not self._unplaced:
            return
        named = "; ".join(
            f"subscription {subscription}: {', '.join(sorted(set(whats)))}"
            for subscription, whats in sorted(self._unplaced.items())
        )
        pulumi.log.warn(
            "the stack's subscription is not in its config, so these resources are deployed through the "
            f"default provider's subscription although their ids name one ({named}): set "
            "`acr-cache:subscriptionId` (or `azure-native:subscriptionId`) to the subscription the stack "
            "deploys to, and those elsewhere get a provider of their own"
        )


def _provider(subscription: str) -> pulumi.ProviderResource:
    from pulumi_azure_native import Provider

    return Provider(provider_name(subscription), subscription_id=subscription, **_shared_settings())


def _shared_settings() -> dict[str, Any]:
    """The default provider's login settings from the `azure-native` stack config, as arguments."""
    config = pulumi.Config("azure-native")
    arguments: dict[str, Any] = {}
    for key, (argument, kind) in _SETTINGS.items():
        if kind == "secret":
            secret = config.get_secret(key)
            if secret is not None:
                arguments[argument] = secret
            continue
        value = config.get(key)
        if value is None:
            continue
        if kind == "flag":
            # azure-native reads these as "true" exactly.
            arguments[argument] = value == "true"
        elif kind == "list":
            parsed = json.loads(value)
            arguments[argument] = [str(item) for item in parsed] if isinstance(parsed, list) else [value]
        else:
            arguments[argument] = value
    return arguments


def subscription_of(arm_id: object) -> str | None:
    """The subscription an ARM id names (lowercase), or None for anything else (an Output)."""
    if not isinstance(arm_id, str):
        return None
    parts = arm_id.split("/")
    if len(parts) > 2 and parts[1].lower() == "subscriptions" and parts[2]:
        return parts[2].lower()
    return None


def stack_subscription(values: Mapping[str, Any]) -> str | None:
    """The subscription the default provider deploys to, from stack config values (full keys)."""
    for key in ("azure-native:subscriptionId", "acr-cache:subscriptionId"):
        value = values.get(key)
        if isinstance(value, str) and value.startswith('"'):
            # A value given as JSON text (as objects are): a quoted string.
            value = json.loads(value)
        if isinstance(value, str) and value:
            return value.lower()
    return None
