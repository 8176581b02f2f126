#!/usr/bin/env python3
"""Benchmark of the acr-cache program against the floor, at the sizes Azure allows.

    .venv/bin/python bench/run.py [--runs 5] [--size 1000/0/0 ...] [--json bench/results.json]

For each generated stack config it measures, in fresh processes, side by side:
- `acr-cache plan` end to end: wall time and peak resident memory;
- the floor: a bare program that registers the same resources (types and inputs taken from the
  plan) directly through the azure-native classes under the same mocks, with no components and no
  validation; once as the SDK does by default, once with the registration shortcuts the
  program takes (settings any program can take: acr_cache.performance.register());
- CPU time (user + system, from each child's rusage) beside wall time: on a shared machine wall
  time swings by tens of percent between back-to-back runs, CPU time by a few;
- Python start plus import time;
- the deploy critical path: the longest dependency chain of Azure resources, and how many could
  be created in parallel at each step.

Only the standard library and the project's own dependencies; medians of --runs runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
SUB = "00000000-0000-0000-0000-000000000000"
# (cache rules, replicas, private endpoints)
SIZES = [(10, 0, 0), (100, 0, 0), (1000, 0, 0), (100, 3, 2), (1000, 10, 5)]
REGIONS = [
    "northeurope", "swedencentral", "francecentral", "germanywestcentral", "uksouth",
    "norwayeast", "switzerlandnorth", "italynorth", "polandcentral", "spaincentral",
]  # fmt: skip


def stack_config(rules: int, replicas: int, endpoints: int) -> dict[str, Any]:
    """A valid stack config of the given size (no secrets needed: MCR rules only)."""
    config: dict[str, Any] = {
        "acr-cache:resourceGroup": {"name": "rg-bench"},
        "acr-cache:registry": {"name": "acrbench01", "location": "westeurope"},
        "acr-cache:cacheRules": {
            f"mcr-team{i:04d}": {"source": f"mcr.microsoft.com/team{i}/app", "target": f"team{i}/app"}
            for i in range(rules)
        },
    }
    if replicas:
        config["acr-cache:replicas"] = {region: {} for region in REGIONS[:replicas]}
    if endpoints:
        # Private-only, as the baseline wants it: no exports out of a private registry.
        config["acr-cache:registry"]["exportEnabled"] = False
        config["acr-cache:privateAccess"] = {
            "endpoints": {
                f"vnet{i}": {
                    "subnetId": f"/subscriptions/{SUB}/resourceGroups/rg-net{i}/providers/Microsoft.Network/"
                    f"virtualNetworks/vnet{i}/subnets/pe"
                }
                for i in range(endpoints)
            }
        }
    return {"config": config}


_FLOOR = r"""
import json, sys, time
start = time.perf_counter()
from acr_cache.plan import program_from_file
from acr_cache.plan.runner import run_program
from pathlib import Path

# The bare program runs the way Pulumi runs every program (and `acr-cache plan` runs ours): as a
# file, through runpy, under the same runner and mocks.
Path("floor_program.py").write_text(PROGRAM)
run = run_program(program_from_file(Path("floor_program.py").resolve()), project="acr-cache", stack=sys.argv[1], config={})
urns = sorted(r.urn for r in run.resources)
print(json.dumps({"resources": len(run.resources), "urns": urns, "seconds": time.perf_counter() - start}), flush=True)
# Leave the way `acr-cache plan` does, without interpreter teardown, so both measure the same work.
import os
os._exit(0)
"""

# The same resources as the plan, registered bare: each azure-native resource through its class
# with the plan's inputs and the plan's options (parent, dependencies, protect, retain on delete,
# replace on changes, delete before replace, ignore changes), each component as a plain
# ComponentResource of the same type and name, so every URN is the plan's; an input that the plan
# says comes from other resources is passed as an Output of them, so the request carries the same
# property dependencies. Registered in dependency order, so that every dependency exists when its
# dependent is made.
_FLOOR_PROGRAM = r"""
import importlib, json, os
import pulumi
from pulumi import _types
from acr_cache.plan.schema import resource_args_class

if os.environ["FLOOR_MODE"] == "shortcut":
    from acr_cache import performance
    performance.register()
plan = json.load(open(os.environ["FLOOR_PLAN"]))
resources = {r["urn"]: r for r in plan["resources"]}
order, seen = [], set()
def visit(urn):
    if urn in seen or urn not in resources:
        return
    seen.add(urn)
    resource = resources[urn]
    for before in [resource["parent"], *resource["dependsOn"]]:
        visit(before)
    order.append(resource)
for urn in resources:
    visit(urn)
