"""Checks wire inputs against the installed azure-native SDK's own type metadata.

Pulumi mocks accept anything: a dict with a guessed key (`ip_address_or_range` instead of
`i_p_address_or_range`) goes over the wire unchanged and only Azure refuses it. This module reads
the `*Args` classes of the installed SDK (their `pulumi.getter` wire names, `__init__` signatures
and annotations) and reports unknown properties, missing required ones, values outside an enum and
objects where a scalar belongs.
"""

from __future__ import annotations

import collections.abc
import enum
import functools
import importlib
import inspect
import types
import typing
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi import _types as pulumi_types  # the SDK's own metadata readers for input types

from acr_cache.plan.values import Secret, Unknown, unwrap_secret

_SCALARS = (str, int, float, bool)


@dataclass(frozen=True)
class _Kind:
    """A normalised input type: scalar, enum, object (input type class), list, map or any."""

    kind: str
    detail: Any = None


@functools.cache
def resource_args_class(type_token: str) -> type | None:
    """The `*Args` class of an azure-native resource type token, or None if the SDK has none."""
    package, module, name = [*type_token.split(":"), "", ""][:3]
    if package != "azure-native" or not module or not name:
        return None
    try:
        mod = importlib.import_module(f"pulumi_azure_native.{module.replace('/', '.')}")
    except ImportError:
        return None
    # Where a resource's args would share the name of an input type (`monitor.ActionGroupArgs` is an
    # activity log alert's action), the SDK calls them `<Name>InitArgs`.
    args = getattr(mod, f"{name}InitArgs", None) or getattr(mod, f"{name}Args", None)
    return args if isinstance(args, type) and pulumi_types.is_input_type(args) else None


def check_resource(type_token: str, inputs: dict[str, Any]) -> list[str]:
    """Problems of one registered resource's wire inputs; empty when they match the SDK."""
    if not type_token.startswith("azure-native:"):
        return []
    args = resource_args_class(type_token)
    if args is None:
        return [f"{type_token} is not a resource type of the installed pulumi-azure-native"]
    return _check_object(args, inputs, "")


# Enums the SDK gets wrong: two APIs of one module define an enum of the same name, and the SDK
# keeps one. A log alert's `operator` is scheduledQueryRules' ConditionOperator (`GreaterThan`,
# azure-rest-api-specs Microsoft.Insights 2025-01-01-preview), not the `gt` of the other API.
_ENUM_OVERRIDES: dict[tuple[str, str], tuple[str, ...]] = {
    ("ConditionArgs", "operator"): (
        "Equals",
        "GreaterThan",
        "GreaterThanOrEqual",
        "LessThan",
        "LessThanOrEqual",
    ),
}


@functools.cache
def _wire_types(cls: type) -> dict[str, Any]:
    return dict(pulumi_types.input_type_types(cls))


@functools.cache
def _required(cls: type) -> frozenset[str]:
    # The getters' annotations say what the API requires: `NetworkRuleSetArgs.default_action` is
    # optional in `__init__` (the class fills in "Allow") but required on the wire, where a plain
    # dict never gets that default. The keyword-only parameters without default are the fallback.
    by_annotation = getattr(pulumi_types, "_required_property_names", None)
    if by_annotation is not None:
        return frozenset(by_annotation(cls))
    names = pulumi_types.input_type_py_to_pulumi_names(cls)
    signature = inspect.signature(cls)
    return frozenset(
        names.get(p.name, p.name)
        for p in signature.parameters.values()
        if p.default is inspect.Parameter.empty and p.kind is inspect.Parameter.KEYWORD_ONLY
    )


