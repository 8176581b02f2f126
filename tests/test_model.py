"""The config's shared building blocks: region names, suggestions, whole numbers, plain text."""

from __future__ import annotations

import pytest
from acr_cache.config import ConfigError, parse_stack_config
from acr_cache.model import closest, did_you_mean

from tests.conftest import as_pulumi_config, sections

REGION_FIX = (
    "use the lowercase name without spaces that `az account list-locations -o table` prints in its Name column, "
    "e.g. 'westeurope'"
)


def location_problems(location: object) -> list[str]:
    try:
        parse_stack_config(
            as_pulumi_config(sections(registry={"name": "acrcachetest01", "location": location}))
        )
    except ConfigError as exc:
        return [str(p) for p in exc.problems]
    return []


@pytest.mark.parametrize(
    ("location", "problem"),
    [
        # ARM names are 3-40 lowercase letters and digits; the suggestion is the name Azure uses.
        ("ab", f"'ab' is not an Azure region name: {REGION_FIX}"),
        ("a" * 41, f"'{'a' * 41}' is not an Azure region name: {REGION_FIX}"),
        ("West Europe", "'West Europe' is not an Azure region name: did you mean 'westeurope'?"),
        ("west_europe", "'west_europe' is not an Azure region name: did you mean 'westeurope'?"),
        # Well formed but one letter off a known region: a typo, not a new region.
        ("westeurop", "'westeurop' is not an Azure region: did you mean 'westeurope'?"),
        ("swedencentrl", "'swedencentrl' is not an Azure region: did you mean 'swedencentral'?"),
    ],
)
def test_region_names_are_refused_with_the_name_azure_uses(location: str, problem: str) -> None:
    assert location_problems(location) == [f"acr-cache:registry.location: {problem}"]


@pytest.mark.parametrize(
    "location",
    [
        "abc",
        "a" * 40,
        # A well-formed name far from every known region, or one that differs in its digits from
        # the closest (a region newer than this release), is taken as written.
        "westus4",
        "westeurope2",
        "mars",
    ],
)
def test_a_region_newer_than_the_list_is_taken_as_written(location: str) -> None:
    assert location_problems(location) == []


def test_suggestions_ignore_case_and_separators_first_then_take_close_spellings() -> None:
    regions = ["westeurope", "westus", "northeurope"]
    assert closest("West_Europe", regions) == "westeurope"
    assert closest("north-europe", regions) == "northeurope"
    assert closest("westeurop", regions) == "westeurope"
    assert closest("zzz", regions) is None
    assert did_you_mean("Premuim", ["Basic", "Standard", "Premium"]) == " (did you mean `Premium`?)"
    assert did_you_mean("Premium", ["Premium"]) == ""  # the value itself: nothing to suggest
    assert did_you_mean("zzz", ["Premium"]) == ""


@pytest.mark.parametrize(("value", "word"), [(True, "true"), (False, "false")])
def test_a_boolean_where_a_number_goes_is_refused(value: bool, word: str) -> None:
    document = sections(registry={"name": "acrcachetest01", "location": "westeurope", "retentionDays": value})
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(as_pulumi_config(document))
    assert [str(p) for p in caught.value.problems] == [
        f"acr-cache:registry.retentionDays: expected a whole number, not `{word}`"
    ]


@pytest.mark.parametrize(
    ("tags", "fragment"),
    [
        ({"owner\n": "me"}, "'owner\\n' contains a control character"),  # in a key of a map
        ({"owner": "me\t"}, "'me\\t' contains a control character"),  # in a value
    ],
)
def test_control_characters_in_keys_and_values_of_maps_are_refused(
    tags: dict[str, str], fragment: str
) -> None:
    problems = [
        str(p)
        for p in _problems(
            sections(registry={"name": "acrcachetest01", "location": "westeurope", "tags": tags})
        )
    ]
    assert (
        len(problems) == 1 and problems[0].startswith("acr-cache:registry.tags: ") and fragment in problems[0]
    )


