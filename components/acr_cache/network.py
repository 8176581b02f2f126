"""The registry's firewall: public access, IP rules, trusted services and dedicated data endpoints."""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator, model_validator

from acr_cache.model import ConfigModel, field_error
from acr_cache.redaction import shown
from acr_cache.registry import RegistryNetwork

MAX_IP_RULES = 200
"""ACR limit: "Each registry supports a maximum of 200 IP access rules" (not increasable)."""


# Ranges that never reach a public endpoint: RFC 1918, shared address space (RFC 6598),
# loopback, link-local, multicast, "this network" and reserved.
_NOT_PUBLIC = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "224.0.0.0/4",
        "0.0.0.0/8",
        "240.0.0.0/4",
    )
)


def normalise_ip_rule(rule: str) -> str:
    """An IPv4 address or CIDR range in canonical form (host bits cleared, /32 as an address)."""
    try:
        network = ipaddress.ip_network(rule.strip(), strict=False)
    except ValueError:
        raise ValueError(
            f"'{shown(rule)}' is not an IPv4 address or CIDR range (e.g. 203.0.113.0/24)"
        ) from None
    if network.version != 4:
        raise ValueError(f"'{shown(rule)}' is IPv6; ACR IP rules accept IPv4 addresses and ranges only")
    if network.prefixlen == 0:
        raise ValueError(
            f"'{shown(rule)}' allows every address: use `publicAccess: Open` instead of an IP rule"
        )
    if any(network.subnet_of(block) for block in _NOT_PUBLIC):  # type: ignore[arg-type]
        raise ValueError(
            f"'{shown(rule)}' is not a public address; IP rules filter the public endpoint, which private "
            "addresses never reach: use private endpoints for traffic from your networks"
        )
    return str(network.network_address) if network.prefixlen == 32 else str(network)


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
