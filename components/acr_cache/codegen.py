"""Generates `component_args.py`: the components' typed args, written from the config models.

Pulumi's analyzer builds the component package schema (what TypeScript, Go, C#, Java and YAML
see) from TypedDicts in source files, with the docstring under each key. Writing them from the
models keeps one declaration per field: a key added to a model reaches every language with the
next `acr-cache schema`, and the committed file is checked for staleness like the schema.
"""

from __future__ import annotations

import enum
import types
import typing
from typing import Any

from pydantic import BaseModel

from acr_cache.access import GrantConfig
from acr_cache.artifact_cache import CacheRuleConfig, CredentialSetConfig, SecretSource
from acr_cache.image_import import ImportConfig
from acr_cache.key_vault import KeyVaultConfig
from acr_cache.network import NetworkConfig
from acr_cache.private_access import PrivateDnsZoneConfig, PrivateEndpointConfig, VnetLinkConfig
from acr_cache.registry import RegistryConfig, RegistryIdentityConfig, ResourceGroupConfig
from acr_cache.replication import ReplicaConfig

# (args name, model, what the section is, model fields left out: the reason)
ARGS: tuple[tuple[str, type[BaseModel], str, dict[str, str]], ...] = (
    ("ResourceGroupArgs", ResourceGroupConfig, "section `resourceGroup`", {}),
    ("RegistryIdentityArgs", RegistryIdentityConfig, "`registry.identity`", {}),
    ("RegistrySettingsArgs", RegistryConfig, "section `registry`", {}),
    ("NetworkArgs", NetworkConfig, "section `network`", {}),
    ("ReplicaArgs", ReplicaConfig, "an entry of section `replicas`", {}),
    ("VnetLinkArgs", VnetLinkConfig, "an entry of `privateAccess.dnsZone.vnetLinks`", {}),
    ("PrivateEndpointArgs", PrivateEndpointConfig, "an entry of `privateAccess.endpoints`", {}),
    ("PrivateDnsZoneArgs", PrivateDnsZoneConfig, "`privateAccess.dnsZone`", {}),
    ("SecretSourceArgs", SecretSource, "where a credential comes from", {}),
    ("CredentialSetArgs", CredentialSetConfig, "an entry of `credentialSets`", {}),
    ("KeyVaultArgs", KeyVaultConfig, "section `keyVault`", {}),
    (
        "CacheRuleArgs",
        CacheRuleConfig,
        "an entry of `cacheRules`, keyed by name",
        {"name": "the key names it"},
    ),
    ("GrantArgs", GrantConfig, "an entry of `access`", {}),
    ("ImageArgs", ImportConfig, "an entry of `imports`, keyed by target", {}),
)

_HEADER = '''"""The components' typed args for the config sections, generated from the config models by
`acr-cache schema` (acr_cache.codegen): edit the models' Field descriptions, not this file.

No `from __future__ import annotations`: Pulumi's schema analyzer reads these annotations as
objects, not strings.
"""

from collections.abc import Awaitable
from typing import NotRequired, TypedDict, TypeVar, Union

import pulumi

T = TypeVar("T")
Input = Union[T, Awaitable[T], pulumi.Output[T]]  # noqa: UP007 (a `|` union cannot be subscripted)
"""`pulumi.Input` without its string forward reference to `Output[T]`, which typing.get_type_hints
cannot resolve outside Pulumi's module: the args types are read by IDEs, dataclass tools and
Pulumi's component analyzer, which takes either form."""
'''


def component_args_source() -> str:
    names = {model: name for name, model, _, _ in ARGS}
    parts = [_HEADER]
    for name, model, what, left_out in ARGS:
        doc = " ".join((model.__doc__ or "").split())
        parts.append(f"\n\nclass {name}(TypedDict):\n{_docstring(f'{what[0].upper()}{what[1:]}: {doc}')}")
        for field, info in model.model_fields.items():
            if field in left_out:
                continue
            kind = _python_type(info.annotation, names)
            if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("outputOk"):
                kind = f"Input[{kind}]"
            annotation = kind if info.is_required() else f"NotRequired[{kind}]"
            parts.append(f"\n    {field}: {annotation}\n{_docstring(info.description or '')}")
    return "".join(parts).rstrip() + "\n"


def _docstring(text: str) -> str:
    # One line however long: the analyzer copies docstrings into the schema as they are written.
    return '    """' + " ".join(text.split()).replace("\\", "\\\\").replace('"""', "'''") + '"""\n'


def _python_type(annotation: Any, names: dict[type[BaseModel], str]) -> str:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _python_type(args[0], names)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        # A key given as a string or as an object (a VNet id or `{vnetId, ...}`): the object form
        # says everything the string does, and is what typed languages get.
        objects = [m for m in members if _model(m) is not None]
        return _python_type(objects[0] if objects else members[0], names)
    if origin is dict:
        return f"dict[str, {_python_type(args[1], names)}]"
    if origin is list:
        return f"list[{_python_type(args[0], names)}]"
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return names[annotation]
        if issubclass(annotation, enum.Enum):
            return "str"
        if annotation in (str, int, bool, float):
            return annotation.__name__
    raise TypeError(f"no args type for {annotation!r}")


def _model(annotation: Any) -> type[BaseModel] | None:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
