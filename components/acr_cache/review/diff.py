"""What a deploy would do to go from one offline plan to another, per resource, as the engine would
decide it: create, update, replace, delete, adopt (import), with the changed inputs.

Both sides are JSON plans (`acr-cache plan --format json`): the base stands in for the state (what
the last `pulumi up` registered), the head for the program now. Like `pulumi preview`, resources
are matched by URN and then by their aliases; a URN that only one side has is a create or a delete.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from acr_cache.azure_types import (
    DATA_LOSS,
    NO_EFFECT_IN_PLACE,
    REFUSED_IN_PLACE,
    covered,
    replace_keys,
)
from acr_cache.plan import LOCK_TYPE, below, deletes_in_azure
from acr_cache.plan.values import SECRET_TEXT, UNKNOWN_TEXT
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
    for urn, old in olds.items():
        if urn in taken:
            continue
        if not old.custom:
            components["delete"] += 1
            continue
        changes[urn] = ResourceChange("delete", urn, old.type, old.name)

    _cascade(changes, news, old_of)
    _target_handovers(changes, news, olds)
    heads = {r.urn: r for r in news}
    for change in changes.values():
        old = olds.get(change.old_urn or change.urn)  # None for a create: its URN is new
        if old is not None:
            _warn(change, old, heads.get(change.urn), base_locks, head_locks)
    ordered = sorted(changes.values(), key=lambda c: (ACTIONS.index(c.action), c.type, c.name))
    diff = PlanDiff(_label(base), _label(head), ordered, components)
    if base.get("missing"):
        diff.notes.append(f"the base has no stack file {head.get('stack')}: the whole stack is new")
    elif base.get("stack") != head.get("stack") or base.get("project") != head.get("project"):
        diff.notes.append(
            f"the plans are of different stacks ({_label(base)} and {_label(head)}): every URN differs"
        )
    return diff


def _label(plan: dict[str, Any]) -> str:
    return f"{plan.get('project', '?')}/{plan.get('stack', '?')}"


def _compare(old: _Resource, new: _Resource) -> ResourceChange | None:
    ignored = list(new.doc.get("ignoreChanges") or [])
    # A dynamic resource's `__provider` is its pickled provider: new code, not a change to Azure.
    old_inputs = {k: v for k, v in old.inputs.items() if k != "__provider"}
    new_inputs = {k: v for k, v in new.inputs.items() if k != "__provider"}
    changed = [
        p
        for p in _changed(old_inputs, new_inputs, "", old.digests, new.digests)
        if not (ignored and covered(p.path, ignored))
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
    elif new.type in NO_EFFECT_IN_PLACE:
        change.warnings.append(f"this update changes nothing in Azure: {NO_EFFECT_IN_PLACE[new.type]}")
    return change


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
    keys = replace_keys(change.type, new.inputs)
    refused = REFUSED_IN_PLACE.get(change.type)
    for prop in change.properties:
        key = covered(prop.path, keys)
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
    return path.split(".")[0].split("[")[0]


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
    old: Any, new: Any, path: str, old_digests: dict[str, str], new_digests: dict[str, str]
) -> list[PropertyChange]:
    """Leaf differences, as the engine's ObjectDiff sees them: objects by key, lists by index."""
    if isinstance(old, dict) and isinstance(new, dict):
        found: list[PropertyChange] = []
        for key in sorted(set(old) | set(new)):
            sub = f"{path}.{key}" if path else key
            if key not in old:
                found.append(PropertyChange(sub, None, new[key]))
            elif key not in new:
                found.append(PropertyChange(sub, old[key], None))
            else:
                found.extend(_changed(old[key], new[key], sub, old_digests, new_digests))
        return found
    if isinstance(old, list) and isinstance(new, list):
        found = []
        for index in range(max(len(old), len(new))):
            sub = f"{path}[{index}]"
            if index >= len(old):
                found.append(PropertyChange(sub, None, new[index]))
            elif index >= len(new):
                found.append(PropertyChange(sub, old[index], None))
            else:
                found.extend(_changed(old[index], new[index], sub, old_digests, new_digests))
        return found
    if old == new:
        if old == SECRET_TEXT:
            before, after = old_digests.get(path), new_digests.get(path)
            # Offline placeholders carry their ciphertext's digest: a new ciphertext is a new value.
            if before and after and before != after:
                return [PropertyChange(path, SECRET_TEXT, SECRET_TEXT + " (new value)")]
        return []
    # azure-native compares locations without case and spaces (diff.go `normalizedLocation`).
    if path == "location" and isinstance(old, str) and isinstance(new, str) and _region(old) == _region(new):
        return []
    return [PropertyChange(path, old, new)]


