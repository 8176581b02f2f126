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

from acr_cache.model import ConfigModel
from acr_cache.protection import ProtectionConfig
from acr_cache.registry import RegistryConfig, ResourceGroupConfig

NAMESPACE = "acr-cache"


class StackConfig(ConfigModel):
    """Everything one environment of acr-cache is built from."""

    resource_group: ResourceGroupConfig = Field(
        description="The resource group that holds the registry (created by the stack, or existing).",
    )
    registry: RegistryConfig = Field(description="The container registry.")
    protection: ProtectionConfig = Field(
        default_factory=ProtectionConfig,
        description="Guards against deleting stateful resources.",
    )

    def cross_section_problems(self) -> list[ConfigProblem]:
        """Rules that span sections, which the section models cannot see on their own."""
        problems: list[ConfigProblem] = []
        if not self.registry.export_enabled:
            # The registry is always publicly reachable until a network section restricts it,
            # and Azure refuses to disable exports on a publicly reachable registry.
            problems.append(
                ConfigProblem(
                    f"{NAMESPACE}:registry.exportEnabled",
                    "Azure only allows disabling exports when public network access is disabled, "
                    "and this registry is publicly reachable: remove `exportEnabled: false`",
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
