"""What the program does to register resources fast.

azure-native attaches to every resource one alias per older API version of its type (a CacheRule
carries 13, `azure-native:containerregistry/v20230101preview:CacheRule` and so on), for stacks that
once created it under a versioned type. The Python SDK turns each alias into a URN eagerly, in the
Resource constructor, through a chain of Outputs and asyncio tasks, whether or not anything ever
uses it; at 1,000 cache rules that is most of the program's time. acr-cache creates every resource
with the unversioned default type, so those aliases can never match anything in its stacks: the
transformation below drops exactly them before the SDK computes anything, and keeps every other
alias (URN strings, renames, reparenting, such as `acr-cache:registry.aliases`).

A stack that was created with versioned azure-native types (azure-native v1 programs using
`containerregistry/v20230101preview` modules) must not use this; acr-cache stacks never did.
"""

from __future__ import annotations

import re

import pulumi

# `azure-native:<module>/v<date>[preview]:<Type>`: the versioned type tokens azure-native aliases.
_VERSIONED_TYPE = re.compile(r"^azure-native:[A-Za-z0-9]+/v[0-9a-z]+:[A-Za-z0-9]+$")


def _is_version_alias(alias: object) -> bool:
    if not isinstance(alias, pulumi.Alias):
        return False
    only_type = all(getattr(alias, field, ...) is ... for field in ("name", "parent", "stack", "project"))
    type_ = alias.type_
    return only_type and isinstance(type_, str) and _VERSIONED_TYPE.match(type_) is not None


def drop_api_version_aliases(
    args: pulumi.ResourceTransformationArgs,
) -> pulumi.ResourceTransformationResult | None:
    """A resource transformation that removes azure-native's API-version type aliases."""
    aliases = args.opts.aliases
    if not aliases or not args.type_.startswith("azure-native:"):
        return None
    kept = [alias for alias in aliases if not _is_version_alias(alias)]
    if len(kept) == len(aliases):
        return None
    opts = args.opts._copy()
    opts.aliases = kept or None
    return pulumi.ResourceTransformationResult(args.props, opts)


def register() -> None:
    """Apply the transformation to every resource the program registers from here on."""
    pulumi.runtime.register_stack_transformation(drop_api_version_aliases)
