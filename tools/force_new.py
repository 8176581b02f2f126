#!/usr/bin/env python3
"""Check components/acr_cache/data/force_new.json against a checkout of the REST specs and
azure-native's replacement.go, by azure-native's generator rules (provider/pkg/gen/properties.go
`forceNew`): a property of the PUT body (the `properties` bag flattened into it) marked
`x-ms-mutability` with `create` and without `update` is force-new, and so is one listed for the
type in `forceNewMap`. A create-only property of a referenced object type is not: the generator
marks it `ForceNewInferredFromReferencedTypes` (its `isType` case), and the provider's diff
(provider/pkg/provider/diff.go `findForceNew`, one level into object and array types) replaces
only on `ForceNew`.

    python3 tools/force_new.py --specs ~/src/azure-rest-api-specs --replacement replacement.go

Prints each difference and exits 1 when there is one; the table's `read` entries are the ones this
check has confirmed. Standard library only; the specs are large, so nothing here downloads them.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "components" / "acr_cache" / "data" / "force_new.json"
SPECS_PREFIX = "Azure/azure-rest-api-specs "


def create_only(schema: dict[str, Any]) -> bool:
    mutability = schema.get("x-ms-mutability")
    return isinstance(mutability, list) and "create" in mutability and "update" not in mutability


class Spec:
    """One spec file and the files its `$ref`s reach (resolved relative to it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.documents: dict[Path, dict[str, Any]] = {}

    def load(self, path: Path) -> dict[str, Any]:
        path = path.resolve()
        if path not in self.documents:
            self.documents[path] = json.loads(path.read_text(encoding="utf-8"))
        return self.documents[path]

    def resolve(self, schema: dict[str, Any], where: Path) -> tuple[dict[str, Any], Path]:
        while "$ref" in schema:
            file, _, pointer = str(schema["$ref"]).partition("#")
            target = (where.parent / file) if file else where
            node: Any = self.load(target)
            for part in pointer.strip("/").split("/"):
                if part:
                    node = node[part.replace("~1", "/").replace("~0", "~")]
            schema, where = node, target
        return schema, where

    def properties(self, schema: dict[str, Any], where: Path) -> dict[str, tuple[dict[str, Any], Path]]:
        """Every property of a schema as azure-native sees it: allOf merged, flattened bags lifted."""
        schema, where = self.resolve(schema, where)
        found: dict[str, tuple[dict[str, Any], Path]] = {}
        for parent in schema.get("allOf", []):
            found.update(self.properties(parent, where))
        for name, prop in (schema.get("properties") or {}).items():
            resolved, at = self.resolve(prop, where)
            if prop.get("x-ms-client-flatten") and "additionalProperties" not in resolved:
                found.update(self.properties(resolved, at))
            else:
                found[name] = (prop, where)
        return found


def body_schema(spec: Spec, arm_path: str) -> tuple[dict[str, Any], Path]:
    """The PUT body of the operation whose path ends with the resource's ARM path."""
    document = spec.load(spec.path)
    tail = re.sub(r"\{[^}]+\}", "{}", arm_path).lower()
    for path, operations in (document.get("paths") or {}).items():
        if re.sub(r"\{[^}]+\}", "{}", path).lower().endswith(tail) and "put" in operations:
            for parameter in operations["put"].get("parameters", []):
                parameter, where = spec.resolve(parameter, spec.path)
                if parameter.get("in") == "body":
                    return parameter["schema"], where
    raise LookupError(f"no PUT of {arm_path} in {spec.path}")


def derive(spec: Spec, arm_path: str) -> set[str]:
    """Force-new properties of the PUT body by the x-ms-mutability rule (top level, flattened bags
    included; a referenced type's own create-only properties do not replace the resource)."""
    schema, where = body_schema(spec, arm_path)
    found = set()
    for name, (prop, at) in spec.properties(schema, where).items():
        own = prop if "x-ms-mutability" in prop else spec.resolve(prop, at)[0]
        if create_only(own):
            found.add(name)
    return found


def force_new_map(text: str) -> dict[tuple[str, str], set[str]]:
    """(module, resource) -> properties of replacement.go's forceNewMap."""
    found: dict[tuple[str, str], set[str]] = {}
    body = text.split("var forceNewMap", 1)[1].split("\nvar ", 1)[0]
    module = ""
    for line in body.splitlines():
        line = line.split("//", 1)[0]
        if match := re.match(r'\s*"(\w+)":\s*\{\s*$', line):
            module = match[1]
        elif match := re.match(r'\s*"(\w+)":\s*codegen\.NewStringSet\((.*)', line):
            found[(module.lower(), match[1])] = set(re.findall(r'"(\w+)"', match[2]))
        elif module and (more := re.findall(r'"(\w+)"', line)) and found:
            last = next(reversed(found))
            found[last] |= set(more)
    return found


def check(table: dict[str, Any], specs: Path, replacement: str, arm_paths: dict[str, str]) -> list[str]:
    mapped = force_new_map(replacement)
    problems = []
    for typ, entry in sorted(table["types"].items()):
        _, module, name = typ.split(":")
        spec_path = specs / entry["spec"].removeprefix(SPECS_PREFIX)
        expected = set(entry["forceNew"])
        try:
            derived = derive(Spec(spec_path), arm_paths[typ]) if typ in arm_paths else set()
        except (OSError, LookupError, KeyError) as exc:
            problems.append(f"{typ}: {exc}")
            continue
        derived |= mapped.get((module.lower(), name), set())
        if derived != expected:
            problems.append(f"{typ}: the sources say {sorted(derived)}, the table {sorted(expected)}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--specs", type=Path, required=True, help="a checkout of Azure/azure-rest-api-specs")
    parser.add_argument(
        "--replacement", type=Path, required=True, help="azure-native's provider/pkg/gen/replacement.go"
    )
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "components"))
    from acr_cache.azure_types import ARM_PATHS

    arm_paths = {typ: template for typ, (template, _) in ARM_PATHS.items()}
    problems = check(json.loads(TABLE.read_text()), args.specs, args.replacement.read_text(), arm_paths)
    for problem in problems:
        print(problem)
    print(f"{len(problems)} difference(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
