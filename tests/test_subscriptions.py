"""A cache across the subscriptions of a landing zone (issue #28): every resource is deployed where
its ids say it lives, through a provider of that subscription, and nothing else moves."""

from __future__ import annotations

import json
from typing import Any

import pytest
from acr_cache.config import NAMESPACE, ConfigError, parse_stack_config
from acr_cache.plan import Plan
from acr_cache.plan.runner import ProgramFailed, ProgramRun, run_program
from acr_cache.program import main

from tests.conftest import HUB_LIBRARY_RULE, HUB_SET_FROM_CONFIG, as_pulumi_config, sections, stack_plan

SHARED = "33333333-3333-3333-3333-333333333333"
"""Shared services: the registry, the stack's own subscription."""
SPOKE_SUB = "11111111-1111-1111-1111-111111111111"
HUB_SUB = "44444444-4444-4444-4444-444444444444"
MANAGEMENT = "22222222-2222-2222-2222-222222222222"
SECURITY = "66666666-6666-6666-6666-666666666666"


def _subnet(sub: str, group: str, vnet: str) -> str:
    return (
        f"/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.Network/virtualNetworks/{vnet}"
        "/subnets/snet-pe"
    )


LANDING_ZONE: dict[str, Any] = sections(
    subscriptionId=SHARED,
    privateAccess={
        "endpoints": {
            "spoke": {"subnetId": _subnet(SPOKE_SUB, "rg-spoke-net", "vnet-spoke")},
            "hub": {
                "subnetId": _subnet(HUB_SUB, "rg-hub-net", "vnet-hub"),
                "resourceGroup": "rg-hub-endpoints",
            },
        },
        "dnsZone": {"mode": "create", "subscriptionId": HUB_SUB, "resourceGroup": "rg-dns"},
    },
    keyVault={
        "existingId": f"/subscriptions/{SECURITY}/resourceGroups/rg-sec/providers/Microsoft.KeyVault/vaults/kv-shared01"
    },
    credentialSets={"dockerhub": HUB_SET_FROM_CONFIG},
    cacheRules={"dockerhub-library": HUB_LIBRARY_RULE},
    monitoring={
        "diagnostics": {
            "workspace": {
                "existingId": f"/subscriptions/{MANAGEMENT}/resourceGroups/rg-management/providers/"
                "Microsoft.OperationalInsights/workspaces/log-platform"
            }
        }
    },
)
SECRETS = {"hubUser": "octocat", "hubToken": "dckr_pat_x"}


def _run(document: dict[str, Any], native: dict[str, str] | None = None) -> ProgramRun:
    """The program as the engine runs it: it reads the whole stack config, azure-native's included."""
    values = as_pulumi_config(document)
    values.update({f"{NAMESPACE}:{k}": v for k, v in SECRETS.items()})
    values.update({f"azure-native:{k}": v for k, v in (native or {}).items()})
    secret = [f"{NAMESPACE}:{k}" for k in SECRETS] + [
        f"azure-native:{k}" for k in (native or {}) if k in ("clientSecret", "oidcToken")
    ]
    return run_program(
        main, project="acr-cache", stack="lz", config=values, secret_keys=secret, preview=False
    )


def _subscription(arm_id: str) -> str:
    return arm_id.split("/")[2]


def test_every_resource_is_deployed_in_the_subscription_its_ids_name() -> None:
    run = _run(LANDING_ZONE)
    plan = Plan(run).to_json()
    assert not [m for m in run.messages if m.startswith(("error", "warning"))], run.messages
    by_name = {r["name"]: r for r in plan["resources"]}
    providers = {urn.rsplit("::", 1)[-1]: sub for urn, sub in plan["providers"].items()}
    assert providers == {f"subscription-{sub}": sub for sub in (SPOKE_SUB, HUB_SUB, SECURITY)}

    def placed(name: str) -> tuple[str, str]:
        resource = by_name[name]
        return _subscription(resource["id"]), resource.get("provider", "default").rsplit("::", 1)[-1]

    # Endpoints and their zone groups in their VNets' subscriptions (and groups there).
    assert placed("private-spoke") == (SPOKE_SUB, f"subscription-{SPOKE_SUB}")
    assert placed("private-hub") == (HUB_SUB, f"subscription-{HUB_SUB}")
    assert placed("private-spoke-dns") == (SPOKE_SUB, f"subscription-{SPOKE_SUB}")
    assert by_name["private-spoke"]["inputs"]["resourceGroupName"] == "rg-spoke-net"  # the VNet's group
    assert by_name["private-hub"]["inputs"]["resourceGroupName"] == "rg-hub-endpoints"  # as configured
    # The zone and its links in the connectivity subscription the config names.
    assert placed("private-zone") == (HUB_SUB, f"subscription-{HUB_SUB}")
    links = [
        name
        for name in by_name
        if name.startswith("private-zone-") and by_name[name]["type"].endswith("VirtualNetworkLink")
    ]
    assert links and all(placed(name) == (HUB_SUB, f"subscription-{HUB_SUB}") for name in links)
    # Secrets go into the existing vault's subscription; the grants name the role there.
    assert placed("cache-dockerhub-password") == (SECURITY, f"subscription-{SECURITY}")
    grant = next(
        r
        for r in plan["resources"]
        if r["type"].endswith("RoleAssignment") and "dockerhub-password" in r["inputs"]["scope"]
    )
    assert grant["inputs"]["roleDefinitionId"].startswith(f"/subscriptions/{SECURITY}/providers/")
    # The registry and everything of its own in the stack's subscription, by the default provider.
    for name in ("acr-registry", "acr-rg", "cache-dockerhub", "cache-dockerhub-library"):
        assert placed(name) == (SHARED, "default"), name
    # An extension resource lives at its scope; logs go to the management workspace by id.
    diagnostic = by_name["monitoring-registry"]
    assert diagnostic["inputs"]["workspaceId"].startswith(f"/subscriptions/{MANAGEMENT}/")
    assert "provider" not in diagnostic


