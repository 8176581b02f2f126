"""From pydantic's validation errors to problems a person can act on: the key path, what is wrong,
and the fix, never the input itself (a section may hold what looks like a secret).

The stack config reports under `acr-cache:` and the components under `args.`; both read the same
errors here, each against its own root model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, Tag, ValidationError
from pydantic.alias_generators import to_camel
from pydantic_core import ErrorDetails

from acr_cache.model import ConfigProblem, did_you_mean
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
        if part == "[key]" or (isinstance(part, str) and part.startswith("<") and part.endswith(">")):
            # Pydantic marks an invalid map key with a "[key]" step after the key itself, and the
            # branch of a tagged union (`<map>`, `<list>`) with the tag: neither is a config key.
            continue
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


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
        if model is not None:
            return f"expected an object with the keys {join_keys(_aliases(model))}"
        return "expected an object (a YAML mapping)"
    return error["msg"]


def _aliases(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _field_description(model: type[BaseModel] | None, alias: str) -> str | None:
    if model is None:
        return None
    for name, info in model.model_fields.items():
        if alias in (name, info.alias):
            return info.description
    return None


def _model_at(loc: list[int | str], root: type[BaseModel]) -> type[BaseModel] | None:
    """The config model that sits at a location below `root`, if any."""
    annotation: Any = root
    for part in loc:
        model = _first_model(annotation)
        if isinstance(part, str) and part.startswith("<") and part.endswith(">"):
            # The branch of a tagged union (`cacheRules` as a `<map>` or a `<list>`).
            annotation = _tagged_branch(annotation, part)
        elif isinstance(part, str) and model is not None:
            match = [i for n, i in model.model_fields.items() if part in (n, i.alias)]
            if not match:
                return None
            annotation = match[0].annotation
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
