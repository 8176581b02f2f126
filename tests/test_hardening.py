"""Hardening against bad input: a corpus of invalid configs through the CLI, property-based tests
over names, CIDRs and secrets, and a fuzz test of the config loader with random YAML structures."""

from __future__ import annotations

import copy
import ipaddress
import json
import re
import string
from pathlib import Path
from typing import Any

import pytest
import yaml
from acr_cache.cli import main
from acr_cache.config import ConfigError, StackConfig, parse_stack_config, section_keys
from acr_cache.ip_rules import normalise_ip_rule
from acr_cache.plan import make_plan
from acr_cache.plan.runner import ProgramFailed
from acr_cache.plan.stackfile import load_stack_files
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import (
    test_access_imports_protection,
    test_artifact_cache,
    test_landing_zone,
    test_network,
    test_operations,
)
from tests.conftest import ROOT, refusal_ids, sections

EXTRA: list[tuple[dict[str, Any], str, str]] = [
    (sections(registry={"name": "ab", "location": "westeurope"}), "acr-cache:registry.name", "5-50 letters"),
    (
        sections(registry={"name": "acrcachetest01", "location": "westeurope", "colour": 1}),
        "acr-cache:registry.colour",
        "unknown key",
    ),
    (
        sections(registry={"name": "acrcachetest01", "location": "westeurope", "retentionDays": "x"}),
        "acr-cache:registry.retentionDays",
        "valid integer",
    ),
    (sections(resourceGroup={"name": "rg.acr."}), "acr-cache:resourceGroup.name", "not ending with a period"),
    (
        sections(resourceGroup={"name": "rg", "create": False, "location": "westeurope"}),
        "acr-cache:resourceGroup.location",
        "keeps its own region",
    ),
    (sections(resourceGroup=None), "acr-cache:resourceGroup", "required key is missing"),
    (sections(subscriptionId="my-subscription"), "acr-cache:subscriptionId", "is not a subscription id"),
    (sections(protection={"protect": "sometimes"}), "acr-cache:protection.protect", "boolean"),
    (sections(protection=["protect"]), "acr-cache:protection", "expected an object"),
    (
        sections(performance={"registrationShortcuts": "fast"}),
        "acr-cache:performance.registrationShortcuts",
        "boolean",
    ),
    # Round two (issue 13): whole values, numbers, spelling, suggestions, credentials, new keys.
    (
        sections(registry={"name": "acrcacheprod01\n", "location": "westeurope"}),
        "acr-cache:registry.name",
        "'acrcacheprod01\\n' contains a control character",
    ),
    (
        sections(registry={"name": "acrcachetest01", "location": "westeurope", "retentionDays": True}),
        "acr-cache:registry.retentionDays",
        "expected a whole number, not `true`",
    ),
    (
        sections(registry={"name": "acrcachetest01", "location": "westeurope", "retention_days": 3}),
        "acr-cache:registry.retention_days",
        "unknown key (keys are camelCase: write `retentionDays`)",
    ),
    (
        sections(registry={"name": "acrcachetest01", "location": "westeurope", "sku": "Premuim"}),
        "acr-cache:registry.sku",
        "is not one of `Basic`, `Standard`, `Premium` (did you mean `Premium`?)",
    ),
    (
        sections(registry={"name": "acrcachetest01", "location": "westeurop"}),
        "acr-cache:registry.location",
        "did you mean 'westeurope'?",
    ),
    (
        sections(
            registry={
                "name": "acrcachetest01",
                "location": "westeurope",
                "untaggedRetention": False,
                "retentionDays": 3,
            }
        ),
        "acr-cache:registry.retentionDays",
        "`untaggedRetention: false` turns the retention policy off",
    ),
    (
        sections(
            registry={"name": "acrcachetest01", "location": "westeurope", "tags": {"ci": "glpat-" + "x" * 20}}
        ),
        "acr-cache:registry.tags.ci",
        "looks like a GitLab token",
    ),
    (
        sections(
            imports={"base/app:1.0": {"source": "https://bot:hunter2hunter2@registry.example.com/app:1.0"}}
        ),
        "acr-cache:imports.base/app:1.0.source",
        "looks like a URL with credentials",
    ),
    (
        sections(protection={"protect": True, "lock": True}),
        "acr-cache:protection.lock",
        "unknown key (did you mean `locks`?)",
    ),
]


