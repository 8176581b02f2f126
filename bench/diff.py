#!/usr/bin/env python3
"""Benchmark of `acr-cache diff` on two 1,000-rule plans (target: under 3 s end to end).

    .venv/bin/python bench/diff.py [--runs 5] [--rules 1000] [--json bench/diff.json]

The base is a generated stack of RULES cache rules (bench/run.py's configs); the head reorders
every rule, changes the target of 10, removes 5 and adds 5. Both are planned once (`acr-cache plan
--format json`); then, in fresh processes, `acr-cache diff BASE HEAD` is timed end to end for each
output format, and `diff_plans` alone in-process. Medians of --runs runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from run import stack_config  # noqa: E402  (bench/ is not a package)

ACR_CACHE = Path(sys.executable).parent / "acr-cache"


def head_config(config: dict[str, Any]) -> dict[str, Any]:
    rules = config["acr-cache:cacheRules"]
    names = list(rules)
    changed = dict(reversed(list(rules.items())))
    for name in names[:10]:
        changed[name] = {**changed[name], "target": changed[name]["target"] + "-v2"}
    for name in names[10:15]:
        del changed[name]
    for i in range(5):
        changed[f"mcr-new{i:04d}"] = {"source": f"mcr.microsoft.com/new{i}/app", "target": f"new{i}/app"}
    return {**config, "acr-cache:cacheRules": changed}


def plan(config: dict[str, Any], directory: Path, name: str) -> Path:
    stack_dir = directory / name
    stack_dir.mkdir()
    stack_file = stack_dir / "Pulumi.bench.yaml"
    stack_file.write_text(yaml.safe_dump({"config": config}), encoding="utf-8")
    out = directory / f"{name}.json"
    with out.open("w") as handle:
        subprocess.run(
            [str(ACR_CACHE), "plan", "--config", str(stack_file), "--cwd", str(ROOT), "--format", "json"],
            stdout=handle,
            stderr=subprocess.DEVNULL,
            check=False,
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        base_config = stack_config(args.rules, 0, 0)["config"]
        base = plan(base_config, directory, "base")
        head = plan(head_config(base_config), directory, "head")
        figures: dict[str, Any] = {"rules": args.rules, "runs": args.runs}
        for fmt in ("table", "json", "markdown"):
            times, code = [], None
            for _ in range(args.runs):
                start = time.perf_counter()
                done = subprocess.run(
                    [str(ACR_CACHE), "diff", str(base), str(head), "--format", fmt],
                    capture_output=True,
                    check=False,
                )
                times.append(time.perf_counter() - start)
                code = done.returncode
            figures[f"cli_{fmt}_s"] = round(statistics.median(times), 3)
            figures["exit_code"] = code
        from acr_cache.review.diff import diff_plans

        documents = [json.loads(path.read_text()) for path in (base, head)]
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            result = diff_plans(*documents)
            times.append(time.perf_counter() - start)
        figures["diff_plans_s"] = round(statistics.median(times), 3)
        figures["counts"] = result.counts()
        figures["resources"] = [len(d["resources"]) for d in documents]
    print(json.dumps(figures, indent=1))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
