"""The readable form of a plan: a tree of what would be created, like `pulumi preview`."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from acr_cache.plan import Plan
from acr_cache.plan.runner import PlannedResource
from acr_cache.plan.values import render
from acr_cache.redaction import one_line


def render_table(plan: Plan) -> str:
    run = plan.run
    children: dict[str | None, list[PlannedResource]] = defaultdict(list)
    for resource in run.resources:
        children[resource.parent].append(resource)
    lines = [
        f"Offline plan of {run.project}/{run.stack} (Pulumi mocks; nothing is deployed or read from Azure)",
        "",
        f"+ pulumi:pulumi:Stack  {run.project}-{run.stack}",
    ]

    def walk(parent: str | None, depth: int) -> None:
        for resource in sorted(children[parent], key=lambda r: (r.name, r.type)):
            indent = "    " * depth
            flags = ("  [protect]" if resource.protect else "") + (
                "  [retain on delete]" if resource.retain_on_delete else ""
            )
            # `=` is how `pulumi preview` marks a resource it imports rather than creates.
            sign = "=" if resource.import_id else "+"
            flags += f"  [adopt {resource.import_id}]" if resource.import_id else ""
            lines.append(f"{indent}{sign} {resource.type}  {resource.name}{flags}")
            if resource.custom:
                for key, value in _leaves(render(resource.inputs)):
                    lines.append(f"{indent}      {key}: {value}")
            walk(resource.urn, depth + 1)

    walk(None, 1)
    custom = sum(1 for r in run.resources if r.custom)
    lines.append("")
    if run.outputs:
        lines.append("Outputs:")
        for key, value in _leaves(render(run.outputs)):
            lines.append(f"    {key}: {value}")
        lines.append("")
    adopted = sum(bool(r.import_id) for r in run.resources)
    lines.append(
        f"Resources: {len(run.resources) - adopted} to create "
        f"({custom - adopted} Azure resources, {len(run.resources) - custom} components)"
        + (f", {adopted} to adopt" if adopted else "")
    )
    lines.append(f"Schema problems: {len(plan.schema_problems)}")
    lines += _by_subscription(run.resources)
    return "\n".join(lines) + "\n"


def _by_subscription(resources: list[PlannedResource]) -> list[str]:
    """Where the Azure resources go, per subscription, when they span several."""
    from acr_cache.plan import provider_subscriptions, subscription_of_resource

    providers = provider_subscriptions(resources)
    placed: dict[str, list[PlannedResource]] = defaultdict(list)
    for resource in resources:
        if resource.custom and resource.type not in ("pulumi:providers:azure-native",):
            placed[subscription_of_resource(resource) or "?"].append(resource)
    if len(placed) < 2 and not providers:
        return []
    through = {sub: urn.rsplit("::", 1)[-1] for urn, sub in providers.items()}
    lines = ["", "By subscription:"]
    for subscription in sorted(placed):
        how = f"provider {through[subscription]}" if subscription in through else "the default provider"
        kinds = sorted(r.type.rsplit(":", 1)[-1] for r in placed[subscription])
        summary = ", ".join(f"{kinds.count(k)} {k}" for k in dict.fromkeys(kinds))
        lines.append(f"    {subscription} ({how}): {summary}")
    return lines


def _leaves(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Flatten nested inputs into `a.b[0].c: value` pairs for display."""
    if isinstance(value, dict) and value:
        return [pair for k in sorted(value) for pair in _leaves(value[k], f"{prefix}.{k}" if prefix else k)]
    if isinstance(value, list) and value:
        return [pair for i, item in enumerate(value) for pair in _leaves(item, f"{prefix}[{i}]")]
    text = value if isinstance(value, str) else json.dumps(value)
    # One input, one line: a value with a line break in it must not look like two.
    return [(one_line(prefix), one_line(text))]