def test_the_landing_zone_plans_with_no_schema_problem() -> None:
    assert Plan(_run(LANDING_ZONE)).schema_problems == []


def test_a_provider_of_another_subscription_signs_in_as_the_default_one() -> None:
    run = _run(
        LANDING_ZONE,
        native={
            "clientId": "77777777-7777-7777-7777-777777777777",
            "tenantId": "88888888-8888-8888-8888-888888888888",
            "clientSecret": "the-client-secret",
            "useOidc": "false",
            "environment": "public",
            "location": "westeurope",
        },
    )
    provider = next(r for r in run.resources if r.name == f"subscription-{HUB_SUB}")
    from acr_cache.plan.values import Secret

    # As the SDK sends a provider's configuration: strings (flags and lists as JSON), the ones
    # azure-native's schema marks secret kept secret in the state.
    assert {k: v for k, v in provider.inputs.items() if k != "version"} == {
        "subscriptionId": HUB_SUB,
        "clientId": Secret("77777777-7777-7777-7777-777777777777"),
        "tenantId": "88888888-8888-8888-8888-888888888888",
        "clientSecret": Secret("the-client-secret"),
        "useOidc": "false",
        "environment": "public",
        "location": "westeurope",
    }


def test_a_stack_in_one_subscription_keeps_the_default_provider_for_everything() -> None:
    # The shipped single-subscription stacks: no explicit provider, so nothing is re-homed.
    for stack in ("dev", "prod"):
        plan = stack_plan(stack)
        assert "providers" not in plan
        assert not [r["name"] for r in plan["resources"] if "provider" in r], stack


def test_ids_in_the_stacks_own_subscription_keep_the_default_provider() -> None:
    document = json.loads(json.dumps(LANDING_ZONE))
    document["privateAccess"]["endpoints"] = {"spoke": {"subnetId": _subnet(SHARED, "rg-net", "vnet-shared")}}
    document["privateAccess"]["dnsZone"] = {"mode": "create"}
    document.pop("keyVault")
    document["keyVault"] = {"name": "kv-acrtest01"}
    run = _run(document)
    assert not [r.name for r in run.resources if r.provider]
    assert not [r for r in run.resources if r.type == "pulumi:providers:azure-native"]


def test_per_endpoint_zones_go_to_each_vnets_subscription_and_may_register() -> None:
    document = json.loads(json.dumps(LANDING_ZONE))
    document["privateAccess"]["dnsZone"] = {"mode": "perEndpoint", "registrationEnabled": True}
    plan = Plan(_run(document)).to_json()
    zones = [r for r in plan["resources"] if r["type"] == "azure-native:privatedns:PrivateZone"]
    links = [r for r in plan["resources"] if r["type"] == "azure-native:privatedns:VirtualNetworkLink"]
    assert sorted(_subscription(z["id"]) for z in zones) == sorted([SPOKE_SUB, HUB_SUB])
    assert {_subscription(link["id"]) for link in links} == {SPOKE_SUB, HUB_SUB}
    assert all(link["inputs"]["registrationEnabled"] is True for link in links)
    assert all(z["provider"].endswith(f"subscription-{_subscription(z['id'])}") for z in zones)


