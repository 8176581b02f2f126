"""From pydantic's validation errors to problems a person can act on: the key path, what is wrong,
and the fix, never the input itself (a section may hold what looks like a secret).

The stack config reports under `acr-cache:` and the components under `args.`; both read the same
errors here, each against its own root model.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from types import UnionType
from typing import Annotated, Any, TypeGuard, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, Tag, ValidationError
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from acr_cache.model import ConfigProblem, closest, did_you_mean
from acr_cache.redaction import shown


def problems_from(exc: ValidationError, prefix: str, root: type[BaseModel]) -> list[ConfigProblem]:
    """One problem per validation error of a `root` model, keyed by its path below `prefix`, never
    echoing input."""
    problems = []
    # Inputs are only read for enum errors (to suggest the value meant); sections are plain values,
    # never secrets (those are refused before validation).
    for error in exc.errors(include_input=True):
        loc = list(error["loc"])
        if error["type"] == "acr_cache_field":
            loc.append(error["ctx"]["field"])
        problems.append(ConfigProblem(_key_path(loc, prefix), _message(error, loc, root)))
    return problems


def _key_path(loc: list[int | str], prefix: str) -> str:
    if not loc:
        # The value at the prefix itself (a component's section that is not an object).
        return prefix[:-1] if prefix.endswith(".") else f"{prefix}<root>"
    path = f"{prefix}{loc[0]}"
    for part in loc[1:]:
        if _marker(part):
            continue
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _marker(part: int | str) -> bool:
    """Pydantic marks an invalid map key with a `[key]` step after the key itself, and the branch of
    a tagged union (`<map>`, `<list>`) with the tag: neither is a step into the document."""
    return part == "[key]" or _tag(part)


def _tag(part: int | str) -> TypeGuard[str]:
    return isinstance(part, str) and part.startswith("<") and part.endswith(">")


def _message(error: ErrorDetails, loc: list[int | str], root: type[BaseModel]) -> str:
    # A field error (`acr_cache_field`) has its message as its text, so it ends at the last line.
    kind = error["type"]
    if kind == "value_error":
        return error["msg"].removeprefix("Value error, ")
    if kind == "missing":
        model, name = _model_at(loc[:-1], root), loc[-1]
        description = _field_description(model, str(name))
        return f"required key is missing: {description}" if description else "required key is missing"
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1], root)
        aliases = _aliases(model) if model is not None else []
        if not aliases:  # a place no model describes (a union's branch pydantic names by class)
            return "unknown key"
        return f"unknown key{spelling(str(loc[-1]), aliases)}; allowed keys here are {join_keys(aliases)}"
    if kind == "enum":  # the models use enums for choices, never Literal
        choices = re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))
        raw = error.get("input")
        written = raw if isinstance(raw, str) else json.dumps(raw)  # `true` as YAML writes it
        if choices:
            return f"'{shown(written)}' is not one of {join_keys(choices)}{did_you_mean(written, choices)}"
    if kind in ("model_type", "dict_type"):
        model = _model_at(loc, root)
        shape = f", e.g. {example}" if (example := shape_example(loc, root)) else ""
        if model is not None:
            return f"expected an object with the keys {join_keys(_aliases(model))}{shape}"
        return f"expected an object (a YAML mapping){shape}"
    if kind in ("list_type", "tuple_type", "set_type"):
        shape = f", e.g. {example}" if (example := shape_example(loc, root)) else ""
        return f"expected a list (a YAML sequence){shape}"
    return error["msg"]


def shape_example(loc: list[int | str], root: type[BaseModel]) -> str:
    """A one-line YAML example of the value the location takes (`replicas: {westus3: {}}`), from the
    fields' examples and types; empty when there is nothing to show."""
    steps = [p for p in loc if not _tag(p)]
    if not steps or not isinstance(steps[-1], str):
        return ""
    container = _model_at(loc[:-1], root)
    annotation: Any = None
    examples: list[Any] = []
    if container is not None:
        info = _field(container, steps[-1])
        if info is not None:
            annotation, examples = info.annotation, list(info.examples or [])
    if annotation is None:
        annotation = _model_at(loc, root)
    value = examples[0] if examples else _example(annotation, 0)
    if value is None:
        return ""
    text = yaml.safe_dump({steps[-1]: value}, default_flow_style=True, sort_keys=False, width=float("inf"))
    return f"`{text.strip().removeprefix('{').removesuffix('}')}`"