def test_a_free_text_field_keeps_line_breaks_and_tabs_but_no_other_control_character() -> None:
    mirror = {"enabled": True, "credentialSet": "dockerhub"}
    hub = {"loginServer": "docker.io", "username": {"secretName": "u"}, "password": {"secretName": "p"}}

    def document(reason: str) -> dict[str, object]:
        return sections(
            keyVault={"name": "kv-acrtest01"},
            credentialSets={"dockerhub": hub},
            dockerMirror={**mirror, "reason": reason},
        )

    assert _problems(document("daemons cannot sign in\nto a mirror,\tsee moby#30880")) == []
    (problem,) = _problems(document("daemons cannot sign in\x07 to a mirror"))
    assert str(problem).startswith(
        "acr-cache:dockerMirror.reason: "
    ) and "contains a control character" in str(problem)


def _problems(document: dict[str, object]) -> list[object]:
    try:
        parse_stack_config(as_pulumi_config(document))
    except ConfigError as exc:
        return list(exc.problems)
    return []


def test_a_credential_in_a_value_is_refused_with_the_whole_fix() -> None:
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2"
    (problem,) = _problems(
        sections(registry={"name": "acrcachetest01", "location": "westeurope", "tags": {"t": token}})
    )
    assert str(problem) == (
        "acr-cache:registry.tags.t: looks like a GitHub token: this value is not secret and would be stored in plain "
        "text: put the credential in a key of its own with `pulumi config set --secret <name> <value>` and refer to "
        "it (`configKey`, `passwordConfigKey`), or, if it is not a credential, change it"
    )


def test_a_long_run_in_a_message_line_is_cut_with_its_length() -> None:
    from acr_cache.redaction import one_line

    assert one_line("bad: " + "x" * 400 + " end") == "bad: " + "x" * 199 + "… (400 characters) end"
    assert one_line("bad: " + "x" * 299) == "bad: " + "x" * 299  # shorter runs stay whole


# The region names of `az account list-locations` (public, US Government and China clouds, late 2026),
# written out: each must be recognised, so that a one-letter slip of it is caught.
AZURE_REGIONS = [
    "australiacentral",
    "australiacentral2",
    "australiaeast",
    "australiasoutheast",
    "austriaeast",
    "belgiumcentral",
    "brazilsouth",
    "brazilsoutheast",
    "canadacentral",
    "canadaeast",
    "centralindia",
    "centralus",
    "centraluseuap",
    "chilecentral",
    "chinaeast",
    "chinaeast2",
    "chinaeast3",
    "chinanorth",
    "chinanorth2",
    "chinanorth3",
    "denmarkeast",
    "eastasia",
    "eastus",
    "eastus2",
    "eastus2euap",
    "francecentral",
    "francesouth",
    "germanynorth",
    "germanywestcentral",
    "indonesiacentral",
    "israelcentral",
    "italynorth",
    "japaneast",
    "japanwest",
    "jioindiacentral",
    "jioindiawest",
    "koreacentral",
    "koreasouth",
    "malaysiawest",
    "mexicocentral",
    "newzealandnorth",
    "northcentralus",
    "northeurope",
    "norwayeast",
    "norwaywest",
    "polandcentral",
    "qatarcentral",
    "southafricanorth",
    "southafricawest",
    "southcentralus",
    "southeastasia",
    "southindia",
    "spaincentral",
    "swedencentral",
    "swedensouth",
    "switzerlandnorth",
    "switzerlandwest",
    "taiwannorth",
    "uaecentral",
    "uaenorth",
    "uksouth",
    "ukwest",
    "usdodcentral",
    "usdodeast",
    "usgovarizona",
    "usgovtexas",
    "usgovvirginia",
    "westcentralus",
    "westeurope",
    "westindia",
    "westus",
    "westus2",
    "westus3",
]


@pytest.mark.parametrize("region", AZURE_REGIONS)
def test_a_slip_in_any_azure_region_is_caught_and_the_region_suggested(region: str) -> None:
    typo = region[:-1] if not region[-1].isdigit() else region[:-2] + region[-1]  # a letter left out
    assert location_problems(region) == []
    assert location_problems(typo) == [
        f"acr-cache:registry.location: '{typo}' is not an Azure region: did you mean '{region}'?"
    ]


