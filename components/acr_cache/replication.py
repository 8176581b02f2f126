"""Geo-replication: one replica of the registry per extra Azure region (Premium)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

import pulumi
from pulumi_azure_native import containerregistry
from pydantic import AfterValidator, Field

from acr_cache.model import AzureRegion, ConfigModel, Tags


def _replica_name(region: str) -> str:
    if len(region) < 5:
        raise ValueError("a replica is named after its region, and ACR names need 5-50 characters")
    return region


ReplicaRegion = Annotated[AzureRegion, AfterValidator(_replica_name)]
"""The key of a replica: its Azure region, which also names the replication resource."""


class ReplicaConfig(ConfigModel):
    """One geo-replica. Its key in `acr-cache:replicas` is its Azure region, e.g. `northeurope`."""

    zone_redundancy: bool = Field(
        default=True,
        description="Spread the replica over the region's availability zones. Azure cannot change "
        "this on an existing replica: a change deletes the replica and creates it again (its data "
        "syncs back from the other regions; pulls in that region go elsewhere meanwhile).",
    )
    region_endpoint_enabled: bool = Field(
        default=True,
        description="Whether the global endpoint routes pulls to this replica. `false` keeps "
        "syncing data into the region but sends clients elsewhere (for maintenance).",
    )
    tags: Tags = Field(default_factory=dict, description="Tags on the replica.")


class GeoReplicas(pulumi.ComponentResource):
    """The replicas of a registry, each keyed (and named) by its region."""

    replications: dict[str, containerregistry.Replication]
    """Replication resources by region, as an escape hatch and for ordering (private endpoints)."""
    regions: list[str]
    """The replica regions, sorted."""

    def __init__(
        self,
        name: str,
        *,
        resource_group_name: pulumi.Input[str],
        registry_name: pulumi.Input[str],
        replicas: Mapping[str, ReplicaConfig],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("acr-cache:replication:GeoReplicas", name, None, opts)
        self.regions = sorted(replicas)
        self.replications = {}
        for region in self.regions:
            replica = replicas[region]
            self.replications[region] = containerregistry.Replication(
                # The region is the identity: reordering or adding replicas renames nothing.
                f"{name}-{region}",
                resource_group_name=resource_group_name,
                registry_name=registry_name,
                # By convention (`az acr replication create`) a replica is named after its region.
                replication_name=region,
                location=region,
                zone_redundancy=(
                    containerregistry.ZoneRedundancy.ENABLED
                    if replica.zone_redundancy
                    else containerregistry.ZoneRedundancy.DISABLED
                ),
                region_endpoint_enabled=replica.region_endpoint_enabled,
                tags=replica.tags or None,
                opts=pulumi.ResourceOptions(
                    parent=self,
                    # Azure rejects a PUT that changes zoneRedundancy (azure-rest-api-specs#18934), and a
                    # region holds one replica, so the old one has to go before the new one is made.
                    replace_on_changes=["zoneRedundancy"],
                    delete_before_replace=True,
                ),
            )
        self.register_outputs({"regions": self.regions})
