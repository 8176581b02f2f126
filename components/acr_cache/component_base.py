"""What every public component shares: its package, how it reads its args, how it refers to a
registry, and the aliases that keep resources of earlier layouts in place.

No `from __future__ import annotations` in the modules that define components: Pulumi's schema
analyzer reads their annotations as objects, not strings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import pulumi
from pydantic import BaseModel, ValidationError

from acr_cache.arm import REGISTRY, parse_arm_id
from acr_cache.model import ConfigError, ConfigProblem
from acr_cache.problems import problems_from
from acr_cache.redaction import shown

PACKAGE = "acr-cache"
"""Name of the Pulumi component package (type tokens `acr-cache:index:<Component>`)."""


class Layout(Enum):
    """Where a component's resources were before each concern had one component (acr-cache 0.1).

    The stack program used the concern's own component (`acr-cache:replication:GeoReplicas` named
    `replicas`); other stacks used the public one, which wrapped that component as `<name>-<role>`.
    The aliases below let the engine take over those resources instead of replacing them.
    """

    STACK = "stack"
    """Built by the stack program: the component had another type, its children the same names."""
    COMPONENT = "component"
    """Built by another stack: children sat one level down, named `<name>-<role>-<key>`."""

    def options(self, opts: pulumi.ResourceOptions | None, former_type: str) -> pulumi.ResourceOptions:
        """The component's own options: under the stack program, an alias to its former type. The
        engine then also finds its children under it, by their unchanged names: a child whose
        parent was found through an alias gets that alias's URN as parent in its own candidates
        (pulumi/pulumi pkg/resource/deploy/step_generator.go, `generateAliases` and
        `inheritedChildAlias`; re-stated in tests/engine.py `take_over`)."""
        if self is not Layout.STACK:
            return opts or pulumi.ResourceOptions()
        return pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=former_type)])
        )

    def former_children(
        self, component: pulumi.ComponentResource, name: str, former_type: str, role: str
    ) -> Callable[[str], list[pulumi.Alias] | None]:
        """The aliases of the component's children, by the suffix of their names: in another
        stack's component, the former name `<name>-<role>-<suffix>` under the former inner
        component `<name>-<role>` (whose URN is made once per component, not per child)."""
        if self is not Layout.COMPONENT:
            return lambda suffix: None
        inner = f"{name}-{role}"
        former_parent = pulumi.create_urn(inner, former_type, parent=component)
        return lambda suffix: [pulumi.Alias(name=f"{inner}-{suffix}", parent=former_parent)]


@dataclass(frozen=True)
class RegistryRef:
    """The registry a component attaches to. Another stack knows it by its id; the stack program
    also by the values it has at hand (the name from the config), which keeps its inputs plain."""

    registry_id: pulumi.Input[str]
    resource_group_name: pulumi.Input[str]
    registry_name: pulumi.Input[str]
    subscription_id: pulumi.Input[str] = ""
    """Needed by the components that grant roles (a role definition id names its subscription)."""
    login_server: pulumi.Input[str] = ""
    """`<name>.azurecr.io`; derived from the name when not given."""

    @property
    def pull_host(self) -> pulumi.Input[str]:
        if self.login_server:
            return self.login_server
        return pulumi.Output.from_input(self.registry_name).apply(lambda n: f"{n.lower()}.azurecr.io")

    @staticmethod
    def from_id(registry_id: pulumi.Input[str]) -> RegistryRef:
        parsed = pulumi.Output.from_input(registry_id).apply(lambda value: parse_arm_id(value, REGISTRY))
        return RegistryRef(
            registry_id,
            parsed.apply(lambda p: p.resource_group),
            parsed.apply(lambda p: p.name),
            parsed.apply(lambda p: p.subscription),
        )


def validated(model: type[BaseModel], data: Any, path: str, problems: list[ConfigProblem]) -> Any:
    """The args section as its config model (a model given as is stays one), or None with the
    problems added under `path`."""
    if isinstance(data, model):
        return data  # validated already (the stack program hands over its config's models)
    try:
        return model.model_validate(data.model_dump() if isinstance(data, BaseModel) else data)
    except ValidationError as exc:
        problems.extend(problems_from(exc, f"{path}.", model))
        return None


def validated_entries(
    model: type[BaseModel], entries: Mapping[str, Any] | None, path: str, problems: list[ConfigProblem]
) -> dict[str, Any]:
    """Each entry of a keyed args section as its config model; the invalid ones are left out, with
    their problems added under `path.<key>`."""
    built = {
        key: validated(model, value, f"{path}.{key}", problems) for key, value in (entries or {}).items()
    }
    return {key: value for key, value in built.items() if value is not None}


def set_aside_outputs(
    entries: Mapping[str, Any] | None, field: str, stand_in: Callable[[str], str]
) -> tuple[dict[str, Any], dict[str, pulumi.Output[Any]]]:
    """Keyed entries whose `field` is an Output (another resource's id, known at deployment): the
    entries with a stand-in that passes validation (`stand_in(key)`), and the Outputs by key, for
    the resources to use and check once they are known."""
    plain: dict[str, Any] = {}
    deferred: dict[str, pulumi.Output[Any]] = {}
    for key, entry in (entries or {}).items():
        value = entry.get(field) if isinstance(entry, Mapping) else None
        if isinstance(value, pulumi.Output):
            deferred[key] = value
            entry = {**entry, field: stand_in(key)}
        plain[key] = entry
    return plain, deferred


def component_error(component: str, name: str, problems: list[ConfigProblem]) -> ConfigError:
    return ConfigError(ConfigProblem(f"{component}('{shown(name)}').{p.key}", p.message) for p in problems)