def test_separators_alone_never_hide_the_name_meant() -> None:
    # Too far apart for a close spelling (ratio 0.69), the same once separators are ignored.
    assert closest("w-e-s-t-e-u-r-o-p-e", ["westeurope", "westus"]) == "westeurope"


def test_a_loaded_config_cannot_be_changed() -> None:
    import pydantic

    config = parse_stack_config(as_pulumi_config(sections()))
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        config.registry.name = "othername01"  # type: ignore[misc]


def test_a_component_refuses_a_credential_in_its_arguments_too() -> None:
    # The stack file's reader finds it first in a stack; a component's arguments have only the model.
    from acr_cache import Registry
    from acr_cache.plan.runner import ProgramFailed, run_program

    def program() -> None:
        registry = {
            "name": "teamacr01",
            "location": "westeurope",
            "tags": {"t": "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2"},
        }
        Registry("r", {"resource_group": {"name": "rg"}, "registry": registry})

    with pytest.raises(ProgramFailed) as caught:
        run_program(program, project="t", stack="t", config={})
    assert str(caught.value.cause) == (
        "invalid arguments to Registry('r') (1 problem):\n"
        "  Registry('r').args.registry.tags: looks like a GitHub token: this value is not secret and would be "
        "stored in plain text: put the credential in a key of its own with `pulumi config set --secret <name> "
        "<value>` and refer to it (`configKey`, `passwordConfigKey`), or, if it is not a credential, change it"
    )


def test_the_headline_counts_the_problems() -> None:
    from acr_cache.model import ConfigError as Error
    from acr_cache.model import ConfigProblem

    one = Error([ConfigProblem("acr-cache:a", "first")])
    # In the order given (the loader's is the file's), each problem once.
    b = ConfigProblem("acr-cache:b", "second")
    two = Error([b, ConfigProblem("acr-cache:a", "first"), b])
    assert str(one) == "invalid stack configuration (1 problem):\n  acr-cache:a: first"
    assert (
        str(two) == "invalid stack configuration (2 problems):\n  acr-cache:b: second\n  acr-cache:a: first"
    )


def test_a_credential_or_control_character_inside_a_list_or_map_is_refused() -> None:
    # Every ConfigModel walks lists and maps of its fields, for fields (present or future) whose
    # items have no validator of their own.
    from acr_cache.model import ConfigModel
    from pydantic import Field, ValidationError

    class Section(ConfigModel):
        names: list[str] = Field(default_factory=list, description="Names.")
        labels: dict[str, str] = Field(default_factory=dict, description="Labels.")

    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    for data in ({"names": ["ok", token]}, {"labels": {"team": token}}, {"labels": {token: "x"}}):
        with pytest.raises(ValidationError, match="looks like a GitHub token"):
            Section.model_validate(data)
    with pytest.raises(ValidationError, match="contains a control character"):
        Section.model_validate({"names": ["ok", "bad\n"]})
    assert Section.model_validate({"names": ["ok"], "labels": {"team": "platform"}}).names == ["ok"]


def test_a_config_problem_cannot_be_changed() -> None:
    # Problems are collected from every section and sorted for the one message: one changed on the
    # way would name a key the user never wrote.
    import dataclasses

    from acr_cache.model import ConfigProblem

    problem = ConfigProblem("acr-cache:registry.name", "use 5-50 letters and digits")
    with pytest.raises(dataclasses.FrozenInstanceError):
        problem.key = "acr-cache:other"  # type: ignore[misc]
    assert str(problem) == "acr-cache:registry.name: use 5-50 letters and digits"


def test_a_number_setting_is_never_a_boolean() -> None:
    # YAML's `true` would otherwise be read as 1.0 (a threshold of one).
    from acr_cache.model import ConfigModel, Number
    from pydantic import Field, ValidationError

    class Threshold(ConfigModel):
        value: Number = Field(description="a threshold")

    assert Threshold.model_validate({"value": 2}).value == 2.0
    for flag, word in ((True, "true"), (False, "false")):
        with pytest.raises(ValidationError, match=f"expected a number, not `{word}`"):
            Threshold.model_validate({"value": flag})
