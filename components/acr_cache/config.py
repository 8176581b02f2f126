"""The stack config: one typed, validated model per environment, read from `Pulumi.<stack>.yaml`.

Each section is a top-level key in the `acr-cache` namespace (`acr-cache:registry`, ...), holding a
plain (non-secret) object. Secrets never travel inside a section: `require_object` would hand them
back in plaintext (pulumi#7127). They live in keys of their own, set with
`pulumi config set --secret`, and sections refer to those keys by name.

Every problem is reported at once, each with its key path and the fix, before any resource exists.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import pulumi
from pydantic import BaseModel, Field, ValidationError
from pydantic_core import ErrorDetails

from acr_cache.model import AzureRegion, ConfigModel
from acr_cache.network import NetworkConfig, PublicAccess
from acr_cache.private_access import (
    DnsZoneMode,
    PrivateAccessConfig,
    addresses_per_endpoint,
    usable_addresses,
)
from acr_cache.protection import ProtectionConfig
from acr_cache.registry import RegistryConfig, ResourceGroupConfig
from acr_cache.replication import ReplicaConfig

NAMESPACE = "acr-cache"


class StackConfig(ConfigModel):
    """Everything one environment of acr-cache is built from."""

    resource_group: ResourceGroupConfig = Field(
        description="The resource group that holds the registry (created by the stack, or existing).",
    )
    registry: RegistryConfig = Field(description="The container registry.")
    replicas: dict[AzureRegion, ReplicaConfig] = Field(
        default_factory=dict,
        description="Geo-replicas by Azure region (Premium). The region is each replica's identity: "
        "reordering or adding replicas renames nothing. The home region (`registry.location`) is "
        "not listed: it always holds the registry.",
    )
    network: NetworkConfig = Field(
        default_factory=NetworkConfig,
        description="The firewall of the public endpoint: public access, IP rules, trusted services, "
        "dedicated data endpoints.",
    )
    private_access: PrivateAccessConfig = Field(
        default_factory=PrivateAccessConfig,
        description="Private endpoints and the `privatelink.azurecr.io` DNS zone (Premium).",
    )
    protection: ProtectionConfig = Field(
        default_factory=ProtectionConfig,
        description="Guards against deleting stateful resources.",
    )

    @property
    def public_access(self) -> PublicAccess:
        return self.network.effective_public_access(bool(self.private_access.endpoints))

    @property
    def regions(self) -> list[str]:
        """The home region first, then the replica regions in sorted order."""
        return [self.registry.location, *sorted(self.replicas)]

    def cross_section_problems(self) -> list[ConfigProblem]:
        """Rules that span sections, which the section models cannot see on their own."""
        return [
            *self._replica_problems(),
            *self._premium_problems(),
            *self._network_problems(),
            *self._private_access_problems(),
        ]

    def _replica_problems(self) -> list[ConfigProblem]:
        problems = []
        for region in self.replicas:
            key = f"{NAMESPACE}:replicas.{region}"
            if region == self.registry.location:
                problems.append(
                    ConfigProblem(
                        key,
                        f"'{region}' is the registry's home region (registry.location), which always "
                        "holds the registry: list only other regions as replicas",
                    )
                )
            if len(region) < 5:
                problems.append(
                    ConfigProblem(
                        key, "a replica is named after its region, and ACR names need 5-50 characters"
                    )
                )
        return problems

    def _premium_problems(self) -> list[ConfigProblem]:
        registry = self.registry
        if registry.is_premium:
            return []
        needs = f"needs the Premium tier (sku is {registry.sku.value}): set `acr-cache:registry.sku: Premium` or remove"
        problems = []
        if self.replicas:
            problems.append(ConfigProblem(f"{NAMESPACE}:replicas", f"geo-replication {needs} the replicas"))
        if self.network.ip_rules:
            problems.append(
                ConfigProblem(f"{NAMESPACE}:network.ipRules", f"an IP firewall {needs} `ipRules`")
            )
        elif self.public_access is not PublicAccess.OPEN and self.network.public_access is not None:
            problems.append(
                ConfigProblem(
                    f"{NAMESPACE}:network.publicAccess",
                    f"`{self.public_access.value}` public access {needs} `publicAccess`",
                )
            )
        if self.private_access.endpoints:
            problems.append(
                ConfigProblem(
                    f"{NAMESPACE}:privateAccess.endpoints", f"private endpoints {needs} the endpoints"
                )
            )
        if self.network.data_endpoints:
            problems.append(
                ConfigProblem(
                    f"{NAMESPACE}:network.dataEndpoints", f"dedicated data endpoints {needs} `dataEndpoints`"
                )
            )
        return problems

    def _network_problems(self) -> list[ConfigProblem]:
        problems = []
        access = self.public_access
        if not self.registry.export_enabled and access is not PublicAccess.DISABLED:
            problems.append(
                ConfigProblem(
                    f"{NAMESPACE}:registry.exportEnabled",
                    "Azure only allows disabling exports when public network access is disabled, and "
                    f"public access is `{access.value}`: set `acr-cache:network.publicAccess: Disabled` "
                    "(reach the registry through private endpoints) or remove `exportEnabled: false`",
                )
            )
        if self.network.data_endpoints is False and self.private_access.endpoints:
            problems.append(
                ConfigProblem(
                    f"{NAMESPACE}:network.dataEndpoints",
                    "Azure turns dedicated data endpoints on for every registry with private endpoints: "
                    "remove `dataEndpoints: false`",
                )
            )
        return problems

    def _private_access_problems(self) -> list[ConfigProblem]:
        access = self.private_access
        prefix = f"{NAMESPACE}:privateAccess"
        if not access.endpoints:
            if "dns_zone" in access.model_fields_set:
                return [
                    ConfigProblem(
                        f"{prefix}.dnsZone",
                        "there are no private endpoints to register in the zone: add `endpoints` or remove `dnsZone`",
                    )
                ]
            return []
        problems = []
        if access.dns_zone.mode is DnsZoneMode.CREATE and not access.dns_zone.vnet_links:
            for clash in access.link_collisions():
                problems.append(
                    ConfigProblem(
                        f"{prefix}.dnsZone.vnetLinks",
                        f"several endpoint VNets are named '{clash}', and derived links are keyed by VNet "
                        "name: list the links explicitly in `vnetLinks` (name: VNet id)",
                    )
                )
        problems.extend(self._capacity_problems())
        return problems

    def _capacity_problems(self) -> list[ConfigProblem]:
        # Each endpoint takes one address for the login server and one per region's data endpoint;
        # when a replica is added, Azure adds an address to every endpoint, and the replica rolls
        # back if any endpoint subnet is full.
        per_endpoint = addresses_per_endpoint(len(self.regions))
        by_subnet: dict[str, list[str]] = {}
        for key in sorted(self.private_access.endpoints):
            by_subnet.setdefault(self.private_access.endpoints[key].subnet_id.lower(), []).append(key)
        problems = []
        for keys in by_subnet.values():
            lengths: dict[str, int] = {}
            for k in keys:
                length = self.private_access.endpoints[k].subnet_prefix_length
                if length is not None:
                    lengths[k] = length
            if len(set(lengths.values())) > 1:
                problems.append(
                    ConfigProblem(
                        f"{NAMESPACE}:privateAccess.endpoints.{sorted(lengths)[-1]}.subnetPrefixLength",
                        f"endpoints {', '.join(sorted(lengths))} share a subnet but give different prefix "
                        "lengths: give the same one",
                    )
                )
                continue
            if not lengths:
                continue
            key, length = sorted(lengths.items())[0]
            needed = per_endpoint * len(keys)
            room = usable_addresses(length)
            if needed > room:
                problems.append(
                    ConfigProblem(
                        f"{NAMESPACE}:privateAccess.endpoints.{key}.subnetPrefixLength",
                        f"a /{length} subnet has {room} usable addresses, and the endpoints in it "
                        f"({', '.join(keys)}) need {needed}: {per_endpoint} each (the login server plus one "
                        f"data endpoint for each of {len(self.regions)} regions): use a larger subnet",
                    )
                )
        return problems


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with the stack config."""

    key: str
    """The key path, e.g. `acr-cache:registry.name`."""
    message: str
    """What is wrong and what to do about it."""

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