def _example(annotation: Any, depth: int) -> Any:
    """An example value of a type: a model's required fields (or its first), a map's or list's one
    entry, an enum's first value."""
    if depth > 4:
        return None
    origin = get_origin(annotation)
    if origin is Annotated:
        return _example(get_args(annotation)[0], depth)
    if origin in (Union, UnionType):
        options = [a for a in get_args(annotation) if a is not type(None)]
        return _example(options[0], depth) if options else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        fields = [(n, i) for n, i in annotation.model_fields.items() if i.is_required()]
        fields = fields or list(annotation.model_fields.items())[:1]
        shown_fields = {}
        for name, info in fields:
            value = info.examples[0] if info.examples else _example(info.annotation, depth + 1)
            shown_fields[info.alias or name] = value if value is not None else "..."
        return shown_fields
    if origin is dict:
        key, value = get_args(annotation)
        return {_key_example(key): _example(value, depth + 1) or {}}
    if origin in (list, tuple, set, frozenset):
        args = get_args(annotation)
        item = _example(args[0], depth + 1) if args else None
        return [item if item is not None else "..."]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return next(iter(annotation)).value
    if annotation is bool:
        return True
    if annotation in (int, float):
        return 1
    if annotation is str:
        return "value"
    return None


def _key_example(annotation: Any) -> str:
    # A region-keyed map shows a region; other maps a name.
    return "westus3" if "region" in repr(annotation).lower() else "name"