made = {}
carried = {}
for resource in order:
    token = resource["type"]
    opts = pulumi.ResourceOptions(
        parent=made.get(resource["parent"]),
        depends_on=[made[u] for u in resource["dependsOn"]] or None,
        protect=resource["protect"],
        retain_on_delete=resource["retainOnDelete"] or None,
        replace_on_changes=resource.get("replaceOnChanges"),
        delete_before_replace=resource.get("deleteBeforeReplace"),
        ignore_changes=resource.get("ignoreChanges"),
    )
    if not token.startswith("azure-native:"):
        made[resource["urn"]] = pulumi.ComponentResource(token, resource["name"], None, opts)
        continue
    _, module, name = token.split(":")
    cls = getattr(importlib.import_module(f"pulumi_azure_native.{module}"), name)
    names = {wire: py for py, wire in _types.input_type_py_to_pulumi_names(resource_args_class(token)).items()}
    inputs = dict(resource["inputs"])
    for key, sources in (resource.get("propertyDependencies") or {}).items():
        # An input that comes from other resources is sent with them as its dependencies, as the
        # program sends it: one Output per value and sources, shared by every resource using it.
        if key in inputs and all(u in made for u in sources):
            shared = (key, json.dumps(inputs[key], sort_keys=True), tuple(sources))
            if shared not in carried:
                value = inputs[key]
                carried[shared] = pulumi.Output.all(*[made[u].urn for u in sources]).apply(lambda _, v=value: v)
            inputs[key] = carried[shared]
    made[resource["urn"]] = cls(resource["name"], **{names[key]: value for key, value in inputs.items()}, opts=opts)
