"""The registry's firewall: public access, IP rules, trusted services and dedicated data endpoints."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, NamedTuple

from pydantic import AfterValidator, Field, field_validator, model_validator

from acr_cache.ip_rules import normalise_ip_rule
from acr_cache.model import ConfigModel, field_error

MAX_IP_RULES = 200
"""ACR limit: "Each registry supports a maximum of 200 IP access rules" (not increasable)."""


class RegistryNetwork(NamedTuple):
    """The network posture of the registry resource, as the network section decides it.

    Every value is sent explicitly: the azure-native SDK would otherwise fill in
    `publicNetworkAccess: Enabled` and `networkRuleBypassOptions: AzureServices` itself.
    """

    public_network_access: bool
    default_action_deny: bool
    ip_rules: tuple[str, ...]
    trusted_services_bypass: bool
    data_endpoint_enabled: bool


class PublicAccess(StrEnum):
    """How the registry's public endpoint answers."""

    OPEN = "Open"
    """Public endpoint on, every address allowed (firewall default action Allow)."""
    RESTRICTED = "Restricted"
    """Public endpoint on, only `ipRules` (and trusted Azure services) allowed: default action Deny."""
    DISABLED = "Disabled"
    """No public endpoint: private endpoints (and trusted Azure services) only."""


class NetworkConfig(ConfigModel):
    """The firewall of the registry's public endpoint."""

    public_access: PublicAccess | None = Field(
        default=None,
        description="`Open`, `Restricted` (default action Deny, only `ipRules`) or `Disabled` (private "
        "endpoints only). Default: `Disabled` when private endpoints are configured and no IP rule "
        "is; `Restricted` when IP rules are; `Open` otherwise. `Restricted` and `Disabled` need Premium.",
    )
    ip_rules: list[Annotated[str, AfterValidator(normalise_ip_rule)]] = Field(
        default_factory=list,
        description=f"Public IPv4 addresses or CIDR ranges allowed through a `Restricted` firewall, at "
        f"most {MAX_IP_RULES} (an ACR limit). Normalised (`203.0.113.7/24` becomes `203.0.113.0/24`) and "
        "deduplicated. IP rules need Premium.",
    )
    trusted_services_bypass: bool = Field(
        default=True,
        description="Let trusted Azure services (the artifact cache populating itself, `az acr import`, "
        "Defender, ACI, ML) through a restricted registry. The artifact cache cannot fill a "
        "restricted registry without it, so it cannot be turned off while cache rules exist.",
    )
    tasks_bypass: bool = Field(
        default=False,
        description="Let ACR tasks with a managed identity through a restricted firewall "
        "(`networkRuleBypassAllowedForTasks`). Not available: azure-native 3.x deploys registries with "
        "API 2023-01-01-preview, which lacks it, so `true` is refused rather than ignored; purge tasks "
        "of a closed registry run on an agent pool instead (`acr-cache:agentPools`).",
    )
    data_endpoints: bool | None = Field(
        default=None,
        description="Dedicated data endpoints (`<registry>.<region>.data.azurecr.io`), so client "
        "firewalls allow-list those names instead of `*.blob.core.windows.net`. Default: on whenever "
        "the registry is restricted or has private endpoints (Azure turns them on for private "
        "endpoints anyway). Premium only.",
    )

    @field_validator("ip_rules")
    @classmethod
    def _deduplicate_ip_rules(cls, rules: list[str]) -> list[str]:
        seen = dict.fromkeys(rules)
        if len(seen) > MAX_IP_RULES:
            raise ValueError(
                f"{len(seen)} distinct IP rules given; a registry allows at most {MAX_IP_RULES}: "
                "merge neighbouring addresses into CIDR ranges or use private endpoints"
            )
        return list(seen)

    @model_validator(mode="after")
    def _rules_need_a_restricted_firewall(self) -> NetworkConfig:
        if self.tasks_bypass:
            raise field_error(
                "tasksBypass",
                "the firewall bypass for tasks needs the registry API 2025-11-01 or later, and azure-native "
                "3.x deploys 2023-01-01-preview: remove it, and run tasks on a dedicated agent pool "
                "(`acr-cache:agentPools`, docs/operations.md)",
            )
        if self.ip_rules and self.public_access in (PublicAccess.OPEN, PublicAccess.DISABLED):
            raise field_error(
                "ipRules",
                f"IP rules only apply to a `Restricted` public endpoint, and publicAccess is "
                f"`{self.public_access.value}`: set `publicAccess: Restricted` or remove `ipRules`",
            )
        return self

    def effective_public_access(self, has_private_endpoints: bool) -> PublicAccess:
        if self.public_access is not None:
            return self.public_access
        if self.ip_rules:
            return PublicAccess.RESTRICTED
        return PublicAccess.DISABLED if has_private_endpoints else PublicAccess.OPEN

    def registry_network(self, has_private_endpoints: bool) -> RegistryNetwork:
        """The registry's network settings that this config (and the endpoints) call for."""
        access = self.effective_public_access(has_private_endpoints)
        restricted = access is not PublicAccess.OPEN
        data_endpoints = (
            self.data_endpoints if self.data_endpoints is not None else restricted or has_private_endpoints
        )
        return RegistryNetwork(
            public_network_access=access is not PublicAccess.DISABLED,
            default_action_deny=restricted,
            ip_rules=tuple(self.ip_rules),
            trusted_services_bypass=self.trusted_services_bypass,
            data_endpoint_enabled=data_endpoints,
        )
