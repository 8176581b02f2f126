"""From validation errors to problems: key paths, messages, shape examples, and the salvage that
finds every problem of a document in one pass. Small models of their own, so each rule of the
walk is seen alone (the stack's own models reach most of them only together)."""

from __future__ import annotations

from typing import Annotated, Any, Self

import pytest
from acr_cache.model import ConfigModel, field_error
from acr_cache.problems import Salvage, problems_from, salvage, shape_example
from pydantic import BaseModel, Field, ValidationError, model_validator


class Leaf(ConfigModel):
    name: str = Field(examples=["alpha", "beta"], description="Required, with examples.")
    size: int = Field(default=1, ge=1, description="Optional.")

    @model_validator(mode="after")
    def _small_alpha(self) -> Self:
        if self.name == "alpha" and self.size > 5:
            raise field_error("name", "'alpha' is for leaves up to 5")
        return self


class Entry(ConfigModel):
    label: str = Field(description="Required, without examples.")
    leaf: Leaf | None = Field(default=None, description="Optional object.")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        # `key: "name:size"` is short for an entry with that leaf: the errors of the leaf lie
        # deeper than the document goes.
        if isinstance(data, str):
            name, _, size = data.partition(":")
            return {"label": name, "leaf": {"name": name, "size": int(size or 1)}}
        return data


class Root(ConfigModel):
    entries: dict[str, Entry] = Field(default_factory=dict, description="A map of objects.")
    numbers: list[int] = Field(default_factory=list, description="A list of numbers.")
    leaves: list[Leaf] = Field(default_factory=list, description="A list of objects.")
    leaf: Leaf | None = Field(default=None, description="An optional object.")
    pair: tuple[int, str] | None = Field(default=None, description="A tuple.")
    labels: set[str] | None = Field(default=None, description="A set.")
    region: str | None = Field(default=None, examples=["westus3", "eastus"], description="Examples.")
    blob: bytes | None = Field(default=None, description="A type without an example.")
    sizes: list[Annotated[int, Field(ge=1)]] = Field(default_factory=list, description="Constrained items.")
    either: int | str | None = Field(default=None, description="A union of two types.")

    @model_validator(mode="after")
    def _eastus_has_a_leaf(self) -> Self:
        # A rule across fields: pydantic runs it only once every field is valid.
        if self.region == "eastus" and self.leaf is None:
            raise field_error("region", "eastus needs a leaf")
        return self


class Owned(ConfigModel):
    owner: str = Field(description="Required at the root, without examples: nothing can stand in.")
    numbers: list[int] = Field(default_factory=list, description="A list of numbers.")


class Counted:
    """`validate` for salvage, counting its calls: a round that cannot set aside what failed stops."""

    def __init__(self, model: type[BaseModel]) -> None:
        self.model, self.calls = model, 0

    def __call__(self, document: dict[str, Any]) -> BaseModel:
        self.calls += 1
        return self.model.model_validate(document)


def salvaged(
    document: dict[str, Any], model: type[BaseModel] = Root, rounds: int = 64
) -> tuple[Salvage, int]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(document)
    validate = Counted(model)
    found = salvage(model, document, caught.value, "args.", validate, rounds=rounds)
    return found, validate.calls


def keys(found: Salvage) -> list[str]:
    return [problem.key for problem in found.problems]


def test_list_entries_are_left_out_from_the_end_so_the_others_keep_their_places() -> None:
    leaves = [{"name": "ok"}, 5, {"name": "third", "size": 0}]
    found, calls = salvaged({"numbers": ["x", 1, "y", 2], "leaves": leaves})
    assert keys(found) == ["args.numbers[0]", "args.numbers[2]", "args.leaves[1]", "args.leaves[2].size"]
    assert isinstance(found.model, Root) and calls == 1
    assert found.model.numbers == [1, 2]
    # An error inside an entry leaves out the key, not the entry.
    assert [(leaf.name, leaf.size) for leaf in found.model.leaves] == [("ok", 1), ("third", 1)]
    # The list's own name: what its model would say of a shorter list is no news.
    assert found.set_aside == {"0", "2", "1", "numbers", "leaves", "size"}
    assert found.emptied == {"args.numbers", "args.leaves", "args.leaves[2]"}