def _aliases(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _field(model: type[BaseModel], key: int | str) -> FieldInfo | None:
    """The model's field a document key names (its alias, or its Python name)."""
    return next((i for n, i in model.model_fields.items() if key in (n, i.alias)), None)


def _field_description(model: type[BaseModel] | None, alias: str) -> str | None:
    info = _field(model, alias) if model is not None else None
    return info.description if info is not None else None


def _model_at(loc: list[int | str], root: type[BaseModel]) -> type[BaseModel] | None:
    """The config model that sits at a location below `root`, if any."""
    annotation: Any = root
    for part in loc:
        model = _first_model(annotation)
        if _tag(part):
            # The branch of a tagged union (`cacheRules` as a `<map>` or a `<list>`).
            annotation = _tagged_branch(annotation, part)
        elif isinstance(part, str) and model is not None:
            info = _field(model, part)
            if info is None:
                return None
            annotation = info.annotation
        else:
            # A list index or a map key: step into the element type.
            args = [a for a in get_args(annotation) if a is not type(None)]
            annotation = args[-1] if args else None
    return _first_model(annotation)


def _tagged_branch(annotation: Any, tag: str) -> Any:
    if get_origin(annotation) in (Union, UnionType, Annotated):
        for arg in get_args(annotation):
            if any(isinstance(meta, Tag) and meta.tag == tag for meta in getattr(arg, "__metadata__", ())):
                return get_args(arg)[0]
            found = _tagged_branch(arg, tag)
            if found is not None:
                return found
    return None


def _first_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    # Only look through Optional/Union and Annotated: a list or map is a level of its own.
    if get_origin(annotation) in (Union, UnionType, Annotated):
        for arg in get_args(annotation):
            found = _first_model(arg)
            if found is not None:
                return found
    return None


def spelling(written: str, choices: list[str]) -> str:
    """How a key the model does not know was probably meant to be written."""
    camel = to_camel(written)
    if camel != written and camel in choices:
        return f" (keys are camelCase: write `{camel}`)"
    return did_you_mean(written, choices)


def join_keys(names: Iterable[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _steps(error: ErrorDetails) -> list[tuple[int | str, list[int | str]]]:
    """The error's location as steps into the document, each with the location that leads to it
    (for `_model_at`, which reads union tags): no tags, no map-key markers, and a field error's field
    at its end."""
    loc = list(error["loc"])
    if error["type"] == "acr_cache_field":
        loc.append(error["ctx"]["field"])
    return [(part, loc[:index]) for index, part in enumerate(loc) if not _marker(part)]


@dataclass
class Salvage:
    """What is left of a document once every part an error is about has been set aside.

    The models stop at their first problem (a field fails, a model rule raises once), and the rules
    that need two sections run only on a valid whole. Setting aside what failed and validating
    again finds every problem of the file in one pass: a map entry or an optional key that fails is
    left out (its default applies), a required key takes its field's first example as a stand-in.
    Problems found after that are kept unless they speak of what was set aside (`mentions`).
    """

    model: BaseModel | None
    """The root model built from what is left, or None when a required part could not be set aside."""
    problems: list[ConfigProblem] = field(default_factory=list)
    set_aside: set[str] = field(default_factory=set)
    """Map keys and field names left out, and the stand-ins put in."""
    emptied: set[str] = field(default_factory=set)
    """Key paths of the lists, maps and objects something was left out of (a list left short of its
    minimum is no news)."""

    def mentions(self, problem: ConfigProblem) -> bool:
        """Whether a problem found on what is left may be about something set aside."""
        return problem.key in self.emptied or any(
            f"'{name}'" in problem.message
            or f"`{name}`" in problem.message
            or f"`{name}:" in problem.message
            or f".{name}." in f"{problem.key}."
            for name in self.set_aside
        )


def salvage(
    root: type[BaseModel],
    document: dict[str, Any],
    exc: ValidationError,
    prefix: str,
    validate: Callable[[dict[str, Any]], BaseModel],
    rounds: int = 64,  # mutation: equivalent (a bound for termination, never reached)
) -> Salvage:
    """Every validation problem of `document` (the first round's `exc` and those behind it), and
    the root model of what remains. The document is not changed."""
    work = copy.deepcopy(document)
    found = Salvage(None, problems_from(exc, prefix, root))
    errors = exc.errors(include_input=False)  # mutation: equivalent (only loc and type read)
    text = json.dumps(document, default=str)
    for _ in range(rounds):
        if not _set_aside(root, work, errors, found, text, prefix):
            return found
        try:
            found.model = validate(work)
            return found
        except ValidationError as again:
            errors = again.errors(include_input=False)  # mutation: equivalent (only loc and type read)
            later = problems_from(again, prefix, root)
            found.problems.extend(p for p in later if not found.mentions(p) and p not in found.problems)
    return found


def _set_aside(
    root: type[BaseModel],
    work: dict[str, Any],
    errors: list[ErrorDetails],
    found: Salvage,
    text: str,
    prefix: str,
) -> bool:
    """Leave out (or stand in for) what each error is about; False when one cannot be."""
    # Keyed by container and step: two errors about one entry leave it out once.
    keys: dict[tuple[int, int | str], tuple[dict[Any, Any], int | str]] = {}
    indexes: dict[tuple[int, int], tuple[list[Any], int]] = {}
    for error in errors:
        located = _steps(error)
        steps = [step for step, _ in located]
        nodes = _walk(work, steps)
        placed = False
        # The deepest place first: an entry of a map or list, else the map or list holding it.
        for index in reversed(range(len(steps))):
            if index >= len(nodes):
                # Deeper than the document goes (a `before` validator made the value it is about).
                continue
            container, step = nodes[index], steps[index]
            model = _model_at(located[index][1], root)
            info = None
            if model is not None:
                info = _field(model, step)
            optional = model is None or info is None or not info.is_required()
            if isinstance(container, dict) and step in container and optional:
                # An entry of a map, an optional key (its default applies), an unknown key.
                keys[(id(container), step)] = (container, step)
            elif isinstance(container, list):
                position = int(step)  # pydantic places an entry of a list by its index
                indexes[(id(container), position)] = (container, position)
                # A list left shorter: what its model says of the list (`userAssignedIds`) is no
                # news. The root is a mapping, so a list is always below a step.
                found.set_aside.add(str(steps[index - 1]))
            else:
                examples = [e for e in ((info.examples if info else None) or []) if isinstance(e, str)]
                if index < len(steps) - 1 or not isinstance(container, dict) or not examples:
                    continue
                # A required key: the first example the document does not use stands in for it.
                stand_in = next((e for e in examples if e not in text), examples[0])
                if container.get(step) == stand_in:
                    # The stand-in itself fails: a rule across its model's fields.
                    return False  # mutation: equivalent (the caller reads a truth value)
                container[step] = stand_in
                found.set_aside.add(stand_in)
                placed = True
                break
            found.set_aside.add(str(step))
            found.emptied.add(_key_path(list(located[index][1]), prefix))
            if model is not None and info is None and (meant := closest(str(step), _aliases(model))):
                # A misspelt key: what its model says of the key meant (`name` unset) is no news.
                found.set_aside.add(meant)
            placed = True
            break
        if not placed:
            return False  # mutation: equivalent (the caller reads a truth value)
    for mapping, key in keys.values():
        del mapping[key]
    # Lists lose entries from the end first, so the indexes of the others still hold.
    for sequence, position in sorted(indexes.values(), key=lambda entry: entry[1], reverse=True):
        del sequence[position]
    return True


def _walk(document: dict[str, Any], steps: list[int | str]) -> list[Any]:
    """The document's nodes along the steps (the document first), as far as it holds them."""
    nodes: list[Any] = [document]
    node: Any = document
    for step in steps:
        held = (isinstance(node, dict) and step in node) or (
            isinstance(node, list) and isinstance(step, int) and step < len(node)
        )
        if not held:
            return nodes
        node = node[step]
        nodes.append(node)
    return nodes
