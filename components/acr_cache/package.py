"""The public components as a package: for other Python stacks (`from acr_cache import ...`) and,
as a Pulumi component package, for TypeScript, Go, C#, Java and YAML stacks (`pulumi package add`).

Each component lives in the module of its concern, and the stack program builds the same ones.
Each takes `args`, a typed dictionary whose sections are the stack config's sections
(docs/configuration.md), generated from the same models (`component_args.py`, by `acr-cache
schema`): the same names (snake_case here, camelCase in other languages and in YAML), the same
validation, the same messages. A section may also be given as its pydantic model
(`RegistryConfig(...)`). Components other than `Registry` attach to any registry by its ARM id,
so a team can add its own cache rules or grants to the platform's registry.
"""

from typing import Any

import pulumi

from acr_cache.access import Access
from acr_cache.artifact_cache import ArtifactCache
from acr_cache.component_base import PACKAGE
from acr_cache.image_import import ImageImports
from acr_cache.private_access import PrivateAccess
from acr_cache.registry import Registry
from acr_cache.replication import Replicas

__all__ = ["COMPONENTS", "PACKAGE", "PYTHON_ONLY", "package_schema"]


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