def test_a_misspelt_key_sets_aside_the_key_it_meant() -> None:
    found, _ = salvaged({"leaf": {"name": "x", "sise": 2}})
    assert keys(found) == ["args.leaf.sise"]
    assert found.set_aside == {"sise", "size"} and found.emptied == {"args.leaf"}


def test_a_rule_behind_the_first_errors_speaks_in_a_later_round() -> None:
    found, calls = salvaged({"region": "eastus", "numbers": ["x"]})
    assert [str(p) for p in found.problems] == [
        "args.numbers[0]: Input should be a valid integer, unable to parse string as an integer",
        "args.region: eastus needs a leaf",
    ]
    # The rule's key is left out in its turn; a key of the root is set aside from the root.
    assert isinstance(found.model, Root) and found.model.region is None and calls == 2
    assert found.set_aside == {"0", "numbers", "region"} and found.emptied == {"args.numbers", "args"}


def test_a_required_key_takes_the_first_example_the_document_does_not_use() -> None:
    document: dict[str, Any] = {
        "entries": {"x": {"label": "a", "leaf": {"size": 2}}, "y": {"label": "alpha"}}
    }
    found, calls = salvaged(document)
    assert keys(found) == ["args.entries.x.leaf.name"]
    assert isinstance(found.model, Root) and calls == 1
    leaf = found.model.entries["x"].leaf
    assert leaf is not None and (leaf.name, leaf.size) == ("beta", 2)
    assert found.set_aside == {"beta"} and found.emptied == set()
    assert document["entries"]["x"]["leaf"] == {"size": 2}  # the caller's document is left as it was
    # Every example used already: the first stands in.
    document["entries"]["z"] = {"label": "beta"}
    found, _ = salvaged(document)
    assert isinstance(found.model, Root)
    leaf = found.model.entries["x"].leaf
    assert leaf is not None and leaf.name == "alpha" and found.set_aside == {"alpha"}


def test_a_stand_in_a_rule_refuses_ends_the_salvage_at_once() -> None:
    found, calls = salvaged({"leaf": {"size": 9}})
    # Round one stands `alpha` in for the missing name; its rule refuses it (a problem about the
    # stand-in, not the document, so not reported); the same stand-in cannot be tried again.
    assert keys(found) == ["args.leaf.name"] and found.model is None and calls == 1


def test_the_rounds_are_bounded() -> None:
    found, calls = salvaged({"leaf": {"size": 9}, "numbers": ["x"]}, rounds=1)
    assert keys(found) == ["args.numbers[0]", "args.leaf.name"] and found.model is None and calls == 1


def test_what_nothing_can_stand_in_for_stops_the_salvage_before_any_validation() -> None:
    found, calls = salvaged({"numbers": ["x"]}, Owned)
    assert sorted(keys(found)) == ["args.numbers[0]", "args.owner"]
    assert found.model is None and calls == 0


class Held(ConfigModel):
    owner: Entry = Field(examples=["someone"], description="Required, its example a shorthand.")


def test_a_stand_in_takes_the_place_of_the_failing_key_only() -> None:
    # `label` has no example; `owner` has one, but standing it in would hide the owner written.
    found, calls = salvaged({"owner": {"leaf": {"name": "n"}}}, Held)
    assert keys(found) == ["args.owner.label"] and found.model is None and calls == 0


def test_an_error_deeper_than_the_document_leaves_out_the_entry_it_is_in() -> None:
    # `x: "s:0"` becomes an entry whose leaf has size 0: the error's place is below a string.
    found, calls = salvaged({"entries": {"x": "s:0", "y": {"label": "ok"}}})
    assert keys(found) == ["args.entries.x.leaf.size"]
    assert isinstance(found.model, Root) and list(found.model.entries) == ["y"] and calls == 1
    assert found.set_aside == {"x"} and found.emptied == {"args.entries"}