def _region(location: str) -> str:
    return location.replace(" ", "").lower()


def _cascade(changes: dict[str, ResourceChange], news: list[_Resource], old_of: dict[str, str]) -> None:
    """A resource replaced delete-first takes with it those whose create-only inputs come from it:
    the engine replaces them too (step_generator.go `calculateDependentReplacements`)."""
    # Per source, the inputs of others that come from it and would replace them: found once, from
    # the resources that have an old self (created ones have none; components no Azure resource).
    dependents: dict[str, dict[str, list[str]]] = {}  # source URN -> dependent URN -> inputs
    for res in news:
        deps = res.doc.get("propertyDependencies") or {}
        if not deps or not res.custom or res.urn not in old_of:
            continue
        keys = replace_keys(res.type, res.inputs)
        options = list(res.doc.get("replaceOnChanges") or [])
        for prop, sources in sorted(deps.items()):
            if covered(prop, keys) or covered(prop, options):
                for source in sources:
                    dependents.setdefault(source, {}).setdefault(res.urn, []).append(prop)
    pending = [urn for urn, c in changes.items() if c.action == "replace" and c.delete_before_replace]
    seen = set(pending)
    by_urn = {r.urn: r for r in news}
    while pending:
        replaced = pending.pop()
        for urn, hit in dependents.get(replaced, {}).items():
            res = by_urn[urn]
            fresh = ResourceChange("replace", res.urn, res.type, res.name)  # mutation: equivalent (set below)
            current = changes.setdefault(res.urn, fresh)
            # Part of the delete-first chain, even if it was to be replaced create-first on its own.
            current.action = "replace"
            current.delete_before_replace = True
            name = by_urn[replaced].name
            listed = {p.path for p in current.properties}
            current.properties += [
                PropertyChange(
                    prop, UNKNOWN_TEXT, UNKNOWN_TEXT, f"comes from {name}, which is replaced first"
                )
                for prop in hit
                if prop not in listed
            ]
            if res.urn not in seen:
                seen.add(res.urn)
                pending.append(res.urn)


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


def _locks(resources: Iterable[_Resource]) -> list[_Lock]:
    return [
        _Lock(r.name, str(r.inputs.get("scope", "")))
        for r in resources
        if r.type == LOCK_TYPE and r.inputs.get("level") == "CanNotDelete"
    ]


def _warn(
    change: ResourceChange,
    old: _Resource,
    new: _Resource | None,
    base_locks: list[_Lock],
    head_locks: list[_Lock],
) -> None:
    removes = change.action in ("delete", "replace")
    if not removes:
        return
    retained = bool(old.doc.get("retainOnDelete"))
    verb = "deleting" if change.action == "delete" else "replacing"
    # A delete is refused when the state protects the resource; a replacement only when the program
    # still does too (unprotecting and replacing in one deploy is allowed): step_generator.go.
    protected = bool(old.doc.get("protect")) and (
        change.action == "delete" or bool(new and new.doc.get("protect"))
    )
    if protected:
        change.blocked.append(
            f"protected: `pulumi up` refuses {verb} it until a deploy with `protect` off has run"
        )
    arm_id = str(old.doc.get("id", ""))
    if arm_id and change.type != LOCK_TYPE and deletes_in_azure(change.type, retained):
        # The lock's own deletion comes first when the head drops it (it depends on what it guards);
        # a lock that stays, or any lock during a delete-first replacement, refuses the delete.
        locks = head_locks if change.action == "delete" else base_locks
        for lock in locks:
            # A lock also covers the resource at its scope (the registry itself), not only below it.
            same = arm_id.lower() == lock.scope.lower().rstrip("/")
            if lock.scope and (same or below(arm_id, lock.scope)):
                change.blocked.append(f"locked by {lock.name} (CanNotDelete): Azure refuses with ScopeLocked")
    if change.type in DATA_LOSS and not retained:
        change.warnings.insert(0, f"DATA LOSS: {verb} it loses {DATA_LOSS[change.type]}")
    if retained and change.action == "delete":
        change.warnings.append("retained on delete: it stays in Azure and only leaves the stack")


def exit_code(diff: PlanDiff) -> int:
    """As `terraform plan -detailed-exitcode`: 0 no changes, 2 changes (1 is left for errors)."""
    return 2 if diff.changed else 0
