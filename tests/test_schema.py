"""The plan's schema check catches what mocks let through: guessed keys, missing fields, bad enums."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from acr_cache.plan import plan_program
from acr_cache.plan.schema import check_resource
from acr_cache.plan.values import Secret, Unknown
from pulumi_azure_native import containerregistry, resources

REGISTRY = "azure-native:containerregistry:Registry"


def planned_problems(program: Any) -> list[str]:
    return plan_program(program, project="demo", stack="t", config={}).schema_problems


def registry(**overrides: Any) -> None:
    arguments: dict[str, Any] = {
        "resource_group_name": "rg",
        "registry_name": "acrdemo01",
        "sku": containerregistry.SkuArgs(name="Premium"),
        **overrides,
    }
    containerregistry.Registry("reg", **arguments)


def test_guessed_snake_case_key_in_a_plain_dict_is_caught() -> None:
    # The classic mistake: the SDK translates only the keys it knows, so this reaches Azure as-is.
    problems = planned_problems(
        lambda: registry(
            network_rule_set={"default_action": "Deny", "ip_rules": [{"ip_address_or_range": "203.0.113.4"}]}
        )
    )
    assert len(problems) == 2
    assert any(
        "networkRuleSet.ipRules[0].ip_address_or_range: unknown property of IPRuleArgs" in p for p in problems
    )
    assert any(
        "networkRuleSet.ipRules[0].iPAddressOrRange: required property of IPRuleArgs" in p for p in problems
    )


def test_the_sdk_spelling_passes() -> None:
    problems = planned_problems(
        lambda: registry(
            network_rule_set=containerregistry.NetworkRuleSetArgs(
                default_action="Deny",
                ip_rules=[containerregistry.IPRuleArgs(i_p_address_or_range="203.0.113.4")],
            )
        )
    )
    assert problems == []


def test_value_outside_the_enum_is_caught() -> None:
    problems = planned_problems(lambda: registry(public_network_access="disabled"))
    assert len(problems) == 1
    assert "publicNetworkAccess: str 'disabled' is not one of 'Enabled', 'Disabled'" in problems[0]


def test_object_where_a_scalar_belongs_is_caught() -> None:
    problems = planned_problems(lambda: registry(location={"name": "westeurope"}))
    assert len(problems) == 1 and "location: expected a scalar, got an object" in problems[0]


def test_missing_required_nested_property_is_caught() -> None:
    problems = planned_problems(lambda: registry(network_rule_set={"ip_rules": []}))
    assert len(problems) == 1
    assert "networkRuleSet.defaultAction: required property of NetworkRuleSetArgs is missing" in problems[0]


def test_problems_name_the_resource_urn() -> None:
    problems = planned_problems(lambda: resources.ResourceGroup("rg", location={"bad": 1}))
    assert problems == [
        "urn:pulumi:t::demo::azure-native:resources:ResourceGroup::rg: location: expected a scalar, got an object"
    ]


def test_missing_required_top_level_property() -> None:
    assert check_resource(REGISTRY, {"resourceGroupName": "rg"}) == [
        "sku: required property of RegistryArgs is missing"
    ]


def test_unknown_type_and_wrong_scalar_types() -> None:
    assert check_resource("azure-native:containerregistry:Nope", {}) == [
        "azure-native:containerregistry:Nope is not a resource type of the installed pulumi-azure-native"
    ]
    assert check_resource(
        REGISTRY, {"resourceGroupName": "rg", "sku": {"name": "Premium"}, "adminUserEnabled": "no"}
    ) == ["adminUserEnabled: expected bool, got str 'no'"]
    assert check_resource(
        REGISTRY, {"resourceGroupName": "rg", "sku": {"name": "Premium"}, "tags": {"a": 1}}
    ) == ["tags.a: expected str, got int 1"]
    assert check_resource("acr-cache:index:Registry", {"anything": 1}) == []


@pytest.mark.parametrize("marker", [Unknown(), Secret(Unknown())])
def test_unknown_values_are_not_judged(marker: Any) -> None:
    assert check_resource(REGISTRY, {"resourceGroupName": marker, "sku": marker, "policies": marker}) == []


def test_secret_values_are_checked_but_never_shown() -> None:
    problems = check_resource(
        REGISTRY,
        {"resourceGroupName": "rg", "sku": {"name": "Premium"}, "location": Secret({"x": "hunter2"})},
    )
    assert problems == ["location: expected a scalar, got a secret value"]
    problems = check_resource(REGISTRY, {"resourceGroupName": "rg", "sku": {"name": Secret("Gold-hunter2")}})
    assert problems == ["sku.name: a secret value is not one of 'Classic', 'Basic', 'Standard', 'Premium'"]


def test_resource_references_and_outputs_flow_through() -> None:
    def program() -> None:
        group = resources.ResourceGroup("rg", resource_group_name="rg-x", location="westeurope")
        registry(resource_group_name=group.name, location=pulumi.Output.from_input("westeurope"))

    assert planned_problems(program) == []
