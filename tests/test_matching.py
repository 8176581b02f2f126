"""Which new resource takes over which old one (acr_cache.review.matching), case by case against the
engine's rules: pulumi/pulumi sdk/go/common/resource/urn.go `CreateURN` and
pkg/resource/deploy/step_generator.go `collapseAliasToUrn`, `inheritedChildAlias`, `getOldResource`.
The engine-seam tests run the same code over the shipped stacks; these pin each rule alone."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from acr_cache.review.matching import create_urn, take_over

STACK_URN = "urn:pulumi:s::p::pulumi:pulumi:Stack::p-s"


def urn(qualified_type: str, name: str, stack: str = "s", project: str = "p") -> str:
    return f"urn:pulumi:{stack}::{project}::{qualified_type}::{name}"


def res(
    type_: str,
    name: str,
    parent: str | None = None,
    specs: list[dict[str, Any]] | None = None,
    urns: list[str] | None = None,
) -> SimpleNamespace:
    return SimpleNamespace(
        urn=create_urn("s", "p", name, type_, parent),
        parent=parent,
        name=name,
        type=type_,
        alias_specs=specs or [],
        alias_urns=urns or [],
    )


def test_a_urn_qualifies_the_type_with_the_parents_unless_the_parent_is_the_stack() -> None:
    assert create_urn("s", "p", "n", "t:m:T", None) == urn("t:m:T", "n")
    assert create_urn("s", "p", "n", "t:m:T", STACK_URN) == urn("t:m:T", "n")
    assert create_urn("s", "p", "n", "t:m:T", urn("c:m:C", "x")) == urn("c:m:C$t:m:T", "n")
    assert create_urn("s", "p", "n", "t:m:T", urn("a:m:A$c:m:C", "x")) == urn("a:m:A$c:m:C$t:m:T", "n")


def test_an_alias_spec_fills_what_it_leaves_out_from_the_resource() -> None:
    parent = res("c:m:C", "x")
    old = [
        urn("t:m:T", "gone", stack="old", project="older"),
        urn("c:m:C$t:m:Was", "renamed"),
        urn("t:m:T", "unparented"),
        urn("t:m:T", "under-the-stack"),
    ]
    moved = res("t:m:T", "n", specs=[{"name": "gone", "stack": "old", "project": "older"}])
    retyped = res("t:m:T", "a", parent.urn, specs=[{"name": "renamed", "type": "t:m:Was"}])
    lifted = res("t:m:T", "b", parent.urn, specs=[{"name": "unparented", "noParent": True}])
    rooted = res("t:m:T", "c", parent.urn, specs=[{"name": "under-the-stack", "parentUrn": STACK_URN}])
    taken = take_over([parent, moved, retyped, lifted, rooted], old, "s", "p")
    assert taken == {
        old[0]: moved.urn,
        old[1]: retyped.urn,
        old[2]: lifted.urn,
        old[3]: rooted.urn,
    }


def test_a_childs_alias_naming_its_new_parent_means_that_parents_old_urn() -> None:
    old_parent = urn("c:old:Old", "x")
    old_child = urn("c:old:Old$t:m:T", "child-old")
    parent = res("c:new:New", "x", specs=[{"type": "c:old:Old"}])
    child = res("t:m:T", "child", parent.urn, specs=[{"name": "child-old", "parentUrn": parent.urn}])
    assert take_over([parent, child], [old_parent, old_child], "s", "p") == {
        old_parent: parent.urn,
        old_child: child.urn,
    }


def test_children_inherit_their_parents_alias_keeping_its_name_prefix() -> None:
    old_parent = urn("c:m:C", "app")
    parent = res("c:m:C", "app2", specs=[{"name": "app"}])
    prefixed = res("t:m:T", "app2-rg", parent.urn)
    other = res("t:m:T", "other", parent.urn)
    old = [old_parent, urn("c:m:C$t:m:T", "app-rg"), urn("c:m:C$t:m:T", "other")]
    assert take_over([parent, prefixed, other], old, "s", "p") == {
        old[0]: parent.urn,
        old[1]: prefixed.urn,
        old[2]: other.urn,
    }


def test_a_childs_own_alias_is_inherited_too_and_parents_come_first() -> None:
    # The parent's type changed and so did the child's: the old URN is the old parent type with the
    # child's old type, which only the inherited form of the child's own alias names. The grandchild
    # is listed first, as a recorder may list completed registrations; the engine sees parents first.
    parent = res("c:new:New", "p", specs=[{"type": "c:old:Old"}])
    child = res("t:m:T", "p-c", parent.urn, specs=[{"type": "t:m:Was"}])
    grandchild = res("t:m:G", "p-c-g", child.urn)
    old = [urn("c:old:Old", "p"), urn("c:old:Old$t:m:Was", "p-c"), urn("c:old:Old$t:m:Was$t:m:G", "p-c-g")]
    assert take_over([grandchild, child, parent], old, "s", "p") == {
        old[0]: parent.urn,
        old[1]: child.urn,
        old[2]: grandchild.urn,
    }


def test_a_resource_takes_over_one_old_resource_and_two_may_not_take_the_same() -> None:
    # Found under its own URN, it stops looking: the old resource its alias names is left to delete.
    both = res("t:m:T", "n", specs=[{"name": "older"}])
    old = [urn("t:m:T", "n"), urn("t:m:T", "older")]
    assert take_over([both], old, "s", "p") == {old[0]: both.urn}
    first = res("t:m:T", "a", specs=[{"name": "older"}])
    second = res("t:m:T", "b", urns=[urn("t:m:T", "older")])
    with pytest.raises(AssertionError, match=r"::b and .*::a both take over .*::older"):
        take_over([first, second], old, "s", "p")