def _check_object(cls: type, value: Any, path: str) -> list[str]:
    given = value
    value = unwrap_secret(value)
    if isinstance(value, Unknown):
        return []
    where = path or "inputs"
    if not isinstance(value, dict):
        return [f"{where}: expected an object ({cls.__name__}), got {_describe(given)}"]
    types = _wire_types(cls)
    problems = []
    for key in sorted(value):
        sub = f"{path}.{key}" if path else key
        if key not in types:
            problems.append(
                f"{sub}: unknown property of {cls.__name__}; known properties: {', '.join(sorted(types))}"
            )
            continue
        override = _ENUM_OVERRIDES.get((cls.__name__, key))
        if override is not None:
            if unwrap_secret(value[key]) not in override:
                problems.append(
                    f"{sub}: {_describe(value[key])} is not one of {', '.join(map(repr, override))}"
                )
            continue
        problems.extend(_check_value(_kind_of(cls, key), value[key], sub))
    for key in sorted(_required(cls) - set(value)):
        sub = f"{path}.{key}" if path else key
        problems.append(f"{sub}: required property of {cls.__name__} is missing")
    return problems


def _check_value(kind: _Kind, value: Any, path: str) -> list[str]:
    # Messages describe what was given, before unwrapping, so a secret's value never reaches one.
    given = value
    value = unwrap_secret(value)
    if isinstance(value, Unknown) or value is None or kind.kind == "any":
        return []
    if kind.kind == "object":
        # A union of input types (metric criteria of several kinds): the value must fit one of them,
        # and when it fits none, the closest one says why.
        candidates = [_check_object(cls, value, path) for cls in kind.detail]
        return min(candidates, key=len)
    if kind.kind == "list":
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {_describe(given)}"]
        return [p for i, item in enumerate(value) for p in _check_value(kind.detail, item, f"{path}[{i}]")]
    if kind.kind == "map":
        if not isinstance(value, dict):
            return [f"{path}: expected a map, got {_describe(given)}"]
        return [
            p for key, item in sorted(value.items()) for p in _check_value(kind.detail, item, f"{path}.{key}")
        ]
    if isinstance(value, dict | list):
        return [f"{path}: expected a {kind.kind}, got {_describe(given)}"]
    if kind.kind == "enum":
        allowed = [m.value for m in kind.detail]
        if value not in allowed:
            return [f"{path}: {_describe(given)} is not one of {', '.join(map(repr, allowed))}"]
        return []
    expected = kind.detail
    if expected is float and isinstance(value, int | float) and not isinstance(value, bool):
        return []
    if expected is int and isinstance(value, float) and value.is_integer():
        return []
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        return [f"{path}: expected {expected.__name__}, got {_describe(given)}"]
    return []


@functools.cache
def _kind_of(cls: type, wire_name: str) -> _Kind:
    return _normalise(_wire_types(cls)[wire_name])


def _normalise(hint: Any) -> _Kind:
    """Reduce an SDK annotation (Input/Optional/Awaitable/Output noise included) to a _Kind."""
    members = _flatten(hint)
    objects = [m for m in members if isinstance(m, type) and pulumi_types.is_input_type(m)]
    if objects:
        return _Kind("object", tuple(objects))
    enums = [m for m in members if isinstance(m, type) and issubclass(m, enum.Enum)]
    if enums:
        return _Kind("enum", enums[0])
    for member in members:
        origin = typing.get_origin(member)
        if origin in (list, collections.abc.Sequence, typing.Sequence):
            return _Kind("list", _normalise(typing.get_args(member)[0]))
        if origin in (dict, collections.abc.Mapping, typing.Mapping):
            return _Kind("map", _normalise(typing.get_args(member)[1]))
    scalars = [m for m in members if m in _SCALARS]
    if scalars:
        return _Kind("scalar", scalars[0])
    return _Kind("any")


def _flatten(hint: Any) -> list[Any]:
    """The members of a union, without None, Awaitable[...] and Output[...] wrappers."""
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        return [m for arg in typing.get_args(hint) for m in _flatten(arg)]
    if hint is type(None) or origin in (collections.abc.Awaitable,) or origin is pulumi.Output:
        return []
    if hint is pulumi.Output or (isinstance(hint, type) and issubclass(hint, pulumi.Output)):
        return []
    if isinstance(hint, typing.ForwardRef):
        return []
    return [hint]


def _describe(value: Any) -> str:
    if isinstance(value, Secret):
        return "a secret value"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"