def test_an_empty_entry_missing_a_required_key_is_left_out() -> None:
    # `x:` with nothing after it is an entry with its defaults, and `label` has none.
    found, _ = salvaged({"entries": {"x": None, "y": {"label": "ok"}}})
    assert keys(found) == ["args.entries.x.label"]
    assert isinstance(found.model, Root) and list(found.model.entries) == ["y"]


def test_key_paths_of_the_root_and_of_keys_that_look_like_union_tags() -> None:
    with pytest.raises(ValidationError) as caught:
        Root.model_validate(5)
    assert [p.key for p in problems_from(caught.value, "args.", Root)] == ["args"]
    assert [p.key for p in problems_from(caught.value, "acr-cache:", Root)] == ["acr-cache:<root>"]
    # A user's map key is a step of the path even when it starts with `<` or ends with `>`.
    with pytest.raises(ValidationError) as caught:
        Root.model_validate({"entries": {"a>": {"label": 5}, "<b": {"label": 6}}})
    assert [p.key for p in problems_from(caught.value, "args.", Root)] == [
        "args.entries.a>.label",
        "args.entries.<b.label",
    ]


def test_a_list_a_tuple_and_a_set_are_asked_for_as_a_yaml_sequence() -> None:
    with pytest.raises(ValidationError) as caught:
        Root.model_validate({"entries": 5, "numbers": "x", "leaf": 5, "pair": 5, "labels": 7})
    assert [str(p) for p in problems_from(caught.value, "args.", Root)] == [
        "args.entries: expected an object (a YAML mapping), e.g. `entries: {name: {label: value}}`",
        "args.numbers: expected a list (a YAML sequence), e.g. `numbers: [1]`",
        "args.leaf: expected an object with the keys `name`, `size`, e.g. `leaf: {name: alpha}`",
        "args.pair: expected a list (a YAML sequence), e.g. `pair: [1]`",
        "args.labels: expected a list (a YAML sequence), e.g. `labels: [value]`",
    ]


class Values(ConfigModel):
    value: int = Field(description="The end of the chain.")


class Items(ConfigModel):
    items: list[Values] = Field(description="A list, four levels down.")
    raw_blob: bytes = Field(description="Required, without an example.")
    blobs: list[bytes] = Field(description="A list of what has no example.")


class Table(ConfigModel):
    table: dict[str, Items] = Field(description="A map, two levels down.")


class Chain(ConfigModel):
    child: Table = Field(description="An object, one level down.")


class Deep(ConfigModel):
    top: Chain | None = Field(default=None, description="Five levels of nesting.")


@pytest.mark.parametrize(
    ("loc", "model", "example"),
    [
        ([], Root, ""),
        # A place in a list is shown by the list's own example, never as `0: ...`.
        (["leaves", 0], Root, ""),
        (["numbers"], Root, "`numbers: [1]`"),
        (["leaf"], Root, "`leaf: {name: alpha}`"),
        (["leaves"], Root, "`leaves: [{name: alpha}]`"),
        (["entries"], Root, "`entries: {name: {label: value}}`"),
        (["region"], Root, "`region: westus3`"),
        (["blob"], Root, ""),
        (["sizes"], Root, "`sizes: [1]`"),
        (["either"], Root, "`either: 1`"),
        (["leaf", "name"], Root, "`name: alpha`"),
        # Four levels are shown; what lies deeper is `...`, and so is what has no example.
        (["top"], Deep, "`top: {child: {table: {name: {items: ['...'], rawBlob: '...', blobs: ['...']}}}}`"),
        (
            ["child"],
            Chain,
            "`child: {table: {name: {items: [{value: '...'}], rawBlob: '...', blobs: ['...']}}}`",
        ),
    ],
)
def test_shape_examples(loc: list[int | str], model: type[BaseModel], example: str) -> None:
    assert shape_example(loc, model) == example
