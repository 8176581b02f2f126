"""Reads a Pulumi project and one stack's config file the way the Pulumi CLI hands them to a program."""

from __future__ import annotations

import codecs
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from acr_cache.config import MAX_DEPTH
from acr_cache.config import OFFLINE_PLACEHOLDER as PLACEHOLDER_SECRET
from acr_cache.redaction import shown

__all__ = [
    "PLACEHOLDER_SECRET",
    "StackFileError",
    "StackFiles",
    "load_stack_files",
    "project_name_problem",
    "stack_name_problem",
]


class StackFileError(Exception):
    """The project or stack file cannot be read: one line per problem, each saying where and why."""

    def __init__(self, *problems: str) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(problems))


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
    environments: list[str] = field(default_factory=list)
    """The Pulumi ESC environments the stack imports (`environment:`), which the plan cannot open."""
    esc_keys: list[str] = field(default_factory=list)
    """Config keys an inline `environment:` definition sets under `values.pulumiConfig`."""


def load_stack_files(stack: str | None, config_path: Path | None, cwd: Path) -> StackFiles:
    """Resolve `acr-cache plan STACK` (Pulumi.STACK.yaml in cwd), `acr-cache plan PATH/Pulumi.NAME.yaml`
    or `--config PATH/Pulumi.NAME.yaml`."""
    if (
        config_path is None
        and stack is not None
        and (stack.endswith((".yaml", ".yml")) or Path(stack).is_file())
    ):
        # A file where a stack name goes: what a shell's completion writes (`org/dev` stays a name,
        # as Pulumi's fully qualified stack names have slashes).
        config_path, stack = Path(stack), None
    if config_path is not None:
        stack_file = config_path
        if stack_file.is_dir():
            raise StackFileError(
                f"{stack_file} is a directory: give the stack config file in it, e.g. "
                f"--config {stack_file / 'Pulumi.dev.yaml'}, or run `acr-cache plan <stack>` from it"
            )
        name = stack_file.name
        if not (name.startswith("Pulumi.") and name.endswith((".yaml", ".yml"))) or name.count(".") < 2:
            raise StackFileError(f"{shown(stack_file)}: a stack config file is named Pulumi.<stack>.yaml")
        stack_name = name[len("Pulumi.") :].rsplit(".", 1)[0]
        # The project is the one beside the stack file, else the one in the current directory.
        project_dir = stack_file.parent if _project_file(stack_file.parent) else cwd
    elif stack is not None:
        stack_name = stack
        project_dir = cwd
        stack_file = cwd / f"Pulumi.{stack}.yaml"
    else:
        raise StackFileError("name a stack (`acr-cache plan dev`) or a file (`--config Pulumi.dev.yaml`)")
    problem = stack_name_problem(stack_name)
    if problem:
        raise StackFileError(f"stack name '{shown(stack_name)}': {problem}")

    project_file = _project_file(project_dir)
    if project_file is None:
        raise StackFileError(f"no Pulumi.yaml in {project_dir}: run the plan from the project directory")
    project_doc = _read_yaml(project_file)
    project = project_doc.get("name")
    if not isinstance(project, str) or not project:
        raise StackFileError(f"{project_file}: `name` is missing")
    problem = project_name_problem(project)
    if problem:
        raise StackFileError(f"{project_file}: name '{shown(project)}': {problem}")
    main = project_dir / str(project_doc.get("main") or ".")
    if main.is_dir():
        main = main / "__main__.py"
    if not main.is_file():
        raise StackFileError(f"{project_file}: the program `{main}` does not exist")

    if not stack_file.is_file():
        stacks = existing_stacks(project_dir)
        known = f"the stacks here are {', '.join(stacks)}" if stacks else "there is no stack here yet"
        raise StackFileError(
            f"{stack_file} does not exist: {known} (Pulumi.<stack>.yaml in {project_dir}); name one of them, "
            f"pass a stack file's path, or write a new one with `acr-cache init {stack_name}`"
        )
    stack_doc = _read_yaml(stack_file)
    raw_config = stack_doc.get("config") or {}
    if not isinstance(raw_config, dict):
        raise StackFileError(f"{stack_file}: `config` must be a mapping of keys to values")

    files = StackFiles(project, project_dir, main, stack_name, {}, [])
    files.environments, files.esc_keys = _environments(stack_doc.get("environment"), project)
    if files.environments or files.esc_keys:
        files.notes.append(
            f"the stack imports Pulumi ESC environments ({', '.join(files.environments) or 'inline'}), which "
            "cannot be opened offline: only the values in this file are planned, and keys ESC provides "
            "under `values.pulumiConfig` are planned as placeholders"
        )
    problems = []
    for key, value in raw_config.items():
        # As the CLI does (stackConfigNamespacedWithProject, config.ParseKey): a key without a
        # namespace is the project's; one with more than one `:` is not a config key.
        full_key = str(key) if ":" in str(key) else f"{project}:{key}"
        namespace, _, rest = full_key.partition(":")
        if rest.startswith("config:") and rest.count(":") == 1:
            full_key = f"{namespace}:{rest.removeprefix('config:')}"  # the CLI's legacy form
        if full_key.count(":") != 1 or not full_key.partition(":")[0] or not full_key.partition(":")[2]:
            problems.append(
                f"config.{shown(key)}: not a config key: write `<namespace>:<name>` (`acr-cache:registry`) "
                "or a name alone (the project's namespace)"
            )
            continue
        try:
            text, secret = _to_config_value(value, full_key)
        except StackFileError as exc:
            problems.append(str(exc))
            continue
        files.config[full_key] = text
        if secret:
            files.secret_keys.append(full_key)
            files.placeholder_keys.append(full_key)
    if problems:
        raise StackFileError(*(f"{stack_file}: {problem}" for problem in problems))
    files.secret_keys.sort()
    files.placeholder_keys.sort()
    return files


