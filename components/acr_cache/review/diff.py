"""What a deploy would do to go from one offline plan to another, per resource, as the engine would
decide it: create, update, replace, delete, adopt (import), with the changed inputs.

Both sides are JSON plans (`acr-cache plan --format json`): the base stands in for the state (what
the last `pulumi up` registered), the head for the program now. Like `pulumi preview`, resources
are matched by URN and then by their aliases; a URN that only one side has is a create or a delete.
"""

from __future__ import annotations

import ast
import functools
import inspect
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from acr_cache.azure_types import (
    DATA_LOSS,
    NO_EFFECT_IN_PLACE,
    REFUSED_IN_PLACE,
    REFUSED_UPDATES,
    RefusedUpdate,
    covered,
    keyed_arrays,
    provider_replace_keys,
    replace_keys,
)
from acr_cache.plan import LOCK_TYPE, below, deletes_in_azure
from acr_cache.plan.values import SECRET_TEXT
from acr_cache.review.matching import take_over

DYNAMIC_PREFIX = "pulumi-python:dynamic/"

ACTIONS = ("create", "adopt", "update", "replace", "delete")


class PlanDocumentError(ValueError):
    """A document that is not a JSON plan of `acr-cache plan --format json`."""


@dataclass
class PropertyChange:
    path: str
    old: Any
    new: Any
    replaces: str = ""
    """Why this change replaces the resource; empty for an in-place change."""

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "old": self.old, "new": self.new, "replaces": self.replaces or None}


@dataclass
class ResourceChange:
    action: str
    urn: str
    type: str
    name: str
    properties: list[PropertyChange] = field(default_factory=list)
    old_urn: str = ""
    """The URN in the base when the resource was found there under an alias (a rename or move)."""
    delete_before_replace: bool = False  # mutation: equivalent (read for replacements only, which set it)
    warnings: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    """Why `pulumi up` would stop at this resource (protect, a lock)."""
    follows: str = ""
    """The resource whose delete-first replacement takes this one with it (the engine deletes this
    one first, then that one, and creates both again)."""
    fails: list[str] = field(default_factory=list)
    """Why Azure would refuse the update azure-native sends, and what to do instead."""

    @property
    def short_type(self) -> str:
        return self.type.split(":")[-1]

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "action": self.action,
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "properties": [p.to_json() for p in self.properties],
            "warnings": self.warnings,
            "blocked": self.blocked,
        }
        if self.old_urn:
            document["oldUrn"] = self.old_urn
        if self.action == "replace":
            document["deleteBeforeReplace"] = self.delete_before_replace
        if self.follows:
            document["follows"] = self.follows
        if self.fails:
            document["fails"] = self.fails
        return document


@dataclass
class PlanDiff:
    base: str
    head: str
    changes: list[ResourceChange]
    components: dict[str, int]
    """Component resources (no Azure resource behind them) created and deleted."""
    notes: list[str] = field(default_factory=list)
    cost: Any = None
    """A review.cost.CostDelta when the diff was priced."""

    @property
    def changed(self) -> bool:
        return bool(self.changes) or any(self.components.values())

    def counts(self) -> dict[str, int]:
        return {action: sum(c.action == action for c in self.changes) for action in ACTIONS}

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "base": self.base,
            "head": self.head,
            "counts": self.counts(),
            "components": self.components,
            "changes": [c.to_json() for c in self.changes],
            "blocked": sum(bool(c.blocked) for c in self.changes),
            "fails": sum(bool(c.fails) for c in self.changes),
            "notes": self.notes,
        }
        if self.cost is not None:
            document["cost"] = self.cost.to_json()
        return document


@dataclass
class _Resource:
    """One resource of a JSON plan, with the attributes review.matching reads."""

    doc: dict[str, Any]

    def __post_init__(self) -> None:
        self.urn: str = self.doc["urn"]
        self.type: str = self.doc["type"]
        self.name: str = self.doc["name"]
        self.parent: str | None = self.doc.get("parent")
        aliases = self.doc.get("aliases") or {}
        self.alias_urns: list[str] = list(aliases.get("urns", []))
        self.alias_specs: list[dict[str, Any]] = list(aliases.get("specs", []))
        self.custom = self.type.startswith(("azure-native:", DYNAMIC_PREFIX)) or "id" in self.doc
        self.inputs: dict[str, Any] = self.doc.get("inputs") or {}
        self.digests: dict[str, str] = self.doc.get("secretDigests") or {}


