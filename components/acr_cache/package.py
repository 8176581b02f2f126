"""The public components: for other Python stacks (`from acr_cache import ...`) and, as a Pulumi
component package, for TypeScript, Go, C#, Java and YAML stacks (`pulumi package add`).

Each component takes `args`, a typed dictionary whose sections are the stack config's sections
(docs/configuration.md), generated from the same models (`component_args.py`, by `acr-cache
schema`): the same names (snake_case here, camelCase in other languages and in YAML), the same
validation, the same messages. A section may also be given as its pydantic model
(`RegistryConfig(...)`). Components other than `Registry` attach to any registry by its ARM id,
so a team can add its own cache rules or grants to the platform's registry.

No `from __future__ import annotations` here: Pulumi's schema analyzer reads these annotations as
objects, not strings.
"""

from collections.abc import Mapping
from typing import Any

import pulumi
from pydantic import BaseModel, ValidationError

from acr_cache.access import Access
from acr_cache.arm import REGISTRY, parse_arm_id
from acr_cache.artifact_cache import (
    ArtifactCache,
)
from acr_cache.config import ConfigError, ConfigProblem, problems_from
from acr_cache.image_import import ImageImports
from acr_cache.private_access import PrivateAccess
from acr_cache.redaction import shown
from acr_cache.registry import Registry
from acr_cache.replication import Replicas

PACKAGE = "acr-cache"
"""Name of the Pulumi component package (type tokens `acr-cache:index:<Component>`)."""


def _fail(component: str, name: str, problems: list[ConfigProblem]) -> ConfigError:
    return ConfigError(ConfigProblem(f"{component}('{shown(name)}').{p.key}", p.message) for p in problems)


def _model(model: type[BaseModel], data: Any, path: str, problems: list[ConfigProblem]) -> Any:
    try:
        return model.model_validate(data.model_dump() if isinstance(data, BaseModel) else data)
    except ValidationError as exc:
        problems.extend(problems_from(exc, prefix=f"{path}."))
        return None


def _models(
    model: type[BaseModel], entries: Mapping[str, Any], path: str, problems: list[ConfigProblem]
) -> dict[str, Any]:
    built = {key: _model(model, value, f"{path}.{key}", problems) for key, value in (entries or {}).items()}
    return {key: value for key, value in built.items() if value is not None}


def _registry_part(registry_id: pulumi.Input[str], part: str) -> pulumi.Output[str]:
    def pick(value: str) -> str:
        parsed = parse_arm_id(value, REGISTRY)
        return {"subscription": parsed.subscription, "group": parsed.resource_group, "name": parsed.name}[
            part
        ]

    return pulumi.Output.from_input(registry_id).apply(pick)


def _subscription(registry_id: pulumi.Input[str]) -> pulumi.Output[str]:
    return _registry_part(registry_id, "subscription")


def _secret_values(secrets: Mapping[str, pulumi.Input[str]] | None) -> dict[str, pulumi.Output[str]]:
    return {key: pulumi.Output.secret(value) for key, value in (secrets or {}).items()}


COMPONENTS: list[type[pulumi.ComponentResource]] = [
    Registry,
    Replicas,
    PrivateAccess,
    ArtifactCache,
    Access,
]
"""The components hosted for other languages (the package schema lists exactly these)."""

PYTHON_ONLY: list[type[pulumi.ComponentResource]] = [ImageImports]
"""Components for Python stacks only. ImageImports registers a Python dynamic resource: inside a
component served to another language it does not load (pulumi/pulumi#5455: the engine would run
the dynamic provider from the consumer's project, whose environment has no `acr_cache` to
unpickle it from). Other languages import images with `az acr import` or their own tooling."""


def package_schema(version: str) -> dict[str, Any]:
    """The component package schema, generated offline by Pulumi's analyzer (what `pulumi package
    add` reads from the running host)."""
    from pulumi.provider.experimental.analyzer import Analyzer
    from pulumi.provider.experimental.schema import generate_schema

    result = Analyzer(PACKAGE).analyze(COMPONENTS)
    schema = generate_schema(
        PACKAGE,
        version,
        None,
        result["component_definitions"],
        result["type_definitions"],
        sorted(result["dependencies"], key=lambda d: d.name),
    )
    return dict(schema.to_json())