def test_without_the_stacks_subscription_everything_stays_and_the_plan_says_so() -> None:
    document = json.loads(json.dumps(LANDING_ZONE))
    document.pop("subscriptionId")
    document["privateAccess"]["dnsZone"] = {"mode": "create"}
    run = _run(document)
    assert not [r for r in run.resources if r.provider]
    (warning,) = [m for m in run.messages if "subscription is not in its config" in m]
    assert f"subscription {SPOKE_SUB}: private endpoint spoke" in warning
    assert f"subscription {SECURITY}: secrets and keys in Key Vault kv-shared01" in warning
    assert "set `acr-cache:subscriptionId` (or `azure-native:subscriptionId`)" in warning


def test_azure_natives_subscription_places_things_too() -> None:
    document = json.loads(json.dumps(LANDING_ZONE))
    document.pop("subscriptionId")
    run = _run(document, native={"subscriptionId": SHARED})
    assert {r.name for r in run.resources if r.provider} >= {"private-spoke", "private-hub"}


@pytest.mark.parametrize(
    ("changes", "native", "problem"),
    [
        (
            {"subscriptionId": "not-a-guid"},
            {},
            "acr-cache:subscriptionId: 'not-a-guid' is not a subscription id: expected a GUID (`az account show "
            "--query id -o tsv`)",
        ),
        (
            {"subscriptionId": SHARED},
            {"subscriptionId": HUB_SUB},
            f"acr-cache:subscriptionId: is {SHARED}, but azure-native:subscriptionId is {HUB_SUB} and the default "
            "provider deploys there: remove `acr-cache:subscriptionId`, or make the two equal",
        ),
        (
            {
                "subscriptionId": None,
                "privateAccess": {
                    "endpoints": {"spoke": {"subnetId": _subnet(SPOKE_SUB, "rg-spoke-net", "vnet-spoke")}},
                    "dnsZone": {"mode": "create", "subscriptionId": HUB_SUB, "resourceGroup": "rg-dns"},
                },
            },
            {},
            "acr-cache:privateAccess.dnsZone.subscriptionId: the zone goes into another subscription only when the "
            "stack's own is known: set `acr-cache:subscriptionId` (or `azure-native:subscriptionId`) to the "
            "subscription the stack deploys to",
        ),
        (
            {
                "agentPools": {
                    "purge-pool": {"subnetId": _subnet(HUB_SUB, "rg-hub-net", "vnet-hub"), "tier": "S1"}
                }
            },
            {},
            f"acr-cache:agentPools.purge-pool.subnetId: the subnet is in subscription {HUB_SUB}, the registry in "
            f"{SHARED}, and Azure connects a resource only to a VNet of its own subscription: use a subnet of the "
            "registry's subscription (peered to the network that reaches the registry)",
        ),
        (
            {
                "privateAccess": {
                    "endpoints": {"spoke": {"subnetId": _subnet(SPOKE_SUB, "rg-spoke-net", "vnet-spoke")}},
                    "dnsZone": {"mode": "create", "subscriptionId": HUB_SUB},
                }
            },
            {},
            "acr-cache:privateAccess.dnsZone.resourceGroup: a zone in another subscription needs the resource group "
            "it goes into there: set `resourceGroup` with `subscriptionId`",
        ),
        (
            {
                "privateAccess": {
                    "endpoints": {"spoke": {"subnetId": _subnet(SPOKE_SUB, "rg-spoke-net", "vnet-spoke")}},
                    "dnsZone": {"mode": "create", "registrationEnabled": True},
                }
            },
            {},
            "acr-cache:privateAccess.dnsZone.registrationEnabled: `registrationEnabled` is for the links `perEndpoint` "
            "makes; with `mode: create`, turn it on per link in `vnetLinks` (`{vnetId, registrationEnabled: true}`)",
        ),
        (
            {
                "privateAccess": {
                    "endpoints": {
                        "a": {"subnetId": _subnet(SPOKE_SUB, "rg-net", "vnet-a")},
                        "b": {"subnetId": _subnet(HUB_SUB, "rg-net", "vnet-b")},
                    },
                    "dnsZone": {"mode": "perEndpoint"},
                }
            },
            {},
            "acr-cache:privateAccess.dnsZone: `perEndpoint` makes one zone per VNet resource group, named after it, and "
            "'rg-net' is a VNet resource group in 2 subscriptions: use `mode: create` (with `subscriptionId` for a "
            "connectivity subscription) or `mode: existing`",
        ),
    ],
    ids=[
        "not-a-guid",
        "two-subscriptions",
        "zone-elsewhere-unknown",
        "agent-pool",
        "zone-group",
        "registration",
        "per-endpoint-group-twice",
    ],
)
def test_what_cannot_be_placed_is_refused_with_the_key_and_the_fix(
    changes: dict[str, Any], native: dict[str, str], problem: str
) -> None:
    document = json.loads(json.dumps(LANDING_ZONE))
    for key, value in changes.items():
        if value is None:
            document.pop(key, None)
        else:
            document[key] = value
    values = {**as_pulumi_config(document), **{f"{NAMESPACE}:{k}": v for k, v in SECRETS.items()}}
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(
            values, [f"{NAMESPACE}:{k}" for k in SECRETS], default_subscription=native.get("subscriptionId")
        )
    assert problem in [str(p) for p in caught.value.problems]
    # The program refuses it before registering anything.
    with pytest.raises(ProgramFailed) as failed:
        _run(document, native)
    assert failed.value.resources == []


