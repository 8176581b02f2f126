"""Protection against loss, per environment."""

from __future__ import annotations

from pydantic import Field

from acr_cache.model import ConfigModel


class ProtectionConfig(ConfigModel):
    """How hard the stack guards its stateful resources against deletion."""

    protect: bool = Field(
        default=True,
        description="Mark the registry (and a resource group the stack creates) as `protect`ed: "
        "`pulumi destroy` and any change that would replace them fail until it is turned off. "
        "Leave on for every environment whose images matter; a throwaway dev stack may turn it off.",
    )
