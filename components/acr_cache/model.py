"""Shared building blocks of the typed stack config.

Every section of the config is a :class:`ConfigModel`: unknown keys are refused, YAML keys are
camelCase, and every field carries a description (``docs/configuration.md`` is generated from them).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

# Azure region names as ARM expects them in `location`: lowercase, no spaces ("westeurope").
_REGION = re.compile(r"^[a-z][a-z0-9]{2,39}$")
# Azure tag names may not contain these characters (ARM "Use tags to organize your Azure resources").
_TAG_NAME_FORBIDDEN = set("<>%&\\?/")


class ConfigModel(BaseModel):
    """Base of every config section: strict keys, camelCase aliases, immutable once loaded."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        use_attribute_docstrings=False,
        validate_default=True,
    )


def field_error(field_alias: str, message: str) -> PydanticCustomError:
    """An error that a model validator raises about one of its fields.

    Pydantic places model-level errors on the model itself; the `field` in the context lets the
    loader report the precise key path (``acr-cache:registry.retentionDays``) instead.
    """
    return PydanticCustomError("acr_cache_field", "{message}", {"field": field_alias, "message": message})


def _check_region(value: str) -> str:
    if not _REGION.match(value):
        raise ValueError(
            f"'{value}' is not an Azure region name: use the lowercase name without spaces "
            "that `az account list-locations -o table` prints in its Name column, e.g. 'westeurope'"
        )
    return value


AzureRegion = Annotated[str, AfterValidator(_check_region)]
"""An Azure region name as ARM expects it (``westeurope``, ``eastus2``)."""


def _check_tags(value: dict[str, str]) -> dict[str, str]:
    if len(value) > 50:
        raise ValueError(f"{len(value)} tags given; Azure allows at most 50 tags on a resource")
    for key, val in value.items():
        if not key or len(key) > 512 or _TAG_NAME_FORBIDDEN.intersection(key):
            raise ValueError(f"tag name '{key}' is not allowed: 1-512 characters, none of < > % & \\ ? /")
        if len(val) > 256:
            raise ValueError(f"the value of tag '{key}' is {len(val)} characters long; Azure allows 256")
    return value


Tags = Annotated[dict[str, str], AfterValidator(_check_tags)]
"""Azure resource tags: at most 50, names without ``<>%&\\?/``, values up to 256 characters."""


NAMED_VALIDATORS = {_check_region: "Azure region", _check_tags: "map of string"}
"""Validator function -> the type name the config reference shows for fields using it."""


_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_SUBNET_ID = re.compile(
    rf"^/subscriptions/(?P<subscription>{_GUID})/resourceGroups/(?P<group>[-\w.()]{{1,90}})"
    r"/providers/Microsoft\.Network/virtualNetworks/(?P<vnet>[-\w.]{2,64})/subnets/(?P<subnet>[-\w.]{1,80})$",
    re.IGNORECASE,
)
_VNET_ID = re.compile(
    rf"^/subscriptions/(?P<subscription>{_GUID})/resourceGroups/(?P<group>[-\w.()]{{1,90}})"
    r"/providers/Microsoft\.Network/virtualNetworks/(?P<vnet>[-\w.]{2,64})$",
    re.IGNORECASE,
)


class SubnetId(str):
    """An ARM subnet id, split into its parts."""

    @property
    def parts(self) -> dict[str, str]:
        match = _SUBNET_ID.match(self)
        assert match is not None  # validated on the way in
        return match.groupdict()

    @property
    def subscription(self) -> str:
        return self.parts["subscription"].lower()

    @property
    def resource_group(self) -> str:
        return self.parts["group"]

    @property
    def vnet_name(self) -> str:
        return self.parts["vnet"]

    @property
    def vnet_id(self) -> str:
        return self.rsplit("/subnets/", 1)[0]


def _check_subnet_id(value: str) -> SubnetId:
    if not _SUBNET_ID.match(value):
        raise ValueError(
            f"'{value}' is not an ARM subnet id: expected /subscriptions/<guid>/resourceGroups/<group>"
            "/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet> "
            "(`az network vnet subnet show ... --query id -o tsv` prints it)"
        )
    return SubnetId(value)


def _check_vnet_id(value: str) -> str:
    if not _VNET_ID.match(value):
        raise ValueError(
            f"'{value}' is not an ARM virtual network id: expected /subscriptions/<guid>/resourceGroups/"
            "<group>/providers/Microsoft.Network/virtualNetworks/<vnet> "
            "(`az network vnet show ... --query id -o tsv` prints it)"
        )
    return value


SubnetIdStr = Annotated[str, AfterValidator(_check_subnet_id)]
"""An ARM subnet id (`/subscriptions/.../virtualNetworks/<vnet>/subnets/<subnet>`)."""
VnetIdStr = Annotated[str, AfterValidator(_check_vnet_id)]
"""An ARM virtual network id."""

NAMED_VALIDATORS.update({_check_subnet_id: "subnet id", _check_vnet_id: "virtual network id"})