class ConfigError(pulumi.RunError):
    """The stack config is invalid. A RunError, so `pulumi up` prints the message, no traceback."""

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        self.problems = sorted(set(problems), key=lambda p: (p.key, p.message))
        count = len(self.problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"invalid stack configuration ({count} problem{'s' * (count != 1)}):\n{lines}")


def section_keys() -> dict[str, str]:
    """Config key (camelCase) -> model field name, for every section."""
    return {(info.alias or name): name for name, info in StackConfig.model_fields.items()}


def parse_stack_config(values: Mapping[str, Any], secret_keys: Iterable[str] = ()) -> StackConfig:
    """Validate raw config values (full key -> value as Pulumi passes it) into a StackConfig.

    Raises ConfigError listing every problem. Values of secret keys are never echoed.
    """
    secret = set(secret_keys)
    sections = section_keys()
    problems: list[ConfigProblem] = []
    document: dict[str, Any] = {}
    refused: set[str] = set()
    for key in sorted(values):
        namespace, _, name = key.partition(":")
        if namespace != NAMESPACE:
            continue
        if name not in sections:
            if key not in secret:
                problems.append(
                    ConfigProblem(
                        key,
                        f"unknown config key; the sections are {_join(sections)} "
                        "(check the spelling; secrets go in keys of their own, "
                        "set with `pulumi config set --secret`)",
                    )
                )
            continue
        if key in secret:
            problems.append(
                ConfigProblem(
                    key,
                    "this section is stored as a secret or holds a `secure:` value, and sections "
                    "must be plain objects: move the secret into a key of its own "
                    "(`pulumi config set --secret <name> ...`) and refer to it by name",
                )
            )
            refused.add(name)
            continue
        document[name] = _decode(values[key])

    try:
        config = StackConfig.model_validate(document)
    except ValidationError as exc:
        # A refused section is already reported; its absence from the document is no news.
        problems.extend(p for p in _problems_from(exc) if p.key.partition(":")[2] not in refused)
        raise ConfigError(problems) from None
    problems.extend(config.cross_section_problems())
    if problems:
        raise ConfigError(problems)
    return config


