"""The acr-cache Pulumi program: config in, components out.

`stacks/__main__.py` calls :func:`main`; the offline plan runs that same file under mocks.
"""

from __future__ import annotations

import pulumi

from acr_cache.config import StackConfig, load_stack_config
from acr_cache.registry import RegistryCore


def build(config: StackConfig) -> RegistryCore:
    """Register every resource of one environment and export what other stacks need."""
    core = RegistryCore(
        "acr",
        config.resource_group,
        config.registry,
        protect=config.protection.protect,
    )
    pulumi.export("resourceGroupName", core.resource_group_name)
    pulumi.export("registryId", core.registry_id)
    pulumi.export("registryName", core.registry_name)
    pulumi.export("loginServer", core.login_server)
    return core


def main() -> None:
    # Validation comes first, so a bad config registers nothing.
    build(load_stack_config())
