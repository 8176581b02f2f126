"""What every public component shares: its package, how it reads its args, how it refers to a
registry, and the aliases that keep resources of earlier layouts in place.

No `from __future__ import annotations` in the modules that define components: Pulumi's schema
analyzer reads their annotations as objects, not strings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints, is_typeddict

import pulumi
from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_camel, to_snake

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


class ChildNames:
    """The names of a component's children by key: `<name>-<key>`, or the key alone when it already
    begins with the component's name (`team-b` with the rule `team-b-redis` makes `team-b-redis`, not
    `team-b-team-b-redis`), unless another key's child has that name. A child whose name this
    shortened keeps its resource through an alias to the former name: an alias with a name only,
    which the engine completes with the resource's own type and parent (pulumi/pulumi
    pkg/resource/deploy/step_generator.go `collapseAliasToUrn`), so the old URN is found and the
    resource is taken over, not replaced."""

    def __init__(self, name: str, keys: Iterable[str]) -> None:
        keys = list(keys)
        doubled = {key: f"{name}-{key}" for key in keys}
        taken = set(doubled.values())
        self._doubled = doubled
        self._names = {
            key: key if key.startswith(f"{name}-") and key not in taken else doubled[key] for key in keys
        }

    def __getitem__(self, key: str) -> str:
        return self._names[key]

    def aliases(
        self, key: str, suffix: str = "", former: list[pulumi.Alias] | None = None
    ) -> list[pulumi.Alias] | None:
        """`former` (another layout's aliases) and, when the name was shortened, the doubled name."""
        shortened = self._names[key] != self._doubled[key]
        found = [
            *(former or []),
            *([pulumi.Alias(name=f"{self._doubled[key]}{suffix}")] if shortened else []),
        ]
        return found or None


def component_error(
    component: str, name: str, problems: list[ConfigProblem], args_type: type | None = None
) -> ConfigError:
    """The problems of a component's arguments, in the language of its arguments: the path as Python
    writes it (`args.cache_rules["x"].credential_set`) and snake_case names in the messages, which
    the rules shared with the stack config write in its camelCase."""
    where = f"{component}('{shown(name)}')"
    words = _argument_names(args_type) if args_type is not None else {}
    return ConfigError(
        (
            ConfigProblem(
                f"{where}.{args_path(p.key, args_type) if args_type is not None else p.key}",
                _in_words(p.message, words),
            )
            for p in problems
        ),
        subject=f"arguments to {where}",
        fix=f"fix the arguments above where the program creates {where} and run again",
    )


def _fields(annotation: Any) -> dict[str, Any] | None:
    """The fields of a TypedDict (through Input[...] and Optional), or None for another type."""
    annotation = _plain(annotation)
    if isinstance(annotation, type) and is_typeddict(annotation):
        return get_type_hints(annotation)
    return None


def _plain(annotation: Any) -> Any:
    # Input[X] and X | None: the X (the first member that is neither awaitable, an Output nor None).
    if get_origin(annotation) in (Union, UnionType):
        members = [
            a
            for a in get_args(annotation)
            if a is not type(None)
            and get_origin(a) not in (Awaitable, pulumi.Output)
            and a is not pulumi.Output
        ]
        return members[0] if members else annotation
    return annotation


def args_path(key: str, args_type: type) -> str:
    """A problem's key (`args.cache_rules.x.credentialSet`) as the argument Python writes
    (`args.cache_rules["x"].credential_set`), found by walking the args' types."""
    if not key.startswith("args."):
        return key
    rest, out, annotation = key[len("args.") :], "args", _plain(args_type)
    while rest:
        fields = _fields(annotation)
        origin = get_origin(annotation)
        if fields is not None:
            written = _leading_name(rest)
            if not written:
                break
            snake = written if written in fields else to_snake(written)
            if snake not in fields:
                break
            out += f".{snake}"
            annotation = fields[snake]
            rest = rest[len(written) :].removeprefix(".")
        elif origin in (dict, Mapping):
            value = _plain(get_args(annotation)[1])
            below = _fields(value) or {}
            names = {*below, *(to_camel(n) for n in below)}
            # The map key is the longest part that ends where the path ends or a field of the entry begins.
            cut = next(
                (
                    i
                    for i in reversed(range(len(rest)))
                    if rest[i] in ".[" and _leading_name(rest[i + 1 :]) in names
                ),
                len(rest),
            )
            out += f"[{json.dumps(rest[:cut])}]"
            annotation, rest = value, rest[cut:].removeprefix(".")
        elif origin in (list, tuple) and (found := re.search(r"\A\[(\d+)\]\.?", rest)):
            out += f"[{found.group(1)}]"
            annotation, rest = _plain(get_args(annotation)[0]), rest[found.end() :]
        else:
            break
    return f"{out}.{rest}" if rest else out


def _leading_name(text: str) -> str:
    found = re.search(r"\A[A-Za-z_][A-Za-z0-9_]*", text)
    return found.group(0) if found else ""


def _argument_names(args_type: type) -> dict[str, str]:
    """camelCase -> snake_case for every argument below the args type."""
    names: dict[str, str] = {}
    seen: set[Any] = set()
    stack = [args_type]
    while stack:
        annotation = _plain(stack.pop())
        if annotation in seen:
            continue
        seen.add(annotation)
        fields = _fields(annotation)
        if fields is not None:
            for field_name, field_type in fields.items():
                if to_camel(field_name) != field_name:
                    names[to_camel(field_name)] = field_name
                stack.append(field_type)
        else:
            stack.extend(get_args(annotation))
    return names


def _in_words(message: str, names: dict[str, str]) -> str:
    """The message with the stack config's camelCase keys (`credentialSet`, `credentialSet:`) written as
    the arguments' snake_case names."""
    if not names:
        return message
    return re.sub(
        r"`([A-Za-z][A-Za-z0-9]*)(?=[`:])",
        lambda found: f"`{names.get(found.group(1), found.group(1))}",
        message,
    )
