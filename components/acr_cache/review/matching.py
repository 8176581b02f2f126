"""Which new resource takes over which old one, as the Pulumi engine decides it: by URN first, then
by the aliases each registration carries (pulumi/pulumi pkg/resource/deploy/step_generator.go).

Used by `acr-cache diff` (a resource found under an alias is updated in place, not deleted and
created) and by the tests that hold the program's URNs to the engine's rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"


def create_urn(stack: str, project: str, name: str, type_: str, parent: str | None) -> str:
    """sdk/go/common/resource/urn.go `CreateURN`: the parent's qualified type, `$`, the type."""
    qualified = type_
    if parent:
        parent_type = parent.split("::")[2]
        if parent_type != ROOT_STACK_TYPE:
            qualified = f"{parent_type}${type_}"
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def _collapse(
    stack: str,
    project: str,
    name: str,
    type_: str,
    parent: str | None,
    spec: dict[str, Any],
    matched: dict[str, str],
) -> str:
    """pkg/resource/deploy/step_generator.go `collapseAliasToUrn`."""
    # An alias's own parent, if it names one, as the old URN when that parent was itself aliased.
    # (A parent that is the stack qualifies nothing: `create_urn` leaves it out, as CreateURN does.)
    written = spec.get("parentUrn") or ""
    alias_parent = matched.get(written, written) if written else parent or ""
    if spec.get("noParent"):
        alias_parent = ""
    return create_urn(
        spec.get("stack") or stack,
        spec.get("project") or project,
        spec.get("name") or name,
        spec.get("type") or type_,
        alias_parent or None,
    )


def _inherited(
    stack: str, project: str, child_type: str, child_name: str, parent_name: str, parent_alias: str
) -> str:
    """step_generator.go `inheritedChildAlias`: the child's name keeps its parent-name prefix."""
    alias_name = child_name
    if child_name.startswith(parent_name):
        alias_name = parent_alias.rpartition("::")[2] + child_name[len(parent_name) :]
    parent_qualified = parent_alias.split("::")[2]
    return f"urn:pulumi:{stack}::{project}::{parent_qualified}${child_type}::{alias_name}"


def take_over(resources: list[Any], old_urns: list[str], stack: str, project: str) -> dict[str, str]:
    """Old URN -> the new URN that takes it over, as `getOldResource` decides: by URN first, then
    by each alias (the resource's own specs and URNs, then those inherited from an aliased parent),
    in registration order. Raises when two new resources claim one old one (the engine's error)."""
    olds = set(old_urns)
    matched: dict[str, str] = {}  # new URN -> the old URN it was found under, when by alias
    taken: dict[str, str] = {}
    by_urn = {r.urn: r for r in resources}

    def ancestors(res: Any) -> Iterator[Any]:
        while res.parent in by_urn:
            res = by_urn[res.parent]
            yield res

    # The engine sees a parent's registration before its children's (they wait for its URN); the
    # recorder may list them as their responses complete.
    for res in sorted(resources, key=lambda r: len(list(ancestors(r)))):
        parent = res.parent
        own = [
            *res.alias_urns,
            *(_collapse(stack, project, res.name, res.type, parent, s, matched) for s in res.alias_specs),
        ]
        candidates = list(own)
        if parent and parent in matched:
            parent_name = parent.rpartition("::")[2]
            candidates.append(_inherited(stack, project, res.type, res.name, parent_name, matched[parent]))
            # Each of its own aliases under the parent's old URN too.
            candidates += [
                _inherited(
                    stack,
                    project,
                    alias.split("::")[2].rpartition("$")[2],
                    alias.rpartition("::")[2],
                    parent_name,
                    matched[parent],
                )
                for alias in own
            ]
        for urn in [res.urn, *candidates]:
            if urn in olds:
                if urn in taken:
                    raise AssertionError(f"{res.urn} and {taken[urn]} both take over {urn}")
                taken[urn] = res.urn
                if urn != res.urn:
                    matched[res.urn] = urn
                break
    return taken
