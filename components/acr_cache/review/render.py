"""A plan diff as people read it: a terminal table, or markdown for a pull request comment."""

from __future__ import annotations

import json
from typing import Any

from acr_cache.redaction import one_line
from acr_cache.review.diff import ACTIONS, PlanDiff, ResourceChange

SIGNS = {"create": "+", "adopt": "=", "update": "~", "replace": "+-", "delete": "-"}
MAX_VALUE = 80


def pair_text(old: Any, new: Any) -> tuple[str, str]:
    """Both values; when either is long, the part that changed with a little context on each side
    (the same prefix and suffix cut from both), so the difference is never outside the window."""
    before, after = value_text_full(old), value_text_full(new)
    if len(before) <= MAX_VALUE and len(after) <= MAX_VALUE:
        return before, after
    start = next(
        (i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b),
        min(len(before), len(after)),
    )
    end = 0  # how many characters both share at their ends, not overlapping the shared start
    while end < min(len(before), len(after)) - start and before[-1 - end] == after[-1 - end]:
        end += 1
    lead = max(0, start - CONTEXT)

    def cut(text: str) -> str:
        stop = len(text) - end
        middle = text[start:stop]
        if len(middle) > MAX_VALUE:
            middle = middle[: MAX_VALUE // 2] + "..." + middle[-(MAX_VALUE // 2) :]
        tail = text[stop : stop + CONTEXT]
        return (
            ("..." if lead else "")
            + text[lead:start]
            + middle
            + tail
            + ("..." if stop + CONTEXT < len(text) else "")
        )

    return cut(before), cut(after)


CONTEXT = 20
"""Characters of unchanged text shown on each side of a change in a long value."""


def value_text_full(value: Any) -> str:
    if value is None:
        return "(none)"
    return one_line(value if isinstance(value, str) else json.dumps(value, sort_keys=True))


def summary(diff: PlanDiff) -> str:
    counts = diff.counts()
    parts = [f"{counts[action]} to {action}" for action in ACTIONS if counts[action]]
    blocked = sum(bool(c.blocked) for c in diff.changes)
    failing = sum(bool(c.fails) for c in diff.changes)
    text = ", ".join(parts) if parts else "no changes"
    if blocked:
        text += f"; {blocked} blocked"
    if failing:
        text += f"; {failing} would fail in Azure"
    return text


def render_table(diff: PlanDiff) -> str:
    lines = [f"Offline diff {diff.base} -> {diff.head} (plans, not state: nothing was read from Azure)", ""]
    for change in diff.changes:
        lines.extend(_change_lines(change, "  "))
    if diff.changes:
        lines.append("")
    components = diff.components
    if any(components.values()):
        lines.append(f"Components: {components['create']} to create, {components['delete']} to delete")
    lines.append(f"Resources: {summary(diff)}")
    if diff.cost is not None:
        lines.append(diff.cost.line())
    lines.extend(f"note: {note}" for note in diff.notes)
    return "\n".join(lines) + "\n"


def _change_lines(change: ResourceChange, indent: str) -> list[str]:
    head = f"{SIGNS[change.action]} {change.action:<7} {change.short_type}  {change.name}"
    if change.action == "replace":
        head += "  [delete first]" if change.delete_before_replace else "  [create first]"
    if change.old_urn:
        head += f"  (was {change.old_urn.rsplit('::', 1)[-1]})"
    lines = [indent + head]
    if change.follows:
        lines.append(
            f"{indent}      follows the replacement of {change.follows} (deleted before it, created after it)"
        )
    for prop in change.properties:
        mark = "  [replaces]" if prop.replaces else ""
        before, after = pair_text(prop.old, prop.new)
        lines.append(f"{indent}      {prop.path}: {before} => {after}{mark}")
    for reason in change.blocked:
        lines.append(f"{indent}      BLOCKED: {reason}")
    for reason in change.fails:
        lines.append(f"{indent}      WILL FAIL: {reason}")
    for warning in change.warnings:
        lines.append(f"{indent}      ! {warning}")
    return lines


def _cell(text: str) -> str:
    return one_line(text).replace("|", "\\|")


def render_markdown(diff: PlanDiff, graph: str | None = None) -> str:
    """A pull request comment: the summary first, then what is blocked or loses data, then the table."""
    counts = diff.counts()
    lines = [f"### acr-cache diff `{diff.base}`", ""]
    lines.append(f"**{summary(diff)}**")
    lines.append("")
    loud = [
        c for c in diff.changes if c.blocked or c.fails or any(w.startswith("DATA LOSS") for w in c.warnings)
    ]
    if loud:
        lines.append("> [!CAUTION]")
        for change in loud:
            reasons = [
                *change.blocked,
                *(f"will fail: {f}" for f in change.fails),
                *[w for w in change.warnings if w.startswith("DATA LOSS")],
            ]
            for reason in reasons:
                lines.append(f"> - **{change.action} {change.short_type} `{change.name}`**: {_cell(reason)}")
        lines.append("")
    if diff.changes:
        lines.append("| | Resource | Type | Changes |")
        lines.append("|---|---|---|---|")
        for change in diff.changes:
            details = [
                "`{}`: `{}` → `{}`".format(_cell(p.path), *map(_cell, pair_text(p.old, p.new)))
                + (" (replaces)" if p.replaces else "")
                for p in change.properties
            ]
            details += [f"⚠ {_cell(w)}" for w in change.warnings if not w.startswith("DATA LOSS")]
            if change.follows:
                details.insert(0, f"follows the replacement of `{_cell(change.follows)}`")
            if change.action == "replace":
                details.insert(
                    0, "delete first, then create" if change.delete_before_replace else "create first"
                )
            lines.append(
                f"| {SIGNS[change.action]} {change.action} | `{_cell(change.name)}` | {change.short_type} | "
                + ("<br>".join(details) or "")
                + " |"
            )
        lines.append("")
    if diff.cost is not None:
        lines.extend(diff.cost.markdown())
        lines.append("")
    if graph:
        lines.extend(
            [
                "<details><summary>Topology after the change</summary>",
                "",
                graph.rstrip(),
                "",
                "</details>",
                "",
            ]
        )
    lines.append(
        f"<sub>Offline: computed from two `acr-cache plan` runs, not from state; `pulumi preview` is the "
        f"final word. {sum(counts.values())} resource change(s).</sub>"
    )
    return "\n".join(lines) + "\n"