def existing_stacks(project_dir: Path) -> list[str]:
    """The stacks whose files are in the project directory, by name."""
    names = {
        path.name[len("Pulumi.") :].rsplit(".", 1)[0]
        for pattern in ("Pulumi.*.yaml", "Pulumi.*.yml")
        for path in project_dir.glob(pattern)
    }
    return sorted(name for name in names if name and stack_name_problem(name) is None)


def _environments(value: object, project: str) -> tuple[list[str], list[str]]:
    """The ESC environments a stack file's `environment:` imports, and the config keys an inline
    definition sets (`values.pulumiConfig`): Pulumi takes a list of names, or a definition with
    `imports` and `values` (pulumi/pulumi sdk/go/common/workspace/project.go, `Environment`)."""
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str)], []
    if not isinstance(value, dict):
        return [], []
    imports = value.get("imports")
    names = [str(v) for v in imports if isinstance(v, str)] if isinstance(imports, list) else []
    values = value.get("values")
    config = values.get("pulumiConfig") if isinstance(values, dict) else None
    keys = [str(k) if ":" in str(k) else f"{project}:{k}" for k in config] if isinstance(config, dict) else []
    return names, keys


def stack_name_problem(name: str) -> str | None:
    """What Pulumi (tokens.ParseStackName) refuses in a stack name, with the fix; None if valid."""
    if not name:
        return "a stack name may not be empty"
    if len(name) > 100:
        return "a stack name cannot exceed 100 characters"
    bad = next((c for c in name if not _NAME_CHAR.fullmatch(c)), None)
    if bad is not None:
        hint = " (give the stack's own name, the part after the last `/`)" if bad == "/" else ""
        return (
            f"a stack name may only contain letters, digits, hyphens, underscores and periods; "
            f"'{shown(bad)}' is not allowed{hint}"
        )
    return None


def project_name_problem(name: str) -> str | None:
    """What Pulumi (tokens.ValidateProjectName) refuses in a project name; None if valid."""
    if len(name) > 100:
        return "project names are limited to 100 characters"
    if not all(_NAME_CHAR.fullmatch(c) for c in name):
        return "project names may only contain letters, digits, hyphens, underscores and periods"
    return None


_NAME_CHAR = re.compile(r"[A-Za-z0-9_.-]")


def _project_file(directory: Path) -> Path | None:
    for name in ("Pulumi.yaml", "Pulumi.yml"):
        if (directory / name).is_file():
            return directory / name
    return None


