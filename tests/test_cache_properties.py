"""Property-based tests: whatever rule set the config accepts, Azure's rules for it hold."""

from __future__ import annotations

import itertools
import re
from typing import Any

from acr_cache.config import ConfigError, parse_stack_config
from acr_cache.upstreams import check_target, derive_rule_name
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.conftest import as_pulumi_config, sections

# The oracles are written here from Azure's rules, never taken from the code under test.
# ARM's CacheRuleNameParameter: 5-50 of [a-zA-Z0-9-].
ARM_RULE_NAME = re.compile(r"[a-zA-Z0-9-]{5,50}")


def is_wildcard(target: str) -> bool:
    return target == "*" or target.endswith("/*")


def wildcards_overlap(a: str, b: str) -> bool:
    """ACR refuses two wildcard targets when one covers the other: equal, `*`, or a whole-component
    ancestor (`lib/*` covers `lib/x/*`; it does not cover `library/*`)."""
    pa, pb = a.removesuffix("*").split("/")[:-1], b.removesuffix("*").split("/")[:-1]
    shorter = min(len(pa), len(pb))
    return pa[:shorter] == pb[:shorter]


COMPONENT = st.sampled_from(["library", "nginx", "dotnet", "sdk", "team-a", "a.b", "x_y", "k8s", "lib"])
PATH = st.lists(COMPONENT, min_size=1, max_size=3).map("/".join)
HOSTS = st.sampled_from(["mcr.microsoft.com", "ghcr.io", "quay.io", "registry.k8s.io"])


@st.composite
def rules(draw: st.DrawFn) -> dict[str, Any]:
    wildcard = draw(st.booleans())
    source_path, target_path = draw(PATH), draw(PATH)
    if wildcard:
        root = draw(st.booleans())
        source = f"{draw(HOSTS)}/{source_path}/*" if not root else f"{draw(HOSTS)}/*"
        target = f"{target_path}/*" if not draw(st.booleans()) else "*"
    else:
        source, target = f"{draw(HOSTS)}/{source_path}", target_path
    rule: dict[str, Any] = {"source": source, "target": target}
    if draw(st.booleans()):
        rule["name"] = draw(st.from_regex(r"[a-z][a-z0-9-]{4,20}", fullmatch=True))
    return rule


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(rules(), max_size=8))
def test_accepted_rule_sets_have_no_overlaps_and_valid_names(rule_list: list[dict[str, Any]]) -> None:
    try:
        config = parse_stack_config(as_pulumi_config(sections(cacheRules=rule_list)))
    except ConfigError:
        return
    named = config.rules()
    assert len(named) == len(rule_list)  # no rule lost to a name clash
    for name in named:
        assert ARM_RULE_NAME.fullmatch(name), name
    wildcard_targets = [r.target for r in named.values() if is_wildcard(r.target)]
    for a, b in itertools.combinations(wildcard_targets, 2):
        assert not wildcards_overlap(a, b), (a, b)
    static_targets = [r.target for r in named.values() if not is_wildcard(r.target)]
    assert len(static_targets) == len(set(static_targets))


@given(st.lists(rules(), min_size=2, max_size=6))
@settings(max_examples=200, deadline=None)
def test_overlapping_wildcards_are_always_refused(rule_list: list[dict[str, Any]]) -> None:
    targets = [r["target"] for r in rule_list if is_wildcard(r["target"])]
    overlapping = any(wildcards_overlap(a, b) for a, b in itertools.combinations(targets, 2))
    if not overlapping:
        return
    try:
        parse_stack_config(as_pulumi_config(sections(cacheRules=rule_list)))
    except ConfigError as exc:
        assert any("overlaps" in p.message for p in exc.problems)
    else:
        raise AssertionError(f"overlapping wildcard targets were accepted: {targets}")


# A repository path component: lowercase alphanumerics joined by `.`, `_` or `-` (OCI distribution).
PATH_COMPONENT = st.lists(
    st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12), min_size=1, max_size=4
).flatmap(
    lambda words: st.lists(st.sampled_from("._-"), min_size=len(words) - 1, max_size=len(words) - 1).map(
        lambda joins: "".join(w + j for w, j in zip(words, [*joins, ""], strict=True))
    )
)
TARGET = st.tuples(st.lists(PATH_COMPONENT, min_size=1, max_size=7), st.booleans()).map(
    lambda parts: "/".join(parts[0]) + ("/*" if parts[1] else "")
)


@given(TARGET)
@settings(max_examples=300, deadline=None)
def test_derived_names_are_valid_and_stable_for_any_target(target: str) -> None:
    assume(len(target) <= 256)
    check_target(target)
    name = derive_rule_name(target)
    assert ARM_RULE_NAME.fullmatch(name), (target, name)
    assert derive_rule_name(target) == name


def test_long_targets_are_hashed_to_distinct_names() -> None:
    long_a = "team/" + "a" * 60
    long_b = "team/" + "a" * 59 + "b"
    assert derive_rule_name(long_a) != derive_rule_name(long_b)
    assert len(derive_rule_name(long_a)) <= 50
    assert derive_rule_name("*") == "all-cache"
    assert derive_rule_name("library/*") == "library-all"


def test_derived_rule_names_at_the_length_limits() -> None:
    # ACR takes 5-50 characters: shorter ones gain `-cache`, longer ones a digest of the target.
    assert derive_rule_name("abcd") == "abcd-cache"
    assert derive_rule_name("abcde") == "abcde"
    assert derive_rule_name("a" * 50) == "a" * 50
    longer = derive_rule_name("a" * 51)
    assert len(longer) == 50 and longer.startswith("a" * 41 + "-") and longer != "a" * 50
