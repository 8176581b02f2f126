"""Protection against loss, per environment: `protect` and Azure management locks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
from pulumi_azure_native import authorization
from pydantic import Field

from acr_cache.model import ConfigModel


class ProtectionConfig(ConfigModel):
    """How hard the stack guards its stateful resources against deletion."""

    protect: bool = Field(
        default=True,
        description="Mark the registry, a resource group the stack creates, the Key Vault and the private "
        "DNS zones as `protect`ed: `pulumi destroy` and any change that would replace them fail until "
        "it is turned off. Leave on for every environment whose images matter.",
    )
    locks: bool = Field(
        default=False,
        description="Add an Azure management lock (CanNotDelete) to the registry and to a vault the stack "
        "creates, so that nobody deletes them from the portal, the CLI or another tool either. Locks "
        "also cover child resources: with them on, removing a replica, cache rule or credential set "
        "from the config fails until the lock is lifted (see docs/protection.md).",
    )


class DeletionLocks(pulumi.ComponentResource):
    """CanNotDelete management locks on the resources given, by key."""

    locks: dict[str, authorization.ManagementLockByScope]

    def __init__(
        self,
        name: str,
        *,
        scopes: Mapping[str, pulumi.Input[str]],
        covers: Mapping[str, Sequence[pulumi.Resource]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`covers`: per scope, the stack's resources below it. Each lock waits for them, so it is
        created after them and, on `pulumi destroy`, deleted before them: a CanNotDelete lock also
        blocks deleting everything under its scope (ScopeLocked)."""
        super().__init__("acr-cache:protection:DeletionLocks", name, None, opts)
        self.locks = {
            key: authorization.ManagementLockByScope(
                f"{name}-{key}",
                scope=scopes[key],
                lock_name=f"acr-cache-{key}-do-not-delete",
                level=authorization.LockLevel.CAN_NOT_DELETE,
                notes="Managed by the acr-cache Pulumi stack: set acr-cache:protection.locks to false "
                "and run `pulumi up` before deleting.",
                opts=pulumi.ResourceOptions(parent=self, depends_on=list((covers or {}).get(key, ()))),
            )
            for key in sorted(scopes)
        }
        self.register_outputs({"locks": sorted(scopes)})
