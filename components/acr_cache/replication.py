"""Geo-replication: one replica of the registry per extra Azure region (Premium)."""

from collections.abc import Mapping
from typing import Annotated, TypedDict

import pulumi
from pulumi_azure_native import containerregistry
from pydantic import AfterValidator, BaseModel, Field

from acr_cache.component_args import Input, ReplicaArgs
from acr_cache.component_base import PACKAGE, Layout, RegistryRef, component_error, validated
from acr_cache.model import AzureRegion, ConfigModel, ConfigProblem, Tags


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


class ReplicasArgs(TypedDict):
    """Arguments of Replicas."""

    registry_id: Input[str]
    """ARM id of the registry (Premium)."""
    replicas: dict[str, ReplicaArgs]
    """Replicas by Azure region; the home region is not listed."""


class _ReplicaMap(BaseModel):
    # The stack config's replicas section alone: region keys checked like in YAML.
    replicas: dict[ReplicaRegion, ReplicaConfig]


class Replicas(pulumi.ComponentResource):
    """Geo-replicas of a registry, each keyed (and named) by its region."""

    regions: pulumi.Output[list[str]]
    """The replica regions, sorted."""

    def __init__(
        self,
        name: str,
        args: ReplicasArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        registry: RegistryRef | None = None,
        layout: Layout = Layout.COMPONENT,
        adopt: Mapping[str, str] | None = None,
    ) -> None:
        """`adopt`: ARM ids of existing replications to import instead of creating, by region."""
        super().__init__(f"{PACKAGE}:index:Replicas", name, None, layout.options(opts, FORMER_TYPE))
        problems: list[ConfigProblem] = []
        parsed = validated(_ReplicaMap, {"replicas": args["replicas"]}, "args", problems)
        if parsed is None:
            raise component_error("Replicas", name, problems, ReplicasArgs)
        ref = registry or RegistryRef.from_id(args["registry_id"])
        former = layout.former_children(self, name, FORMER_TYPE, "replicas")
        self.replications: dict[str, containerregistry.Replication] = {}
        """Replication resources by region, as an escape hatch and for ordering (private endpoints)."""
        for region in sorted(parsed.replicas):
            replica = parsed.replicas[region]
            self.replications[region] = containerregistry.Replication(
                # The region is the identity: reordering or adding replicas renames nothing.
                f"{name}-{region}",
                resource_group_name=ref.resource_group_name,
                registry_name=ref.registry_name,
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
                    aliases=former(region),
                    import_=(adopt or {}).get(region),
                ),
            )
        self.regions = pulumi.Output.from_input(sorted(parsed.replicas))
        self.register_outputs({"regions": self.regions})


FORMER_TYPE = "acr-cache:replication:GeoReplicas"
"""The type this component had inside the stack program and inside the public `Replicas` before
the two became one (acr-cache 0.1): the aliases that keep existing replicas in place name it."""
