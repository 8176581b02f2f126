"""The config reference is generated from the model and must be committed up to date."""

from __future__ import annotations

from typing import Any

from acr_cache.cli import main
from acr_cache.config import StackConfig
from acr_cache.docgen import _entry_suffix, _model_of, configuration_reference

from tests.conftest import ROOT


def test_configuration_reference_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == configuration_reference(), "docs/configuration.md is stale: run `acr-cache docs`"


def _tables(text: str) -> dict[str, list[str]]:
    """Heading -> the keys of the table under it."""
    tables: dict[str, list[str]] = {}
    heading = ""
    for line in text.splitlines():
        if line.startswith("#"):
            heading = line.strip("# ").strip("`").split("` (")[0]
            tables[heading] = []
        elif line.startswith("| `") and heading:
            tables[heading].append(line.split("`")[1])
    return tables


def _expected(annotation: Any, path: str, found: dict[str, list[str]]) -> None:
    """Every model the config holds, at the heading the reference gives it, with its keys."""
    model = _model_of(annotation)
    if model is None:
        return
    found[path] = [info.alias or name for name, info in model.model_fields.items()]
    for name, info in model.model_fields.items():
        if _model_of(info.annotation) is not None:
            _expected(info.annotation, f"{path}.{info.alias or name}{_entry_suffix(info.annotation)}", found)


def test_reference_documents_every_section_and_every_key_under_its_heading() -> None:
    tables = _tables(configuration_reference())
    expected: dict[str, list[str]] = {}
    for name, info in StackConfig.model_fields.items():
        key = info.alias or name
        assert f"acr-cache:{key}" in tables, key
        _expected(info.annotation, f"{key}{_entry_suffix(info.annotation)}", expected)
    # Sections that hold entries (maps, or the map-or-list cacheRules) document an entry's keys.
    assert {"cacheRules.<name>", "replicas.<name>", "privateAccess.dnsZone.vnetLinks.<name>"} <= set(expected)
    for heading, keys in expected.items():
        table = tables.get(heading) or tables.get(f"acr-cache:{heading}")
        assert table == keys, (heading, table, keys)


def test_reference_gives_each_section_one_description() -> None:
    text = configuration_reference()
    for name, info in StackConfig.model_fields.items():
        model = _model_of(info.annotation)
        if model is not None and model.__doc__:
            section = text.split(f"## `acr-cache:{info.alias or name}`")[1].split("\n## ")[0]
            assert model.__doc__.strip() not in section, name


def test_security_controls_table_is_up_to_date() -> None:
    from acr_cache.docgen import with_controls
    from acr_cache.policy import CONTROLS

    committed = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    assert committed == with_controls(committed), "docs/security.md is stale: run `acr-cache docs`"
    for control in CONTROLS:
        assert f"| `{control.name}` | {control.level} |" in committed


def test_docs_check_detects_a_stale_file(tmp_path, capsys) -> None:
    stale = tmp_path / "configuration.md"
    stale.write_text("old\n")
    assert main(["docs", "--check", "--output", str(stale)]) == 1
    assert main(["docs", "--output", str(stale)]) == 0
    assert main(["docs", "--check", "--output", str(stale)]) == 0