def test_a_signed_in_subscription_other_than_the_configured_one_is_an_error_at_deployment() -> None:
    from acr_cache.program import _check_subscription

    messages: list[str] = []
    import pulumi

    original = pulumi.log.error
    pulumi.log.error = lambda message, *a, **k: messages.append(message)  # type: ignore[assignment]
    try:
        _check_subscription(SHARED, SHARED.upper())
        _check_subscription(SHARED, HUB_SUB)
    finally:
        pulumi.log.error = original  # type: ignore[assignment]
    assert messages == [
        f"acr-cache:subscriptionId is {SHARED}, but azure-native deploys to subscription {HUB_SUB} (az account show, "
        f"or ARM_SUBSCRIPTION_ID): set azure-native:subscriptionId to {SHARED}, or correct acr-cache:subscriptionId; "
        f"resources were placed for {SHARED}"
    ]


# --- Showing it: the table, the picture, the cost and the diff ------------------------------------


def test_the_table_the_picture_and_the_cost_group_by_subscription() -> None:
    from acr_cache.plan.table import render_table
    from acr_cache.review.cost import estimate
    from acr_cache.review.graph import mermaid

    run = _run(LANDING_ZONE)
    table = render_table(Plan(run))
    section = table.split("By subscription:\n", 1)[1].splitlines()
    assert section[0].startswith(
        f"    {SPOKE_SUB} (provider subscription-{SPOKE_SUB}): 1 PrivateDnsZoneGroup, 1 PrivateEndpoint"
    )
    assert any(line.startswith(f"    {SHARED} (the default provider): ") for line in section)
    plan = Plan(run).to_json()
    picture = mermaid(plan)
    assert "subgraph g" in picture and f"Private network · subscription {HUB_SUB}" in picture
    assert f"Private network · subscription {SPOKE_SUB}" in picture
    items = [line.item for line in estimate(plan["resources"]).lines]
    assert f"Private endpoint · subscription {SPOKE_SUB}" in items
    assert f"Private endpoint · subscription {HUB_SUB}" in items
    assert any(
        item.startswith("Registry Premium") and item.endswith(f"subscription {SHARED}") for item in items
    )


def test_a_single_subscription_plan_shows_no_subscription_grouping() -> None:
    from acr_cache.plan.table import render_table
    from acr_cache.review.cost import estimate

    plan = stack_plan("prod")
    assert not [line for line in estimate(plan["resources"]).lines if "subscription" in line.item]
    from acr_cache.plan import make_plan
    from acr_cache.plan.stackfile import load_stack_files

    from tests.conftest import ROOT

    assert "By subscription" not in render_table(make_plan(load_stack_files("prod", None, ROOT)))


def test_the_diff_treats_a_provider_change_as_the_engine_does() -> None:
    from acr_cache.review.diff import diff_plans

    head = Plan(_run(LANDING_ZONE)).to_json()
    # The state of an older program: the same endpoint through the default provider, where the
    # stack's subscription put it (and without the new provider resource).
    base = json.loads(json.dumps(head))
    base["resources"] = [r for r in base["resources"] if r["name"] != f"subscription-{SPOKE_SUB}"]
    for resource in base["resources"]:
        if resource["name"] in ("private-spoke", "private-spoke-dns"):
            resource.pop("provider")
            resource["id"] = resource["id"].replace(SPOKE_SUB, "00000000-0000-0000-0000-000000000000")
    diff = diff_plans(base, head)
    # azure-native's DiffConfig never asks for a replacement, so the engine keeps the endpoint and
    # only diffs its inputs (unchanged here): no change at all, and the note says where it stays.
    assert [c for c in diff.changes if c.name == "private-spoke"] == []
    (note,) = [n for n in diff.notes if n.startswith("private-spoke goes from")]
    assert note == (
        f"private-spoke goes from the default provider to provider subscription-{SPOKE_SUB}: azure-native never "
        "replaces a resource for a provider change, so `pulumi up` keeps it and diffs its inputs as usual; it "
        f"stays in subscription 00000000-0000-0000-0000-000000000000 (the new provider deploys to {SPOKE_SUB}): "
        "to move it, remove it from the stack in one deploy and add it back in the next"
    )
    created = {c.name for c in diff.changes if c.action == "create"}
    assert f"subscription-{SPOKE_SUB}" in created  # the provider itself is new