def corpus() -> list[tuple[dict[str, Any], str, str]]:
    """Every refused config of the test suite, as (document, key path, message fragment)."""
    cases = list(EXTRA)
    cases += test_network.REFUSED
    cases += [
        (test_artifact_cache.cache(rules=copy.deepcopy(r)), k, f) for r, k, f in test_artifact_cache.REFUSED
    ]
    cases += test_artifact_cache.OTHER_REFUSED
    cases += test_access_imports_protection.REFUSED
    cases += test_operations.REFUSED
    cases += test_landing_zone.REFUSED
    return cases


CORPUS = corpus()


def test_the_corpus_is_large_and_covers_every_section() -> None:
    assert len(CORPUS) >= 40
    covered = {re.split(r"[.\[]", key.split(":", 1)[1])[0] for _, key, _ in CORPUS}
    assert set(section_keys()) <= covered, set(section_keys()) - covered


def _stack_file(tmp_path: Path, document: dict[str, Any], name: str = "case") -> Path:
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "stacks").mkdir(exist_ok=True)
    (tmp_path / "stacks" / "__main__.py").write_text((ROOT / "stacks" / "__main__.py").read_text())
    (tmp_path / "__main__.py").write_text((ROOT / "__main__.py").read_text())
    config: dict[str, Any] = {f"acr-cache:{key}": value for key, value in document.items()}
    # The secret keys the corpus' credential sets name, as encrypted values (placeholders offline).
    for key in ("dockerHubUsername", "dockerHubToken"):
        config[f"acr-cache:{key}"] = {"secure": "v1:AAAA"}
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    return path