def load_plan(text: str, where: str) -> dict[str, Any]:
    """A JSON plan from its text, or PlanDocumentError saying what is wrong with it."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanDocumentError(
            f"{where}: not JSON ({exc.msg} at line {exc.lineno}): write it with "
            "`acr-cache plan STACK --format json > FILE`"
        ) from None
    resources = document.get("resources") if isinstance(document, dict) else None
    if not isinstance(resources, list) or not all(
        isinstance(r, dict) and isinstance(r.get("urn"), str) and isinstance(r.get("type"), str)
        for r in resources
    ):
        raise PlanDocumentError(
            f"{where}: not a plan of `acr-cache plan --format json` (it needs `resources`, each with "
            "`urn`, `type`, `name`, `inputs`)"
        )
    return document


def diff_plans(base: dict[str, Any], head: dict[str, Any]) -> PlanDiff:
    """What `pulumi up` would do to a stack whose state is `base` when the program plans `head`."""
    olds = {r["urn"]: _Resource(r) for r in base["resources"]}
    news = [_Resource(r) for r in head["resources"]]
    stack, project = str(head.get("stack", "")), str(head.get("project", ""))
    taken = take_over(news, list(olds), stack, project)  # old URN -> new URN
    old_of = {new: old for old, new in taken.items()}
    changes: dict[str, ResourceChange] = {}
    components = {"create": 0, "delete": 0}
    head_locks = _locks(news)
    base_locks = _locks(olds.values())
    notes: list[str] = []

    for new in news:
        old = olds.get(old_of.get(new.urn, ""))
        if not new.custom:
            components["create"] += old is None
            continue
        if old is None:
            action = "adopt" if new.doc.get("importId") else "create"
            changes[new.urn] = ResourceChange(action, new.urn, new.type, new.name)
            continue
        change = _compare(old, new)
        if change is not None:
            changes[new.urn] = change
        if new.type == TOKEN_PASSWORD:
            notes.extend(_password_notes(change, old, new))
        if old.doc.get("provider", "") != new.doc.get("provider", ""):
            notes.append(_provider_note(old, new))
    for urn, old in olds.items():
        if urn in taken:
            continue
        if not old.custom:
            components["delete"] += 1
            continue
        changes[urn] = ResourceChange("delete", urn, old.type, old.name)

    chains = _chains(changes, olds, taken)
    _target_handovers(changes, news, olds)
    heads = {r.urn: r for r in news}
    for change in changes.values():
        old = olds.get(change.old_urn or change.urn)  # None for a create: its URN is new
        if old is not None:
            _warn(change, old, heads.get(change.urn), base_locks, head_locks, chains.get(old.urn))
    _deleted_with(changes, olds)
    _chain_stops(changes, chains)
    ordered = sorted(changes.values(), key=lambda c: (ACTIONS.index(c.action), c.type, c.name))
    diff = PlanDiff(_label(base), _label(head), ordered, components, notes)
    if base.get("missing"):
        diff.notes.append(f"the base has no stack file {head.get('stack')}: the whole stack is new")
    elif base.get("stack") != head.get("stack") or base.get("project") != head.get("project"):
        diff.notes.append(
            f"the plans are of different stacks ({_label(base)} and {_label(head)}): every URN differs"
        )
    return diff


def _label(plan: dict[str, Any]) -> str:
    return f"{plan.get('project', '?')}/{plan.get('stack', '?')}"


TOKEN_PASSWORD = f"{DYNAMIC_PREFIX}acr-cache:TokenPassword"


def _provider_note(old: _Resource, new: _Resource) -> str:
    """A resource registered with another provider: the engine asks the new provider's DiffConfig
    whether that replaces it (step_generator.go `providerChanged`), and azure-native's never does
    (provider.go `DiffConfig` answers no changes): the resource is kept, and diffed as usual."""

    def named(doc: dict[str, Any]) -> str:
        provider = str(doc.get("provider") or "")
        return f"provider {provider.rpartition('::')[2]}" if provider else "the default provider"

    where = _segment_of(str(old.doc.get("id") or ""), "subscriptions")
    to = _segment_of(str(new.doc.get("id") or ""), "subscriptions")
    text = (
        f"{new.name} goes from {named(old.doc)} to {named(new.doc)}: azure-native never replaces a resource "
        "for a provider change, so `pulumi up` keeps it and diffs its inputs as usual"
    )
    if where and to and where.lower() != to.lower():
        text += (
            f"; it stays in subscription {where} (the new provider deploys to {to}): to move it, remove it "
            "from the stack in one deploy and add it back in the next"
        )
    return text


def _segment_of(arm_id: str, kind: str) -> str:
    match = re.search(rf"/{kind}/([^/]+)", arm_id, re.IGNORECASE)
    return match.group(1) if match else ""


def _password_notes(change: ResourceChange | None, old: _Resource, new: _Resource) -> list[str]:
    """A token password's rotation is named on its change; a new `expiryDays` alone changes no
    password (its provider's diff), which a note says rather than leaving it silent."""
    secret = new.inputs.get("secretName")
    # The provider's diff updates on a new `rotation` only (anything else replaces or changes nothing).
    if change is not None and change.action == "update":
        change.warnings.append(
            f"rotates: Azure generates the token's other password (password2 after password1, and back) into "
            f"a new version of secret {secret}; the password clients hold stays valid until the next "
            "rotation, so rotate again only once they have all switched"
        )
    days = old.inputs.get("expiryDays"), new.inputs.get("expiryDays")
    # With any change the provider acts on (a rotation, a replacement) the new expiry applies now.
    if change is None and days[0] != days[1] and days[0] is not None:
        return [
            f"{new.name}: expiryDays {days[0]} -> {days[1]} changes no password now; the next rotation "
            "(a new `rotation` value) generates one with it"
        ]
    return []


def _compare(old: _Resource, new: _Resource) -> ResourceChange | None:
    ignored = list(new.doc.get("ignoreChanges") or [])
    # A dynamic resource's `__provider` is its pickled provider: new code, not a change to Azure.
    old_inputs = {k: v for k, v in old.inputs.items() if k != "__provider"}
    new_inputs = {k: v for k, v in new.inputs.items() if k != "__provider"}
    keyed = keyed_arrays(new.type)
    # Other types (dynamic, components) have no Args class: `_defaults` gives {} for them too.
    defaults = _defaults(new.type) if new.type.startswith("azure-native:") else {}  # mutation: equivalent
    changed = [
        p
        for p in _changed(old_inputs, new_inputs, "", old.digests, new.digests, keyed)
        if not (ignored and _ignored(p.path, ignored))
        # azure-native does not count a top-level property added with its default value
        # (provider/pkg/provider/diff.go `calculateChangesAndReplacements`).
        and not (
            p.old is None and "." not in p.path and "[" not in p.path and defaults.get(p.path, _NO) == p.new
        )
    ]
    renamed = old.urn != new.urn
    if not changed:
        return None
    change = ResourceChange(
        "update", new.urn, new.type, new.name, changed, old_urn=old.urn if renamed else ""
    )
    provider_replaces = _classify(change, new, old)
    if not change.properties:
        return None  # only inputs the resource's provider does not compare
    if any(p.replaces for p in change.properties):
        change.action = "replace"
        # azure-native deletes first whenever its own diff replaces (provider.go `Diff`); otherwise
        # only the resource's deleteBeforeReplace option does (the engine's create-before-delete).
        change.delete_before_replace = provider_replaces or bool(new.doc.get("deleteBeforeReplace"))
        option = list(new.doc.get("replaceOnChanges") or [])
        # Replaced by the engine (replaceOnChanges) while the Azure name stays: create-before-delete.
        engine_only = any(covered(p.path, option) for p in change.properties)
        if engine_only and not change.delete_before_replace and new.type.startswith("azure-native:"):
            change.warnings.append(
                "replaced create-before-delete under the same Azure name: the new resource is the "
                "old one updated, and deleting the old one then deletes it; the resource needs "
                "`delete_before_replace`"
            )
    else:
        change.fails = _refused_updates(change, old_inputs, new_inputs)
        if new.type in NO_EFFECT_IN_PLACE:
            change.warnings.append(f"this update changes nothing in Azure: {NO_EFFECT_IN_PLACE[new.type]}")
    return change


_NO = object()


def _ignored(path: str, patterns: list[str]) -> bool:
    """Whether an ignoreChanges pattern covers the path: a parent or the path itself, an index
    matching its own index or `[*]` (the engine's property paths)."""
    parts = _path_parts(path)
    return any(
        len(wanted) <= len(parts) and all(w in (p, "[*]") for w, p in zip(wanted, parts, strict=False))
        for wanted in map(_path_parts, patterns)
    )


def _path_parts(path: str) -> list[str]:
    return [part for part in re.split(r"\.|(\[[^\]]*\])", path) if part]


@functools.cache
def _defaults(typ: str) -> dict[str, Any]:  # mutation: equivalent (without the cache: the same, slower)
    """Top-level inputs with a default value, by wire name, as the SDK's Args class fills them in
    (the spec's defaults, which azure-native's metadata carries too)."""
    from pulumi import _types as pulumi_types

    from acr_cache.plan.schema import resource_args_class

    cls = resource_args_class(typ)
    if cls is None:
        return {}
    names = pulumi_types.input_type_py_to_pulumi_names(cls)
    try:
        source = inspect.getsource(vars(cls)["__init__"])
    except (OSError, TypeError):
        return {}
    found: dict[str, Any] = {}
    for name, value in re.findall(r"if (\w+) is None:\n\s+\1 = (.+)\n", source):
        try:
            found[names.get(name, name)] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            continue
    return found


def _refused_updates(change: ResourceChange, olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
    """What Azure refuses of an in-place update azure-native sends, with what to do instead."""
    found = []
    for rule in REFUSED_UPDATES.get(change.type, ()):
        if any(covered(p.path, (rule.path,)) for p in change.properties):
            before, after = _at(olds, rule.path), _at(news, rule.path)
            if _refuses(rule, before, after):
                found.append(f"{rule.path}: Azure refuses this update ({rule.source}): {rule.fix}")
    return found


def _refuses(rule: RefusedUpdate, before: Any, after: Any) -> bool:
    if rule.when == "unset":
        return before is True and after is not True
    if rule.when == "toggle":

        def state(value: Any) -> Any:
            return None if value is None else (value.get("status") if isinstance(value, dict) else value)

        return state(before) != state(after)
    return before is not None and before != after


def _at(values: dict[str, Any], path: str) -> Any:
    value: Any = values
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _classify(change: ResourceChange, new: _Resource, old: _Resource) -> bool:
    """Mark the changes that replace; True when the provider itself replaces (delete first)."""
    option = list(new.doc.get("replaceOnChanges") or [])
    if change.type.startswith(DYNAMIC_PREFIX):
        verdict = _dynamic_diff(change.type, old.inputs, new.inputs)
        changes, replaces, delete_first = verdict if verdict is not None else (True, [], False)
        if not changes:
            change.properties = []  # only inputs the provider does not compare
        for prop in change.properties:
            if _top(prop.path) in replaces:
                prop.replaces = "the provider replaces on it (its diff)"
            elif covered(prop.path, option):
                prop.replaces = "listed in the resource's replaceOnChanges option"
        return delete_first  # mutation: equivalent (both providers here answer False)
    provider = False
    keys = replace_keys(change.type)
    refused = REFUSED_IN_PLACE.get(change.type)
    for prop in change.properties:
        # An element added to or removed from an array never replaces (diff.go `calculateValueDiff`).
        element = prop.path.endswith("]") and (prop.old is None or prop.new is None)
        key = None if element else covered(prop.path, keys)
        if key is not None:
            prop.replaces = keys[key]
            if not (refused and key in refused.paths):
                provider = True
            elif not covered(prop.path, option):
                change.warnings.append(
                    f"{prop.path}: Azure refuses this change in place and the resource does not list it "
                    "in `replace_on_changes`: `pulumi up` would send an update that fails"
                )
        elif covered(prop.path, option):
            prop.replaces = "listed in the resource's replaceOnChanges option"
    return provider


def _top(path: str) -> str:
    # The dynamic providers here replace on top-level strings only: no path under one has a dot or
    # a bracket, so which part is kept cannot be told apart.
    return path.split(".")[0].split("[")[0]  # mutation: equivalent


def _dynamic_diff(
    typ: str, olds: dict[str, Any], news: dict[str, Any]
) -> tuple[bool, list[str], bool] | None:
    """What the dynamic resource's own provider answers to the engine's Diff: whether it changes,
    what replaces it, and whether it deletes first. None for a provider this package does not ship."""
    kind = typ.split(":")[-1]
    provider: Any
    if kind == "ImageImport":
        from acr_cache.image_import import ImageImportProvider

        provider = ImageImportProvider()
    elif kind == "TokenPassword":
        from acr_cache.token_password import TokenPasswordProvider

        provider = TokenPasswordProvider()
    else:
        return None
    result = provider.diff("", olds, news)
    return bool(result.changes), list(result.replaces or []), bool(result.delete_before_replace)


def _changed(
    old: Any,
    new: Any,
    path: str,
    old_digests: dict[str, str],
    new_digests: dict[str, str],
    keyed: dict[str, tuple[str, ...]] | None = None,
) -> list[PropertyChange]:
    """Leaf differences, as azure-native's Diff sees them: objects by key, lists by index, except
    the arrays the spec keys (x-ms-identifiers), which compare as sets (diff.go `diffKeyedArrays`)."""
    keyed = keyed or {}
    if isinstance(old, dict) and isinstance(new, dict):
        found: list[PropertyChange] = []
        for key in sorted(set(old) | set(new)):
            sub = f"{path}.{key}" if path else key
            if key not in old:
                found.append(PropertyChange(sub, None, new[key]))
            elif key not in new:
                found.append(PropertyChange(sub, old[key], None))
            else:
                found.extend(_changed(old[key], new[key], sub, old_digests, new_digests, keyed))
        return found
    if isinstance(old, list) and isinstance(new, list):
        identity = keyed.get(path)
        if identity and all(isinstance(item, dict) for item in [*old, *new]):
            return _keyed_changes(old, new, path, identity, old_digests, new_digests, keyed)
        found = []
        for index in range(max(len(old), len(new))):
            sub = f"{path}[{index}]"
            if index >= len(old):
                found.append(PropertyChange(sub, None, new[index]))
            elif index >= len(new):
                found.append(PropertyChange(sub, old[index], None))
            else:
                found.extend(_changed(old[index], new[index], sub, old_digests, new_digests, keyed))
        return found
    if old == new:
        if old == SECRET_TEXT:
            before, after = old_digests.get(path), new_digests.get(path)
            # Offline placeholders carry their ciphertext's digest: a new ciphertext may be a new value.
            if before and after and before != after:
                return [PropertyChange(path, SECRET_TEXT, SECRET_REENCRYPTED)]
        return []
    # azure-native compares locations without case and spaces, resource group names without case
    # (diff.go `applyAzureSpecificDiff`).
    if path == "location" and isinstance(old, str) and isinstance(new, str) and _region(old) == _region(new):
        return []
    if (
        path == "resourceGroupName"
        and isinstance(old, str)
        and isinstance(new, str)
        and old.lower() == new.lower()
    ):
        return []
    return [PropertyChange(path, old, new)]


SECRET_REENCRYPTED = "[secret] (re-encrypted; Pulumi compares the value, so this may be no change)"


def _keyed_changes(
    old: list[Any],
    new: list[Any],
    path: str,
    identity: tuple[str, ...],
    old_digests: dict[str, str],
    new_digests: dict[str, str],
    keyed: dict[str, tuple[str, ...]],
) -> list[PropertyChange]:
    def key(item: dict[str, Any]) -> str:
        # Identities here are strings (authCredentials by name); sort_keys keeps one that holds an
        # object (a vault's accessPolicies by permissions) the same whatever its key order.
        return json.dumps([item.get(k) for k in sorted(identity)], sort_keys=True)  # mutation: equivalent

    before = {key(item): (index, item) for index, item in enumerate(old)}
    found: list[PropertyChange] = []
    seen = set()
    for index, item in enumerate(new):
        seen.add(key(item))
        if key(item) not in before:
            found.append(PropertyChange(f"{path}[{index}]", None, item))
        else:
            found.extend(
                _changed(before[key(item)][1], item, f"{path}[{index}]", old_digests, new_digests, keyed)
            )
    found += [PropertyChange(f"{path}[{i}]", item, None) for k, (i, item) in before.items() if k not in seen]
    return found


def _region(location: str) -> str:
    return location.replace(" ", "").lower()


@dataclass
class _Chain:
    """A delete-first replacement and the resources the engine replaces with it, as base URNs:
    deleted most-dependent first, the root last (step_generator.go `continueStepsFromDiff`)."""

    root: str
    name: str
    members: list[str] = field(default_factory=list)

    @property
    def urns(self) -> set[str]:
        return {self.root, *self.members}


def _chains(
    changes: dict[str, ResourceChange], olds: dict[str, _Resource], taken: dict[str, str]
) -> dict[str, _Chain]:
    """For each delete-first replacement, the dependents the engine replaces with it, found as
    `calculateDependentReplacements` (pulumi/pulumi pkg/resource/deploy/step_generator.go) finds
    them: in the state's dependency graph (the base plan), each resource that depends on one in
    the chain, judged by its provider's Diff with the inputs that come from the chain unknown. An
    azure-native resource is replaced when such an input is one of its own replace keys (its
    `replaceOnChanges` option plays no part there); a dynamic one when its provider says so.
    Returns the chain of every base URN in one (root and members)."""
    order = _dependency_order(olds)
    dependents: dict[str, set[str]] = {}
    for res in olds.values():
        # Only a dependency through an input can put a resource in a chain (the engine sets that
        # input unknown and asks the provider): `dependsOn` alone never does.
        for source in _input_sources(res):
            dependents.setdefault(source, set()).add(res.urn)
    by_base: dict[str, _Chain] = {}
    roots = [
        (change.old_urn or change.urn)
        for change in changes.values()
        if change.action == "replace" and change.delete_before_replace
    ]
    for root in sorted(roots, key=order.__getitem__):
        if root in by_base:  # a member of an earlier chain: replaced with it
            continue
        chain = _Chain(root, olds[root].name)
        replaced = {root}
        reach: set[str] = set()
        frontier = [root]
        while frontier:
            for urn in dependents.get(frontier.pop(), ()):
                if urn not in reach:
                    reach.add(urn)
                    frontier.append(urn)
        for urn in sorted(reach, key=order.__getitem__):
            if _replaced_through(olds[urn], replaced):
                replaced.add(urn)
                chain.members.append(urn)
        for urn in chain.urns:
            by_base.setdefault(urn, chain)
        for urn in chain.members:
            res = olds[urn]
            head = taken.get(urn) or urn
            current = changes.get(head)
            if current is None:
                # Named as the head names it (a URN ends with the name): an alias may have renamed it.
                current = changes[head] = ResourceChange("replace", head, res.type, head.rpartition("::")[2])
                current.old_urn = urn if head != urn else ""
            elif current.action != "delete":  # a member the head drops is deleted, not recreated
                current.action = "replace"
            current.delete_before_replace = True
            current.follows = chain.name
    return by_base


def _input_sources(res: _Resource) -> set[str]:
    """The URNs a resource's inputs come from (its `propertyDependencies`)."""
    return {urn for urns in (res.doc.get("propertyDependencies") or {}).values() for urn in urns}


def _replaced_through(res: _Resource, replaced: set[str]) -> bool:
    """Whether an input of the resource comes from a replaced one and makes its provider replace it."""
    hit = sorted(
        prop
        for prop, sources in (res.doc.get("propertyDependencies") or {}).items()
        if prop in res.inputs and any(source in replaced for source in sources)
    )
    if not hit:  # mutation: equivalent (spares the provider diff below, which could name no input)
        return False  # mutation: equivalent (its one caller reads it as a condition: None as False)
    if res.type.startswith(DYNAMIC_PREFIX):
        from pulumi.runtime.rpc import UNKNOWN  # what a Python dynamic provider sees of an unknown

        verdict = _dynamic_diff(res.type, res.inputs, {**res.inputs, **dict.fromkeys(hit, UNKNOWN)})
        return verdict is not None and any(prop in verdict[1] for prop in hit)
    # An unknown top-level value replaces only where that very property is a replace key (diff.go).
    # A component has none (no provider of its own): it is never in a chain.
    keys = provider_replace_keys(res.type)
    return any(prop in keys for prop in hit)


def _dependency_order(resources: dict[str, _Resource]) -> dict[str, int]:
    """Each URN's place in an order where every resource comes after what its inputs come from."""
    order: dict[str, int] = {}
    visiting: set[str] = set()

    def visit(urn: str) -> None:
        if urn in order or urn in visiting or urn not in resources:
            return
        visiting.add(urn)
        # A chain grows through inputs only, so the order that matters is theirs.
        for before in sorted(_input_sources(resources[urn])):
            visit(before)
        order[urn] = len(order)

    for urn in sorted(resources):
        visit(urn)
    return order


RULE_TYPE = "azure-native:containerregistry:CacheRule"


def _target_handovers(
    changes: dict[str, ResourceChange], news: list[_Resource], olds: dict[str, _Resource]
) -> None:
    """A rule created for a target that a deleted rule still holds: the engine creates before it
    deletes, and Azure refuses a second rule for one target while the first exists."""
    leaving = {
        str(olds[urn].inputs.get("targetRepository")): olds[urn].name
        for urn, change in changes.items()
        if change.action == "delete" and change.type == RULE_TYPE and urn in olds
    }
    for res in news:
        change = changes.get(res.urn)
        if change is None or change.action != "create" or res.type != RULE_TYPE:
            continue
        target = str(res.inputs.get("targetRepository"))
        if target in leaving:
            change.warnings.append(
                f"{leaving[target]} holds the target {target} until it is deleted at the end of the deploy, "
                "and Azure refuses a second rule for a target: deploy the removal first, then the new rule"
            )


@dataclass
class _Lock:
    name: str
    scope: str
    urn: str = ""


def _locks(resources: Iterable[_Resource]) -> list[_Lock]:
    return [
        _Lock(r.name, str(r.inputs.get("scope", "")), r.urn)
        for r in resources
        if r.type == LOCK_TYPE and r.inputs.get("level") == "CanNotDelete"
    ]


def _warn(
    change: ResourceChange,
    old: _Resource,
    new: _Resource | None,
    base_locks: list[_Lock],
    head_locks: list[_Lock],
    chain: _Chain | None,
) -> None:
    removes = change.action in ("delete", "replace")
    if not removes:
        return
    retained = bool(old.doc.get("retainOnDelete"))
    verb = "deleting" if change.action == "delete" else "replacing"
    member = chain is not None and old.urn != chain.root
    if member and bool(old.doc.get("protect")):
        # In a chain the state's flag decides: the engine stops with "unable to replace ... as part
        # of replacing ..." (step_generator.go `continueStepsFromDiff`).
        assert chain is not None
        change.blocked.append(
            f'protected in the state: `pulumi up` stops with "unable to replace it as part of replacing '
            f'{chain.name}" until a deploy with `protect` off has run (or `pulumi state unprotect`)'
        )
    elif bool(old.doc.get("protect")) and (change.action == "delete" or bool(new and new.doc.get("protect"))):
        # A delete is refused when the state protects the resource; a replacement only when the
        # program still does too (unprotecting and replacing in one deploy is allowed).
        change.blocked.append(
            f"protected: `pulumi up` refuses {verb} it until a deploy with `protect` off has run"
        )
    arm_id = str(old.doc.get("id", ""))
    if arm_id and change.type != LOCK_TYPE and deletes_in_azure(change.type, retained):
        # A lock dropped by the head is deleted at the end, after what it guards; a delete-first
        # replacement deletes at once, so every lock of the state stands in its way, except a lock
        # in its own chain, which the engine deletes first (it depends on what it guards).
        delete_first = change.action == "replace" and change.delete_before_replace
        locks = base_locks if delete_first else head_locks
        chained = chain.urns if chain is not None and delete_first else set()
        for lock in locks:
            # A lock also covers the resource at its scope (the registry itself), not only below it.
            same = arm_id.lower() == lock.scope.lower().rstrip("/")
            if not lock.scope or not (same or below(arm_id, lock.scope)):
                continue
            if lock.urn in chained:
                if old.urn == (chain.root if chain else ""):
                    change.warnings.append(
                        f"{lock.name} (CanNotDelete) does not stop it: the lock's scope comes from it, so "
                        "the engine deletes the lock first, in the same chain, and recreates it after"
                    )
                continue
            change.blocked.append(f"locked by {lock.name} (CanNotDelete): Azure refuses with ScopeLocked")
    if change.type in DATA_LOSS and not retained:
        change.warnings = [f"DATA LOSS: {verb} it loses {DATA_LOSS[change.type]}", *change.warnings]
    if retained and change.action == "delete":
        change.warnings.append("retained on delete: it stays in Azure and only leaves the stack")


def _chain_stops(changes: dict[str, ResourceChange], chains: dict[str, _Chain]) -> None:
    """A chain whose member cannot be deleted stops there: the engine has deleted the members before
    it (most-dependent first) and fails before it reaches the root."""
    by_base = {(c.old_urn or c.urn): c for c in changes.values()}
    for chain in {id(c): c for c in chains.values()}.values():
        root = by_base.get(chain.root)
        stuck = [by_base[m].name for m in chain.members if m in by_base and by_base[m].blocked]
        if root is not None and stuck and not root.blocked:
            root.warnings.append(
                f"the chain stops at {', '.join(sorted(stuck))}, which cannot be deleted: `pulumi up` fails "
                "there, after deleting the members that come before it (most-dependent first) and before "
                "deleting this one"
            )


def _deleted_with(changes: dict[str, ResourceChange], olds: dict[str, _Resource]) -> None:
    """Resources Azure deletes with another one (children and extensions below its id) that the
    deploy neither deletes nor replaces: they stay in Pulumi's state, and the next `pulumi up`
    finds them unchanged and does not recreate them."""
    # A replacement deletes the old resource in either order: create-first deletes it last, and
    # under the same Azure name that delete takes the new resource's id and all below it.
    going = {(c.old_urn or c.urn) for c in changes.values() if c.action in ("delete", "replace")}
    for change in changes.values():
        base = olds.get(change.old_urn or change.urn)
        if base is None or (change.old_urn or change.urn) not in going:
            continue
        arm_id = str(base.doc.get("id", ""))
        if not arm_id or not deletes_in_azure(base.type, bool(base.doc.get("retainOnDelete"))):
            continue
        left = sorted(
            r.name
            for r in olds.values()
            if r.urn not in going and r.custom and below(str(r.doc.get("id", "")), arm_id)
        )
        if left:
            shown = ", ".join(left[:5]) + (f" and {len(left) - 5} more" if len(left) > 5 else "")
            change.warnings.append(
                f"Azure deletes {len(left)} resource(s) below it with it ({shown}), which the state keeps: "
                "the next `pulumi up` does not recreate them; run `pulumi refresh` after this deploy, then "
                "`pulumi up`"
            )


def exit_code(diff: PlanDiff) -> int:
    """As `terraform plan -detailed-exitcode`: 0 no changes, 2 changes (1 is left for errors)."""
    return 2 if diff.changed else 0
