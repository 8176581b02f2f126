"""Reads a Pulumi project and one stack's config file the way the Pulumi CLI hands them to a program."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from acr_cache.config import OFFLINE_PLACEHOLDER as PLACEHOLDER_SECRET

__all__ = ["PLACEHOLDER_SECRET", "StackFileError", "StackFiles", "load_stack_files"]


class StackFileError(Exception):
    """The project or stack file cannot be read; the message says which and why."""


@dataclass
class StackFiles:
    project: str
    project_dir: Path
    main: Path
    stack: str
    config: dict[str, str]
    secret_keys: list[str]
    placeholder_keys: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def load_stack_files(stack: str | None, config_path: Path | None, cwd: Path) -> StackFiles:
    """Resolve `acr-cache plan STACK` (Pulumi.STACK.yaml in cwd) or `--config PATH/Pulumi.NAME.yaml`."""
    if config_path is not None:
        stack_file = config_path
        name = stack_file.name
        if not (name.startswith("Pulumi.") and name.endswith((".yaml", ".yml"))) or name.count(".") < 2:
            raise StackFileError(f"{stack_file}: a stack config file is named Pulumi.<stack>.yaml")
        stack_name = name[len("Pulumi.") :].rsplit(".", 1)[0]
        # The project is the one beside the stack file, else the one in the current directory.
        project_dir = stack_file.parent if _project_file(stack_file.parent) else cwd
    elif stack:
        stack_name = stack
        project_dir = cwd
        stack_file = cwd / f"Pulumi.{stack}.yaml"
    else:
        raise StackFileError("name a stack (`acr-cache plan dev`) or a file (`--config Pulumi.dev.yaml`)")

    project_file = _project_file(project_dir)
    if project_file is None:
        raise StackFileError(f"no Pulumi.yaml in {project_dir}: run the plan from the project directory")
    project_doc = _read_yaml(project_file)
    project = project_doc.get("name")
    if not isinstance(project, str) or not project:
        raise StackFileError(f"{project_file}: `name` is missing")
    main = project_dir / str(project_doc.get("main") or ".")
    if main.is_dir():
        main = main / "__main__.py"
    if not main.is_file():
        raise StackFileError(f"{project_file}: the program `{main}` does not exist")

    if not stack_file.is_file():
        raise StackFileError(
            f"{stack_file} does not exist: name an existing stack (Pulumi.<stack>.yaml in {project_dir}) "
            "or pass --config PATH"
        )
    stack_doc = _read_yaml(stack_file)
    raw_config = stack_doc.get("config") or {}
    if not isinstance(raw_config, dict):
        raise StackFileError(f"{stack_file}: `config` must be a mapping of keys to values")

    files = StackFiles(project, project_dir, main, stack_name, {}, [])
    if stack_doc.get("environment"):
        files.notes.append(
            "the stack imports Pulumi ESC environments, which cannot be opened offline; "
            "only the values in the file are planned"
        )
    for key, value in raw_config.items():
        full_key = str(key) if ":" in str(key) else f"{project}:{key}"
        text, secret = _to_config_value(value)
        files.config[full_key] = text
        if secret:
            files.secret_keys.append(full_key)
            files.placeholder_keys.append(full_key)
    files.secret_keys.sort()
    files.placeholder_keys.sort()
    return files


def _project_file(directory: Path) -> Path | None:
    for name in ("Pulumi.yaml", "Pulumi.yml"):
        if (directory / name).is_file():
            return directory / name
    return None


# libyaml's parser when PyYAML has it (its wheels do): a 1,000-rule stack file parses in
# milliseconds instead of a few hundred.
_SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_SafeLoader):
    """A YAML loader that refuses duplicate keys, as the Pulumi CLI does (PyYAML keeps the last)."""


def _no_duplicates(loader: Any, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    # A mapping is built once, and looked at key by key only when it came out smaller than its
    # keys. Merge keys (`<<`) go that way too, where PyYAML refuses them as before.
    if not any(key_node.tag == _MERGE_TAG for key_node, _ in node.value):
        mapping = loader.construct_mapping(node, deep=deep)
        if len(mapping) == len(node.value):
            return mapping
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise StackFileError(
                f"line {key_node.start_mark.line + 1}: the key '{key}' appears twice in one mapping"
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_MERGE_TAG = "tag:yaml.org,2002:merge"
_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)
    except StackFileError as exc:
        raise StackFileError(f"{path}: {exc}") from None
    except (OSError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise StackFileError(f"{path}: cannot read it as YAML{where}") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise StackFileError(f"{path}: expected a YAML mapping at the top level")
    return document


def _to_config_value(value: Any) -> tuple[str, bool]:
    """The string Pulumi passes to the program for one config value, and whether it is secret."""
    found_secret = False

    def walk(node: Any) -> Any:
        nonlocal found_secret
        if isinstance(node, dict):
            if set(node) == {"secure"}:
                found_secret = True
                return PLACEHOLDER_SECRET
            return {str(k): walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    converted = walk(value)
    if isinstance(converted, dict | list):
        return json.dumps(converted), found_secret
    if isinstance(converted, bool):
        return ("true" if converted else "false"), found_secret
    if converted is None:
        return "", found_secret
    return str(converted), found_secret