@pytest.mark.parametrize(("document", "key", "fragment"), CORPUS, ids=refusal_ids(CORPUS))
def test_corpus_case_exits_2_naming_the_key_with_nothing_registered(
    document: dict[str, Any], key: str, fragment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _stack_file(tmp_path, document)
    code = main(["plan", "--config", str(path)])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == "" and "Traceback" not in err
    lines = [line.strip() for line in err.splitlines() if line.strip().startswith(f"{key}: ")]
    assert any(fragment in line for line in lines), err
    with pytest.raises(ProgramFailed) as caught:
        make_plan(load_stack_files(None, path, tmp_path))
    assert isinstance(caught.value.cause, ConfigError) and caught.value.resources == []


# --- properties ------------------------------------------------------------------------------


@given(st.text(alphabet=string.ascii_letters + string.digits + "-_.", min_size=1, max_size=60))
@settings(max_examples=300, deadline=None)
def test_registry_names_are_accepted_exactly_when_azure_would(name: str) -> None:
    document = sections(registry={"name": name, "location": "westeurope"})
    valid = re.fullmatch(r"[a-zA-Z0-9]{5,50}", name) is not None
    try:
        config = parse_stack_config({f"acr-cache:{k}": json.dumps(v) for k, v in document.items()})
    except ConfigError as exc:
        assert not valid
        assert [p.key for p in exc.problems] == ["acr-cache:registry.name"]
    else:
        assert valid and config.registry.login_server == f"{name.lower()}.azurecr.io"


@given(st.ip_addresses(v=4), st.integers(min_value=1, max_value=32))
@settings(max_examples=300, deadline=None)
def test_ip_rules_normalise_idempotently_or_refuse_with_the_entry(
    address: ipaddress.IPv4Address, prefix: int
) -> None:
    rule = f"{address}/{prefix}"
    try:
        normal = normalise_ip_rule(rule)
    except ValueError as exc:
        assert f"'{rule}'" in str(exc)
        return
    assert normalise_ip_rule(normal) == normal
    network = ipaddress.ip_network(normal, strict=True)
    assert network == ipaddress.ip_network(rule, strict=False)
    for private in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16"):
        assert not network.subnet_of(ipaddress.ip_network(private)), (rule, private)


@given(
    st.lists(
        st.sampled_from(["203.0.113.0/24", "203.0.113.9", "198.51.100.7/32", "198.51.100.7"]), max_size=12
    )
)
@settings(max_examples=100, deadline=None)
def test_ip_rules_are_deduplicated_after_normalising(rules: list[str]) -> None:
    config = parse_stack_config(
        {f"acr-cache:{k}": json.dumps(v) for k, v in sections(network={"ipRules": rules}).items()}
    )
    assert config.network.ip_rules == list(dict.fromkeys(normalise_ip_rule(r) for r in rules))


# A fixed prefix keeps a secret from matching placeholder ids by chance ("000000000000").
SECRET_TEXT = st.text(alphabet=string.ascii_letters + string.digits + "_-+/=", min_size=8, max_size=40).map(
    lambda text: f"s3cr3t~{text}"
)


@given(SECRET_TEXT)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_secret_values_never_reach_plan_output_or_errors(secret: str) -> None:
    from acr_cache.plan import plan_program
    from acr_cache.plan.table import render_table
    from acr_cache.program import main as program

    document = test_artifact_cache.cache()
    values = {f"acr-cache:{k}": json.dumps(v) for k, v in document.items()}
    values.update({"acr-cache:dockerHubUsername": "user-" + secret[:4], "acr-cache:dockerHubToken": secret})
    plan = plan_program(
        program,
        project="acr-cache",
        stack="p",
        config=values,
        secret_keys=["acr-cache:dockerHubToken", "acr-cache:dockerHubUsername"],
    )
    shown = (
        json.dumps(plan.to_json()) + render_table(plan) + "\n".join(plan.run.messages + plan.schema_problems)
    )
    assert secret not in shown
    # The same secret left in plain text is refused without being echoed.
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(values, ["acr-cache:dockerHubUsername"])
    assert secret not in str(caught.value)


# --- fuzz ------------------------------------------------------------------------------------

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
SECTION_NAMES = st.sampled_from([*section_keys(), "registy", "acr", "extra"])


@given(st.dictionaries(SECTION_NAMES, JSON_VALUES, max_size=6))
@settings(max_examples=400, deadline=None)
def test_fuzzed_documents_end_in_a_config_or_a_config_error(document: dict[str, Any]) -> None:
    values = {f"acr-cache:{k}": json.dumps(v) for k, v in document.items()}
    try:
        result = parse_stack_config(values)
    except ConfigError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.key.startswith("acr-cache:") and problem.message
    else:
        assert isinstance(result, StackConfig)


@given(document=st.dictionaries(SECTION_NAMES, JSON_VALUES, max_size=5))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_fuzzed_stack_files_exit_2_without_a_traceback(
    document: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    import contextlib
    import io

    directory = tmp_path_factory.mktemp("fuzz")
    path = _stack_file(directory, document, "fuzz")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["plan", "--config", str(path)])
    assert "Traceback" not in err.getvalue()
    if code != 0:
        assert code == 2 and "acr-cache:" in err.getvalue()


# --- The one-pass reader of plain stack files builds what PyYAML's loader builds (issue #25) -----

_TRICKY = st.sampled_from(
    [
        "yes",
        "no",
        "on",
        "~",
        "null",
        "0x1f",
        "0o17",
        "1_000",
        "1e3",
        ".inf",
        "2020-01-01",
        "=",
        "<<",
        "",
        "'",
        '"',
    ]
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
    _TRICKY,
)
_DOCUMENTS = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.one_of(st.text(), _TRICKY, st.integers()), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(document=_DOCUMENTS, flow=st.booleans())
def test_the_one_pass_reader_builds_what_the_loader_builds(document: Any, flow: bool) -> None:
    from acr_cache.plan.stackfile import _plain_document, _StrictLoader, _Unusual

    text = yaml.safe_dump(document, default_flow_style=flow, allow_unicode=True)
    expected = yaml.load(text, Loader=_StrictLoader)
    try:
        built = _plain_document(text)
    except _Unusual:
        return  # the exact path reads it
    assert _ordered(built) == _ordered(expected)


def _ordered(value: Any) -> Any:
    """The value with each mapping as its list of pairs: equal only in the same key order and types."""
    if isinstance(value, dict):
        return [(type(k).__name__, k, _ordered(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_ordered(v) for v in value]
    return (type(value).__name__, value)


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "<<: {a: 1}\n",
        "a: 1\na: 2\n",
        "1: a\nTrue: b\n",
        "---\na: 1\n---\nb: 2\n",
        "? [a]\n: 1\n",
        "a: =\n",
        "a: [1, 2",
        "[" * 40 + "]" * 40,
        "a: " + "x" * 70_000,
    ],
)
def test_what_the_one_pass_reader_leaves_to_the_exact_path(text: str) -> None:
    from acr_cache.plan.stackfile import _plain_document, _Unusual

    with pytest.raises(_Unusual):
        _plain_document(text)