# libyaml's parser when PyYAML has it (its wheels do): a 1,000-rule stack file parses in
# milliseconds instead of a few hundred.
_SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_SafeLoader):
    """A YAML loader that refuses duplicate keys, as the Pulumi CLI does (PyYAML keeps the last), and
    keeps timestamps as the text written, as the CLI's YAML reader does for untyped values (go-yaml
    decode.go: a timestamp decoded into an interface stays a string, "for backward compatibility")."""


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
                f"line {key_node.start_mark.line + 1}: the key '{shown(key)}' appears twice in one mapping"
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_MERGE_TAG = "tag:yaml.org,2002:merge"
_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: node.value)


MAX_FILE_BYTES = 4 * 1024 * 1024
"""A stack file larger than this is refused unread (a 1,000-rule stack is about 100 KB)."""
MAX_VALUE_CHARS = 64 * 1024
"""The longest single value; a secret's ciphertext is a few KB at most."""
MAX_FILE_DEPTH = MAX_DEPTH + 2
"""The deepest nesting in the file: a section's limit, plus the document and its `config`."""
MAX_NODES = 200_000
"""Values in the document once aliases are expanded: bounds the time and memory of any file."""

_TAG = "tag:yaml.org,2002:"
# Explicit tags that still give JSON values; `!!binary`, `!!set`, `!!timestamp`, `!!omap` and local
# tags (`!foo`) do not, and the CLI would not pass them on as the program reads them.
_PLAIN_TAGS = {f"{_TAG}{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq")}
_COLLECTION_START = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_COLLECTION_END = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _read_yaml(path: Path) -> dict[str, Any]:
    text = ""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise StackFileError(
                f"the file is {size:,} bytes, more than a stack file can sensibly "
                f"hold ({MAX_FILE_BYTES:,}): check that it is the right file"
            )
        text = _text(path.read_bytes())
        try:
            document = _plain_document(text)
        except _Unusual:
            # Anything a plain stack file does not hold takes the exact path: every bound checked
            # from the events first, then PyYAML's loader with the CLI's rules.
            _check_events(text)
            document = yaml.load(text, Loader=_StrictLoader)
    except StackFileError as exc:
        raise StackFileError(*(f"{path}: {problem}" for problem in exc.problems)) from None
    except OSError as exc:
        raise StackFileError(f"{path}: cannot read it ({exc.strerror or type(exc).__name__})") from None
    except yaml.YAMLError as exc:
        raise StackFileError(f"{path}: {_yaml_problem(exc, text)}") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise StackFileError(f"{path}: expected a YAML mapping at the top level")
    return document


