"""The plan runner: engine-shaped URNs, deterministic Azure-like answers, a fresh runtime per run."""

from __future__ import annotations

import pulumi
from acr_cache.plan.mocks import (
    PLACEHOLDER_SUBSCRIPTION_ID,
    PLACEHOLDER_TENANT_ID,
    AzureMocks,
    principal_id_for,
)
from acr_cache.plan.runner import run_program
from pulumi_azure_native import authorization, resources


class Outer(pulumi.ComponentResource):
    def __init__(self, name: str) -> None:
        super().__init__("test:index:Outer", name, None, None)
        Inner(f"{name}-inner", pulumi.ResourceOptions(parent=self))
        self.register_outputs({})


class Inner(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions) -> None:
        super().__init__("test:index:Inner", name, None, opts)
        resources.ResourceGroup(
            f"{name}-rg", resource_group_name="rg-x", opts=pulumi.ResourceOptions(parent=self)
        )
        self.register_outputs({})


def test_urns_follow_the_engine_rule_for_nested_components() -> None:
    run = run_program(lambda: Outer("o") and None, project="p", stack="s", config={})
    assert [r.urn for r in run.resources] == [
        "urn:pulumi:s::p::test:index:Outer$test:index:Inner$azure-native:resources:ResourceGroup::o-inner-rg",
        "urn:pulumi:s::p::test:index:Outer$test:index:Inner::o-inner",
        "urn:pulumi:s::p::test:index:Outer::o",
    ]
    assert run.resources[2].parent is None
    assert run.resources[0].parent == run.resources[1].urn


def test_invokes_answer_with_documented_placeholders() -> None:
    def program() -> None:
        client = authorization.get_client_config_output()
        pulumi.export("subscription", client.subscription_id)
        pulumi.export("tenant", client.tenant_id)

    outputs = run_program(program, project="p", stack="s", config={}).outputs
    assert outputs == {"subscription": PLACEHOLDER_SUBSCRIPTION_ID, "tenant": PLACEHOLDER_TENANT_ID}


def test_system_assigned_identities_get_stable_principal_ids() -> None:
    from pulumi.runtime.mocks import MockResourceArgs

    args = MockResourceArgs(
        typ="azure-native:containerregistry:CredentialSet",
        name="cs",
        inputs={
            "registryName": "acr1",
            "resourceGroupName": "rg",
            "credentialSetName": "dockerhub",
            "identity": {"type": "SystemAssigned"},
        },
        custom=True,
    )
    first = AzureMocks().new_resource(args)
    second = AzureMocks().new_resource(args)
    assert first == second
    arm_id, state = first
    assert arm_id == (
        f"/subscriptions/{PLACEHOLDER_SUBSCRIPTION_ID}/resourceGroups/rg/providers/"
        "Microsoft.ContainerRegistry/registries/acr1/credentialSets/dockerhub"
    )
    assert state["identity"]["principalId"] == principal_id_for(arm_id)
    assert state["name"] == "dockerhub"


def test_config_is_isolated_between_runs() -> None:
    def program() -> None:
        pulumi.export("value", pulumi.Config("p").get("key"))

    assert run_program(program, project="p", stack="s", config={"p:key": "one"}).outputs == {"value": "one"}
    assert run_program(program, project="p", stack="s", config={}).outputs == {}
