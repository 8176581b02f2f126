"""The acr-cache Pulumi program: config in, components out.

`stacks/__main__.py` calls :func:`main`; the offline plan runs that same file under mocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from acr_cache.config import StackConfig, load_stack_config
from acr_cache.private_access import PrivateAccess
from acr_cache.registry import RegistryCore
from acr_cache.replication import GeoReplicas


@dataclass
class Deployment:
    """The components one environment is made of."""

    core: RegistryCore
    replicas: GeoReplicas | None
    private_access: PrivateAccess | None


def build(config: StackConfig) -> Deployment:
    """Register every resource of one environment and export what other stacks need."""
    has_endpoints = bool(config.private_access.endpoints)
    core = RegistryCore(
        "acr",
        config.resource_group,
        config.registry,
        network=config.network.registry_network(has_endpoints),
        protect=config.protection.protect,
    )
    replicas = None
    if config.replicas:
        replicas = GeoReplicas(
            "replicas",
            resource_group_name=core.resource_group_name,
            registry_name=core.registry_name,
            replicas=config.replicas,
        )
    private_access = None
    if has_endpoints:
        private_access = PrivateAccess(
            "private",
            registry_id=core.registry_id,
            registry_name=config.registry.name,
            resource_group_name=core.resource_group_name,
            home_region=config.registry.location,
            config=config.private_access,
            replicas=list(replicas.replications.values()) if replicas else [],
            protect=config.protection.protect,
        )

    pulumi.export("resourceGroupName", core.resource_group_name)
    pulumi.export("registryId", core.registry_id)
    pulumi.export("registryName", core.registry_name)
    pulumi.export("loginServer", core.login_server)
    pulumi.export("endpoints", _region_endpoints(config))
    if private_access is not None:
        pulumi.export("privateEndpointIds", private_access.private_endpoint_ids)
        pulumi.export("privateDnsZoneIds", private_access.dns_zone_ids)
        if "shared" in private_access.dns_zone_ids:
            pulumi.export("privateDnsZoneId", private_access.dns_zone_ids["shared"])
    return Deployment(core, replicas, private_access)


def _region_endpoints(config: StackConfig) -> dict[str, dict[str, str]]:
    """Per region, the names clients resolve and firewalls allow-list."""
    login_server = config.registry.login_server
    data = config.network.registry_network(bool(config.private_access.endpoints)).data_endpoint_enabled
    name = config.registry.name.lower()
    return {
        region: {
            "loginServer": login_server,
            # Without dedicated data endpoints, layers come from the regional storage account.
            "dataEndpoint": f"{name}.{region}.data.azurecr.io" if data else "*.blob.core.windows.net",
        }
        for region in config.regions
    }


def main() -> None:
    # Validation comes first, so a bad config registers nothing.
    build(load_stack_config())