def load_stack_config() -> StackConfig:
    """Read and validate the running stack's config (under the engine or under mocks)."""
    # pulumi.Config can only fetch keys by name; the unknown-key check needs all of them, which
    # the runtime keeps in its config map (engine) or in PULUMI_CONFIG (environment).
    from pulumi.runtime import config as runtime_config

    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    ours = {key: runtime_config.get_config(key) for key in keys if key.startswith(f"{NAMESPACE}:")}
    secret = {key for key in ours if runtime_config.is_config_secret(key)}
    secret |= set(runtime_config.get_config_secret_keys_env()) & set(ours)
    return parse_stack_config(ours, secret)


def _decode(raw: Any) -> Any:
    # Pulumi hands object values to the program as JSON text and scalars as plain strings.
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _join(names: Iterable[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _problems_from(exc: ValidationError) -> list[ConfigProblem]:
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        loc = list(error["loc"])
        if error["type"] == "acr_cache_field":
            loc.append(error["ctx"]["field"])
        problems.append(ConfigProblem(_key_path(loc), _message(error, loc)))
    return problems


def _key_path(loc: list[int | str]) -> str:
    if not loc:
        return f"{NAMESPACE}:<root>"
    path = f"{NAMESPACE}:{loc[0]}"
    for part in loc[1:]:
        if part == "[key]":
            # Pydantic marks an invalid map key with a "[key]" step after the key itself.
            continue
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _message(error: ErrorDetails, loc: list[int | str]) -> str:
    kind = error["type"]
    if kind == "acr_cache_field":
        return str(error["ctx"]["message"])
    if kind == "value_error":
        return error["msg"].removeprefix("Value error, ")
    if kind == "missing":
        model, name = _model_at(loc[:-1]), loc[-1]
        description = _field_description(model, str(name))
        return f"required key is missing: {description}" if description else "required key is missing"
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        allowed = _join(_aliases(model)) if model else "none"
        return f"unknown key; allowed keys here are {allowed}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        model = _model_at(loc)
        if model is not None:
            return f"expected an object with the keys {_join(_aliases(model))}"
        return "expected an object (a YAML mapping)"
    return error["msg"]


def _aliases(model: type[BaseModel] | None) -> list[str]:
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


def _field_description(model: type[BaseModel] | None, alias: str) -> str:
    if model is None:
        return ""
    for name, info in model.model_fields.items():
        if alias in (name, info.alias):
            return info.description or ""
    return ""


def _model_at(loc: list[int | str]) -> type[BaseModel] | None:
    """The config model that sits at a location of the document, if any."""
    annotation: Any = StackConfig
    for part in loc:
        model = _first_model(annotation)
        if isinstance(part, str) and model is not None:
            match = [i for n, i in model.model_fields.items() if part in (n, i.alias)]
            if not match:
                return None
            annotation = match[0].annotation
        else:
            # A list index or a map key: step into the element type.
            args = [a for a in get_args(annotation) if a is not type(None)]
            annotation = args[-1] if args else None
    return _first_model(annotation)


def _first_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    # Only look through Optional/Union and Annotated: a list or map is a level of its own.
    if get_origin(annotation) in (Union, UnionType, Annotated):
        for arg in get_args(annotation):
            found = _first_model(arg)
            if found is not None:
                return found
    return None
