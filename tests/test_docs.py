"""The config reference is generated from the model and must be committed up to date."""

from __future__ import annotations

from acr_cache.cli import main
from acr_cache.docgen import configuration_reference

from tests.conftest import ROOT


def test_configuration_reference_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == configuration_reference(), "docs/configuration.md is stale: run `acr-cache docs`"


def test_reference_lists_every_section_and_key() -> None:
    text = configuration_reference()
    for heading in ("## `acr-cache:resourceGroup` (required)", "## `acr-cache:registry` (required)"):
        assert heading in text
    assert "| `retentionDays` | integer (>= 0, <= 365) |" in text
    assert '| `sku` | `Basic` \\| `Standard` \\| `Premium` | `"Premium"` |' in text
    assert "| `location` | Azure region | required |" in text


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
