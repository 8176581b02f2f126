"""Adoption of resources made outside the stack: Pulumi imports them by ARM id instead of creating them.

The ids follow from the config (names, groups, regions) and the subscription given here. On the
first `pulumi up` each adopted resource is read from Azure; what the config gives it differently is
then updated in place, and a difference that needs a replacement is refused (pulumi/pulumi
pkg/resource/deploy/step_generator.go). docs/adoption.md says what to compare first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Self

from pydantic import AfterValidator, Field, model_validator

from acr_cache.arm import GUID
from acr_cache.model import ConfigModel, ConfigProblem, field_error
from acr_cache.private_access import DnsZoneMode, PrivateAccessConfig, default_endpoint_name
from acr_cache.redaction import shown


def _subscription(value: str) -> str:
    if not re.fullmatch(GUID, value):
        raise ValueError(
            f"'{shown(value)}' is not a subscription id: expected a GUID (`az account show --query id -o tsv`)"
        )
    return value.lower()


class AdoptionConfig(ConfigModel):
    """Which resources the stack takes over from Azure as they are, instead of creating them."""

    subscription_id: Annotated[str, AfterValidator(_subscription)] = Field(
        description="The subscription the adopted resources are in (the stack's own: azure-native "
        "deploys there). Their ids are built from it and the config's names.",
    )
    resource_group: bool = Field(
        default=False, description="Adopt the resource group (`resourceGroup.create: true`)."
    )
    registry: bool = Field(default=False, description="Adopt the registry.")
    replicas: bool = Field(
        default=False, description="Adopt every replica in `replicas` (named after its region)."
    )
    private_endpoints: bool = Field(
        default=False,
        description="Adopt every endpoint in `privateAccess.endpoints` and its DNS zone group `default` "
        "(both must exist, under the names the config gives).",
    )
    credential_sets: bool = Field(
        default=False, description="Adopt every credential set in `credentialSets`."
    )
    cache_rules: bool = Field(default=False, description="Adopt every cache rule (the mirror's included).")

    @model_validator(mode="after")
    def _something(self) -> Self:
        chosen = [self.resource_group, self.registry, self.replicas, self.private_endpoints]
        if not any([*chosen, self.credential_sets, self.cache_rules]):
            raise field_error(
                "registry", "adoption needs at least one kind of resource to adopt (`registry: true`, ...)"
            )
        return self


class AdoptedIds:
    """ARM ids of what a stack adopts, by component and child key, built from the names the stack
    gives each resource."""

    def __init__(
        self,
        adoption: AdoptionConfig,
        *,
        resource_group: str,
        registry_name: str,
        replicas: Iterable[str],
        credential_sets: Iterable[str],
        rules: Iterable[str],
        private_access: PrivateAccessConfig,
    ) -> None:
        sub = f"/subscriptions/{adoption.subscription_id}"
        registry = f"{sub}/resourceGroups/{resource_group}/providers/Microsoft.ContainerRegistry/registries/{registry_name}"
        self.registry: dict[str, str] = {}
        if adoption.resource_group:
            self.registry["rg"] = f"{sub}/resourceGroups/{resource_group}"
        if adoption.registry:
            self.registry["registry"] = registry
        self.replicas = (
            {region: f"{registry}/replications/{region}" for region in replicas} if adoption.replicas else {}
        )
        self.cache: dict[str, str] = {}
        if adoption.credential_sets:
            self.cache.update({f"set:{n}": f"{registry}/credentialSets/{n}" for n in credential_sets})
        if adoption.cache_rules:
            self.cache.update({f"rule:{n}": f"{registry}/cacheRules/{n}" for n in rules})
        self.endpoints: dict[str, str] = {}
        if adoption.private_endpoints:
            for key, endpoint in private_access.endpoints.items():
                name = endpoint.name or default_endpoint_name(registry_name, key)
                endpoint_id = (
                    f"{sub}/resourceGroups/{endpoint.resource_group or resource_group}/providers/"
                    f"Microsoft.Network/privateEndpoints/{name}"
                )
                self.endpoints[key] = endpoint_id
                if private_access.dns_zone.mode is not DnsZoneMode.POLICY:
                    self.endpoints[f"{key}-dns"] = f"{endpoint_id}/privateDnsZoneGroups/default"


def adoption_problems(adoption: AdoptionConfig | None, group_created: bool, at: str) -> list[ConfigProblem]:
    """What adopting contradicts in the rest of the stack (`group_created`: `resourceGroup.create`)."""
    if adoption is None:
        return []
    problems = []
    if adoption.resource_group and not group_created:
        problems.append(
            ConfigProblem(
                f"{at}adoption.resourceGroup",
                "with `resourceGroup.create: false` the stack only looks the group up: nothing to adopt, "
                "remove `resourceGroup: true`",
            )
        )
    if adoption.registry and group_created and not adoption.resource_group:
        problems.append(
            ConfigProblem(
                f"{at}adoption.resourceGroup",
                "an adopted registry's resource group exists already: set `resourceGroup.create: false` "
                "(the stack looks it up) or adopt it too (`resourceGroup: true`)",
            )
        )
    if not adoption.registry and any(
        [adoption.replicas, adoption.private_endpoints, adoption.credential_sets, adoption.cache_rules]
    ):
        problems.append(
            ConfigProblem(
                f"{at}adoption.registry",
                "replicas, endpoints, credential sets and rules of an existing registry belong to it: adopt "
                "the registry too (`registry: true`)",
            )
        )
    return problems