def _text(data: bytes) -> str:
    """The file's text, decoded as the CLI reads it: UTF-8 with its byte-order mark dropped (pulumi/pulumi
    sdk/go/common/workspace/loaders.go `readFileStripUTF8BOM`), or UTF-16 with a byte-order mark,
    which go-yaml's reader recognises as libyaml's does (`yaml_parser_determine_encoding`)."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise StackFileError("the file is UTF-32 text, which YAML readers do not take: save it as UTF-8")
    encoding = "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        what = "UTF-16" if encoding == "utf-16" else "UTF-8"
        raise StackFileError(
            f"line {line}: byte 0x{data[exc.start]:02x} is not {what} text (is it a binary file, or saved "
            "in another encoding?): save the file as UTF-8"
        ) from None


class _Unusual(Exception):
    """The file holds something `_plain_document` leaves to the exact path: a tag, an anchor or
    alias, a merge key, a duplicate or non-scalar key, a scalar of another type than text, number,
    boolean or null, or a bound reached."""


_STR = f"{_TAG}str"
_NULL = f"{_TAG}null"
_KNOWN_SCALARS = {f"{_TAG}{name}" for name in ("int", "float", "bool", "timestamp")}


def _plain_document(text: str) -> Any:
    """The document of a plain stack file, built from the parser's events in one pass (the exact
    path parses twice: bounds from the events, then the loader), or _Unusual.

    What it builds is what the loader builds: scalars resolved by the same resolver and, other than
    text and null, made by the same constructors (timestamps stay text); mappings and lists as
    dicts and lists. Within the same bounds as `_check_events`."""
    loader = _StrictLoader(text)
    document: Any = None
    # Open collections: [container, key waiting for its value (mappings), whether a key is awaited]
    open_: list[list[Any]] = []
    nodes = 0
    try:
        while True:
            event = loader.get_event()
            if isinstance(event, yaml.StreamEndEvent):
                break
            if isinstance(event, (yaml.StreamStartEvent, yaml.DocumentStartEvent, yaml.DocumentEndEvent)):
                if isinstance(event, yaml.DocumentStartEvent) and nodes:
                    raise _Unusual  # a second document: the loader says so
                continue
            if (
                isinstance(event, yaml.AliasEvent)
                or getattr(event, "anchor", None)
                or getattr(event, "tag", None)
            ):
                raise _Unusual
            nodes += 1
            if nodes > MAX_NODES:
                raise _Unusual
            if isinstance(event, yaml.ScalarEvent):
                if len(event.value) > MAX_VALUE_CHARS:
                    raise _Unusual
                value = _scalar(loader, event)
            elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                if len(open_) >= MAX_FILE_DEPTH:
                    raise _Unusual
                container: Any = {} if isinstance(event, yaml.MappingStartEvent) else []
                open_.append([container, None, isinstance(event, yaml.MappingStartEvent)])
                continue
            else:  # the end of a mapping or a list
                value = open_.pop()[0]
            if not open_:
                document = value
                continue
            top = open_[-1]
            if isinstance(top[0], list):
                top[0].append(value)
            elif top[2]:  # a key
                if isinstance(value, dict | list) or value in top[0]:
                    raise _Unusual
                top[1], top[2] = value, False
            else:
                top[0][top[1]] = value
                top[2] = True
    except yaml.YAMLError:
        raise _Unusual from None
    finally:
        loader.dispose()
    return document


def _scalar(loader: Any, event: Any) -> Any:
    # Untagged (tagged ones took the exact path): resolved as the loader's composer resolves it.
    tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
    if tag == _STR:
        return event.value
    if tag == _NULL:
        return None
    if tag not in _KNOWN_SCALARS:
        raise _Unusual  # a merge key (`<<`), `=`: the loader's error says what is wrong
    return loader.construct_object(
        yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
    )


def _check_events(text: str) -> None:
    """Refuse, from the parser's events alone, what would cost unbounded time or memory to build
    (deep nesting, aliases that expand past MAX_NODES, huge values) and tags with no JSON value."""
    open_sizes: list[list[Any]] = []  # per open collection: [anchor, values so far]
    sizes: dict[str, int] = {}  # anchor -> values it expands to
    for event in yaml.parse(text, Loader=_SafeLoader):
        size = 0
        if isinstance(event, (*_COLLECTION_START, yaml.ScalarEvent)):
            _check_tag(event)
        if isinstance(event, _COLLECTION_START):
            open_sizes.append([event.anchor, 1])
            if len(open_sizes) > MAX_FILE_DEPTH:
                raise StackFileError(
                    f"line {_line(event)}: lists and maps nest more than {MAX_FILE_DEPTH} levels "
                    "deep; no acr-cache setting goes deeper than 6: check the indentation"
                )
            continue
        elif isinstance(event, _COLLECTION_END):
            anchor, size = open_sizes.pop()
        elif isinstance(event, yaml.ScalarEvent):
            anchor, size = event.anchor, 1
            if len(event.value) > MAX_VALUE_CHARS:
                raise StackFileError(
                    f"line {_line(event)}: a value of {len(event.value):,} characters; no "
                    f"setting takes more than {MAX_VALUE_CHARS:,}: check that it belongs in the file"
                )
        elif isinstance(event, yaml.AliasEvent):
            # An undefined alias counts nothing here: the loader reports it with its line.
            anchor, size = None, sizes.get(event.anchor or "", 0)
        else:
            continue
        if anchor:
            sizes[anchor] = size
        if open_sizes:
            open_sizes[-1][1] += size
            size = open_sizes[-1][1]
        if size > MAX_NODES:
            raise StackFileError(
                f"line {_line(event)}: the document grows past {MAX_NODES:,} values (aliases `*name` "
                "expanded), which no stack config needs: refer to fewer anchors, or check the file"
            )


def _line(event: yaml.Event) -> int:
    return event.start_mark.line + 1 if event.start_mark is not None else 0


def _check_tag(event: Any) -> None:
    tag = event.tag
    if tag is None or tag == "!" or tag in _PLAIN_TAGS:
        return
    short = tag.replace(_TAG, "!!")
    raise StackFileError(
        f"line {_line(event)}: the YAML tag `{shown(short)}` gives a value that is not text, a "
        "number, a boolean, a list or a map, which is all a stack config holds: remove the tag (quote the "
        "value to keep it as text)"
    )


# The parser's reason, with the usual fix for the mistakes people make in stack files.
_YAML_HINTS = (
    ("2002:merge", "merge keys (`<<: *anchor`) are not supported here: write the keys out"),
    ("alias", "an unquoted `*` starts an alias and `&` an anchor: quote the value ('*')"),
    ("'\\t'", "YAML indents with spaces, not tabs: replace the tabs"),
    ("'@'", "`@` and the backtick cannot start a plain value: quote it"),
    ("'`'", "`@` and the backtick cannot start a plain value: quote it"),
    ("mapping values are not allowed", "a value that contains `: ` must be quoted"),
    ("unhashable key", "a key must be text or a number, not a list or a map"),
    ("special characters are not allowed", "remove the control characters from the file"),
    ("expected <block end>", "check the indentation: entries of one map line up"),
    ("could not find expected ':'", "a key needs `: ` after it; quote a value that spans lines"),
)


def _yaml_problem(exc: yaml.YAMLError, text: str) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f"line {mark.line + 1}: " if mark is not None else ""
    if mark is not None and "cannot start any token" in str(getattr(exc, "problem", "")):
        # libyaml leaves the character out of its reason; the hints need it.
        lines = text.splitlines()
        line = lines[mark.line] if mark.line < len(lines) else ""
        found = line[mark.column] if mark.column < len(line) else ""
        setattr(exc, "problem", f"found character {found!r} that cannot start any token")  # noqa: B010
    if isinstance(exc, yaml.reader.ReaderError):
        reason = f"{exc.reason}, character {exc.character!r}"
        where = ""
    else:
        reason = " ".join(p for p in (getattr(exc, "context", None), getattr(exc, "problem", None)) if p)
    reason = reason or type(exc).__name__
    hint = next((fix for needle, fix in _YAML_HINTS if needle in reason), "fix the YAML syntax there")
    return f"{where}not valid YAML ({shown(reason, 160)}): {hint}"


def _to_config_value(value: Any, key: str) -> tuple[str, bool]:
    """The string Pulumi passes to the program for one config value, and whether it is secret."""
    found_secret = False

    def walk(node: Any, path: str) -> Any:
        nonlocal found_secret
        if isinstance(node, dict):
            if set(node) == {"secure"}:
                ciphertext = node["secure"]
                if not isinstance(ciphertext, str) or not _CIPHERTEXT.fullmatch(ciphertext):
                    raise StackFileError(
                        f"{shown(path)}.secure: not a ciphertext that `pulumi config set --secret` writes "
                        "(the CLI could not decrypt it): set the value again with "
                        f"`pulumi config set --secret {shown(key.partition(':')[2])} <value>`"
                        + (" and --path" if path != key else "")
                    )
                found_secret = True
                # The ciphertext's digest rides along: a new value (a new ciphertext) then plans as a
                # changed secret in `acr-cache diff`, and the ciphertext is in the committed file anyway.
                return f"{PLACEHOLDER_SECRET}:{hashlib.sha256(ciphertext.encode()).hexdigest()[:16]}"
            return {str(k): walk(v, f"{path}.{k}") for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, f"{path}[{i}]") for i, v in enumerate(node)]
        if isinstance(node, float) and not math.isfinite(node):
            raise StackFileError(f"{shown(path)}: `{node}` is not a number a config value can hold: quote it")
        if node is None or isinstance(node, str | bool | int | float):
            return node
        raise StackFileError(  # _check_events refuses the tags that make other types
            f"{shown(path)}: a {type(node).__name__} is not a config value: write it as text"
        )

    converted = walk(value, key)
    if isinstance(converted, dict | list):
        return json.dumps(converted), found_secret
    if isinstance(converted, bool):
        return ("true" if converted else "false"), found_secret
    if converted is None:
        return "", found_secret
    return str(converted), found_secret


# What the secrets providers write: `v1:<nonce>:<sealed>` (passphrase), or base64 (service, KMS).
_CIPHERTEXT = re.compile(r"(?:v1:)?[A-Za-z0-9+/=_:-]{4,}")
