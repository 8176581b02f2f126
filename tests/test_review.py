"""`acr-cache diff`, `cost` and `graph`: a representative change of every kind on the prod stack,
classified as the engine and azure-native would, and the rules behind it on hand-made plans."""

from __future__ import annotations

import copy
import functools
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from acr_cache.cli import main
from acr_cache.plan import make_plan
from acr_cache.plan.stackfile import load_stack_files
from acr_cache.review.cost import estimate
from acr_cache.review.diff import PlanDiff, diff_plans, exit_code
from acr_cache.review.graph import mermaid, svg, topology
from acr_cache.review.render import render_markdown, render_table

from tests.conftest import reviewed_snapshot

ROOT = Path(__file__).resolve().parent.parent
PROD = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text(encoding="utf-8"))
CIPHERTEXT = "v1:c2VjcmV0Tm9uY2U=:Zmlyc3QgY2lwaGVydGV4dA=="


def plan_of(tmp_path: Path, change: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    document = copy.deepcopy(PROD)
    if change:
        change(document["config"])
    directory = tmp_path / f"p{len(list(tmp_path.iterdir()))}"
    directory.mkdir()
    stack_file = directory / "Pulumi.prod.yaml"
    stack_file.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return make_plan(load_stack_files(None, stack_file, ROOT)).to_json()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return plan_of(tmp_path_factory.mktemp("base"))


def actions(diff: PlanDiff) -> list[tuple[str, str, str]]:
    return [(c.action, c.short_type, c.name) for c in diff.changes]


def test_no_change_is_no_change(base: dict[str, Any]) -> None:
    diff = diff_plans(base, copy.deepcopy(base))
    assert diff.changes == [] and not diff.changed and exit_code(diff) == 0


def test_add_a_rule(base: dict[str, Any], tmp_path: Path) -> None:
    def change(config: dict[str, Any]) -> None:
        config["acr-cache:cacheRules"]["quay-prometheus"] = {
            "source": "quay.io/prometheus/*",
            "target": "prometheus/*",
        }

    diff = diff_plans(base, plan_of(tmp_path, change))
    assert actions(diff) == [
        ("create", "CacheRule", "cache-quay-prometheus"),
        ("update", "ScheduledQueryRule", "alerts-cache-pull-failures"),
    ]
    # The cache-pull alert watches every rule's target: its query gains the new one.
    (query,) = diff.changes[1].properties
    assert query.path == "criteria.allOf[0].query" and "prometheus/" in query.new and not query.replaces
    assert exit_code(diff) == 2
    assert diff.cost is None and all(not c.blocked for c in diff.changes)


def test_remove_a_rule_is_a_delete_the_registry_lock_refuses(base: dict[str, Any], tmp_path: Path) -> None:
    diff = diff_plans(base, plan_of(tmp_path, lambda c: c["acr-cache:cacheRules"].pop("mcr-dotnet")))
    assert actions(diff) == [
        ("update", "ScheduledQueryRule", "alerts-cache-pull-failures"),
        ("delete", "CacheRule", "cache-mcr-dotnet"),
    ]
    assert diff.changes[1].blocked == [
        "locked by locks-registry (CanNotDelete): Azure refuses with ScopeLocked"
    ]


def test_reordering_everything_changes_nothing(base: dict[str, Any], tmp_path: Path) -> None:
    def change(config: dict[str, Any]) -> None:
        for key in list(config):
            value = config.pop(key)
            if isinstance(value, dict):
                value = dict(reversed(list(value.items())))
            config[key] = value
        reordered = dict(reversed(list(config.items())))
        config.clear()
        config.update(reordered)

    head = plan_of(tmp_path, change)
    assert [r["urn"] for r in head["resources"]] == [r["urn"] for r in base["resources"]]
    diff = diff_plans(base, head)
    assert diff.changes == [] and exit_code(diff) == 0


def test_renaming_a_key_deletes_and_creates(base: dict[str, Any], tmp_path: Path) -> None:
    def change(config: dict[str, Any]) -> None:
        rules, purges = config["acr-cache:cacheRules"], config["acr-cache:purge"]
        rules["flux-cd"] = rules.pop("ghcr-fluxcd")
        purges["flux-cd"] = purges.pop("ghcr-fluxcd")

    diff = diff_plans(base, plan_of(tmp_path, change))
    assert actions(diff) == [
        ("create", "CacheRule", "cache-flux-cd"),
        ("create", "Task", "purge-flux-cd"),
        ("delete", "CacheRule", "cache-ghcr-fluxcd"),
        ("delete", "Task", "purge-ghcr-fluxcd"),
    ]
    # The new rule wants the target the old one holds until the end of the deploy.
    assert diff.changes[0].warnings == [
        "cache-ghcr-fluxcd holds the target fluxcd/* until it is deleted at the end of the deploy, and "
        "Azure refuses a second rule for a target: deploy the removal first, then the new rule"
    ]
    assert all(c.blocked for c in diff.changes if c.action == "delete")


def test_replica_zone_redundancy_replaces_it_delete_first(base: dict[str, Any], tmp_path: Path) -> None:
    def change(config: dict[str, Any]) -> None:
        config["acr-cache:replicas"]["northeurope"]["zoneRedundancy"] = False

    diff = diff_plans(base, plan_of(tmp_path, change))
    (replica,) = diff.changes
    assert (replica.action, replica.name, replica.delete_before_replace) == (
        "replace",
        "replicas-northeurope",
        True,
    )
    (prop,) = replica.properties
    assert (prop.path, prop.old, prop.new) == ("zoneRedundancy", "Enabled", "Disabled")
    assert "Azure/azure-rest-api-specs#18934" in prop.replaces
    assert replica.warnings[0].startswith("DATA LOSS: replacing it loses the region's copy of every image")
    assert replica.blocked == ["locked by locks-registry (CanNotDelete): Azure refuses with ScopeLocked"]


def test_registry_zone_redundancy_replaces_the_protected_registry(
    base: dict[str, Any], tmp_path: Path
) -> None:
    diff = diff_plans(base, plan_of(tmp_path, lambda c: c["acr-cache:registry"].update(zoneRedundancy=False)))
    registry = next(c for c in diff.changes if c.short_type == "Registry")
    assert registry.action == "replace" and registry.delete_before_replace
    # Protect stops it (state and program both protect); the registry's lock does not: its scope
    # comes from the registry, so it is in the same delete-first chain and is deleted first.
    assert registry.blocked == [
        "protected: `pulumi up` refuses replacing it until a deploy with `protect` off has run"
    ]
    assert registry.warnings[0].startswith("DATA LOSS: replacing it loses every image")
    assert registry.warnings[1].startswith("locks-registry (CanNotDelete) does not stop it")
    # Azure checks nothing here: the program itself asks for the replacement (replace_on_changes).
    assert not any("replace_on_changes" in w for w in registry.warnings)
    followers = {c.name for c in diff.changes if c.follows == "acr-registry"}
    assert {
        "locks-registry",
        "cache-dockerhub",
        "cache-dockerhub-library",
        "replicas-northeurope",
        "webhooks-releasepipeline",
        "monitoring-registry",
        "access-ci-publish",
    } <= followers
    assert all(c.action == "replace" and c.delete_before_replace for c in diff.changes if c.follows)


def test_an_unprotected_registry_under_locks_is_replaced_until_the_chain_stops(
    base: dict[str, Any], tmp_path: Path
) -> None:
    # protect off, locks on: the lock on the registry goes first with the chain; the grants of the
    # Docker Hub set sit under the vault's lock, which is not in the chain, so the deploy stops there.
    def change(config: dict[str, Any]) -> None:
        config["acr-cache:registry"]["zoneRedundancy"] = False
        config["acr-cache:protection"]["protect"] = False

    unprotected = copy.deepcopy(base)
    for res in unprotected["resources"]:
        res["protect"] = False
    diff = diff_plans(unprotected, plan_of(tmp_path, change))
    registry = next(c for c in diff.changes if c.short_type == "Registry")
    assert registry.blocked == []
    assert registry.warnings[0].startswith("DATA LOSS")
    assert registry.warnings[-1] == (
        "the chain stops at cache-dockerhub-password-reader, cache-dockerhub-username-reader, which cannot "
        "be deleted: `pulumi up` fails there, after deleting the members that come before it "
        "(most-dependent first) and before deleting this one"
    )
    grant = next(c for c in diff.changes if c.name == "cache-dockerhub-password-reader")
    assert grant.blocked == ["locked by locks-vault (CanNotDelete): Azure refuses with ScopeLocked"]
    lock = next(c for c in diff.changes if c.name == "locks-registry")
    assert (lock.action, lock.follows, lock.blocked) == ("replace", "acr-registry", [])
    # The JSON a pipeline reads names what each member follows.
    assert lock.to_json()["follows"] == "acr-registry"
    assert "follows" not in next(c for c in diff.changes if c.name == "acr-registry").to_json()


def test_a_tag_is_an_update_in_place(base: dict[str, Any], tmp_path: Path) -> None:
    diff = diff_plans(
        base, plan_of(tmp_path, lambda c: c["acr-cache:registry"]["tags"].update(workload="pull-cache"))
    )
    (registry,) = diff.changes
    assert (registry.action, registry.short_type) == ("update", "Registry")
    (prop,) = registry.properties
    assert (prop.path, prop.old, prop.new, prop.replaces) == ("tags.workload", "acr-cache", "pull-cache", "")
    assert registry.warnings == [] and registry.blocked == []


def test_a_new_secret_value_is_an_update_that_shows_no_value(tmp_path: Path) -> None:
    def token(ciphertext: str) -> Callable[[dict[str, Any]], None]:
        return lambda config: config.update({"acr-cache:dockerHubToken": {"secure": ciphertext}})

    before = plan_of(tmp_path, token(CIPHERTEXT))
    after = plan_of(tmp_path, token(CIPHERTEXT.replace("Zmlyc3Q", "c2Vjb25k")))
    diff = diff_plans(before, after)
    # The vault secret changes; the import's password too, but its provider does not compare it.
    assert actions(diff) == [("update", "Secret", "cache-dockerhub-password")]
    (prop,) = diff.changes[0].properties
    assert (prop.path, prop.old, prop.new) == (
        "properties.value",
        "[secret]",
        "[secret] (re-encrypted; Pulumi compares the value, so this may be no change)",
    )
    assert diff_plans(before, plan_of(tmp_path, token(CIPHERTEXT))).changes == []
    for text in (render_table(diff), render_markdown(diff), json.dumps(diff.to_json())):
        assert "Zmlyc3Q" not in text and "c2Vjb25k" not in text and "offline-plan-placeholder" not in text


def test_removing_a_replica_loses_its_copy_and_its_cost(base: dict[str, Any], tmp_path: Path) -> None:
    head = plan_of(tmp_path, lambda c: c["acr-cache:replicas"].pop("swedencentral"))
    diff = diff_plans(base, head)
    replica = next(c for c in diff.changes if c.action == "delete")
    assert (replica.short_type, replica.name) == ("Replication", "replicas-swedencentral")
    assert replica.warnings == [
        "DATA LOSS: deleting it loses the region's copy of every image; pulls in that region go cross-region"
    ]
    assert replica.blocked
    assert round(estimate(base["resources"]).total - estimate(head["resources"]).total, 2) == 50.70


def test_renders_say_what_is_blocked_and_lost(base: dict[str, Any], tmp_path: Path) -> None:
    from acr_cache.review.cost import CostDelta

    head = plan_of(tmp_path, lambda c: c["acr-cache:replicas"].pop("swedencentral"))
    diff = diff_plans(base, head)
    diff.cost = CostDelta(estimate(base["resources"]), estimate(head["resources"]))
    table = render_table(diff)
    assert "- delete  Replication  replicas-swedencentral" in table
    assert "BLOCKED: locked by locks-registry" in table
    assert "Resources: 1 to delete; 1 blocked" in table
    assert "Estimated monthly cost: $323.53 -> $272.83 (-$50.70; list prices as of 2026-06)" in table
    markdown = render_markdown(diff, "```mermaid\nflowchart LR\n```\n")
    assert (
        "> [!CAUTION]" in markdown
        and "> - **delete Replication `replicas-swedencentral`**: DATA LOSS" in markdown
    )
    assert "| Geo-replica (swedencentral, Premium rate) | $50.70 | $0.00 |" in markdown
    assert "<details><summary>Topology after the change</summary>" in markdown
    document = diff.to_json()
    assert document["counts"]["delete"] == 1 and document["blocked"] == 1
    assert document["cost"]["deltaMonthly"] == -50.7


# ---- The rules, on hand-made plans ------------------------------------------------------------

STACK = "urn:pulumi:s::p::"


def resource(typ: str, name: str, inputs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "urn": f"{STACK}{typ}::{name}",
        "type": typ,
        "name": name,
        "parent": None,
        "inputs": inputs,
        **extra,
    }


def plan(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"project": "p", "stack": "s", "resources": list(resources), "outputs": {}}


RULE = "azure-native:containerregistry:CacheRule"
RULE_INPUTS = {
    "cacheRuleName": "r",
    "registryName": "acr",
    "resourceGroupName": "rg",
    "sourceRepository": "docker.io/library/nginx",
    "targetRepository": "nginx",
}


def test_a_path_parameter_or_location_replaces_and_azure_native_deletes_first() -> None:
    renamed = diff_plans(
        plan(resource(RULE, "r", RULE_INPUTS)),
        plan(resource(RULE, "r", {**RULE_INPUTS, "cacheRuleName": "r2"})),
    )
    (change,) = renamed.changes
    assert change.action == "replace" and change.delete_before_replace
    assert change.properties[0].replaces.startswith("part of the resource's ARM path")
    # A workspace's location is create-only (common-types v2 TrackedResource); a vault's is not marked
    # (VaultCreateOrUpdateParameters.location), so azure-native sends the move as an update Azure refuses.
    workspace = "azure-native:operationalinsights:Workspace"
    where = {"workspaceName": "logs", "resourceGroupName": "rg"}
    moved = diff_plans(
        plan(resource(workspace, "w", {**where, "location": "westeurope"})),
        plan(resource(workspace, "w", {**where, "location": "northeurope"})),
    )
    assert moved.changes[0].action == "replace" and moved.changes[0].delete_before_replace
    assert moved.changes[0].properties[0].replaces.startswith("force-new in azure-native (")
    vault = "azure-native:keyvault:Vault"
    (refused,) = diff_plans(
        plan(resource(vault, "v", {"vaultName": "kv", "resourceGroupName": "rg", "location": "westeurope"})),
        plan(resource(vault, "v", {"vaultName": "kv", "resourceGroupName": "rg", "location": "northeurope"})),
    ).changes
    assert refused.action == "update" and refused.properties[0].replaces == ""
    (why,) = refused.fails
    assert (
        why.startswith("location: ")
        and "VaultCreateOrUpdateParameters.location has no x-ms-mutability" in why
    )
    # azure-native compares locations without case and spaces.
    same = diff_plans(
        plan(resource(workspace, "w", {**where, "location": "West Europe"})),
        plan(resource(workspace, "w", {**where, "location": "westeurope"})),
    )
    assert same.changes == []


def test_a_refused_property_without_replace_on_changes_is_flagged() -> None:
    old = resource(RULE, "r", RULE_INPUTS)
    new = resource(RULE, "r", {**RULE_INPUTS, "targetRepository": "web/nginx"})
    (change,) = diff_plans(plan(old), plan(new)).changes
    assert change.action == "replace" and not change.delete_before_replace
    assert change.warnings == [
        "targetRepository: Azure refuses this change in place and the resource does not list it in "
        "`replace_on_changes`: `pulumi up` would send an update that fails",
    ]
    half = resource(RULE, "r", new["inputs"], replaceOnChanges=["targetRepository"])
    (change,) = diff_plans(plan(old), plan(half)).changes
    assert change.warnings == [
        "replaced create-before-delete under the same Azure name: the new resource is the old one "
        "updated, and deleting the old one then deletes it; the resource needs `delete_before_replace`",
    ]
    fixed = resource(
        RULE,
        "r",
        new["inputs"],
        replaceOnChanges=["sourceRepository", "targetRepository"],
        deleteBeforeReplace=True,
    )
    (change,) = diff_plans(plan(old), plan(fixed)).changes
    assert change.action == "replace" and change.delete_before_replace and change.warnings == []


def test_an_alias_keeps_the_resource() -> None:
    old = resource(RULE, "old-name", RULE_INPUTS)
    new = resource(RULE, "new-name", RULE_INPUTS, aliases={"urns": [], "specs": [{"name": "old-name"}]})
    diff = diff_plans(plan(old), plan(new))
    assert diff.changes == []
    tagged = resource(
        RULE, "new-name", {**RULE_INPUTS, "credentialSetResourceId": "x"}, aliases=new["aliases"]
    )
    (change,) = diff_plans(plan(old), plan(tagged)).changes
    assert (change.action, change.old_urn) == ("update", old["urn"])
    # A base resource claimed by an alias is passed over, and the ones after it are still looked at.
    gone = resource(RULE, "gone", {**RULE_INPUTS, "cacheRuleName": "g"})
    assert actions(diff_plans(plan(old, gone), plan(new))) == [("delete", "CacheRule", "gone")]


def test_ignore_changes_and_unknowns_are_not_changes() -> None:
    old = resource(RULE, "r", {**RULE_INPUTS, "credentialSetResourceId": "[unknown]"})
    new = resource(RULE, "r", {**RULE_INPUTS, "credentialSetResourceId": "[unknown]"})
    assert diff_plans(plan(old), plan(new)).changes == []
    grown = resource(
        RULE, "r", {**RULE_INPUTS, "credentialSetResourceId": "y"}, ignoreChanges=["credentialSetResourceId"]
    )
    assert diff_plans(plan(old), plan(grown)).changes == []


def test_a_dynamic_resource_follows_its_providers_diff() -> None:
    typ = "pulumi-python:dynamic/acr-cache:ImageImport"
    inputs = {
        "__provider": "[secret]",
        "target": "base/alpine:3.20",
        "source": "docker.io/library/alpine@sha256:a",
        "password": "[secret]",
        "registryName": "acr",
    }
    old = resource(typ, "i", inputs, id="i")
    assert (
        diff_plans(plan(old), plan(resource(typ, "i", {**inputs, "__provider": "other"}, id="i"))).changes
        == []
    )
    (change,) = diff_plans(
        plan(old), plan(resource(typ, "i", {**inputs, "source": "docker.io/library/alpine@sha256:b"}, id="i"))
    ).changes
    assert change.action == "update"
    (change,) = diff_plans(
        plan(old), plan(resource(typ, "i", {**inputs, "target": "base/alpine:3.21"}, id="i"))
    ).changes
    assert change.action == "replace" and not change.delete_before_replace


def test_dependents_of_a_delete_first_replacement_are_replaced_with_it() -> None:
    registry = resource(
        "azure-native:containerregistry:Registry",
        "reg",
        {"registryName": "a", "resourceGroupName": "rg", "location": "westeurope"},
    )
    moved = {**registry, "inputs": {**registry["inputs"], "location": "northeurope"}}
    rule = resource(RULE, "r", RULE_INPUTS, propertyDependencies={"registryName": [registry["urn"]]})
    diff = diff_plans(plan(registry, rule), plan(moved, rule))
    assert actions(diff) == [("replace", "CacheRule", "r"), ("replace", "Registry", "reg")]
    assert (diff.changes[0].follows, diff.changes[0].properties) == ("reg", [])
    assert "follows the replacement of reg" in render_table(diff)


def test_a_protected_delete_and_a_retained_one() -> None:
    group = resource(
        "azure-native:resources:ResourceGroup",
        "rg",
        {"resourceGroupName": "rg"},
        protect=True,
        id="/subscriptions/0/resourceGroups/rg",
    )
    secret = resource(
        "azure-native:keyvault:Secret", "s", {"secretName": "s"}, retainOnDelete=True, id="/x/secrets/s"
    )
    diff = diff_plans(plan(group, secret), plan())
    by_name = {c.name: c for c in diff.changes}
    assert by_name["rg"].blocked == [
        "protected: `pulumi up` refuses deleting it until a deploy with `protect` off has run"
    ]
    assert by_name["rg"].warnings == ["DATA LOSS: deleting it loses every resource in the group"]
    assert by_name["s"].warnings == ["retained on delete: it stays in Azure and only leaves the stack"]


def test_a_replacement_is_refused_only_while_both_sides_protect() -> None:
    registry = resource(
        "azure-native:containerregistry:Registry",
        "reg",
        {"registryName": "a", "location": "westeurope"},
        protect=True,
    )
    moved = {**registry, "inputs": {**registry["inputs"], "location": "northeurope"}}
    (change,) = diff_plans(plan(registry), plan(moved)).changes
    assert change.blocked == [
        "protected: `pulumi up` refuses replacing it until a deploy with `protect` off has run"
    ]
    unprotected = {**moved, "protect": False}
    (change,) = diff_plans(plan(registry), plan(unprotected)).changes
    assert change.action == "replace" and change.blocked == []
    assert change.warnings[0].startswith("DATA LOSS: replacing it loses every image")


def test_a_lock_dropped_in_the_same_change_does_not_block_a_delete() -> None:
    scope = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/a"
    lock = resource(
        "azure-native:authorization:ManagementLockByScope",
        "lock",
        {"scope": scope, "level": "CanNotDelete"},
        id=f"{scope}/providers/Microsoft.Authorization/locks/l",
    )
    rule = resource(RULE, "r", RULE_INPUTS, id=f"{scope}/cacheRules/r")
    assert diff_plans(plan(lock, rule), plan(lock)).changes[0].blocked
    both = diff_plans(plan(lock, rule), plan())
    assert [c.blocked for c in both.changes] == [[], []]


# ---- Cost and graph of every shipped stack ------------------------------------------------------

SHIPPED = [(ROOT, "dev"), (ROOT, "prod"), (ROOT, "corp"), (ROOT / "examples" / "consumer", "team-a")]


@pytest.mark.parametrize(("directory", "stack"), SHIPPED, ids=[s for _, s in SHIPPED])
def test_every_shipped_stack_has_a_picture_and_a_cost(directory: Path, stack: str) -> None:
    document = make_plan(load_stack_files(stack, None, directory)).to_json()
    top = topology(document)
    assert "registry" in top.nodes
    assert all(edge.source in top.nodes and edge.target in top.nodes for edge in top.edges)
    assert mermaid(document).startswith("flowchart LR\n")
    picture = svg(document)
    assert picture.startswith("<svg") and picture.rstrip().endswith("</svg>")
    import xml.dom.minidom

    xml.dom.minidom.parseString(picture)
    cost = estimate(document["resources"])
    expected = {"dev": 50.70, "prod": 323.53, "team-a": 0.0}
    if stack in expected:
        assert round(cost.total, 2) == expected[stack]
    if stack == "prod":
        items = {line.item: (line.count, round(line.monthly, 2)) for line in cost.lines}
        assert items["Registry Premium (westeurope, 500 GiB included)"] == (1, 50.70)
        assert items["Private endpoint"] == (2, 14.60)
        assert items["Log Analytics ingestion (westeurope, at most: the 2 GB/day cap, East US rate)"] == (
            1,
            139.92,
        )
        assert items["Log search alert rule (every 5 min)"] == (3, 4.50)


def test_many_rules_draw_as_one_node_per_upstream() -> None:
    rules = [
        resource(
            RULE,
            f"r{i}",
            {
                **RULE_INPUTS,
                "cacheRuleName": f"r{i}",
                "sourceRepository": f"docker.io/library/x{i}",
                "targetRepository": f"x{i}",
            },
        )
        for i in range(1000)
    ]
    top = topology(plan(*rules))
    assert [n.label[0] for n in top.nodes.values() if n.kind == "rule"] == ["1000 cache rules"]


# ---- The command ---------------------------------------------------------------------------------


def test_cli_exit_codes(tmp_path: Path, base: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    same, other = tmp_path / "a.json", tmp_path / "b.json"
    same.write_text(json.dumps(base))
    changed = copy.deepcopy(base)
    changed["resources"] = [r for r in changed["resources"] if r["name"] != "cache-mcr-dotnet"]
    other.write_text(json.dumps(changed))
    assert main(["diff", str(same), str(same)]) == 0
    capsys.readouterr()
    assert main(["diff", str(same), str(other), "--format", "json"]) == 2
    out = capsys.readouterr().out
    assert json.loads(out)["counts"]["delete"] == 1
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert main(["diff", str(same), str(broken)]) == 1
    assert "not JSON" in capsys.readouterr().err
    assert main(["diff", str(same)]) == 1
    assert main(["cost", "--plan", str(same), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["monthlyTotal"] == 323.53
    assert main(["graph", "--plan", str(same), "--format", "svg", "--output", str(tmp_path / "g.svg")]) == 0
    assert (tmp_path / "g.svg").read_text().startswith("<svg")


def test_diff_against_a_git_revision(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--base REV plans the revision's own tree with its own code; the head is the working tree."""
    # A repository of its own (the suite also runs from copies of the tree that are none).
    clone = tmp_path / "clone"
    clone.mkdir()
    for name in ("Pulumi.yaml", "__main__.py", "Pulumi.prod.yaml"):
        shutil.copy(ROOT / name, clone / name)
    for name in ("stacks", "components"):
        shutil.copytree(ROOT / name, clone / name, ignore=shutil.ignore_patterns("__pycache__"))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "--quiet"], cwd=clone, check=True)
    subprocess.run([*git, "add", "."], cwd=clone, check=True)
    subprocess.run([*git, "commit", "--quiet", "-m", "base"], cwd=clone, check=True)
    assert main(["diff", "prod", "--base", "HEAD", "--cwd", str(clone)]) == 0
    stack = clone / "Pulumi.prod.yaml"
    stack.write_text(stack.read_text().replace("workload: acr-cache", "workload: pull-cache"))
    capsys.readouterr()
    assert main(["diff", "prod", "--base", "HEAD", "--cwd", str(clone)]) == 2
    out = capsys.readouterr().out
    assert "~ update  Registry  acr-registry" in out and "tags.workload: acr-cache => pull-cache" in out
    assert main(["diff", "prod", "--base", "no-such-revision", "--cwd", str(clone)]) == 1
    assert "is not a commit here (git: fatal:" in capsys.readouterr().err


def test_the_generated_pictures_and_costs_are_fresh() -> None:
    from acr_cache.review.gallery import documents

    stale = [
        str(path.relative_to(ROOT))
        for path, text in documents(ROOT, ROOT / "docs").items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]
    assert stale == [], "run `acr-cache docs` and commit the result"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "```mermaid\nflowchart LR\n" in readme.split("<!-- acr-cache docs: prod picture -->")[1]


@pytest.mark.parametrize(("directory", "stack"), SHIPPED, ids=[s for _, s in SHIPPED])
def test_the_components_ask_the_engine_for_every_replacement_azure_needs(directory: Path, stack: str) -> None:
    """What the diff predicts for a refused property is what the engine will do: the resource lists
    it in replace_on_changes and deletes first (the Azure name is the same)."""
    from acr_cache.azure_types import REFUSED_IN_PLACE

    document = make_plan(load_stack_files(stack, None, directory)).to_json()
    checked = 0
    for res in document["resources"]:
        refused = REFUSED_IN_PLACE.get(res["type"])
        if refused:
            checked += 1
            assert set(refused.paths) <= set(res.get("replaceOnChanges", [])), res["urn"]
            assert res.get("deleteBeforeReplace") is True, res["urn"]
    assert checked


def test_a_thousand_rules_reordered_with_ten_new_targets() -> None:
    def rules(order: list[int], retarget: set[int]) -> list[dict[str, Any]]:
        return [
            resource(
                RULE,
                f"r{i:04d}",
                {
                    **RULE_INPUTS,
                    "cacheRuleName": f"r{i:04d}",
                    "targetRepository": f"t{i}" + ("-v2" if i in retarget else ""),
                },
                replaceOnChanges=["sourceRepository", "targetRepository"],
                deleteBeforeReplace=True,
            )
            for i in order
        ]

    base = plan(*rules(list(range(1000)), set()))
    head = plan(*rules(list(reversed(range(1000))), set(range(0, 1000, 100))))
    diff = diff_plans(base, head)
    assert diff.counts() == {"create": 0, "adopt": 0, "update": 0, "replace": 10, "delete": 0}
    assert all(c.delete_before_replace and c.warnings == [] for c in diff.changes)


# ---- The diff's documents and its finer rules ---------------------------------------------------

REGISTRY = "azure-native:containerregistry:Registry"
SCOPE = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/a"


def test_the_json_of_a_diff_is_exactly_this() -> None:
    old = resource(RULE, "old", RULE_INPUTS)
    new = resource(
        RULE, "new", {**RULE_INPUTS, "cacheRuleName": "r2"}, aliases={"urns": [old["urn"]], "specs": []}
    )
    gone = resource("azure-native:containerregistry:Webhook", "hook", {"webhookName": "h"})
    document = diff_plans(plan(old, gone), plan(new)).to_json()
    assert document == {
        "base": "p/s",
        "head": "p/s",
        "counts": {"create": 0, "adopt": 0, "update": 0, "replace": 1, "delete": 1},
        "components": {"create": 0, "delete": 0},
        "changes": [
            {
                "action": "replace",
                "urn": new["urn"],
                "type": RULE,
                "name": "new",
                "properties": [
                    {
                        "path": "cacheRuleName",
                        "old": "r",
                        "new": "r2",
                        "replaces": "part of the resource's ARM path (azure-native replaces on path parameters)",
                    }
                ],
                "warnings": [],
                "blocked": [],
                "oldUrn": old["urn"],
                "deleteBeforeReplace": True,
            },
            {
                "action": "delete",
                "urn": gone["urn"],
                "type": "azure-native:containerregistry:Webhook",
                "name": "hook",
                "properties": [],
                "warnings": [],
                "blocked": [],
            },
        ],
        "blocked": 0,
        "fails": 0,
        "notes": [],
    }
    update = diff_plans(plan(old), plan({**old, "inputs": {**RULE_INPUTS, "credentialSetResourceId": "x"}}))
    assert update.to_json()["changes"][0]["properties"] == [
        {"path": "credentialSetResourceId", "old": None, "new": "x", "replaces": None}
    ]
    assert "deleteBeforeReplace" not in update.to_json()["changes"][0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "{not json",
            "x.json: not JSON (Expecting property name enclosed in double quotes at line 1): write it with `acr-cache plan STACK --format json > FILE`",
        ),
        (
            "[]",
            "x.json: not a plan of `acr-cache plan --format json` (it needs `resources`, each with `urn`, `type`, `name`, `inputs`)",
        ),
        ('{"resources": {}}', "x.json: not a plan"),
        ('{"resources": [{"urn": "u"}]}', "x.json: not a plan"),
        ('{"resources": [{"type": "t"}]}', "x.json: not a plan"),
        ('{"resources": [["u"]]}', "x.json: not a plan"),
    ],
)
def test_what_is_not_a_plan(text: str, message: str) -> None:
    from acr_cache.review.diff import PlanDocumentError, load_plan

    with pytest.raises(PlanDocumentError) as caught:
        load_plan(text, "x.json")
    assert str(caught.value).startswith(message)
    assert load_plan('{"resources": [{"urn": "u", "type": "t"}]}', "x.json")["resources"][0]["urn"] == "u"


def test_notes_on_a_new_stack_and_on_plans_of_two_stacks() -> None:
    rule = resource(RULE, "r", RULE_INPUTS)
    new_stack = diff_plans({"stack": "s", "resources": [], "missing": True}, plan(rule))
    assert new_stack.notes == ["the base has no stack file s: the whole stack is new"]
    assert actions(new_stack) == [("create", "CacheRule", "r")]
    other = diff_plans({"project": "p", "stack": "t", "resources": []}, plan(rule))
    assert other.notes == ["the plans are of different stacks (p/t and p/s): every URN differs"]
    assert (
        diff_plans({"project": "q", "stack": "s", "resources": []}, plan())
        .notes[0]
        .startswith("the plans are of different stacks (q/s and p/s)")
    )
    assert diff_plans(plan(), plan()).notes == []


def test_components_count_apart_and_adopted_resources() -> None:
    component = resource("acr-cache:index:ArtifactCache", "cache", {})
    outsider = resource("other:index:Thing", "thing", {"a": 1}, id="/x/thing")
    adopted = resource(RULE, "r", RULE_INPUTS, importId=f"{SCOPE}/cacheRules/r")
    diff = diff_plans(plan(component, outsider), plan(adopted, {**outsider, "inputs": {"a": 2}}))
    assert diff.components == {"create": 0, "delete": 1}
    assert actions(diff) == [("adopt", "CacheRule", "r"), ("update", "Thing", "thing")]
    assert diff_plans(plan(), plan(component)).components == {"create": 1, "delete": 0}
    assert diff_plans(plan(), plan(component)).changed and exit_code(diff_plans(plan(component), plan())) == 2


def test_token_password_and_unknown_dynamic_types_follow_their_provider() -> None:
    typ = "pulumi-python:dynamic/acr-cache:TokenPassword"
    inputs = {"tokenId": "t", "rotation": 1, "expiryDays": 90, "accessToken": "[secret]", "secretName": "s"}
    old = resource(typ, "p", inputs, id="p")
    (change,) = diff_plans(plan(old), plan(resource(typ, "p", {**inputs, "rotation": 2}, id="p"))).changes
    assert (change.action, [p.path for p in change.properties]) == ("update", ["rotation"])
    assert change.warnings == [
        "rotates: Azure generates the token's other password (password2 after password1, and back) into a new "
        "version of secret s; the password clients hold stays valid until the next rotation, so rotate again "
        "only once they have all switched"
    ]
    # A new expiry alone rotates nothing, and the diff says so instead of staying silent.
    longer = diff_plans(plan(old), plan(resource(typ, "p", {**inputs, "expiryDays": 30}, id="p")))
    assert longer.changes == []
    assert longer.notes == [
        "p: expiryDays 90 -> 30 changes no password now; the next rotation (a new `rotation` value) generates "
        "one with it"
    ]
    both = diff_plans(
        plan(old), plan(resource(typ, "p", {**inputs, "expiryDays": 30, "rotation": 2}, id="p"))
    )
    assert [p.path for p in both.changes[0].properties] == ["expiryDays", "rotation"] and both.notes == []
    (change,) = diff_plans(
        plan(old), plan(resource(typ, "p", {**inputs, "secretName": "s2"}, id="p"))
    ).changes
    assert (
        change.action == "replace"
        and change.properties[0].replaces == "the provider replaces on it (its diff)"
    )
    assert (
        diff_plans(plan(old), plan(resource(typ, "p", {**inputs, "accessToken": "other"}, id="p"))).changes
        == []
    )
    # A state from before expiryDays was an input: setting it says nothing (no password changes).
    unset = resource(typ, "p", {k: v for k, v in inputs.items() if k != "expiryDays"}, id="p")
    first = diff_plans(plan(unset), plan(old))
    assert first.changes == [] and first.notes == []
    other = "pulumi-python:dynamic/someone:Else"
    (change,) = diff_plans(
        plan(resource(other, "e", {"a": 1}, id="e")), plan(resource(other, "e", {"a": 2}, id="e"))
    ).changes
    assert (change.action, change.properties[0].path) == ("update", "a")


def test_changes_of_values_of_every_shape() -> None:
    from acr_cache.review.diff import _changed

    assert [
        (p.path, p.old, p.new) for p in _changed({"a": [1, 2], "b": {"c": 1}}, {"a": [1], "b": 2}, "", {}, {})
    ] == [
        ("a[1]", 2, None),
        ("b", {"c": 1}, 2),
    ]
    assert [(p.path, p.old, p.new) for p in _changed({"a": [1]}, {"a": [1, {"x": 1}]}, "", {}, {})] == [
        ("a[1]", None, {"x": 1})
    ]
    assert [(p.path, p.old, p.new) for p in _changed([1], {"a": 1}, "v", {}, {})] == [("v", [1], {"a": 1})]
    assert [(p.path, p.new) for p in _changed({"a": "[unknown]"}, {"a": "x"}, "", {}, {})] == [("a", "x")]
    assert [(p.path, p.new) for p in _changed({"a": "x"}, {"a": "[unknown]"}, "", {}, {})] == [
        ("a", "[unknown]")
    ]
    assert _changed({"a": "[unknown]"}, {"a": "[unknown]"}, "", {}, {}) == []
    # A secret compares by digest only when both sides have one.
    assert _changed({"s": "[secret]"}, {"s": "[secret]"}, "", {"s": "1"}, {}) == []
    assert _changed({"s": "[secret]"}, {"s": "[secret]"}, "", {"s": "1"}, {"s": "1"}) == []
    assert len(_changed({"s": "[secret]"}, {"s": "[secret]"}, "", {"s": "1"}, {"s": "2"})) == 1


def test_ignored_paths_leave_the_others() -> None:
    old = resource(RULE, "r", {**RULE_INPUTS, "credentialSetResourceId": "x"})
    new = resource(
        RULE,
        "r",
        {**RULE_INPUTS, "credentialSetResourceId": "y", "tags": {"a": "b"}},
        ignoreChanges=["credentialSetResourceId"],
    )
    (change,) = diff_plans(plan(old), plan(new)).changes
    assert [p.path for p in change.properties] == ["tags"]


def test_replace_on_changes_of_any_property_and_a_key_that_never_applies() -> None:
    old = resource(RULE, "r", {**RULE_INPUTS, "tags": {"a": "1"}})
    new = resource(
        RULE, "r", {**RULE_INPUTS, "tags": {"a": "2"}}, replaceOnChanges=["tags"], deleteBeforeReplace=True
    )
    (change,) = diff_plans(plan(old), plan(new)).changes
    assert (
        change.action == "replace"
        and change.properties[0].replaces == "listed in the resource's replaceOnChanges option"
    )
    key = "azure-native:keyvault:Key"
    (change,) = diff_plans(
        plan(resource(key, "k", {"keyName": "k", "properties": {"keySize": 2048}})),
        plan(resource(key, "k", {"keyName": "k", "properties": {"keySize": 4096}})),
    ).changes
    assert change.action == "update"
    assert change.warnings == [
        "this update changes nothing in Azure: Microsoft.KeyVault keys.json `Keys_CreateIfNotExist`: an existing "
        "key is returned without any write, so a changed key property is never applied (rotate or make a new key instead)"
    ]


def test_how_far_a_delete_first_replacement_reaches() -> None:
    registry = resource(REGISTRY, "reg", {"registryName": "a", "location": "westeurope"})
    moved = {**registry, "inputs": {**registry["inputs"], "location": "northeurope"}}
    deps = {"registryName": [registry["urn"]]}
    rule = resource(RULE, "r", RULE_INPUTS, propertyDependencies=deps)
    # Its own change stays, the replacement is added, and it deletes first.
    tagged = {**rule, "inputs": {**RULE_INPUTS, "credentialSetResourceId": "x"}}
    diff = diff_plans(plan(registry, rule), plan(moved, tagged))
    change = next(c for c in diff.changes if c.name == "r")
    assert change.action == "replace" and change.delete_before_replace
    assert [p.path for p in change.properties] == ["credentialSetResourceId"] and change.follows == "reg"
    # Through two links.
    hook = resource(
        "azure-native:containerregistry:Webhook",
        "h",
        {"webhookName": "h"},
        propertyDependencies={"webhookName": [rule["urn"]]},
    )
    assert actions(diff_plans(plan(registry, rule, hook), plan(moved, rule, hook))) == [
        ("replace", "CacheRule", "r"),
        ("replace", "Registry", "reg"),
        ("replace", "Webhook", "h"),
    ]
    # Members are taken in dependency order, not URN order: the lock sorts before the rule it locks.
    lock = resource(
        "azure-native:authorization:ManagementLockByScope",
        "l",
        {"lockName": "l", "scope": "x"},
        propertyDependencies={"scope": [rule["urn"]]},
    )
    assert actions(diff_plans(plan(lock, rule, registry), plan(lock, rule, moved))) == [
        ("replace", "ManagementLockByScope", "l"),
        ("replace", "CacheRule", "r"),
        ("replace", "Registry", "reg"),
    ]
    # Not through an input that updates in place, nor into a created or a component resource.
    soft = resource(
        RULE, "r", RULE_INPUTS, propertyDependencies={"credentialSetResourceId": [registry["urn"]]}
    )
    assert actions(diff_plans(plan(registry, soft), plan(moved, soft))) == [("replace", "Registry", "reg")]
    component = resource(
        "acr-cache:index:Registry", "c", {}, propertyDependencies=deps, replaceOnChanges=["*"]
    )
    assert actions(diff_plans(plan(registry, component), plan(moved, component))) == [
        ("replace", "Registry", "reg")
    ]
    assert actions(diff_plans(plan(registry), plan(moved, rule))) == [
        ("create", "CacheRule", "r"),
        ("replace", "Registry", "reg"),
    ]
    # Not through the dependent's own replaceOnChanges: the engine asks only the provider's Diff
    # (step_generator.go `calculateDependentReplacements`), not `applyReplaceOnChanges`.
    listed = resource(
        RULE,
        "r",
        RULE_INPUTS,
        propertyDependencies={"credentialSetResourceId": [registry["urn"]]},
        replaceOnChanges=["credentialSetResourceId"],
    )
    assert actions(diff_plans(plan(registry, listed), plan(moved, listed))) == [
        ("replace", "Registry", "reg")
    ]
    # The state's dependencies decide (the base plan), not the program's: a rule that gained the
    # dependency in this change is not in the chain yet, and Azure deletes it with the registry.
    plain = resource(RULE, "r", RULE_INPUTS, id=f"{SCOPE}/cacheRules/r")
    held = {**registry, "id": SCOPE}
    gained = {**plain, "propertyDependencies": deps}
    diff = diff_plans(plan(held, plain), plan({**moved, "id": SCOPE}, gained))
    assert actions(diff) == [("replace", "Registry", "reg")]
    assert (
        diff.changes[0]
        .warnings[-1]
        .startswith(
            "Azure deletes 1 resource(s) below it with it (r), which the state keeps: the next `pulumi up` "
            "does not recreate them"
        )
    )
    # Past five, the rest are counted (the warning stays one line).
    rules = [
        resource(RULE, f"r{n}", {**RULE_INPUTS, "cacheRuleName": f"r{n}"}, id=f"{SCOPE}/cacheRules/r{n}")
        for n in range(7)
    ]
    many = diff_plans(plan(held, *rules), plan({**moved, "id": SCOPE}, *rules))
    assert (
        many.changes[0]
        .warnings[-1]
        .startswith(
            "Azure deletes 7 resource(s) below it with it (r0, r1, r2, r3, r4 and 2 more), which the state keeps"
        )
    )
    for count, shown in ((5, "r0, r1, r2, r3, r4"), (6, "r0, r1, r2, r3, r4 and 1 more")):
        some = diff_plans(plan(held, *rules[:count]), plan({**moved, "id": SCOPE}, *rules[:count]))
        expected = f"Azure deletes {count} resource(s) below it with it ({shown}),"
        assert some.changes[0].warnings[-1].startswith(expected)
    # A dynamic dependent is judged by its provider's diff with that input unknown.
    typ = "pulumi-python:dynamic/acr-cache:ImageImport"
    imported = resource(typ, "i", {"registryName": "a", "target": "x:1"}, propertyDependencies=deps)
    tracked = resource(
        typ, "t", {"registryName": "a", "source": "s"}, propertyDependencies={"source": deps["registryName"]}
    )
    assert actions(diff_plans(plan(registry, imported, tracked), plan(moved, imported, tracked))) == [
        ("replace", "Registry", "reg"),
        ("replace", "ImageImport", "i"),
    ]
    # A create-first replacement takes nothing with it.
    engine = resource(REGISTRY, "reg", {"registryName": "a", "tags": {"a": "1"}})
    retagged = resource(REGISTRY, "reg", {"registryName": "a", "tags": {"a": "2"}}, replaceOnChanges=["tags"])
    listed_by_tags = resource(RULE, "r", RULE_INPUTS, propertyDependencies=deps)
    assert actions(diff_plans(plan(engine, listed_by_tags), plan(retagged, listed_by_tags))) == [
        ("replace", "Registry", "reg")
    ]


def test_which_locks_refuse_what() -> None:
    def lock(scope: str, level: str = "CanNotDelete") -> dict[str, Any]:
        return resource(
            "azure-native:authorization:ManagementLockByScope",
            f"lock-{level}",
            {"scope": scope, "level": level},
            id=f"{scope}/providers/Microsoft.Authorization/locks/l",
        )

    def rule(name: str, registry: str = SCOPE, **extra: Any) -> dict[str, Any]:
        return resource(
            RULE, name, {**RULE_INPUTS, "cacheRuleName": name}, id=f"{registry}/cacheRules/{name}", **extra
        )

    def blocked(base: list[dict[str, Any]], head: list[dict[str, Any]]) -> list[str]:
        return [c.name for c in diff_plans(plan(*base), plan(*head)).changes if c.blocked]

    assert blocked([lock(SCOPE), rule("r")], [lock(SCOPE)]) == ["r"]
    # A lock the head drops too is deleted at the end, after what it guards: the delete goes through.
    assert blocked([lock(SCOPE), rule("r")], []) == []
    assert blocked([lock(SCOPE + "/"), rule("r")], [lock(SCOPE + "/")]) == ["r"]
    assert blocked([lock(SCOPE, "ReadOnly"), rule("r")], [lock(SCOPE, "ReadOnly")]) == []
    assert blocked([lock(SCOPE), rule("r", SCOPE + "b")], [lock(SCOPE)]) == []
    assert blocked([lock(SCOPE), rule("r", retainOnDelete=True)], [lock(SCOPE)]) == []
    registry = resource(REGISTRY, "reg", {"registryName": "a"}, id=SCOPE)
    assert blocked([lock(SCOPE), registry], [lock(SCOPE)]) == ["reg"]
    assert blocked([lock(SCOPE + "/"), registry], [lock(SCOPE + "/")]) == ["reg"]
    typ = "pulumi-python:dynamic/acr-cache:ImageImport"
    imported = resource(typ, "i", {"target": "x:1"}, id=f"{SCOPE}/imports/x")
    assert blocked([lock(SCOPE), imported], [lock(SCOPE)]) == []


def test_data_loss_comes_first_and_an_aliased_resource_is_judged_by_its_old_self() -> None:
    replica = "azure-native:containerregistry:Replication"
    old = resource(replica, "neu", {"replicationName": "neu", "zoneRedundancy": "Enabled"}, protect=True)
    new = resource(
        replica,
        "northeurope",
        {"replicationName": "neu", "zoneRedundancy": "Disabled"},
        protect=True,
        aliases={"urns": [], "specs": [{"name": "neu"}]},
    )
    (change,) = diff_plans(plan(old), plan(new)).changes
    assert change.old_urn == old["urn"]
    assert change.warnings[0].startswith("DATA LOSS: replacing it loses the region's copy")
    assert change.warnings[1].startswith("zoneRedundancy: Azure refuses this change in place")
    assert change.blocked == [
        "protected: `pulumi up` refuses replacing it until a deploy with `protect` off has run"
    ]


# ---- Replace keys and prices ------------------------------------------------------------------


def test_replace_keys_per_kind_of_resource() -> None:
    from acr_cache.azure_types import covered, normalized, refused_in_place, replace_keys

    path = "part of the resource's ARM path (azure-native replaces on path parameters)"
    force_new = (
        "force-new in azure-native (pulumi/pulumi-azure-native provider/pkg/gen/replacement.go forceNewMap)"
    )
    assert replace_keys("azure-native:resources:ResourceGroup", {"location": "x"}) == {
        "resourceGroupName": path,
        "location": force_new,
    }
    assert replace_keys("azure-native:authorization:RoleAssignment", {}) == {
        "scope": path,
        "roleAssignmentName": path,
        "principalId": force_new,
    }
    # Not every location: a webhook's and a private endpoint's are updates (that Azure refuses).
    assert "location" not in replace_keys("azure-native:containerregistry:Webhook")
    assert "location" not in replace_keys("azure-native:network:PrivateEndpoint")
    assert replace_keys("azure-native:network:PrivateEndpoint")["subnet"] == force_new
    assert replace_keys("azure-native:monitor:DiagnosticSetting", {}) == {"resourceUri": path, "name": path}
    assert list(replace_keys("azure-native:containerregistry:Replication", {})) == [
        "resourceGroupName",
        "registryName",
        "replicationName",
        "location",
        "zoneRedundancy",
    ]
    assert replace_keys("pulumi-python:dynamic/acr-cache:ImageImport", {"location": "x"}) == {}
    assert replace_keys("azure-native:containerregistry:Replication", {})["zoneRedundancy"].startswith(
        "Azure refuses it in place: azure-rest-api-specs specification/containerregistry"
    )
    assert refused_in_place("azure-native:containerregistry:CacheRule") == [
        "sourceRepository",
        "targetRepository",
    ]
    assert refused_in_place("azure-native:keyvault:Vault") == []
    assert normalized("a[3].b[10][2].c") == "a[].b[][].c"
    assert (
        covered("a.b", ["a"]) == "a"
        and covered("a[0].b", ["a"]) == "a"
        and covered("a[0].b", ["a[].b"]) == "a[].b"
    )
    assert covered("ab", ["a"]) is None and covered("b", ["a"]) is None and covered("b", ["*"]) == "*"


def test_prices_per_type() -> None:
    from acr_cache.review.cost import CostDelta, _minutes, money

    def one(typ: str, inputs: dict[str, Any]) -> list[tuple[str, int, float]]:
        return [
            (line.item, line.count, round(line.monthly, 2))
            for line in estimate([{"type": typ, "inputs": inputs}]).lines
        ]

    assert one(REGISTRY, {"sku": {"name": "Standard"}, "location": "x"}) == [
        ("Registry Standard (x, 100 GiB included)", 1, 20.29)
    ]
    assert one(REGISTRY, {"sku": {"name": "Basic"}, "location": "x"}) == [
        ("Registry Basic (x, 10 GiB included)", 1, 5.08)
    ]
    assert one(REGISTRY, {}) == [("Registry Premium (?, 500 GiB included)", 1, 50.70)]
    assert one("azure-native:privatedns:PrivateZone", {}) == [("Private DNS zone", 1, 0.5)]
    workspace = "azure-native:operationalinsights:Workspace"
    assert one(workspace, {"workspaceCapping": {"dailyQuotaGb": 0.5}, "location": "x"}) == [
        ("Log Analytics ingestion (x, at most: the 0.5 GB/day cap, East US rate)", 1, 34.98)
    ]
    # Retention beyond the included 31 days: the cap's daily volume times the extra days, $0.10/GB-month.
    assert one(workspace, {"workspaceCapping": {"dailyQuotaGb": 2}, "retentionInDays": 90})[1] == (
        "Log Analytics retention beyond 31 days (at most, 90 days kept)",
        1,
        11.8,
    )
    assert len(one(workspace, {"workspaceCapping": {"dailyQuotaGb": 2}, "retentionInDays": 31})) == 1
    # Diagnostics into a workspace the stack does not create: its ingestion is usage, named.
    setting = {
        "type": "azure-native:monitor:DiagnosticSetting",
        "inputs": {"workspaceId": "/x/workspaces/log-hub"},
    }
    assert estimate([setting]).usage == [
        "ingestion into the existing workspace log-hub ($2.30 per GB, billed to that workspace's subscription)"
    ]
    assert one(workspace, {"workspaceCapping": {"dailyQuotaGb": 0}}) == [] and one(workspace, {}) == []
    assert (
        estimate([{"type": workspace, "inputs": {}}])
        .usage[0]
        .startswith("Log Analytics ingestion ($2.30 per GB; set")
    )
    assert one("azure-native:keyvault:Vault", {"properties": {"sku": {"name": "premium"}}}) == [
        ("Key Vault premium (no monthly fee)", 1, 0.0)
    ]
    rule = "azure-native:monitor:ScheduledQueryRule"
    for frequency, price in [
        ("PT1M", 3.0),
        ("PT5M", 1.5),
        ("PT10M", 1.0),
        ("PT15M", 0.5),
        ("PT1H", 0.5),
        ("PT2M", 3.0),
        # Each tier's last minute before the next (a table read with `>=`).
        ("PT4M", 3.0),
        ("PT9M", 1.5),
        ("PT14M", 1.0),
    ]:
        assert one(rule, {"evaluationFrequency": frequency})[0][2] == price, frequency
    assert (_minutes("PT1H"), _minutes("PT30M"), _minutes("P1D"), _minutes("PTxM"), _minutes("pt5m")) == (
        60,
        30,
        15,
        15,
        5,
    )
    # Seconds are not minutes: a duration the table cannot read is priced as every 15 minutes.
    assert _minutes("PT30S") == 15
    assert estimate([{"type": "azure-native:containerregistry:Task", "inputs": {}}]).usage == [
        "task run time ($0.0001 per second)"
    ]
    assert (money(-1234.5), money(-0.5), money(0), money(2)) == ("-$1,234.50", "-$0.50", "$0.00", "$2.00")
    up = CostDelta(estimate([]), estimate([{"type": REGISTRY, "inputs": {}}]))
    assert up.line() == "Estimated monthly cost: $0.00 -> $50.70 (+$50.70; list prices as of 2026-06)"
    same = CostDelta(estimate([]), estimate([]))
    assert same.line() == "Estimated monthly cost: $0.00 -> $0.00 ($0.00; list prices as of 2026-06)"
    assert same.changed_lines() == [] and same.markdown() == [f"**{same.line()}**"]
    assert up.to_json()["changed"] == [
        {"item": "Registry Premium (?, 500 GiB included)", "before": 0.0, "after": 50.7}
    ]
    text = estimate([{"type": REGISTRY, "inputs": {}}]).render("p/s")
    assert "  Registry Premium (?, 500 GiB included)  x1        $50.70" in text
    assert "Total" in text and "Usage-based, not in the total: registry storage" in text
    empty = estimate([]).render("p/s")
    assert "Nothing here has a monthly price of its own" in empty and "Usage-based" not in empty


def _every_cost_output() -> str:
    """What `acr-cache cost` and a diff's cost lines print (text, Markdown, JSON) for a plan with
    every priced and usage-only kind, in two subscriptions, and for changes up, down and by cents."""
    from acr_cache.review.cost import CostDelta

    def one(typ: str, inputs: dict[str, Any], subscription: str = "sub-a") -> dict[str, Any]:
        kind = typ.rsplit(":", 1)[-1].lower()
        return {
            "type": typ,
            "inputs": inputs,
            "id": f"/subscriptions/{subscription}/resourceGroups/rg/{kind}",
        }

    resources = [
        one(REGISTRY, {"sku": {"name": "Premium"}, "location": "westeurope"}),
        one("azure-native:containerregistry:Replication", {"location": "northeurope"}),
        one("azure-native:containerregistry:Replication", {"location": "swedencentral"}),
        one("azure-native:network:PrivateEndpoint", {}, "sub-b"),
        one("azure-native:privatedns:PrivateZone", {}, "sub-b"),
        one(
            "azure-native:operationalinsights:Workspace",
            {"location": "westeurope", "workspaceCapping": {"dailyQuotaGb": 1.5}, "retentionInDays": 45},
        ),
        one("azure-native:keyvault:Vault", {"properties": {"sku": {"name": "premium"}}}),
        one("azure-native:keyvault:Key", {}),
        one("azure-native:monitor:MetricAlert", {}),
        one("azure-native:monitor:ScheduledQueryRule", {"evaluationFrequency": "PT5M"}),
        one("azure-native:monitor:ActionGroup", {}),
        one("azure-native:containerregistry:Task", {}),
        one("azure-native:containerregistry:AgentPool", {}),
        # Into the stack's own workspace: its ingestion is the workspace's line, not a usage note.
        one("azure-native:monitor:DiagnosticSetting", {"workspaceId": "/s/x/workspaces/log-own"}),
    ]
    existing = [
        {
            "type": "azure-native:monitor:DiagnosticSetting",
            "inputs": {"workspaceId": "/s/x/workspaces/log-hub"},
        },
        {"type": "azure-native:monitor:ScheduledQueryRule", "inputs": {"evaluationFrequency": "PT1H"}},
    ]
    full, small = estimate(resources), estimate(existing)
    zone = estimate([*existing, {"type": "azure-native:privatedns:PrivateZone", "inputs": {}}])
    parts = {
        "render": full.render("acr-cache/prod"),
        "markdown": "\n".join(full.markdown("acr-cache/prod")),
        "json": json.dumps(full.to_json(), indent=2),
        "existing workspace, render": small.render("acr-cache/corp"),
        "existing workspace, markdown": "\n".join(small.markdown("acr-cache/corp")),
        "nothing priced, markdown": "\n".join(estimate([]).markdown("acr-cache/team-a")),
        # Items shorter than the column's least width; one subscription named by every id: no suffix.
        "one subscription, render": estimate(resources[3:5]).render("acr-cache/dev"),
        # What a plan may leave out (an imported or hand-written plan): the defaults each line reads,
        # a SKU with no price of its own, whole numbers written as floats.
        "inputs left out, render": estimate(
            [
                one(REGISTRY, {"sku": {"name": "Classic"}}),
                one("azure-native:containerregistry:Replication", {}),
                one(
                    "azure-native:operationalinsights:Workspace",
                    {"workspaceCapping": {"dailyQuotaGb": 2.0}, "retentionInDays": 90.0},
                ),
                one("azure-native:keyvault:Vault", {"properties": {}}),
                one("azure-native:monitor:ScheduledQueryRule", {}),
            ]
        ).render("acr-cache/bare"),
    }
    deltas = {
        "down": CostDelta(full, small),
        "up": CostDelta(small, full),
        "up by cents": CostDelta(small, zone),
    }
    for name, delta in deltas.items():
        parts[f"delta {name}, markdown"] = "\n".join(delta.markdown())
        parts[f"delta {name}, json"] = json.dumps(delta.to_json(), indent=2)
    return "".join(f"### {name}\n{text}\n" for name, text in parts.items())


def test_the_subscription_of_a_resource_is_read_from_its_id() -> None:
    from acr_cache.review.cost import _subscription

    assert [
        _subscription({"id": resource_id})
        for resource_id in (
            "/subscriptions/SUB-A",
            "/subscriptions/sub-b/resourceGroups/rg",
            "/subscriptions",
            "/x/y/z",
        )
    ] == ["sub-a", "sub-b", "", ""]
    assert _subscription({}) == _subscription({"id": None}) == ""


def test_the_cost_outputs_are_exactly_as_reviewed() -> None:
    # The tests above check the prices; this one holds the text around them (sources, usage notes,
    # columns, signs, the JSON keys a pipeline reads). ACR_CACHE_UPDATE_SNAPSHOTS=1 rewrites
    # tests/snapshots/cost.txt for a reviewed change.
    text = _every_cost_output()
    assert text == reviewed_snapshot(text, "cost.txt")


@functools.cache
def _shipped_plans() -> dict[str, dict[str, Any]]:
    """The shipped stacks' JSON plans, made once for the picture tests (which only read them)."""
    return {
        stack: make_plan(load_stack_files(stack, None, directory)).to_json() for directory, stack in SHIPPED
    }


def _is_azure(resource: dict[str, Any], *kinds: str) -> bool:
    typ = resource["type"]
    return typ.startswith("azure-native:") and typ.rsplit(":", 1)[-1] in kinds


def _azure(plan: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in plan["resources"] if _is_azure(r, kind)]


def _graph_variants() -> dict[str, dict[str, Any]]:
    """The shipped stacks and the prod stack edited into each shape the picture draws differently."""
    plans = _shipped_plans()
    prod = plans["prod"]

    def edited(edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        plan = copy.deepcopy(prod)
        edit(plan)
        return plan

    def rules(count: int, like: str = "cache-ghcr-fluxcd") -> Callable[[dict[str, Any]], None]:
        def edit(plan: dict[str, Any]) -> None:
            template = next(r for r in _azure(plan, "CacheRule") if r["name"] == like)
            host = template["inputs"]["sourceRepository"].split("/", 1)[0]
            for index in range(1, count):
                extra = copy.deepcopy(template)
                extra["name"] = f"{like}-{index}"
                extra["inputs"].update(
                    cacheRuleName=f"{like}-{index}",
                    sourceRepository=f"{host}/org{index}/*",
                    targetRepository=f"org{index}/*",
                )
                plan["resources"].append(extra)

        return edit

    def without(*kinds: str) -> Callable[[dict[str, Any]], None]:
        def edit(plan: dict[str, Any]) -> None:
            plan["resources"] = [r for r in plan["resources"] if not _is_azure(r, *kinds)]

        return edit

    def firewall(access: str, count: int | None) -> Callable[[dict[str, Any]], None]:
        def edit(plan: dict[str, Any]) -> None:
            registry = _azure(plan, "Registry")[0]["inputs"]
            registry["publicNetworkAccess"] = access
            if count is None:
                registry.pop("networkRuleSet")
            else:
                registry["networkRuleSet"]["ipRules"] = [
                    {"action": "Allow", "iPAddressOrRange": f"203.0.113.{n}"} for n in range(count)
                ]

        return edit

    def zone_outside_any_group(plan: dict[str, Any]) -> None:
        without("PrivateZone", "VirtualNetworkLink")(plan)
        group = _azure(plan, "PrivateDnsZoneGroup")[1]
        # The empty id first: the configs after it are still drawn.
        group["inputs"]["privateDnsZoneConfigs"] = [
            {"name": "empty", "privateDnsZoneId": ""},
            {"name": "odd", "privateDnsZoneId": "/zones/privatelink.azurecr.io"},
        ]

    def component_first(plan: dict[str, Any]) -> None:
        plan["resources"].sort(key=lambda r: not r["type"].startswith("acr-cache:"))

    def grants_odd(plan: dict[str, Any]) -> None:
        grants = _azure(plan, "RoleAssignment")
        grants[0].pop("parent")
        grants[1]["inputs"]["roleDefinitionId"] = (
            "/providers/Microsoft.Authorization/roleDefinitions/not-a-registry-role"
        )

    def characters_to_escape(plan: dict[str, Any]) -> None:
        # Azure's names never hold them, but a plan is JSON a user may edit: neither picture may break.
        _azure(plan, "Registry")[0]["inputs"]["registryName"] = 'a"b|c<d>&e'
        _azure(plan, "Webhook")[0]["inputs"]["actions"] = ["push|<delete>"]

    def twin(resource: dict[str, Any], key: str) -> dict[str, Any]:
        second = copy.deepcopy(resource)
        second["name"] = f"zz-{resource['name']}"
        second["inputs"][key] = f"zz-{resource['inputs'][key]}"
        return second

    def listed_in_reverse(plan: dict[str, Any]) -> None:
        # Replicas, endpoints, tokens, webhooks and imports are drawn in name order whatever order
        # the plan lists them in: two of each, listed last name first.
        token = copy.deepcopy(_azure(plans["corp"], "Token")[0])  # prod has none
        hook = _azure(plan, "Webhook")[0]
        plan["resources"] += [token, twin(token, "tokenName"), twin(hook, "webhookName")]
        plan["resources"].reverse()

    def across_subscriptions(plan: dict[str, Any]) -> None:
        plan["providers"] = dict(plans["corp"]["providers"])

    def inputs_left_out(plan: dict[str, Any]) -> None:
        for kind, keys in (
            ("Registry", ("registryName", "location", "sku")),
            ("Replication", ("location", "zoneRedundancy")),
            ("CacheRule", ("sourceRepository",)),
        ):
            for resource in _azure(plan, kind):
                for key in keys:
                    resource["inputs"].pop(key, None)

    return {
        **plans,
        "prod, the component listed before the registry it wraps": edited(component_first),
        "prod, 6 rules for ghcr.io": edited(rules(6)),
        "prod, 7 rules for ghcr.io": edited(rules(7)),
        "prod, 7 rules for docker.io, signing in with one set": edited(rules(7, "cache-dockerhub-library")),
        "prod, characters Mermaid and SVG escape": edited(characters_to_escape),
        "prod, inputs left out": edited(inputs_left_out),
        "prod, listed in reverse": edited(listed_in_reverse),
        "prod, across subscriptions": edited(across_subscriptions),
        "prod, its vault another stack's": edited(without("Vault")),
        "prod, its registry another stack's, signing in with sets only": edited(
            without("Registry", "CacheRule")
        ),
        "prod, records by the landing zone's policy": edited(
            without("PrivateZone", "VirtualNetworkLink", "PrivateDnsZoneGroup")
        ),
        "prod, a hub's existing zone": edited(without("PrivateZone", "VirtualNetworkLink")),
        "prod, a zone id outside any group": edited(zone_outside_any_group),
        "prod, no workspace and no diagnostics": edited(without("Workspace", "DiagnosticSetting")),
        "prod, a grant without parent, one of another role": edited(grants_odd),
        "prod, open": edited(firewall("Enabled", None)),
        "prod, restricted, no IP rule": edited(firewall("Enabled", 0)),
        "prod, restricted, 1 IP rule": edited(firewall("Enabled", 1)),
        "prod, restricted, 9 IP rules": edited(firewall("Enabled", 9)),
        "prod, restricted, 10 IP rules": edited(firewall("Enabled", 10)),
        "nothing": {},
    }


def _every_graph_output() -> str:
    variants = _graph_variants()
    parts = {f"{name}, mermaid": mermaid(plan) for name, plan in variants.items()}
    for name in (
        "prod",
        "corp",
        "prod, 7 rules for ghcr.io",
        "prod, restricted, 10 IP rules",
        "prod, characters Mermaid and SVG escape",
        "prod, a hub's existing zone",
        "nothing",
    ):
        parts[f"{name}, svg"] = svg(variants[name])
    return "".join(f"### {name}\n{text}" for name, text in parts.items())


def test_the_pictures_are_exactly_as_reviewed() -> None:
    # The picture is what a reviewer reads a PR's topology from: every node, label, edge and box
    # position of each shape a stack can take. ACR_CACHE_UPDATE_SNAPSHOTS=1 rewrites
    # tests/snapshots/graph.txt for a reviewed change.
    text = _every_graph_output()
    assert text == reviewed_snapshot(text, "graph.txt")


def test_a_component_never_stands_in_for_what_it_wraps() -> None:
    variants = _graph_variants()
    first = variants["prod, the component listed before the registry it wraps"]
    assert first["resources"][0]["type"].startswith("acr-cache:")
    assert mermaid(first) == mermaid(variants["prod"])
    assert "acrcacheprod01" in topology(first).nodes["registry"].label


def test_the_tables_of_refused_properties_and_of_data_loss() -> None:
    import dataclasses

    from acr_cache.azure_types import DATA_LOSS, NO_EFFECT_IN_PLACE, REFUSED_IN_PLACE

    specs = "azure-rest-api-specs specification/containerregistry (Microsoft.ContainerRegistry)"
    assert {typ.split(":")[-1]: refused.paths for typ, refused in REFUSED_IN_PLACE.items()} == {
        "Registry": ("zoneRedundancy",),
        "Replication": ("zoneRedundancy",),
        "CacheRule": ("sourceRepository", "targetRepository"),
        "CredentialSet": ("loginServer",),
        "AgentPool": ("os", "tier", "virtualNetworkSubnetResourceId"),
    }
    sources = {typ.split(":")[-1]: refused.source for typ, refused in REFUSED_IN_PLACE.items()}
    assert sources["CacheRule"] == f"{specs}: CacheRuleUpdateProperties holds credentialSetResourceId only"
    assert sources["CredentialSet"] == f"{specs}: CredentialSetUpdateProperties holds authCredentials only"
    assert sources["AgentPool"].startswith(f"{specs} 2019-06-01-preview containerregistry_build.json: ")
    assert sources["Registry"].startswith(f"{specs}: RegistryUpdateParameters has no zoneRedundancy")
    with pytest.raises(dataclasses.FrozenInstanceError):
        REFUSED_IN_PLACE[RULE].paths = ()  # type: ignore[misc]
    from acr_cache.azure_types import REFUSED_UPDATES

    # The tables are shared by every diff of the process: an entry one caller could change would
    # change what the next diff predicts.
    with pytest.raises(dataclasses.FrozenInstanceError):
        REFUSED_UPDATES["azure-native:keyvault:Vault"][0].when = "never"  # type: ignore[misc]
    assert list(NO_EFFECT_IN_PLACE) == ["azure-native:keyvault:Key"]
    assert {typ.split(":")[-1]: what for typ, what in DATA_LOSS.items()} == {
        "ResourceGroup": "every resource in the group",
        "Registry": "every image and cached layer in every region, the login server name until Azure frees it",
        "Replication": "the region's copy of every image; pulls in that region go cross-region",
        "Vault": "the upstream credentials and keys (soft-deleted, purge-protected: the name stays taken)",
        "Key": "the customer-managed key: a registry encrypted with it cannot be read",
        "Workspace": "the collected logs",
        "PrivateZone": "private name resolution of the registry for every linked network",
        "Token": "every client signed in with the token's passwords",
        "UserAssignedIdentity": "the identity's role assignments and its principal id",
    }
    assert all(typ.startswith("azure-native:") for typ in DATA_LOSS)


def _refusal_texts() -> str:
    """What `acr-cache diff` prints for an update Azure refuses or ignores, and the source it cites
    for a property Azure cannot change in place, type by type."""
    from acr_cache.azure_types import NO_EFFECT_IN_PLACE, REFUSED_IN_PLACE, REFUSED_UPDATES

    lines: list[str] = []
    for typ, refused in REFUSED_IN_PLACE.items():
        lines += [f"## {typ}: replaced on {', '.join(refused.paths)}", refused.source]
    for typ, updates in REFUSED_UPDATES.items():
        for update in updates:
            lines += [
                f"## {typ}: {update.path} ({update.when})",
                f"fix: {update.fix}",
                f"source: {update.source}",
            ]
    for typ, why in NO_EFFECT_IN_PLACE.items():
        lines += [f"## {typ}: no effect in place", why]
    return "\n".join(lines) + "\n"


def test_the_refusals_a_diff_cites_are_exactly_as_reviewed() -> None:
    # A diff's WILL FAIL line is only as good as its fix and its source: a user follows the one and
    # checks the other. ACR_CACHE_UPDATE_SNAPSHOTS=1 rewrites tests/snapshots/refusals.txt.
    text = _refusal_texts()
    assert text == reviewed_snapshot(text, "refusals.txt")


def test_an_alias_under_a_parent_names_the_parent_type() -> None:
    parent = resource("acr-cache:index:ArtifactCache", "cache", {})
    old = {**resource(RULE, "cache-old", RULE_INPUTS), "parent": parent["urn"]}
    old["urn"] = f"{STACK}acr-cache:index:ArtifactCache${RULE}::cache-old"
    new = {
        **resource(RULE, "cache-new", RULE_INPUTS, aliases={"urns": [], "specs": [{"name": "cache-old"}]}),
        "parent": parent["urn"],
    }
    new["urn"] = f"{STACK}acr-cache:index:ArtifactCache${RULE}::cache-new"
    assert diff_plans(plan(parent, old), plan(parent, new)).changes == []
    assert diff_plans({"stack": "s", "resources": []}, plan()).base == "?/s"
    assert diff_plans({"project": "p", "resources": []}, plan()).base == "p/?"


def test_a_dynamic_type_of_someone_else() -> None:
    typ = "pulumi-python:dynamic/someone:Else"
    old = resource(typ, "e", {"__provider": "a", "a": 1}, id="e")
    assert diff_plans(plan(old), plan(resource(typ, "e", {"__provider": "b", "a": 1}, id="e"))).changes == []
    listed = resource(typ, "e", {"__provider": "a", "a": 2}, id="e", replaceOnChanges=["a"])
    (change,) = diff_plans(plan(old), plan(listed)).changes
    assert (change.action, change.delete_before_replace, change.warnings) == ("replace", False, [])
    assert change.properties[0].replaces == "listed in the resource's replaceOnChanges option"


def test_a_create_first_replacement_joins_the_delete_first_chain() -> None:
    registry = resource(REGISTRY, "reg", {"registryName": "a", "location": "westeurope"})
    moved = {**registry, "inputs": {**registry["inputs"], "location": "northeurope"}}
    deps = {"registryName": [registry["urn"]]}
    old = resource(
        RULE, "r", {**RULE_INPUTS, "tags": {"a": "1"}}, propertyDependencies=deps, replaceOnChanges=["tags"]
    )
    new = {**old, "inputs": {**old["inputs"], "tags": {"a": "2"}}}
    assert diff_plans(plan(old), plan(new)).changes[0].delete_before_replace is False
    change = next(c for c in diff_plans(plan(registry, old), plan(moved, new)).changes if c.name == "r")
    assert change.delete_before_replace is True and change.follows == "reg"
    assert [p.path for p in change.properties] == ["tags.a"]
    # A lock without its level is no CanNotDelete lock (Azure requires the level).
    lock = resource(
        "azure-native:authorization:ManagementLockByScope",
        "l",
        {"scope": SCOPE},
        id=f"{SCOPE}/providers/Microsoft.Authorization/locks/l",
    )
    rule = resource(RULE, "x", RULE_INPUTS, id=f"{SCOPE}/cacheRules/x")
    assert diff_plans(plan(lock, rule), plan(lock)).changes[0].blocked == []


def test_cost_and_graph_of_a_bad_stack_say_why_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "Pulumi.bad.yaml"
    bad.write_text("config:\n  acr-cache:registry:\n    name: x\n", encoding="utf-8")
    for command in ("cost", "graph"):
        assert main([command, "--config", str(bad), "--cwd", str(ROOT)]) == 2
        err = capsys.readouterr().err
        assert "acr-cache:registry.name: 'x' is not a valid registry name" in err
        assert "nothing was planned: fix the keys above in the stack config and run again" in err
    assert main(["diff", "--config", str(bad), "--cwd", str(ROOT), "--base", "HEAD"]) == 1


# ---- Issue #26: what `pulumi up` really does, edit by edit ------------------------------------
# Each outcome is established from the sources: pulumi/pulumi pkg/resource/deploy/step_generator.go
# (`continueStepsFromDiff`, `calculateDependentReplacements`), pulumi/pulumi-azure-native
# provider/pkg/provider/diff.go (`calculateDetailedDiff`, `calculateChangesAndReplacements`,
# `diffKeyedArrays`, `applyAzureSpecificDiff`), provider/pkg/gen/replacement.go (`forceNewMap`) and
# properties.go (`forceNew`), and the REST specs (components/acr_cache/data/force_new.json).

HUB = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-network-hub/providers/Microsoft.Network/virtualNetworks/vnet-hub-weu/subnets/"


def _edit(path: list[str], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(config: dict[str, Any]) -> None:
        node = config
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return change


EDITS = {
    # forceNewMap Network.PrivateEndpoint subnet: replaced, and azure-native deletes first
    # (provider.go `Diff`: DeleteBeforeReplace whenever it replaces); the zone group's endpoint name
    # comes from the endpoint (a path parameter), so the engine replaces it in the same chain.
    "endpoint subnet": (
        _edit(["acr-cache:privateAccess", "endpoints", "hub", "subnetId"], HUB + "snet-other"),
        {"private-hub": ("replace", True, "", ""), "private-hub-dns": ("replace", True, "private-hub", "")},
    ),
    # network.json Resource.location has no x-ms-mutability: azure-native sends an update, and ARM
    # refuses a new location for an existing resource.
    "endpoint location": (
        _edit(["acr-cache:privateAccess", "endpoints", "spoke-aks", "location"], "swedencentral"),
        {"private-spoke-aks": ("update", False, "", "location: Azure refuses this update")},
    ),
    # The vault's retention is set at creation (soft-delete overview): an update Azure refuses.
    "vault retention": (
        _edit(["acr-cache:keyVault", "softDeleteRetentionDays"], 30),
        {"vault-vault": ("update", False, "", "properties.softDeleteRetentionInDays: Azure refuses")},
    ),
    # forceNewMap Authorization.RoleAssignment principalId (and the deterministic name, a path
    # parameter): replaced delete-first.
    "grant principal": (
        _edit(["acr-cache:access", "aks-westeurope", "principalId"], "5d3a7e9c-1f4b-4c8d-9e2a-3b4c5d6e7f80"),
        {"access-aks-westeurope": ("replace", True, "", "")},
    ),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_edits_of_prod_do_what_the_engine_and_azure_native_do(
    edit: str, base: dict[str, Any], tmp_path: Path
) -> None:
    change, expected = EDITS[edit]
    diff = diff_plans(base, plan_of(tmp_path, change))
    found = {c.name: c for c in diff.changes}
    for name, (action, delete_first, follows, fails) in expected.items():
        assert found[name].action == action, (name, found[name])
        assert found[name].delete_before_replace == delete_first
        assert found[name].follows == follows
        assert bool(found[name].fails) == bool(fails)
        if fails:
            assert found[name].fails[0].startswith(fails)


def test_a_protected_member_of_a_chain_is_judged_by_the_state() -> None:
    registry = resource(REGISTRY, "reg", {"registryName": "a", "location": "westeurope"})
    moved = {**registry, "inputs": {**registry["inputs"], "location": "northeurope"}}
    deps = {"registryName": [registry["urn"]]}
    protected = resource(RULE, "r", RULE_INPUTS, propertyDependencies=deps, protect=True)
    unprotected = {**protected, "protect": False}
    # Unprotected in the program only: the state still protects it, and the engine stops.
    (rule,) = [
        c for c in diff_plans(plan(registry, protected), plan(moved, unprotected)).changes if c.name == "r"
    ]
    assert rule.blocked == [
        'protected in the state: `pulumi up` stops with "unable to replace it as part of replacing reg" until '
        "a deploy with `protect` off has run (or `pulumi state unprotect`)"
    ]
    # Protected in the program only: the state does not, so the chain goes through.
    (rule,) = [
        c for c in diff_plans(plan(registry, unprotected), plan(moved, protected)).changes if c.name == "r"
    ]
    assert rule.blocked == [] and rule.follows == "reg"


def test_a_lock_on_the_replaced_resource_goes_first_in_its_chain() -> None:
    registry = resource(REGISTRY, "reg", {"registryName": "a", "location": "westeurope"}, id=SCOPE)
    moved = {**registry, "inputs": {**registry["inputs"], "location": "northeurope"}}
    lock = resource(
        LOCK,
        "locks-registry",
        {"scope": SCOPE, "level": "CanNotDelete", "lockName": "l"},
        id=f"{SCOPE}/providers/Microsoft.Authorization/locks/l",
        propertyDependencies={"scope": [registry["urn"]]},
    )
    diff = diff_plans(plan(registry, lock), plan(moved, lock))
    by_name = {c.name: c for c in diff.changes}
    assert by_name["reg"].blocked == [] and by_name["reg"].warnings[-1].startswith(
        "locks-registry (CanNotDelete) does not stop it"
    )
    assert (by_name["locks-registry"].action, by_name["locks-registry"].follows) == ("replace", "reg")
    # A lock whose scope is a plain string (no dependency) is not in the chain: it refuses.
    loose = {**lock, "propertyDependencies": {}}
    (reg,) = [c for c in diff_plans(plan(registry, loose), plan(moved, loose)).changes if c.name == "reg"]
    assert reg.blocked == ["locked by locks-registry (CanNotDelete): Azure refuses with ScopeLocked"]


LOCK = "azure-native:authorization:ManagementLockByScope"


def test_azure_natives_own_diff_rules() -> None:
    set_type = "azure-native:containerregistry:CredentialSet"
    creds = [
        {"name": "Credential1", "usernameSecretIdentifier": "u1", "passwordSecretIdentifier": "p1"},
        {"name": "Credential2", "usernameSecretIdentifier": "u2", "passwordSecretIdentifier": "p2"},
    ]
    old = resource(set_type, "s", {"credentialSetName": "s", "authCredentials": creds})
    # Keyed by `name` (x-ms-identifiers): a reordering is no change, an element is compared by key.
    reordered = resource(set_type, "s", {"credentialSetName": "s", "authCredentials": creds[::-1]})
    assert diff_plans(plan(old), plan(reordered)).changes == []
    # An element added under a new key is an addition at its place, and never a replacement.
    single = resource(set_type, "s", {"credentialSetName": "s", "authCredentials": creds[:1]})
    (added,) = diff_plans(plan(single), plan(old)).changes
    assert added.action == "update"
    assert [(p.path, p.old, p.new) for p in added.properties] == [("authCredentials[1]", None, creds[1])]
    changed = resource(
        set_type,
        "s",
        {
            "credentialSetName": "s",
            "authCredentials": [{**creds[1], "passwordSecretIdentifier": "p3"}, creds[0]],
        },
    )
    (change,) = diff_plans(plan(old), plan(changed)).changes
    assert [(p.path, p.old, p.new) for p in change.properties] == [
        ("authCredentials[0].passwordSecretIdentifier", "p2", "p3")
    ]
    # A top-level property added with its default value is no change; with another value it is.
    registry = resource(REGISTRY, "r", {"registryName": "a"})
    assert (
        diff_plans(
            plan(registry), plan(resource(REGISTRY, "r", {"registryName": "a", "adminUserEnabled": False}))
        ).changes
        == []
    )
    assert diff_plans(
        plan(registry), plan(resource(REGISTRY, "r", {"registryName": "a", "adminUserEnabled": True}))
    ).changes
    # Resource group names compare without case.
    assert (
        diff_plans(
            plan(resource(RULE, "x", RULE_INPUTS)),
            plan(resource(RULE, "x", {**RULE_INPUTS, "resourceGroupName": "RG"})),
        ).changes
        == []
    )
    # ignoreChanges paths with an index or [*].
    base_set = resource(set_type, "s", {"credentialSetName": "s", "authCredentials": creds[:1]})
    edited = {"credentialSetName": "s", "authCredentials": [{**creds[0], "usernameSecretIdentifier": "u9"}]}
    for pattern, ignored in (
        ("authCredentials[0].usernameSecretIdentifier", True),
        ("authCredentials[*]", True),
        ("authCredentials[1]", False),
    ):
        head = resource(set_type, "s", edited, ignoreChanges=[pattern])
        assert (diff_plans(plan(base_set), plan(head)).changes == []) is ignored, pattern


def test_an_array_element_added_or_removed_never_replaces(monkeypatch: pytest.MonkeyPatch) -> None:
    from acr_cache import azure_types

    table = azure_types.force_new_table()
    typ = "azure-native:containerregistry:ScopeMap"
    monkeypatch.setitem(table["types"], typ, {**table["types"][typ], "forceNew": {"actions": "test"}})
    old = resource(typ, "m", {"scopeMapName": "m", "actions": ["a/content/read"]})
    grown = resource(typ, "m", {"scopeMapName": "m", "actions": ["a/content/read", "b/content/read"]})
    (change,) = diff_plans(plan(old), plan(grown)).changes
    assert change.action == "update"
    edited = resource(typ, "m", {"scopeMapName": "m", "actions": ["b/content/read"]})
    (change,) = diff_plans(plan(old), plan(edited)).changes
    assert change.action == "replace"


@pytest.mark.parametrize(
    ("typ", "old", "new", "fails"),
    [
        (
            "azure-native:containerregistry:Webhook",
            {"location": "westeurope"},
            {"location": "northeurope"},
            "location",
        ),
        # A property the state never held (a program before it was set) is no refused change.
        ("azure-native:containerregistry:Webhook", {}, {"location": "northeurope"}, ""),
        ("azure-native:monitor:ScheduledQueryRule", {"scopes": ["/a"]}, {"scopes": ["/b"]}, "scopes"),
        ("azure-native:containerregistry:Registry", {}, {"encryption": {"status": "enabled"}}, "encryption"),
        (
            "azure-native:containerregistry:Registry",
            {"encryption": {"status": "enabled", "k": "1"}},
            {"encryption": {"status": "enabled", "k": "2"}},
            "",
        ),
        (
            "azure-native:keyvault:Vault",
            {"properties": {"enablePurgeProtection": True}},
            {"properties": {}},
            "properties.enablePurgeProtection",
        ),
        (
            "azure-native:keyvault:Vault",
            {"properties": {}},
            {"properties": {"enablePurgeProtection": True}},
            "",
        ),
        (
            "azure-native:keyvault:Vault",
            {"properties": {"softDeleteRetentionInDays": 90}},
            {"properties": {"softDeleteRetentionInDays": 7}},
            "properties.softDeleteRetentionInDays",
        ),
        (
            "azure-native:keyvault:Vault",
            {"properties": {"enablePurgeProtection": True}},
            {"properties": {"enablePurgeProtection": False}},
            "properties.enablePurgeProtection",
        ),
        # Purge protection refused only when a true value goes: unset to false, false to true are fine.
        (
            "azure-native:keyvault:Vault",
            {"properties": {}},
            {"properties": {"enablePurgeProtection": False}},
            "",
        ),
        (
            "azure-native:keyvault:Vault",
            {"properties": {"enablePurgeProtection": False}},
            {"properties": {"enablePurgeProtection": True}},
            "",
        ),
        # A refused path under ignoreChanges is not sent, so nothing fails.
        (
            "azure-native:containerregistry:Webhook",
            {"location": "westeurope", "status": "enabled"},
            {"location": "northeurope", "status": "disabled", "__ignore": ["location"]},
            "",
        ),
    ],
)
def test_updates_azure_refuses_say_so_and_what_to_do(
    typ: str, old: dict[str, Any], new: dict[str, Any], fails: str
) -> None:
    ignored = new.pop("__ignore", [])
    (change,) = diff_plans(
        plan(resource(typ, "x", old)), plan(resource(typ, "x", new, ignoreChanges=ignored))
    ).changes
    assert change.action == "update"
    if fails:
        (reason,) = change.fails
        assert reason.startswith(f"{fails}: Azure refuses this update (")
        assert "WILL FAIL: " + reason in render_table(
            diff_plans(plan(resource(typ, "x", old)), plan(resource(typ, "x", new)))
        )
        # The JSON a pipeline reads says it too.
        assert change.to_json()["fails"] == [reason]
    else:
        assert change.fails == [] and "fails" not in change.to_json()


def test_a_long_value_shows_the_part_that_changed() -> None:
    from acr_cache.review.render import pair_text

    prefix, suffix = "a" * 100, "z" * 100
    before, after = pair_text(prefix + "OLD" + suffix, prefix + "NEW" + suffix)
    assert "OLD" in before and "NEW" in after
    assert before.startswith("...") and before.endswith("...") and len(before) < 60
    assert pair_text("short", "other") == ("short", "other")


def test_diff_usage_errors_and_unknown_revisions_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["diff", "--format", "nope", "a", "b"])
    assert caught.value.code == 1
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    assert main(["diff", "dev", "--base", "no-such-branch", "--cwd", str(tmp_path)]) == 1
    error = capsys.readouterr().err
    assert "--base 'no-such-branch' is not a commit here (git: fatal:" in error


@pytest.mark.parametrize(("directory", "stack"), SHIPPED, ids=[s for _, s in SHIPPED])
def test_the_force_new_table_covers_every_type_of_the_shipped_stacks(directory: Path, stack: str) -> None:
    import importlib
    import inspect

    from acr_cache.azure_types import force_new_table

    table = force_new_table()["types"]
    document = make_plan(load_stack_files(stack, None, directory)).to_json()
    for typ in sorted({r["type"] for r in document["resources"] if r["type"].startswith("azure-native:")}):
        assert typ in table, f"{typ}: add it to components/acr_cache/data/force_new.json with its sources"
        entry = table[typ]
        # The API version is the one the installed SDK says azure-native deploys for the type.
        _, module, name = typ.split(":")
        cls = getattr(importlib.import_module(f"pulumi_azure_native.{module}"), name)
        source = inspect.getsource(importlib.import_module(cls.__module__))
        assert f"Azure REST API version {entry['apiVersion']}." in source, typ
        assert entry["spec"].startswith("Azure/azure-rest-api-specs specification/")
        assert entry["apiVersion"] in entry["spec"]
        for path, why in entry["forceNew"].items():
            assert why, (typ, path)


def test_every_force_new_entry_says_what_was_read() -> None:
    # The table is held to its sources: each entry names the definitions read for it; the one spec
    # file absent from the copy searched is named where it applies.
    from acr_cache.azure_types import force_new_table

    not_read = {}
    for typ, entry in force_new_table()["types"].items():
        assert entry.get("read") or entry.get("notRead"), typ
        location = entry.get("location")
        if location is not None:
            assert location["read"] is True and location["source"], typ
            assert bool(location["forceNew"]) == ("location" in entry["forceNew"]), typ
        if "notRead" in entry:
            not_read[typ] = entry["notRead"]
    assert sorted(not_read) == [
        "azure-native:network:PrivateDnsZoneGroup",
        "azure-native:network:PrivateEndpoint",
    ]
    assert all(why.startswith("privateEndpoint.json 2024-05-01") for why in not_read.values())


FAKE_ARGS = """
import pulumi


@pulumi.input_type
class FakeArgs:
    def __init__(__self__, *, first_thing=None, odd=None, last_one=None):
        if first_thing is None:
            first_thing = 'a'
        if odd is None:
            odd = pulumi.Output.from_input(1)
        if last_one is None:
            last_one = 3
        pulumi.set(__self__, "first_thing", first_thing)
        pulumi.set(__self__, "odd", odd)
        pulumi.set(__self__, "last_one", last_one)

    @property
    @pulumi.getter(name="firstThing")
    def first_thing(self):
        return pulumi.get(self, "first_thing")

    @property
    @pulumi.getter
    def odd(self):
        return pulumi.get(self, "odd")

    @property
    @pulumi.getter(name="lastOne")
    def last_one(self):
        return pulumi.get(self, "last_one")
"""


def test_defaults_come_from_the_args_class_source(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The SDK classes in use default only literals; another SDK version may not. A default that is
    # not a literal is passed over and the ones after it still count; a class without readable
    # source, or a type without an Args class, has none.
    import importlib.util
    import sys

    from acr_cache.plan import schema
    from acr_cache.review import diff as review_diff

    (tmp_path / "fake_args.py").write_text(FAKE_ARGS, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("fake_args", tmp_path / "fake_args.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "fake_args", module)
    spec.loader.exec_module(module)
    hidden: dict[str, Any] = {}
    exec(FAKE_ARGS.replace("FakeArgs", "HiddenArgs"), hidden)  # no file behind it: no source
    classes = {"azure-native:fake:Thing": module.FakeArgs, "azure-native:fake:Hidden": hidden["HiddenArgs"]}
    monkeypatch.setattr(schema, "resource_args_class", classes.get)
    assert review_diff._defaults("azure-native:fake:Thing") == {"firstThing": "a", "lastOne": 3}
    assert review_diff._defaults("azure-native:fake:Hidden") == {}
    assert review_diff._defaults("azure-native:fake:None") == {}


def test_a_provider_change_is_named_only_when_it_changes() -> None:
    where = "/subscriptions/1111/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/acr"
    provider = "urn:pulumi:s::p::pulumi:providers:azure-native::spoke"
    held = resource(RULE, "r", RULE_INPUTS, id=f"{where}/cacheRules/r", provider=provider)
    assert diff_plans(plan(held), plan(held)).notes == []
    # A head id without a subscription (not known offline) names no move between subscriptions.
    moved = {**held, "provider": provider.replace("spoke", "hub"), "id": ""}
    (note,) = diff_plans(plan(held), plan(moved)).notes
    assert note == (
        "r goes from provider spoke to provider hub: azure-native never replaces a resource for a "
        "provider change, so `pulumi up` keeps it and diffs its inputs as usual"
    )


def test_a_replace_key_the_state_never_held_replaces() -> None:
    # diff.go calculateObjectDiff: an added property that is a replace key is ADD_REPLACE.
    typ = "azure-native:operationalinsights:Workspace"
    where = {"workspaceName": "logs", "resourceGroupName": "rg"}
    (change,) = diff_plans(
        plan(resource(typ, "w", where)), plan(resource(typ, "w", {**where, "location": "westeurope"}))
    ).changes
    assert change.action == "replace" and change.properties[0].replaces.startswith(
        "force-new in azure-native"
    )


def test_chains_among_several_replacements_renames_drops_and_locks() -> None:
    lock_type = "azure-native:authorization:ManagementLockByScope"

    def registry(name: str, location: str = "westeurope", **extra: Any) -> dict[str, Any]:
        return resource(REGISTRY, name, {"registryName": name, "location": location}, **extra)

    def rule(name: str, of: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return resource(
            RULE,
            name,
            {**RULE_INPUTS, "cacheRuleName": name},
            propertyDependencies={"registryName": [of["urn"]]},
            **extra,
        )

    def moved(res: dict[str, Any]) -> dict[str, Any]:
        return {**res, "inputs": {**res["inputs"], "location": "northeurope"}}

    a, b = registry("a"), registry("b")
    rule_a, rule_b = rule("ra", a), rule("rb", b)
    renamed_a = {**rule_a, "inputs": {**rule_a["inputs"], "cacheRuleName": "ra2"}}
    # A root that is a member of an earlier chain is passed over; the next chain is still built.
    diff = diff_plans(plan(a, rule_a, b, rule_b), plan(moved(a), renamed_a, moved(b), rule_b))
    follows = {c.name: c.follows for c in diff.changes}
    assert follows == {"ra": "a", "a": "", "rb": "b", "b": ""}
    # A member renamed with an alias is its old self in the chain; a member the head drops stays a delete.
    aliased = {
        **rule("ra-new", a),
        "inputs": rule_a["inputs"],
        "aliases": {"urns": [rule_a["urn"]], "specs": []},
    }
    (member,) = [c for c in diff_plans(plan(a, rule_a), plan(moved(a), aliased)).changes if c.follows]
    assert (member.action, member.name, member.old_urn) == ("replace", "ra-new", rule_a["urn"])
    assert "oldUrn" not in next(c for c in diff.changes if c.name == "rb").to_json()
    (dropped,) = [c for c in diff_plans(plan(a, rule_a), plan(moved(a))).changes if c.follows]
    assert (dropped.action, dropped.delete_before_replace) == ("delete", True)
    # A lock in the chain is no obstacle, and the next lock is still looked at.
    held = {**a, "id": SCOPE}
    chained = resource(
        lock_type,
        "own",
        {"scope": SCOPE, "level": "CanNotDelete"},
        id=f"{SCOPE}/providers/Microsoft.Authorization/locks/own",
        propertyDependencies={"scope": [a["urn"]]},
    )
    group = "/subscriptions/0/resourceGroups/rg"
    other = resource(
        lock_type,
        "group",
        {"scope": group, "level": "CanNotDelete"},
        id=f"{group}/providers/Microsoft.Authorization/locks/g",
    )
    (root,) = [
        c
        for c in diff_plans(plan(held, chained, other), plan(moved(held), chained, other)).changes
        if not c.follows
    ]
    assert root.blocked == ["locked by group (CanNotDelete): Azure refuses with ScopeLocked"]
    # A plan written by hand with a dependency cycle is diffed, not looped over.
    loop_a = {**registry("x"), "propertyDependencies": {"registryName": [f"{STACK}{REGISTRY}::y"]}}
    loop_b = {**registry("y"), "propertyDependencies": {"registryName": [loop_a["urn"]]}}
    assert {c.name for c in diff_plans(plan(loop_a, loop_b), plan(moved(loop_a), loop_b)).changes} == {
        "x",
        "y",
    }


def test_what_azure_deletes_with_a_replacement_is_looked_for_past_other_changes() -> None:
    held = resource(REGISTRY, "reg", {"registryName": "a", "location": "westeurope"}, id=SCOPE)
    moved = {**held, "inputs": {**held["inputs"], "location": "northeurope"}}
    child = resource(RULE, "r", RULE_INPUTS, id=f"{SCOPE}/cacheRules/r")
    scope_map = "azure-native:containerregistry:ScopeMap"
    first = resource(scope_map, "m", {"scopeMapName": "m", "actions": ["a/content/read"]})
    edited = {**first, "inputs": {**first["inputs"], "actions": ["b/content/read"]}}
    diff = diff_plans(plan(first, held, child), plan(edited, moved, child))
    registry = next(c for c in diff.changes if c.name == "reg")
    assert registry.warnings[-1].startswith("Azure deletes 1 resource(s) below it with it (r)")
    # A registry kept in Azure on delete takes nothing with it.
    kept = {**held, "retainOnDelete": True}
    diff = diff_plans(plan(kept, child), plan({**moved, "retainOnDelete": True}, child))
    assert not any("Azure deletes" in w for c in diff.changes for w in c.warnings)


def test_deletes_components_and_what_a_dropped_member_meets() -> None:
    # A component the head drops is counted, and the deletes after it are still listed.
    component = resource("acr-cache:index:Registry", "c", {})
    gone = resource(RULE, "r", RULE_INPUTS)
    diff = diff_plans(plan(component, gone), plan())
    assert (diff.components["delete"], actions(diff)) == (1, [("delete", "CacheRule", "r")])
    # A registry dropped from the program takes the rules the program keeps with it in Azure.
    registry = resource(REGISTRY, "reg", {"registryName": "a"}, id=SCOPE)
    kept = resource(RULE, "k", RULE_INPUTS, id=f"{SCOPE}/cacheRules/k")
    (dropped,) = [c for c in diff_plans(plan(registry, kept), plan(kept)).changes if c.name == "reg"]
    assert dropped.warnings[-1].startswith("Azure deletes 1 resource(s) below it with it (k)")
    # A dependency an input names without the input being set puts nothing in a chain.
    moved = {**registry, "inputs": {**registry["inputs"], "location": "northeurope"}}
    bare = resource(
        RULE,
        "b",
        {k: v for k, v in RULE_INPUTS.items() if k != "registryName"},
        propertyDependencies={"registryName": [registry["urn"]]},
    )
    assert actions(diff_plans(plan(registry, bare), plan(moved, bare))) == [("replace", "Registry", "reg")]


def test_a_member_the_head_drops_meets_the_locks_the_head_keeps() -> None:
    # The rule goes with the registry's chain (a delete, most-dependent first) and the lock whose
    # scope comes from the registry is a member too; both depend on the registry alike, so no order
    # puts the lock's delete first for sure: the rule's delete is shown as refused.
    registry = resource(REGISTRY, "reg", {"registryName": "a", "location": "westeurope"}, id=SCOPE)
    moved = {**registry, "inputs": {**registry["inputs"], "location": "northeurope"}}
    deps = {"registryName": [registry["urn"]]}
    rule = resource(RULE, "r", RULE_INPUTS, id=f"{SCOPE}/cacheRules/r", propertyDependencies=deps)
    lock = resource(
        "azure-native:authorization:ManagementLockByScope",
        "l",
        {"scope": SCOPE, "level": "CanNotDelete"},
        id=f"{SCOPE}/providers/Microsoft.Authorization/locks/l",
        propertyDependencies={"scope": [registry["urn"]]},
    )
    changes = {c.name: c for c in diff_plans(plan(registry, lock, rule), plan(moved, lock)).changes}
    assert (changes["r"].action, changes["r"].follows) == ("delete", "reg")
    assert changes["r"].blocked == ["locked by l (CanNotDelete): Azure refuses with ScopeLocked"]


def test_the_next_replacement_is_looked_at_past_a_retained_one() -> None:
    retained = resource(
        REGISTRY,
        "first",
        {"registryName": "f", "location": "westeurope"},
        id=SCOPE + "f",
        retainOnDelete=True,
    )
    registry = resource(REGISTRY, "second", {"registryName": "a", "location": "westeurope"}, id=SCOPE)
    child = resource(RULE, "r", RULE_INPUTS, id=f"{SCOPE}/cacheRules/r")

    def moved(res: dict[str, Any]) -> dict[str, Any]:
        return {**res, "inputs": {**res["inputs"], "location": "northeurope"}}

    diff = diff_plans(plan(retained, registry, child), plan(moved(retained), moved(registry), child))
    second = next(c for c in diff.changes if c.name == "second")
    assert second.warnings[-1].startswith("Azure deletes 1 resource(s) below it with it (r)")


def test_a_create_first_replacement_takes_what_is_below_it_with_it() -> None:
    # The engine replaces the registry create-first (replaceOnChanges, no force-new of azure-native):
    # the new registry is the old one updated under the same id, and the old one's delete at the end
    # deletes it and the rule below it, which the state keeps.
    held = resource(REGISTRY, "reg", {"registryName": "a", "sku": {"name": "Premium"}}, id=SCOPE)
    edited = resource(
        REGISTRY,
        "reg",
        {"registryName": "a", "sku": {"name": "Standard"}},
        id=SCOPE,
        replaceOnChanges=["sku"],
    )
    child = resource(RULE, "r", RULE_INPUTS, id=f"{SCOPE}/cacheRules/r")
    registry = next(c for c in diff_plans(plan(held, child), plan(edited, child)).changes if c.name == "reg")
    assert (registry.action, registry.delete_before_replace) == ("replace", False)
    assert registry.warnings[-1].startswith("Azure deletes 1 resource(s) below it with it (r)")


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("a" * 36, ["a" * 36]),
        ("a" * 37, ["a" * 36, "a"]),
        # A break at or before a third of the line would leave a stub: cut at the limit instead.
        ("a" * 10 + " " + "b" * 30, ["a" * 10 + " " + "b" * 25, "b" * 5]),
        ("a" * 12 + "/" + "b" * 30, ["a" * 12 + "/" + "b" * 23, "b" * 7]),
        ("a" * 13 + "-" + "b" * 30, ["a" * 13 + "-", "b" * 30]),
        ("a" * 15 + "." + "b" * 30, ["a" * 15 + ".", "b" * 30]),
        ("a" * 20 + "·" + "b" * 30, ["a" * 20 + "·", "b" * 30]),
        ("a" * 30 + " " * 11, ["a" * 30]),
        ("a" * 20 + " " + "b" * 20 + " " + "c" * 20, ["a" * 20, "b" * 20, "c" * 20]),
    ],
)
def test_a_long_label_breaks_after_a_separator_or_at_the_limit(text: str, lines: list[str]) -> None:
    from acr_cache.review.graph import _wrapped

    assert _wrapped(text) == lines
