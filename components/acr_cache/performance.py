"""What the program does to register resources fast (both apply to any Pulumi Python program).

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

import gc
import re

import pulumi

GC_THRESHOLD = 50_000
"""Allocations between two collections of the youngest generation (Python's default is 700)."""

# `azure-native:<module>/v<date>[preview]:<Type>`: the versioned type tokens azure-native aliases.
_VERSIONED_TYPE = re.compile(r"^azure-native:[A-Za-z0-9]+/v[0-9a-z]+:[A-Za-z0-9]+$")


def _is_version_alias(alias: object) -> bool:
    if not isinstance(alias, pulumi.Alias):
        return False
    type_ = alias.type_
    # Cheapest test first: this runs for every alias of every resource.
    if not isinstance(type_, str) or "/v" not in type_ or _VERSIONED_TYPE.match(type_) is None:
        return False
    return alias.name is ... and alias.parent is ... and alias.stack is ... and alias.project is ...


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
    """Take both shortcuts for everything the program registers from here on.

    Besides dropping version aliases, it moves every object that exists now (the imported SDK,
    hundreds of thousands of objects) out of the garbage collector's sight: they live as long as
    the program anyway, and each full collection would otherwise walk them all again while the
    program registers resources (about a tenth of the time at 1,000 cache rules).
    """
    pulumi.runtime.register_stack_transformation(drop_api_version_aliases)
    gc.freeze()
    # Registering resources churns through many short-lived Outputs and tasks, which nearly all
    # die by reference counting; with the default threshold (700) the collector still runs
    # thousands of times. It keeps running, just a hundred times less often: measured at 1,000
    # rules, about a third of the plan's time, for the same peak memory.
    gc.set_threshold(GC_THRESHOLD, 20, 20)
