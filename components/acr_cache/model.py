"""Shared building blocks of the typed stack config.

Every section of the config is a :class:`ConfigModel`: unknown keys are refused, YAML keys are
camelCase, and every field carries a description (``docs/configuration.md`` is generated from them).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import pulumi
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonDict
from pydantic_core import PydanticCustomError

from acr_cache.arm import RESOURCE_GROUP, SUBNET, VIRTUAL_NETWORK, id_check
from acr_cache.redaction import CREDENTIAL_FIX, credential_kind, one_line, shown

# Azure region names as ARM expects them in `location`: lowercase, no spaces ("westeurope").
_REGION = re.compile(r"[a-z][a-z0-9]{2,39}")
# Azure tag names may not contain these characters (ARM "Use tags to organize your Azure resources").
_TAG_NAME_FORBIDDEN = set("<>%&\\?/")


# Control characters (a trailing newline among them) are never part of a name, an id or a URL, and
# would split a message about the value over several lines.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
FREE_TEXT: JsonDict = {"freeText": True}
"""`json_schema_extra` of a prose field (a reason), where line breaks and tabs are fine."""
OUTPUT_OK: JsonDict = {"outputOk": True}
"""`json_schema_extra` of a field a component also takes as a Pulumi Output (an id another resource
of the same program produces): checked when its value is known, at deployment."""


class ConfigModel(BaseModel):
    """Base of every config section: strict keys, camelCase aliases, immutable once loaded.

    The stack config is read by alias only (camelCase, as the docs write it); Python callers may
    also pass field names.
    """

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        validate_default=True,  # mutation: equivalent (a net for a wrong default: every default is valid)
    )

    @model_validator(mode="before")
    @classmethod
    def _empty_means_defaults(cls, data: Any) -> Any:
        # `westus3:` with nothing after it is YAML's null: the entry with its defaults, as `{}` is.
        return {} if data is None else data

    @field_validator("*", mode="after")
    @classmethod
    def _plain_text(cls, value: Any, info: ValidationInfo) -> Any:
        # Before any rule of the model runs: those repeat parts of values in their messages (a
        # source cut at `@`), and a part of a credential is no longer recognisable as one. The
        # first test is a shortcut only: the walk below gives these values the same answer.
        if (  # mutation: equivalent
            value is None
            or isinstance(value, bool | int | float)
            or (type(value) is str and not _CONTROL.search(value) and credential_kind(value) is None)
        ):
            return value  # the common case, without the walk
        field = cls.model_fields.get(info.field_name or "")
        text = (
            field is not None
            and isinstance(field.json_schema_extra, dict)
            and bool(field.json_schema_extra.get("freeText"))
        )
        for found in _strings(value):
            kind = credential_kind(found)
            if kind is not None:
                raise ValueError(f"looks like {kind}: {CREDENTIAL_FIX}")
            if (_CONTROL_IN_TEXT if text else _CONTROL).search(found):
                raise ValueError(
                    f"'{shown(found)}' contains a control character (a line break or tab, say), which no "
                    "name, id or address holds: remove it (a YAML block scalar `|` keeps a final line "
                    "break: use a plain or quoted value)"
                )
        return value


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def closest(value: str, choices: Iterable[str]) -> str | None:
    """The choice the value most likely meant (case and separators ignored first), or None."""
    options = list(choices)

    def plain(text: str) -> str:
        return re.sub(r"[\s_-]", "", text).lower()

    for option in options:  # mutation: equivalent (a shortcut: difflib ranks an exact match first)
        if plain(option) == plain(value):
            return option
    match = difflib.get_close_matches(plain(value), [plain(o) for o in options], cutoff=0.75)
    return next((o for o in options if plain(o) == match[0]), None) if match else None


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """` (did you mean `x`?)` when a choice is close, else an empty string."""
    guess = closest(value, choices)
    return f" (did you mean `{guess}`?)" if guess is not None and guess != value else ""


def _no_bool(value: Any) -> Any:
    # Pydantic's lax mode reads `true` as 1: `retentionDays: true` would plan a 1-day retention.
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number, not `{str(value).lower()}`")
    return value


WholeNumber = Annotated[int, BeforeValidator(_no_bool)]
"""An integer setting: a YAML number, never a boolean."""


def _no_bool_number(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, not `{str(value).lower()}`")
    return value


Number = Annotated[float, BeforeValidator(_no_bool_number)]
"""A number setting (a threshold): a YAML number, never a boolean."""


def field_error(field_alias: str, message: str) -> PydanticCustomError:
    """An error that a model validator raises about one of its fields.

    Pydantic places model-level errors on the model itself; the `field` in the context lets the
    loader report the precise key path (``acr-cache:registry.retentionDays``) instead.
    """
    return PydanticCustomError("acr_cache_field", "{message}", {"field": field_alias, "message": message})


# Azure regions by ARM name (`az account list-locations`, public, US Government and China clouds,
# late 2026). Only used to catch typos: a well-formed name that is far from all of these is taken as
# a region newer than the list.
KNOWN_REGIONS = frozenset(
    [
        "australiacentral",
        "australiacentral2",
        "australiaeast",
        "australiasoutheast",
        "austriaeast",
        "belgiumcentral",
        "brazilsouth",
        "brazilsoutheast",
        "canadacentral",
        "canadaeast",
        "centralindia",
        "centralus",
        "centraluseuap",
        "chilecentral",
        "chinaeast",
        "chinaeast2",
        "chinaeast3",
        "chinanorth",
        "chinanorth2",
        "chinanorth3",
        "denmarkeast",
        "eastasia",
        "eastus",
        "eastus2",
        "eastus2euap",
        "francecentral",
        "francesouth",
        "germanynorth",
        "germanywestcentral",
        "indonesiacentral",
        "israelcentral",
        "italynorth",
        "japaneast",
        "japanwest",
        "jioindiacentral",
        "jioindiawest",
        "koreacentral",
        "koreasouth",
        "malaysiawest",
        "mexicocentral",
        "newzealandnorth",
        "northcentralus",
        "northeurope",
        "norwayeast",
        "norwaywest",
        "polandcentral",
        "qatarcentral",
        "southafricanorth",
        "southafricawest",
        "southcentralus",
        "southeastasia",
        "southindia",
        "spaincentral",
        "swedencentral",
        "swedensouth",
        "switzerlandnorth",
        "switzerlandwest",
        "taiwannorth",
        "uaecentral",
        "uaenorth",
        "uksouth",
        "ukwest",
        "usdodcentral",
        "usdodeast",
        "usgovarizona",
        "usgovtexas",
        "usgovvirginia",
        "westcentralus",
        "westeurope",
        "westindia",
        "westus",
        "westus2",
        "westus3",
    ]
)
_REGION_FIX = (
    "use the lowercase name without spaces that `az account list-locations -o table` prints in "
    "its Name column, e.g. 'westeurope'"
)


def _check_region(value: str) -> str:
    guess = closest(value, KNOWN_REGIONS)
    if not _REGION.fullmatch(value):
        hint = f": did you mean '{shown(guess)}'?" if guess else f": {_REGION_FIX}"
        raise ValueError(f"'{shown(value)}' is not an Azure region name{hint}")
    if value not in KNOWN_REGIONS and guess is not None and _digits(guess) == _digits(value):
        # `westeurop`: a typo, not a new region (`westus4` would differ from `westus3` in its digits).
        raise ValueError(f"'{shown(value)}' is not an Azure region: did you mean '{shown(guess)}'?")
    return value


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


AzureRegion = Annotated[str, AfterValidator(_check_region)]
"""An Azure region name as ARM expects it (``westeurope``, ``eastus2``)."""


def _check_tags(value: dict[str, str]) -> dict[str, str]:
    if len(value) > 50:
        raise ValueError(f"{len(value)} tags given; Azure allows at most 50 tags on a resource")
    for key, val in value.items():
        if not key or len(key) > 512 or _TAG_NAME_FORBIDDEN.intersection(key):
            raise ValueError(
                f"tag name '{shown(key)}' is not allowed: 1-512 characters, none of < > % & \\ ? /"
            )
        if len(val) > 256:
            raise ValueError(
                f"the value of tag '{shown(key)}' is {len(val)} characters long; Azure allows 256"
            )
    return value


Tags = Annotated[dict[str, str], AfterValidator(_check_tags)]
"""Azure resource tags: at most 50, names without ``<>%&\\?/``, values up to 256 characters."""


ResourceGroupName = Annotated[str, AfterValidator(RESOURCE_GROUP.check)]
"""An Azure resource group name."""
SubnetIdStr = Annotated[str, AfterValidator(id_check(SUBNET))]
"""An ARM subnet id (`/subscriptions/.../virtualNetworks/<vnet>/subnets/<subnet>`)."""
VnetIdStr = Annotated[str, AfterValidator(id_check(VIRTUAL_NETWORK))]
"""An ARM virtual network id."""

NAMED_VALIDATORS = {
    _check_region: "Azure region",
    _check_tags: "map of string",
    RESOURCE_GROUP.check: "resource group name",
}
"""Validator function -> the type name the config reference shows for fields using it (the ARM id
types register in `acr_cache.arm.ID_TYPE_NAMES`)."""


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with the stack config."""

    key: str
    """The key path, e.g. `acr-cache:registry.name`."""
    message: str
    """What is wrong and what to do about it."""

    def __str__(self) -> str:
        # Under the engine this text is what `pulumi up` prints: one line, nothing it must not repeat.
        return one_line(f"{self.key}: {self.message}")


class ConfigError(pulumi.RunError):
    """The stack config is invalid. A RunError, so `pulumi up` prints the message, no traceback."""

    def __init__(
        self,
        problems: Iterable[ConfigProblem],
        subject: str = "stack configuration",
        fix: str = "fix the keys above in the stack config and run again",
    ) -> None:
        # In the order found (the stack config puts them in file order), each problem once.
        self.problems = list(dict.fromkeys(problems))
        count = len(self.problems)
        self.headline = f"invalid {subject} ({count} problem{'s' * (count != 1)}):"
        self.fix = fix
        """What to do, once the problems are read (a component's say: the arguments in the program)."""
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{self.headline}\n{lines}")


def collisions(derived: Mapping[str, str], what: str, fix: str) -> list[ConfigProblem]:
    """One problem per key whose derived name an earlier key already has, naming both keys."""
    first: dict[str, str] = {}
    problems = []
    for path, name in derived.items():
        if name in first:
            problems.append(
                ConfigProblem(path, f"'{shown(name)}' is also the {what} of {first[name]}: {fix}")
            )
        else:
            first[name] = path
    return problems