"""


class Run(NamedTuple):
    """One fresh process, measured."""

    wall: float
    """Seconds from start to exit, as a person waits for them (moves with the machine's load)."""
    peak_mb: float
    cpu: float
    """User plus system CPU seconds of the process (its own rusage: what `getrusage(RUSAGE_CHILDREN)`
    adds for it). Far steadier than wall time on a shared machine: the work, not the waiting."""
    out: str


def measure(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> Run:
    """Wall seconds, peak RSS in MB, CPU seconds and stdout of one fresh process."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})}
    )
    assert process.stdout is not None
    out = process.stdout.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0,):
        raise RuntimeError(f"{' '.join(command)} failed with status {status}")
    return Run(wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, out)


def critical_path(plan: dict[str, Any]) -> tuple[int, list[int]]:
    """Longest chain of Azure resources and the width of each creation step."""
    resources = {r["urn"]: r for r in plan["resources"]}
    children: dict[str, list[str]] = {}
    for r in plan["resources"]:
        if r["parent"]:
            children.setdefault(r["parent"], []).append(r["urn"])

    def expand(urn: str) -> list[str]:
        # Waiting for a component means waiting for everything inside it.
        if resources[urn]["type"].startswith("azure-native:"):
            return [urn]
        return [leaf for child in children.get(urn, []) for leaf in expand(child)]

    azure = [u for u, r in resources.items() if r["type"].startswith("azure-native:")]
    depth: dict[str, int] = {}

    def level(urn: str) -> int:
        if urn not in depth:
            deps = {leaf for dep in resources[urn]["dependsOn"] if dep in resources for leaf in expand(dep)}
            depth[urn] = 1 + max((level(d) for d in deps), default=0)
        return depth[urn]

    for urn in azure:
        level(urn)
    longest = max(depth.values(), default=0)
    widths = [sum(1 for d in depth.values() if d == step) for step in range(1, longest + 1)]
    return longest, widths


def _size(text: str) -> tuple[int, int, int]:
    parts = text.split("/")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        raise argparse.ArgumentTypeError(f"'{text}' is not RULES/REPLICAS/ENDPOINTS, e.g. 1000/0/0")
    return int(parts[0]), int(parts[1]), int(parts[2])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (median reported)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--size",
        action="append",
        type=_size,
        metavar="RULES/REPLICAS/ENDPOINTS",
        help="measure only this size (repeatable), e.g. 1000/0/0; default: all five",
    )
    args = parser.parse_args()
    sizes = args.size or SIZES
    python = sys.executable
    # As `dev.py` leaves them: the project's own modules compiled once, not at every run.
    subprocess.run([python, "-m", "compileall", "-q", "components", "stacks"], cwd=ROOT, check=True)
    acr_cache = str(Path(python).parent / "acr-cache")
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
        (work / "stacks").mkdir()
        (work / "stacks" / "__main__.py").write_text((ROOT / "stacks" / "__main__.py").read_text())
        # Pulumi.yaml has no `main`: the project's own `__main__.py` runs `stacks/__main__.py`.
        (work / "__main__.py").write_text((ROOT / "__main__.py").read_text())
        (work / "floor.py").write_text(_FLOOR.replace("PROGRAM", repr(_FLOOR_PROGRAM)))
        startup_runs = [
            measure([python, "-c", "import acr_cache.program, pulumi_azure_native.containerregistry"], work)
            for _ in range(args.runs)
        ]
        startup = statistics.median(r.wall for r in startup_runs)
        startup_cpu = statistics.median(r.cpu for r in startup_runs)
        for rules, replicas, endpoints in sizes:
            stack = f"r{rules}-g{replicas}-e{endpoints}"
            (work / f"Pulumi.{stack}.yaml").write_text(json.dumps(stack_config(rules, replicas, endpoints)))
            plan_json = measure([acr_cache, "plan", stack, "--format", "json"], work).out
            (work / f"{stack}.json").write_text(plan_json)
            plan = json.loads(plan_json)
            # Interleaved, so that a slow moment of the machine hits all three alike.
            plan_runs: list[Run] = []
            floors: dict[str, list[Run]] = {"default": [], "shortcut": []}
            for _ in range(args.runs):
                plan_runs.append(measure([acr_cache, "plan", stack, "--format", "json"], work))
                for mode in floors:
                    env = {"FLOOR_MODE": mode, "FLOOR_PLAN": f"{stack}.json"}
                    floors[mode].append(measure([python, "floor.py", stack], work, env))
                    floor_urns = json.loads(floors[mode][-1].out)["urns"]
                    if floor_urns != sorted(r["urn"] for r in plan["resources"]):
                        raise RuntimeError(
                            f"the {mode} floor of {stack} registered other resources than the plan"
                        )
            count = len(plan["resources"])
            azure = sum(1 for r in plan["resources"] if r["type"].startswith("azure-native:"))
            wall = statistics.median(r.wall for r in plan_runs)
            floor_default = statistics.median(r.wall for r in floors["default"])
            floor = statistics.median(r.wall for r in floors["shortcut"])
            cpu = statistics.median(r.cpu for r in plan_runs)
            floor_cpu = statistics.median(r.cpu for r in floors["shortcut"])
            floor_default_cpu = statistics.median(r.cpu for r in floors["default"])
            longest, widths = critical_path(plan)
            results.append(
                {
                    "size": {"cacheRules": rules, "replicas": replicas, "privateEndpoints": endpoints},
                    "resources": count,
                    "azureResources": azure,
                    "planSeconds": round(wall, 3),
                    "planPeakMB": round(max(r.peak_mb for r in plan_runs), 1),
                    "planCpuSeconds": round(cpu, 3),
                    "floorSeconds": round(floor, 3),
                    "floorPeakMB": round(max(r.peak_mb for r in floors["shortcut"]), 1),
                    "floorCpuSeconds": round(floor_cpu, 3),
                    "floorDefaultSeconds": round(floor_default, 3),
                    "floorDefaultPeakMB": round(max(r.peak_mb for r in floors["default"]), 1),
                    "floorDefaultCpuSeconds": round(floor_default_cpu, 3),
                    "overheadVsFloor": round(wall / floor - 1, 3),
                    "cpuRatio": round(cpu / floor_cpu, 3),
                    "cpuRatioSdkDefault": round(floor_default_cpu / cpu, 2),
                    "msPerResource": round((wall - startup) / count * 1000, 2),
                    "criticalPath": longest,
                    "parallelWidths": widths,
                }
            )
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"
    )
    print(
        f"python start + import: {startup:.2f} s wall, {startup_cpu:.2f} s CPU (median of {args.runs}); "
        "plan and floors interleaved, each a fresh process"
    )
    header = (
        "| rules | replicas | PEs | resources | plan CPU s | floor CPU s | CPU ratio | SDK-default floor CPU s | "
        "plan wall s | floor wall s | wall overhead | plan MB | floor MB | ms/resource | critical path | "
        "parallel widths |"
    )
    print(header)
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        size = r["size"]
        print(
            f"| {size['cacheRules']} | {size['replicas']} | {size['privateEndpoints']} | {r['resources']} | "
            f"{r['planCpuSeconds']:.2f} | {r['floorCpuSeconds']:.2f} | {r['cpuRatio']:.3f} | "
            f"{r['floorDefaultCpuSeconds']:.2f} | {r['planSeconds']:.2f} | {r['floorSeconds']:.2f} | "
            f"{r['overheadVsFloor']:+.0%} | {r['planPeakMB']:.0f} | {r['floorPeakMB']:.0f} | "
            f"{r['msPerResource']:.2f} | {r['criticalPath']} | {'/'.join(map(str, r['parallelWidths']))} |"
        )
    if args.json:
        document = {"startupSeconds": round(startup, 3), "startupCpuSeconds": round(startup_cpu, 3)}
        args.json.write_text(json.dumps({**document, "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
