"""Geo-replicas, the firewall and private access: wire inputs, ordering, URN stability, refusals."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from acr_cache.config import ConfigError, parse_stack_config

from tests.conftest import as_pulumi_config, by_type, one, refusal_ids, run_stack, sections

REGISTRY = "azure-native:containerregistry:Registry"
REPLICA = "azure-native:containerregistry:Replication"
ENDPOINT = "azure-native:network:PrivateEndpoint"
ZONE_GROUP = "azure-native:network:PrivateDnsZoneGroup"
ZONE = "azure-native:privatedns:PrivateZone"
LINK = "azure-native:privatedns:VirtualNetworkLink"
SUB = "00000000-0000-0000-0000-000000000000"
OTHER_SUB = "99999999-0000-0000-0000-000000000000"


def vnet(group: str, name: str, sub: str = SUB) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.Network/virtualNetworks/{name}"


def subnet(group: str, name: str, sub: str = SUB, subnet_name: str = "snet-pe") -> str:
    return f"{vnet(group, name, sub)}/subnets/{subnet_name}"


def premium(**extra: Any) -> dict[str, Any]:
    return {"name": "acrcachetest01", "location": "westeurope", **extra}


def endpoints(**entries: dict[str, Any]) -> dict[str, Any]:
    return {"endpoints": entries}


HUB = {"subnetId": subnet("rg-hub", "vnet-hub")}
SPOKE = {"subnetId": subnet("rg-spoke", "vnet-spoke"), "location": "northeurope"}


def problems_of(document: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(as_pulumi_config(document))
    return [str(p) for p in caught.value.problems]


# --- replicas -------------------------------------------------------------------------------


def test_one_replica_per_region_named_after_it() -> None:
    run = run_stack(
        sections(
            replicas={
                "northeurope": {},
                "swedencentral": {"zoneRedundancy": False, "regionEndpointEnabled": False},
            }
        )
    )
    replicas = {r.inputs["location"]: r for r in by_type(run, REPLICA)}
    assert sorted(replicas) == ["northeurope", "swedencentral"]
    assert replicas["northeurope"].inputs == {
        "location": "northeurope",
        "regionEndpointEnabled": True,
        "registryName": "acrcachetest01",
        "replicationName": "northeurope",
        "resourceGroupName": "rg-acr-test",
        "zoneRedundancy": "Enabled",
    }
    assert replicas["swedencentral"].inputs["zoneRedundancy"] == "Disabled"
    assert replicas["swedencentral"].inputs["regionEndpointEnabled"] is False
    registry = one(run, REGISTRY)
    for replica in replicas.values():
        assert registry.urn in replica.depends_on
        # zoneRedundancy cannot change in place; one replica per region, so delete first.
        assert replica.replace_on_changes == ["zoneRedundancy"]
        assert replica.delete_before_replace is True


def test_a_region_newer_than_this_release_replicates_under_its_own_name() -> None:
    # Five characters is the shortest name a replication takes; `newrg` is no region Azure has
    # yet, and no typo of one.
    run = run_stack(sections(replicas={"newrg": {}}))
    assert [(r.inputs["replicationName"], r.inputs["location"]) for r in by_type(run, REPLICA)] == [
        ("newrg", "newrg")
    ]


def test_reordering_replicas_and_endpoints_changes_no_urn() -> None:
    access = endpoints(hub=HUB, spoke=SPOKE)
    reordered = {"endpoints": dict(reversed(list(access["endpoints"].items())))}
    first = run_stack(sections(replicas={"northeurope": {}, "swedencentral": {}}, privateAccess=access))
    second = run_stack(sections(replicas={"swedencentral": {}, "northeurope": {}}, privateAccess=reordered))
    assert [r.urn for r in first.resources] == [r.urn for r in second.resources]


def test_adding_a_replica_changes_no_existing_urn() -> None:
    before = run_stack(sections(replicas={"swedencentral": {}}, privateAccess=endpoints(hub=HUB)))
    after = run_stack(
        sections(replicas={"swedencentral": {}, "francecentral": {}}, privateAccess=endpoints(hub=HUB))
    )
    old, new = {r.urn for r in before.resources}, {r.urn for r in after.resources}
    assert old < new
    assert [u.rsplit("::", 1)[1] for u in new - old] == ["replicas-francecentral"]


# --- firewall -------------------------------------------------------------------------------


def test_default_registry_is_open_with_every_value_explicit() -> None:
    inputs = one(run_stack(sections()), REGISTRY).inputs
    assert inputs["publicNetworkAccess"] == "Enabled"
    assert inputs["networkRuleSet"] == {"defaultAction": "Allow"}
    assert inputs["networkRuleBypassOptions"] == "AzureServices"
    assert inputs["dataEndpointEnabled"] is False


def test_ip_rules_restrict_the_registry_normalised_and_deduplicated() -> None:
    run = run_stack(
        sections(
            network={"ipRules": ["203.0.113.7/24", "198.51.100.10", "203.0.113.0/24", "198.51.100.10/32"]}
        )
    )
    inputs = one(run, REGISTRY).inputs
    assert inputs["publicNetworkAccess"] == "Enabled"
    assert inputs["networkRuleSet"] == {
        "defaultAction": "Deny",
        "ipRules": [
            {"action": "Allow", "iPAddressOrRange": "203.0.113.0/24"},
            {"action": "Allow", "iPAddressOrRange": "198.51.100.10"},
        ],
    }
    assert inputs["dataEndpointEnabled"] is True
    assert inputs["networkRuleBypassOptions"] == "AzureServices"
    assert (
        run.outputs["endpoints"]["westeurope"]["dataEndpoint"] == "acrcachetest01.westeurope.data.azurecr.io"
    )


def test_restricted_without_rules_and_bypass_off() -> None:
    inputs = one(
        run_stack(sections(network={"publicAccess": "Restricted", "trustedServicesBypass": False})), REGISTRY
    ).inputs
    assert inputs["networkRuleSet"] == {"defaultAction": "Deny"}
    assert inputs["networkRuleBypassOptions"] == "None"


def test_private_endpoints_without_ip_rules_disable_public_access() -> None:
    inputs = one(run_stack(sections(privateAccess=endpoints(hub=HUB))), REGISTRY).inputs
    assert inputs["publicNetworkAccess"] == "Disabled"
    assert inputs["networkRuleSet"] == {"defaultAction": "Deny"}
    assert inputs["dataEndpointEnabled"] is True
    assert inputs["networkRuleBypassOptions"] == "AzureServices"


def test_public_access_stays_when_the_config_says_so_explicitly() -> None:
    open_run = run_stack(sections(network={"publicAccess": "Open"}, privateAccess=endpoints(hub=HUB)))
    assert one(open_run, REGISTRY).inputs["publicNetworkAccess"] == "Enabled"
    assert one(open_run, REGISTRY).inputs["networkRuleSet"] == {"defaultAction": "Allow"}
    with_rules = run_stack(
        sections(network={"ipRules": ["203.0.113.0/24"]}, privateAccess=endpoints(hub=HUB))
    )
    assert one(with_rules, REGISTRY).inputs["publicNetworkAccess"] == "Enabled"


def test_exports_can_be_disabled_once_public_access_is() -> None:
    run = run_stack(
        sections(
            registry=premium(exportEnabled=False),
            network={"publicAccess": "Disabled"},
            privateAccess=endpoints(hub=HUB),
        )
    )
    assert one(run, REGISTRY).inputs["policies"]["exportPolicy"] == {"status": "disabled"}


# --- private endpoints and DNS --------------------------------------------------------------


def test_endpoints_wait_for_every_replica_and_get_a_zone_group_each() -> None:
    run = run_stack(
        sections(
            replicas={"northeurope": {}, "swedencentral": {}}, privateAccess=endpoints(hub=HUB, spoke=SPOKE)
        )
    )
    replica_urns = {r.urn for r in by_type(run, REPLICA)}
    pes = {r.name: r for r in by_type(run, ENDPOINT)}
    assert sorted(pes) == ["private-hub", "private-spoke"]
    for pe in pes.values():
        assert replica_urns <= set(pe.depends_on)
        assert one(run, REGISTRY).urn in pe.depends_on
        assert "ipConfigurations" not in pe.inputs  # dynamic addresses
    hub = pes["private-hub"].inputs
    assert hub == {
        "customNetworkInterfaceName": "pe-acrcachetest01-hub-nic",
        "location": "westeurope",
        "privateEndpointName": "pe-acrcachetest01-hub",
        "privateLinkServiceConnections": [
            {
                "groupIds": ["registry"],
                "name": "pe-acrcachetest01-hub",
                "privateLinkServiceId": f"/subscriptions/{SUB}/resourceGroups/rg-acr-test/providers/"
                "Microsoft.ContainerRegistry/registries/acrcachetest01",
            }
        ],
        "resourceGroupName": "rg-acr-test",
        "subnet": {"id": HUB["subnetId"]},
    }
    assert pes["private-spoke"].inputs["location"] == "northeurope"
    zone = one(run, ZONE)
    groups = by_type(run, ZONE_GROUP)
    assert len(groups) == 2
    for group in groups:
        assert group.inputs["privateDnsZoneConfigs"] == [
            {"name": "privatelink-azurecr-io", "privateDnsZoneId": zone_id("rg-acr-test")}
        ]
        assert zone.urn in group.depends_on
    assert zone.inputs == {
        "location": "global",
        "privateZoneName": "privatelink.azurecr.io",
        "resourceGroupName": "rg-acr-test",
    }
    links = {r.inputs["virtualNetworkLinkName"]: r.inputs for r in by_type(run, LINK)}
    assert sorted(links) == ["link-vnet-hub", "link-vnet-spoke"]
    assert links["link-vnet-hub"]["virtualNetwork"] == {"id": vnet("rg-hub", "vnet-hub")}
    assert links["link-vnet-hub"]["registrationEnabled"] is False
    outputs = run.outputs
    assert set(outputs["privateEndpointIds"]) == {"hub", "spoke"}
    assert outputs["privateDnsZoneId"] == zone_id("rg-acr-test")
    assert outputs["endpoints"]["swedencentral"] == {
        "loginServer": "acrcachetest01.azurecr.io",
        "dataEndpoint": "acrcachetest01.swedencentral.data.azurecr.io",
    }


def zone_id(group: str) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/{group}/providers/Microsoft.Network/privateDnsZones/privatelink.azurecr.io"


def test_explicit_links_and_zone_group() -> None:
    access = {
        "endpoints": {"hub": {**HUB, "resourceGroup": "rg-hub", "name": "pe-registry"}},
        "dnsZone": {
            "mode": "create",
            "resourceGroup": "rg-dns",
            "vnetLinks": {"hub": vnet("rg-hub", "vnet-hub")},
        },
    }
    run = run_stack(sections(privateAccess=access))
    assert one(run, ZONE).inputs["resourceGroupName"] == "rg-dns"
    assert one(run, LINK).inputs["virtualNetworkLinkName"] == "link-hub"
    pe = one(run, ENDPOINT).inputs
    assert (pe["privateEndpointName"], pe["resourceGroupName"]) == ("pe-registry", "rg-hub")
    assert one(run, ZONE_GROUP).inputs["resourceGroupName"] == "rg-hub"


def test_existing_zone_creates_no_zone_and_no_links() -> None:
    existing = zone_id("rg-central-dns")
    run = run_stack(
        sections(privateAccess={**endpoints(hub=HUB), "dnsZone": {"mode": "existing", "zoneId": existing}})
    )
    assert by_type(run, ZONE) == [] and by_type(run, LINK) == []
    assert one(run, ZONE_GROUP).inputs["privateDnsZoneConfigs"][0]["privateDnsZoneId"] == existing
    assert run.outputs["privateDnsZoneId"] == existing


def test_per_endpoint_zones_one_per_resource_group() -> None:
    second_in_hub = {"subnetId": subnet("rg-hub", "vnet-hub-2")}
    run = run_stack(
        sections(
            privateAccess={
                **endpoints(hub=HUB, hub2=second_in_hub, spoke=SPOKE),
                "dnsZone": {"mode": "perEndpoint"},
            }
        )
    )
    zones = {r.inputs["resourceGroupName"]: r for r in by_type(run, ZONE)}
    assert sorted(zones) == ["rg-hub", "rg-spoke"]
    links = sorted(
        (r.inputs["resourceGroupName"], r.inputs["virtualNetwork"]["id"]) for r in by_type(run, LINK)
    )
    assert links == [
        ("rg-hub", vnet("rg-hub", "vnet-hub")),
        ("rg-hub", vnet("rg-hub", "vnet-hub-2")),
        ("rg-spoke", vnet("rg-spoke", "vnet-spoke")),
    ]
    by_endpoint = {
        g.inputs["privateEndpointName"]: g.inputs["privateDnsZoneConfigs"][0]["privateDnsZoneId"]
        for g in by_type(run, ZONE_GROUP)
    }
    assert by_endpoint == {
        "pe-acrcachetest01-hub": zone_id("rg-hub"),
        "pe-acrcachetest01-hub2": zone_id("rg-hub"),
        "pe-acrcachetest01-spoke": zone_id("rg-spoke"),
    }
    assert "privateDnsZoneId" not in run.outputs
    assert set(run.outputs["privateDnsZoneIds"]) == {"rg-hub", "rg-spoke"}


@pytest.mark.parametrize("protect", [True, False])
def test_created_zones_follow_protection(protect: bool) -> None:
    run = run_stack(sections(privateAccess=endpoints(hub=HUB), protection={"protect": protect}))
    assert one(run, ZONE).protect is protect


def test_subnet_with_room_passes_the_capacity_check() -> None:
    # 2 endpoints x (1 login server + 3 regions) = 8 addresses; a /28 has 11 usable.
    hub = {**HUB, "subnetPrefixLength": 28}
    shared = {"subnetId": HUB["subnetId"], "subnetPrefixLength": 28}
    parse_stack_config(
        as_pulumi_config(
            sections(
                replicas={"northeurope": {}, "swedencentral": {}}, privateAccess=endpoints(a=hub, b=shared)
            )
        )
    )


# --- refusals -------------------------------------------------------------------------------

BASIC = premium(sku="Basic")
REFUSED = [
    (
        sections(
            privateAccess={
                **endpoints(hub=HUB),
                "dnsZone": {
                    "mode": "perEndpoint",
                    "vnetLinks": {"hub": subnet("rg-hub", "vnet-hub").rsplit("/subnets/")[0]},
                },
            }
        ),
        "acr-cache:privateAccess.dnsZone.vnetLinks",
        "`perEndpoint` mode links each zone to its endpoint's VNet",
    ),
    (
        sections(privateAccess=endpoints(hub={**HUB, "resourceGroup": "r" * 91})),
        "acr-cache:privateAccess.endpoints.hub.resourceGroup",
        "is not a valid resource group name",
    ),
    (
        sections(keyVault={"name": "kv-acrtest01", "resourceGroup": "rg/bad"}),
        "acr-cache:keyVault.resourceGroup",
        "is not a valid resource group name",
    ),
    (
        sections(privateAccess=endpoints(hub={**HUB, "networkInterfaceName": "-nic"})),
        "acr-cache:privateAccess.endpoints.hub.networkInterfaceName",
        "is not a valid network interface name",
    ),
    (
        sections(
            privateAccess={
                **endpoints(hub=HUB),
                "dnsZone": {
                    "vnetLinks": {
                        "hub": {
                            "vnetId": subnet("rg-hub", "vnet-hub").rsplit("/subnets/")[0],
                            "autoRegister": True,
                        }
                    }
                },
            }
        ),
        "acr-cache:privateAccess.dnsZone.vnetLinks.hub.autoRegister",
        "allowed keys here are `vnetId`, `registrationEnabled`",
    ),
    (sections(replicas={"westeurope": {}}), "acr-cache:replicas.westeurope", "home region"),
    (sections(replicas={"North Europe": {}}), "acr-cache:replicas.North Europe", "not an Azure region name"),
    # A region Azure added after this release is accepted, but a replica is named after its region
    # and a replication's name needs 5 characters.
    (sections(replicas={"qxzw": {}}), "acr-cache:replicas.qxzw", "ACR names need 5-50 characters"),
    (
        sections(replicas={"northeurope": {"zoneRedundancy": "yes please"}}),
        "acr-cache:replicas.northeurope.zoneRedundancy",
        "boolean",
    ),
    (
        sections(replicas={"northeurope": {}}, registry=premium(sku="Standard")),
        "acr-cache:replicas",
        "geo-replication needs the Premium tier",
    ),
    (
        sections(network={"ipRules": ["203.0.113.0/24", "10.0.0.0/8"]}),
        "acr-cache:network.ipRules[1]",
        "'10.0.0.0/8' is not a public address",
    ),
    (
        sections(network={"ipRules": ["203.0.113.300"]}),
        "acr-cache:network.ipRules[0]",
        "not an IPv4 address or CIDR range",
    ),
    (sections(network={"ipRules": ["2001:db8::/32"]}), "acr-cache:network.ipRules[0]", "IPv6"),
    (
        sections(network={"ipRules": ["0.0.0.0/0"]}),
        "acr-cache:network.ipRules[0]",
        "use `publicAccess: Open`",
    ),
    (
        sections(network={"ipRules": [f"198.51.{i // 256}.{i % 256}" for i in range(201)]}),
        "acr-cache:network.ipRules",
        "201 distinct IP rules given; a registry allows at most 200",
    ),
    (
        sections(network={"publicAccess": "Open", "ipRules": ["203.0.113.0/24"]}),
        "acr-cache:network.ipRules",
        "only apply to a `Restricted`",
    ),
    (
        sections(network={"publicAccess": "Sometimes"}),
        "acr-cache:network.publicAccess",
        "is not one of `Open`, `Restricted`, `Disabled`",
    ),
    (
        sections(registry=BASIC, network={"ipRules": ["203.0.113.0/24"]}),
        "acr-cache:network.ipRules",
        "needs the Premium tier",
    ),
    (
        sections(registry=BASIC, network={"publicAccess": "Disabled"}),
        "acr-cache:network.publicAccess",
        "needs the Premium tier",
    ),
    (
        sections(registry=BASIC, network={"dataEndpoints": True}),
        "acr-cache:network.dataEndpoints",
        "needs the Premium tier",
    ),
    (
        sections(registry=BASIC, privateAccess=endpoints(hub=HUB)),
        "acr-cache:privateAccess.endpoints",
        "needs the Premium tier",
    ),
    (
        sections(network={"dataEndpoints": False}, privateAccess=endpoints(hub=HUB)),
        "acr-cache:network.dataEndpoints",
        "remove `dataEndpoints: false`",
    ),
    (
        sections(registry=premium(exportEnabled=False), network={"ipRules": ["203.0.113.0/24"]}),
        "acr-cache:registry.exportEnabled",
        "public access is `Restricted`",
    ),
    (
        sections(privateAccess=endpoints(hub={"subnetId": "/subscriptions/x/subnets/y"})),
        "acr-cache:privateAccess.endpoints.hub.subnetId",
        "is not the ARM id of a subnet",
    ),
    (
        sections(privateAccess=endpoints(hub={**HUB, "colour": "red"})),
        "acr-cache:privateAccess.endpoints.hub.colour",
        "allowed keys here are `subnetId`",
    ),
    (
        sections(privateAccess=endpoints(hub={**HUB, "location": "West Europe"})),
        "acr-cache:privateAccess.endpoints.hub.location",
        "did you mean 'westeurope'?",
    ),
    (
        sections(privateAccess=endpoints(hub={**HUB, "name": "-pe"})),
        "acr-cache:privateAccess.endpoints.hub.name",
        "not a valid private endpoint name",
    ),
    (
        sections(privateAccess=endpoints(Hub_1=HUB)),
        "acr-cache:privateAccess.endpoints",
        "endpoint key 'Hub_1' is not valid",
    ),
    (
        sections(privateAccess={**endpoints(hub=HUB), "dnsZone": {"mode": "existing"}}),
        "acr-cache:privateAccess.dnsZone.zoneId",
        "needs the ARM id",
    ),
    (
        sections(
            privateAccess={
                **endpoints(hub=HUB),
                "dnsZone": {"mode": "existing", "zoneId": zone_id("rg").replace("azurecr", "azurewebsites")},
            }
        ),
        "acr-cache:privateAccess.dnsZone.zoneId",
        "is not the ARM id of a `privatelink.azurecr.io` private DNS zone",
    ),
    (
        sections(
            privateAccess={
                **endpoints(hub=HUB),
                "dnsZone": {
                    "mode": "existing",
                    "zoneId": zone_id("rg"),
                    "vnetLinks": {"hub": vnet("rg-hub", "vnet-hub")},
                },
            }
        ),
        "acr-cache:privateAccess.dnsZone.vnetLinks",
        "belong to whoever owns the zone",
    ),
    (
        sections(
            privateAccess={**endpoints(hub=HUB), "dnsZone": {"mode": "create", "zoneId": zone_id("rg")}}
        ),
        "acr-cache:privateAccess.dnsZone.zoneId",
        "only used with `mode: existing`",
    ),
    (
        sections(
            privateAccess={**endpoints(hub=HUB), "dnsZone": {"mode": "perEndpoint", "resourceGroup": "rg"}}
        ),
        "acr-cache:privateAccess.dnsZone.resourceGroup",
        "only used with `mode: create`",
    ),
    (
        sections(
            privateAccess={**endpoints(hub=HUB), "dnsZone": {"vnetLinks": {"hub": "/subscriptions/nope"}}}
        ),
        "acr-cache:privateAccess.dnsZone.vnetLinks.hub",
        "is not the ARM id of a virtual network",
    ),
    (
        sections(
            privateAccess={
                **endpoints(hub=HUB),
                "dnsZone": {"vnetLinks": {"bad key!": vnet("rg-hub", "vnet-hub")}},
            }
        ),
        "acr-cache:privateAccess.dnsZone.vnetLinks",
        "link key 'bad key!' is not valid",
    ),
    (
        sections(privateAccess={"dnsZone": {"mode": "create"}}),
        "acr-cache:privateAccess.dnsZone",
        "no private endpoints",
    ),
    (
        sections(
            privateAccess={
                **endpoints(hub=HUB, other={"subnetId": subnet("rg-x", "vnet-x", OTHER_SUB)}),
                "dnsZone": {"mode": "perEndpoint"},
            }
        ),
        "acr-cache:privateAccess.dnsZone",
        "span 2 subscriptions while the stack's own is unknown",
    ),
    (
        sections(privateAccess=endpoints(hub=HUB, clash={"subnetId": subnet("rg-other", "vnet-hub")})),
        "acr-cache:privateAccess.dnsZone.vnetLinks",
        "several endpoint VNets are named 'vnet-hub'",
    ),
    (
        sections(
            replicas={"northeurope": {}, "swedencentral": {}},
            privateAccess=endpoints(hub={**HUB, "subnetPrefixLength": 29}),
        ),
        "acr-cache:privateAccess.endpoints.hub.subnetPrefixLength",
        "a /29 subnet has 3 usable addresses, and the endpoints in it (hub) need 4",
    ),
    (
        sections(
            privateAccess=endpoints(a={**HUB, "subnetPrefixLength": 27}, b={**HUB, "subnetPrefixLength": 28})
        ),
        "acr-cache:privateAccess.endpoints.b.subnetPrefixLength",
        "share a subnet but give different prefix lengths",
    ),
    (
        sections(privateAccess=endpoints(hub={**HUB, "subnetPrefixLength": 30})),
        "acr-cache:privateAccess.endpoints.hub.subnetPrefixLength",
        "less than or equal to 29",
    ),
]


@pytest.mark.parametrize(
    ("document", "key", "fragment"),
    REFUSED,
    ids=refusal_ids(REFUSED),
)
def test_refused_network_config_names_the_key(document: dict[str, Any], key: str, fragment: str) -> None:
    problems = problems_of(copy.deepcopy(document))
    matching = [p for p in problems if p.startswith(f"{key}: ")]
    assert matching, problems
    assert any(fragment in p for p in matching), matching


def test_secondary_wire_values_of_the_zone_are_what_azure_expects() -> None:
    vnet = subnet("rg-hub", "vnet-hub").rsplit("/subnets/", 1)[0]
    run = run_stack(sections(privateAccess={**endpoints(hub=HUB), "dnsZone": {"vnetLinks": {"hub": vnet}}}))
    group = one(run, "azure-native:network:PrivateDnsZoneGroup").inputs
    assert group["privateDnsZoneGroupName"] == "default"
    # A zone config without a name is refused (InvalidRequestFormat, pulumi-azure-native#2431).
    assert [c["name"] for c in group["privateDnsZoneConfigs"]] == ["privatelink-azurecr-io"]
    # Private DNS zones and their links are global resources.
    assert one(run, "azure-native:privatedns:PrivateZone").inputs["location"] == "global"
    assert one(run, "azure-native:privatedns:VirtualNetworkLink").inputs["location"] == "global"
    assert (
        one(run, "azure-native:privatedns:PrivateZone").inputs["privateZoneName"] == "privatelink.azurecr.io"
    )


def test_ip_rule_refusals_in_full() -> None:
    many = [f"203.0.{i // 250}.{i % 250}" for i in range(201)]
    assert problems_of(sections(network={"publicAccess": "Restricted", "ipRules": many})) == [
        "acr-cache:network.ipRules: 201 distinct IP rules given; a registry allows at most 200: merge neighbouring "
        "addresses into CIDR ranges or use private endpoints"
    ]
    # Two hundred, the same address written twice among them, is within the limit.
    accepted = parse_stack_config(
        as_pulumi_config(sections(network={"publicAccess": "Restricted", "ipRules": [*many[:200], many[0]]}))
    )
    assert len(accepted.network.ip_rules) == 200
    assert problems_of(sections(network={"publicAccess": "Open", "ipRules": ["203.0.113.7"]})) == [
        "acr-cache:network.ipRules: IP rules only apply to a `Restricted` public endpoint, and publicAccess is "
        "`Open`: set `publicAccess: Restricted` or remove `ipRules`"
    ]


ZONE_ID = f"/subscriptions/{SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/privatelink.azurecr.io"


@pytest.mark.parametrize(
    ("access", "problem"),
    [
        (
            {**endpoints(hub=HUB), "dnsZone": {"vnetLinks": {"-hub": vnet("rg-hub", "vnet-hub")}}},
            "acr-cache:privateAccess.dnsZone.vnetLinks: link key '-hub' is not valid: use 1-75 letters, digits, "
            "`_ . -`, starting with a letter or digit (it names the link `link-<key>`)",
        ),
        (
            {**endpoints(hub=HUB), "dnsZone": {"mode": "existing"}},
            "acr-cache:privateAccess.dnsZone.zoneId: `existing` mode needs the ARM id of the zone in `zoneId`",
        ),
        (
            {
                **endpoints(hub=HUB),
                "dnsZone": {
                    "mode": "existing",
                    "zoneId": ZONE_ID,
                    "vnetLinks": {"hub": vnet("rg-hub", "vnet-hub")},
                },
            },
            "acr-cache:privateAccess.dnsZone.vnetLinks: an existing zone's VNet links belong to whoever owns the "
            "zone: remove `vnetLinks`, or use `mode: create`",
        ),
        (
            {**endpoints(hub=HUB), "dnsZone": {"zoneId": ZONE_ID}},
            "acr-cache:privateAccess.dnsZone.zoneId: `zoneId` is only used with `mode: existing` (mode is create)",
        ),
        (
            {**endpoints(hub=HUB), "dnsZone": {"mode": "perEndpoint", "resourceGroup": "rg-dns"}},
            "acr-cache:privateAccess.dnsZone.resourceGroup: `resourceGroup` is only used with `mode: create` "
            "(mode is perEndpoint)",
        ),
        (
            {
                **endpoints(hub=HUB),
                "dnsZone": {"mode": "perEndpoint", "vnetLinks": {"hub": vnet("rg-hub", "vnet-hub")}},
            },
            "acr-cache:privateAccess.dnsZone.vnetLinks: `perEndpoint` mode links each zone to its endpoint's VNet: "
            "remove `vnetLinks`",
        ),
        (
            endpoints(Hub=HUB),
            "acr-cache:privateAccess.endpoints: endpoint key 'Hub' is not valid: use 1-40 lowercase letters, digits "
            "and hyphens, not starting or ending with a hyphen",
        ),
        (
            {
                **endpoints(hub=HUB, other={"subnetId": subnet("rg-x", "vnet-x", OTHER_SUB)}),
                "dnsZone": {"mode": "perEndpoint"},
            },
            "acr-cache:privateAccess.dnsZone: `perEndpoint` zones go into each endpoint VNet's subscription, and these "
            "endpoints' VNets span 2 subscriptions while the stack's own is unknown: set `acr-cache:subscriptionId` (or "
            "`azure-native:subscriptionId`) to the subscription the stack deploys to",
        ),
        (
            {"dnsZone": {"mode": "create"}},
            "acr-cache:privateAccess.dnsZone: there are no private endpoints to register in the zone: add "
            "`endpoints` or remove `dnsZone`",
        ),
        (
            endpoints(
                a={"subnetId": subnet("rg-a", "vnet-shared")}, b={"subnetId": subnet("rg-b", "vnet-shared")}
            ),
            "acr-cache:privateAccess.dnsZone.vnetLinks: several endpoint VNets are named 'vnet-shared', and derived "
            "links are keyed by VNet name: list the links explicitly in `vnetLinks` (name: VNet id)",
        ),
        (
            endpoints(
                a={**HUB, "name": "pe-same"}, b={"subnetId": subnet("rg-b", "vnet-b"), "name": "pe-same"}
            ),
            None,  # different VNets, one resource group (the registry's), one name: refused below
        ),
    ],
)
def test_private_access_refusals_in_full(access: dict[str, Any], problem: str | None) -> None:
    try:
        parse_stack_config(as_pulumi_config(sections(privateAccess=access)))
    except ConfigError as exc:
        found = [str(p) for p in exc.problems]
        if problem is None:
            assert any(
                "private endpoint name in one resource group" in p and "give one a different `name`" in p
                for p in found
            ), found
        else:
            assert problem in found, found
    else:
        raise AssertionError("accepted")


def test_subnet_capacity_refusals_in_full() -> None:
    shared = subnet("rg-hub", "vnet-hub")
    # Two regions: 3 addresses per endpoint; a /28 has 11 usable (Azure keeps 5 of 16).
    crowded = endpoints(
        **{f"e{i}": {"subnetId": shared, "subnetPrefixLength": 28} for i in range(4)},
    )
    assert problems_of(sections(replicas={"northeurope": {}}, privateAccess=crowded)) == [
        "acr-cache:privateAccess.endpoints.e0.subnetPrefixLength: a /28 subnet has 11 usable addresses, and the "
        "endpoints in it (e0, e1, e2, e3) need 12: 3 each (the login server plus one data endpoint for each of 2 "
        "regions): use a larger subnet"
    ]
    mixed = endpoints(
        a={"subnetId": shared, "subnetPrefixLength": 28}, b={"subnetId": shared, "subnetPrefixLength": 27}
    )
    assert problems_of(sections(privateAccess=mixed)) == [
        "acr-cache:privateAccess.endpoints.b.subnetPrefixLength: endpoints a, b share a subnet but give different "
        "prefix lengths: give the same one"
    ]
    # Every subnet is judged, whatever an earlier one (by key) gave: mixed lengths in one, none at
    # all in another, a full one after both.
    other, full = subnet("rg-hub", "vnet-other"), subnet("rg-hub", "vnet-full")
    several = endpoints(
        a={"subnetId": shared, "subnetPrefixLength": 28},
        b={"subnetId": shared, "subnetPrefixLength": 27},
        c={"subnetId": other},
        d={"subnetId": full, "subnetPrefixLength": 29},
        e={"subnetId": full, "subnetPrefixLength": 29},
    )
    assert problems_of(sections(privateAccess=several)) == [
        "acr-cache:privateAccess.endpoints.b.subnetPrefixLength: endpoints a, b share a subnet but give different "
        "prefix lengths: give the same one",
        "acr-cache:privateAccess.endpoints.d.subnetPrefixLength: a /29 subnet has 3 usable addresses, and the "
        "endpoints in it (d, e) need 4: 2 each (the login server plus one data endpoint for each of 1 "
        "regions): use a larger subnet",
    ]


def test_explicit_links_let_endpoints_in_same_named_vnets_through() -> None:
    access = {
        **endpoints(
            a={"subnetId": subnet("rg-a", "vnet-shared")}, b={"subnetId": subnet("rg-b", "vnet-shared")}
        ),
        "dnsZone": {"vnetLinks": {"a": vnet("rg-a", "vnet-shared"), "b": vnet("rg-b", "vnet-shared")}},
    }
    run = run_stack(sections(privateAccess=access))
    assert sorted(r.inputs["virtualNetworkLinkName"] for r in by_type(run, LINK)) == ["link-a", "link-b"]
