"""Enterprise landing zones (issue #17): policy-managed DNS, application security groups, manual
approval, and the corp stack that uses them."""

from __future__ import annotations

from typing import Any

import pytest
from acr_cache.config import ConfigError, parse_stack_config
from acr_cache.plan.mocks import principal_id_for

from tests.conftest import DOCKER_HUB_SET, as_pulumi_config, by_type, one, run_stack, sections, stack_plan
from tests.test_network import ENDPOINT, HUB, LINK, SUB, ZONE, ZONE_GROUP, subnet

ASG = f"/subscriptions/{SUB}/resourceGroups/rg-hub/providers/Microsoft.Network/applicationSecurityGroups/asg-registries"
REGISTRY_ID = f"/subscriptions/{SUB}/resourceGroups/rg-acr-test/providers/Microsoft.ContainerRegistry/registries/acrcachetest01"


def test_policy_mode_makes_no_zone_group_zone_or_link() -> None:
    run = run_stack(
        sections(
            replicas={"northeurope": {}},
            privateAccess={"dnsZone": {"mode": "policy"}, "endpoints": {"hub": HUB}},
        )
    )
    assert [r.type for r in run.resources if r.type in (ZONE_GROUP, ZONE, LINK)] == []
    endpoint = one(run, ENDPOINT)
    assert endpoint.inputs["privateLinkServiceConnections"] == [
        {"name": "pe-acrcachetest01-hub", "privateLinkServiceId": REGISTRY_ID, "groupIds": ["registry"]}
    ]
    assert "privateDnsZoneIds" not in run.outputs and "privateDnsZoneId" not in run.outputs


def test_the_plan_lists_the_records_the_policy_must_write() -> None:
    from acr_cache.plan import dns_record_notes

    run = run_stack(
        sections(
            replicas={"northeurope": {}, "swedencentral": {}},
            privateAccess={"dnsZone": {"mode": "policy"}, "endpoints": {"hub": HUB}},
        )
    )
    assert dns_record_notes(run.resources) == [
        "private endpoint private-hub gets no DNS zone group (`dnsZone.mode: policy`): the landing zone's "
        "policy must create A records in privatelink.azurecr.io for acrcachetest01 and "
        "acrcachetest01.westeurope.data, acrcachetest01.northeurope.data, acrcachetest01.swedencentral.data, "
        "pointing at this endpoint's addresses, or clients reach the public endpoint"
    ]
    # An endpoint with its zone group needs nothing from anyone.
    assert dns_record_notes(run_stack(sections(privateAccess={"endpoints": {"hub": HUB}})).resources) == []


def test_endpoints_join_security_groups_and_can_wait_for_approval() -> None:
    run = run_stack(
        sections(
            privateAccess={
                "endpoints": {
                    "hub": {**HUB, "applicationSecurityGroupIds": [ASG]},
                    "partner": {
                        "subnetId": subnet("rg-partner", "vnet-partner"),
                        "manualApproval": True,
                        "requestMessage": "acr-cache platform team, ticket PLAT-123",
                    },
                }
            }
        )
    )
    endpoints = {r.name: r.inputs for r in by_type(run, ENDPOINT)}
    assert endpoints["private-hub"]["applicationSecurityGroups"] == [{"id": ASG}]
    assert "manualPrivateLinkServiceConnections" not in endpoints["private-hub"]
    partner = endpoints["private-partner"]
    assert "privateLinkServiceConnections" not in partner and "applicationSecurityGroups" not in partner
    assert partner["manualPrivateLinkServiceConnections"] == [
        {
            "name": "pe-acrcachetest01-partner",
            "privateLinkServiceId": REGISTRY_ID,
            "groupIds": ["registry"],
            "requestMessage": "acr-cache platform team, ticket PLAT-123",
        }
    ]


@pytest.mark.parametrize(
    ("private_access", "problem"),
    [
        (
            {
                "dnsZone": {
                    "mode": "policy",
                    "vnetLinks": {"hub": HUB["subnetId"].rsplit("/subnets/", 1)[0]},
                },
                "endpoints": {"hub": HUB},
            },
            "acr-cache:privateAccess.dnsZone.vnetLinks: in `policy` mode the zone and its links belong to the "
            "landing zone: remove `vnetLinks`",
        ),
        (
            {"dnsZone": {"mode": "policy", "resourceGroup": "rg-dns"}, "endpoints": {"hub": HUB}},
            "acr-cache:privateAccess.dnsZone.resourceGroup: `resourceGroup` is only used with `mode: create` "
            "(mode is policy)",
        ),
        (
            {
                "dnsZone": {"mode": "policy", "subscriptionId": "11111111-2222-3333-4444-555555555555"},
                "endpoints": {"hub": HUB},
            },
            "acr-cache:privateAccess.dnsZone.subscriptionId: `subscriptionId` is only used with `mode: create` "
            "(mode is policy); an existing zone's id says its subscription",
        ),
        (
            {"endpoints": {"hub": {**HUB, "requestMessage": "please"}}},
            "acr-cache:privateAccess.endpoints.hub.requestMessage: a request message goes with "
            "`manualApproval: true`: set it, or remove the message",
        ),
        (
            {"endpoints": {"hub": {**HUB, "applicationSecurityGroupIds": ["asg-registries"]}}},
            "acr-cache:privateAccess.endpoints.hub.applicationSecurityGroupIds[0]: 'asg-registries' is not the "
            "ARM id of an application security group: expected /subscriptions/<guid>/resourceGroups/<group>/"
            "providers/Microsoft.Network/applicationSecurityGroups/<name> (`az network asg show -g <group> -n "
            "<name> --query id -o tsv` prints it)",
        ),
    ],
)
def test_landing_zone_refusals(private_access: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(as_pulumi_config(sections(privateAccess=private_access)))
    assert [str(p) for p in caught.value.problems] == [problem]


def test_the_corp_stack_plans_clean() -> None:
    plan = stack_plan("corp")
    by_type_: dict[str, list[dict[str, Any]]] = {}
    for resource in plan["resources"]:
        by_type_.setdefault(resource["type"], []).append(resource)
    registry = by_type_["azure-native:containerregistry:Registry"][0]["inputs"]
    assert registry["identity"]["type"] == "SystemAssigned, UserAssigned"
    assert registry["publicNetworkAccess"] == "Disabled"
    assert ZONE_GROUP not in by_type_ and ZONE not in by_type_
    hub, spoke = sorted(by_type_[ENDPOINT], key=lambda r: r["name"])
    assert spoke["inputs"]["applicationSecurityGroups"] == [
        {
            "id": "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-spoke-net/providers/"
            "Microsoft.Network/applicationSecurityGroups/asg-registries"
        }
    ]
    # Each endpoint in its VNet's subscription (application landing zone, connectivity), through a
    # provider of that subscription; the registry in the shared-services one, by the default provider.
    assert spoke["id"].startswith(
        "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-spoke-net/"
    )
    assert hub["id"].startswith(
        "/subscriptions/44444444-4444-4444-4444-444444444444/resourceGroups/rg-connectivity-hub/"
    )
    assert spoke["provider"].endswith("::subscription-11111111-1111-1111-1111-111111111111")
    assert hub["provider"].endswith("::subscription-44444444-4444-4444-4444-444444444444")
    assert by_type_["azure-native:containerregistry:Registry"][0]["id"].startswith(
        "/subscriptions/33333333-3333-3333-3333-333333333333/"
    )
    assert "provider" not in by_type_["azure-native:containerregistry:Registry"][0]
    assert set(plan["providers"].values()) == {
        "11111111-1111-1111-1111-111111111111",
        "44444444-4444-4444-4444-444444444444",
    }
    assert plan["outputs"]["registryPrincipalId"]


# --- adoption -------------------------------------------------------------------------------------

ADOPT_SUB = "11111111-2222-3333-4444-555555555555"


def test_adoption_imports_each_chosen_resource_by_the_id_its_names_give() -> None:
    document = sections(
        resourceGroup={"name": "rg-acr-test", "create": False},
        replicas={"northeurope": {}},
        keyVault={"name": "kv-acrtest01"},
        credentialSets=DOCKER_HUB_SET,
        cacheRules={
            "dockerhub-library": {
                "source": "docker.io/library/*",
                "target": "library/*",
                "credentialSet": "dockerhub",
            }
        },
        privateAccess={"endpoints": {"hub": HUB}},
        adoption={
            "subscriptionId": ADOPT_SUB.upper(),
            "registry": True,
            "replicas": True,
            "privateEndpoints": True,
            "credentialSets": True,
            "cacheRules": True,
        },
    )
    run = run_stack(document)
    adopted = {r.name: r.import_id for r in run.resources if r.import_id}
    registry = f"/subscriptions/{ADOPT_SUB}/resourceGroups/rg-acr-test/providers/Microsoft.ContainerRegistry/registries/acrcachetest01"
    endpoint = f"/subscriptions/{ADOPT_SUB}/resourceGroups/rg-acr-test/providers/Microsoft.Network/privateEndpoints/pe-acrcachetest01-hub"
    assert adopted == {
        "acr-registry": registry,
        "replicas-northeurope": f"{registry}/replications/northeurope",
        "private-hub": endpoint,
        "private-hub-dns": f"{endpoint}/privateDnsZoneGroups/default",
        "cache-dockerhub": f"{registry}/credentialSets/dockerhub",
        "cache-dockerhub-library": f"{registry}/cacheRules/dockerhub-library",
    }
    # What is not adopted (the vault, its secrets, the grants, the zone) is created as before.
    assert {r.type for r in run.resources if not r.import_id and r.custom} >= {
        "azure-native:keyvault:Vault",
        "azure-native:privatedns:PrivateZone",
    }


def test_an_adopted_resource_is_marked_in_the_plan() -> None:
    from acr_cache.plan import Plan
    from acr_cache.plan.table import render_table

    document = sections(
        resourceGroup={"name": "rg-acr-test", "create": False},
        adoption={"subscriptionId": ADOPT_SUB, "registry": True},
    )
    run = run_stack(document)
    plan = Plan(run=run, schema_problems=[], notes=[])
    registry = f"/subscriptions/{ADOPT_SUB}/resourceGroups/rg-acr-test/providers/Microsoft.ContainerRegistry/registries/acrcachetest01"
    assert [r["importId"] for r in plan.to_json()["resources"] if "importId" in r] == [registry]
    table = render_table(plan)
    assert f"= azure-native:containerregistry:Registry  acr-registry  [protect]  [adopt {registry}]" in table
    assert "Resources: 1 to create (0 Azure resources, 1 components), 1 to adopt" in table


@pytest.mark.parametrize(
    ("resource_group", "adoption", "problems"),
    [
        (
            {"name": "rg-acr-test", "create": True},
            {"registry": True},
            [
                "acr-cache:adoption.resourceGroup: an adopted registry's resource group exists already: set "
                "`resourceGroup.create: false` (the stack looks it up) or adopt it too (`resourceGroup: true`)"
            ],
        ),
        (
            {"name": "rg-acr-test", "create": False},
            {"resourceGroup": True, "registry": True},
            [
                "acr-cache:adoption.resourceGroup: with `resourceGroup.create: false` the stack only looks the "
                "group up: nothing to adopt, remove `resourceGroup: true`"
            ],
        ),
        (
            {"name": "rg-acr-test", "create": False},
            {"cacheRules": True},
            [
                "acr-cache:adoption.registry: replicas, endpoints, credential sets and rules of an existing "
                "registry belong to it: adopt the registry too (`registry: true`)"
            ],
        ),
        (
            {"name": "rg-acr-test", "create": False},
            {},
            [
                "acr-cache:adoption.registry: adoption needs at least one kind of resource to adopt "
                "(`registry: true`, ...)"
            ],
        ),
    ],
    ids=["group-created", "group-looked-up", "rules-without-registry", "nothing"],
)
def test_adoption_refusals(
    resource_group: dict[str, Any], adoption: dict[str, Any], problems: list[str]
) -> None:
    document = sections(resourceGroup=resource_group, adoption={"subscriptionId": ADOPT_SUB, **adoption})
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(as_pulumi_config(document))
    assert [str(p) for p in caught.value.problems] == problems


def test_adopting_the_group_too_is_accepted() -> None:
    run = run_stack(
        sections(
            resourceGroup={"name": "rg-acr-test", "create": True},
            adoption={"subscriptionId": ADOPT_SUB, "resourceGroup": True, "registry": True},
        )
    )
    assert {r.name: r.import_id for r in run.resources if r.import_id}["acr-rg"] == (
        f"/subscriptions/{ADOPT_SUB}/resourceGroups/rg-acr-test"
    )


REFUSED = [
    (
        sections(keyVault={"name": "kv-acrtest01"}, tokens={"edge": {"repositories": {"library/nginx": []}}}),
        "acr-cache:tokens.edge",
        "'edge' is not a valid token name",
    ),
    (
        sections(tokens={"edge-devices": {"repositories": {"library/nginx": []}}}),
        "acr-cache:keyVault",
        "token passwords are generated into Key Vault",
    ),
    (
        sections(encryption={"identity": {"name": "id-acr-cmk"}, "key": {"name": "acr-cmk"}}),
        "acr-cache:encryption.key.name",
        "a key the stack creates goes into `acr-cache:keyVault`",
    ),
    (
        sections(
            resourceGroup={"name": "rg-acr-test", "create": True},
            adoption={"subscriptionId": ADOPT_SUB, "registry": True},
        ),
        "acr-cache:adoption.resourceGroup",
        "an adopted registry's resource group exists already",
    ),
    (
        sections(adoption={"subscriptionId": "not-a-guid", "registry": True}),
        "acr-cache:adoption.subscriptionId",
        "'not-a-guid' is not a subscription id: expected a GUID",
    ),
    (
        sections(
            privateAccess={
                "dnsZone": {
                    "mode": "policy",
                    "vnetLinks": {"hub": HUB["subnetId"].rsplit("/subnets/", 1)[0]},
                },
                "endpoints": {"hub": HUB},
            }
        ),
        "acr-cache:privateAccess.dnsZone.vnetLinks",
        "in `policy` mode the zone and its links belong to the landing zone",
    ),
]
"""(document, key, message) for the CLI corpus (tests/test_hardening.py)."""


# --- customer-managed key -------------------------------------------------------------------------

VAULT_ID = f"/subscriptions/{SUB}/resourceGroups/rg-acr-test/providers/Microsoft.KeyVault/vaults/kv-acrtest01"
CMK = {"identity": {"name": "id-acr-cmk"}, "key": {"name": "acr-cmk"}}
EXISTING_IDENTITY = f"/subscriptions/{SUB}/resourceGroups/rg-id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-cmk"
CLIENT = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
PRINCIPAL = "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"


def test_a_created_key_is_granted_to_a_created_identity_before_the_registry() -> None:
    run = run_stack(sections(keyVault={"name": "kv-acrtest01"}, encryption=CMK))
    identity = one(run, "azure-native:managedidentity:UserAssignedIdentity")
    key = one(run, "azure-native:keyvault:Key")
    grant = next(
        r
        for r in by_type(run, "azure-native:authorization:RoleAssignment")
        if r.name == "encryption-key-reader"
    )
    registry = one(run, "azure-native:containerregistry:Registry")
    identity_id = f"/subscriptions/{SUB}/resourceGroups/rg-acr-test/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-acr-cmk"
    assert identity.inputs == {
        "resourceName": "id-acr-cmk",
        "resourceGroupName": "rg-acr-test",
        "location": "westeurope",
    }
    assert key.inputs == {
        "keyName": "acr-cmk",
        "vaultName": "kv-acrtest01",
        "resourceGroupName": "rg-acr-test",
        "properties": {
            "kty": "RSA",
            "keySize": 3072,
            "keyOps": ["wrapKey", "unwrapKey"],
            "rotationPolicy": {
                "attributes": {"expiryTime": "P395D"},
                "lifetimeActions": [{"action": {"type": "rotate"}, "trigger": {"timeAfterCreate": "P365D"}}],
            },
        },
    }
    assert (key.protect, key.retain_on_delete) == (True, True)
    assert grant.inputs == {
        "scope": f"{VAULT_ID}/keys/acr-cmk",
        # Key Vault Crypto Service Encryption User, as Azure's built-in roles list it.
        "roleDefinitionId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/e147488a-f6f5-4113-8e2d-b22465e65bf6",
        # The principal id the mocks give the created identity.
        "principalId": "84862d05-6add-55aa-84fc-c919059fcd1b",
        "principalType": "ServicePrincipal",
        "description": "acr-cache: the registry's identity reads its encryption key acr-cmk",
    }
    assert registry.inputs["identity"] == {
        "type": "UserAssigned",
        "userAssignedIdentities": {identity_id: {}},
    }
    assert registry.inputs["encryption"] == {
        "status": "enabled",
        "keyVaultProperties": {
            "identity": "aeeb3d7f-ace2-5639-baf7-7e7169b1fa79",
            "keyIdentifier": "https://kv-acrtest01.vault.azure.net/keys/acr-cmk",
        },
    }
    assert {identity.urn, key.urn, grant.urn} <= set(registry.depends_on)


def test_an_existing_identity_and_key_are_referenced_not_made() -> None:
    encryption = {
        "identity": {"existingId": EXISTING_IDENTITY, "clientId": CLIENT.upper()},
        "key": {"existingUri": "https://kv-platform01.vault.azure.net/keys/acr-cmk/"},
    }
    run = run_stack(
        sections(
            encryption=encryption,
            registry={
                "name": "acrcachetest01",
                "location": "westeurope",
                "identity": {"systemAssigned": True},
            },
        )
    )
    types = {r.type for r in run.resources}
    assert not types & {"azure-native:managedidentity:UserAssignedIdentity", "azure-native:keyvault:Key"}
    # The system-assigned identity's principal id is kept in the state (grants in other stacks read it).
    (outputs,) = [o for urn, o in run.registered_outputs.items() if urn.endswith("index:Registry::acr")]
    registry_arm_id = one(run, "azure-native:containerregistry:Registry").arm_id
    assert outputs["principalId"] == principal_id_for(registry_arm_id)
    registry = one(run, "azure-native:containerregistry:Registry").inputs
    assert registry["identity"] == {
        "type": "SystemAssigned, UserAssigned",
        "userAssignedIdentities": {EXISTING_IDENTITY: {}},
    }
    assert registry["encryption"]["keyVaultProperties"] == {
        "identity": CLIENT,
        "keyIdentifier": "https://kv-platform01.vault.azure.net/keys/acr-cmk",
    }
    # A created identity with a given key: the registry waits for the identity through its input.
    run = run_stack(sections(encryption={**encryption, "identity": {"name": "id-acr-cmk"}}))
    identity = one(run, "azure-native:managedidentity:UserAssignedIdentity")
    registry_resource = one(run, "azure-native:containerregistry:Registry")
    assert identity.urn in registry_resource.depends_on
    assert "keyVaultProperties" in registry_resource.inputs["encryption"]


@pytest.mark.parametrize(
    ("document", "problems"),
    [
        (
            sections(encryption=CMK),
            [
                "acr-cache:encryption.key.name: a key the stack creates goes into `acr-cache:keyVault`: set it (a "
                "`name` the stack creates, or an `existingId`), or give an existing key by `existingUri`"
            ],
        ),
        (
            sections(keyVault={"name": "kv-acrtest01", "purgeProtection": False}, encryption=CMK),
            [
                "acr-cache:keyVault.purgeProtection: Azure encrypts a registry only with a key whose vault has "
                "purge protection: remove `purgeProtection: false`"
            ],
        ),
        (
            sections(
                registry={"name": "acrcachetest01", "location": "westeurope", "sku": "Standard"},
                encryption={
                    "identity": {"name": "id-acr-cmk"},
                    "key": {"existingUri": "https://kv-p01.vault.azure.net/keys/k"},
                },
            ),
            ["acr-cache:encryption: a customer-managed key is a Premium feature (sku is Standard)"],
        ),
        (
            sections(
                encryption={
                    "identity": {"name": "id-acr-cmk"},
                    "key": {"existingUri": "https://kv-p01.vault.azure.net/keys/k/0123abcd"},
                }
            ),
            [
                "acr-cache:encryption.key.existingUri: 'https://kv-p01.vault.azure.net/keys/k/0123abcd' is not a "
                "versionless key URI: write `https://<vault>.vault.azure.net/keys/<name>` (without a version, so "
                "rotation reaches the registry)"
            ],
        ),
        (
            sections(
                keyVault={"name": "kv-acrtest01"},
                encryption={
                    "identity": {"existingId": EXISTING_IDENTITY, "clientId": CLIENT},
                    "key": {"name": "acr-cmk"},
                },
            ),
            [
                "acr-cache:encryption.identity: the stack grants the key it creates to the identity: give the "
                "existing identity's `principalId` too"
            ],
        ),
        (
            sections(
                encryption={
                    "identity": {"existingId": EXISTING_IDENTITY},
                    "key": {"existingUri": "https://kv-p01.vault.azure.net/keys/k"},
                }
            ),
            [
                "acr-cache:encryption.identity.clientId: an existing identity needs its `clientId`: Azure's key reference names it"
            ],
        ),
        (
            sections(
                encryption={
                    "identity": {"name": "id-acr-cmk", "clientId": CLIENT},
                    "key": {"existingUri": "https://kv-p01.vault.azure.net/keys/k"},
                }
            ),
            [
                "acr-cache:encryption.identity.clientId: `clientId` is for an existing identity: the created one has its own"
            ],
        ),
        (
            sections(
                keyVault={"name": "kv-acrtest01"},
                encryption={"identity": {"name": "id-acr-cmk"}, "key": {"name": "acr-cmk", "size": 1024}},
            ),
            [
                "acr-cache:encryption.key.size: 1024 is not an RSA key size Key Vault makes: use 2048, 3072 or 4096"
            ],
        ),
        (
            sections(encryption={"identity": {"name": "id-acr-cmk"}, "key": {}}),
            [
                "acr-cache:encryption.key.name: give either `name` (the stack creates the key) or `existingUri`"
            ],
        ),
    ],
    ids=[
        "no-vault",
        "no-purge-protection",
        "standard",
        "versioned-key",
        "no-principal",
        "no-client",
        "client-of-created",
        "key-size",
        "no-key",
    ],
)
def test_encryption_refusals(document: dict[str, Any], problems: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(as_pulumi_config(document))
    assert [str(p) for p in caught.value.problems] == problems


# --- tokens ---------------------------------------------------------------------------------------

TOKEN_ID = f"/subscriptions/{SUB}/resourceGroups/rg-acr/providers/Microsoft.ContainerRegistry/registries/acrtest01/tokens/edge-devices"
TOKEN_VAULT = f"/subscriptions/{SUB}/resourceGroups/rg-acr/providers/Microsoft.KeyVault/vaults/kv-acrtest01"


def _password_props(server: Any, **changes: Any) -> dict[str, Any]:
    return {
        "subscriptionId": SUB,
        "resourceGroupName": "rg-acr",
        "registryName": "acrtest01",
        "tokenId": TOKEN_ID,
        "vaultId": TOKEN_VAULT,
        "secretName": "acr-token-edge-devices",
        "expiryDays": 30,
        "rotation": "initial",
        "armEndpoint": server.endpoint,
        **changes,
    }


def _password_provider(server: Any) -> Any:
    import datetime

    from acr_cache.token_password import TokenPasswordProvider

    from tests.arm_server import VALID_TOKEN
    from tests.test_image_import import StaticCredential

    return TokenPasswordProvider(
        credential_factory=lambda: StaticCredential(VALID_TOKEN),
        client_options={"connection_verify": str(server.cert_path)},
        now=lambda: datetime.datetime(2026, 11, 27, 12, 0, tzinfo=datetime.UTC),
    )


def test_the_password_goes_from_azure_into_the_vault_and_nowhere_else() -> None:
    from tests.arm_server import ArmServer, Scenario

    scenario = Scenario()
    with ArmServer(scenario) as server:
        result = _password_provider(server).create(_password_props(server))
    generate, put = scenario.requests
    assert generate["path"].endswith("/registries/acrtest01/generateCredentials")
    assert generate["body"] == {
        "tokenId": TOKEN_ID,
        "expiry": "2026-12-27T12:00:00Z",
        "name": "password1",
    }
    assert put["method"] == "PUT" and "api-version=2023-07-01" in put["query"]
    assert put["path"] == f"{TOKEN_VAULT}/secrets/acr-token-edge-devices"
    assert put["body"] == {
        "properties": {
            "value": "GENERATED-password-value",
            "contentType": "password1 of registry token edge-devices",
            "attributes": {"exp": 1798372800},
        }
    }
    assert "GENERATED-password-value" not in repr(result.outs) and "accessToken" not in result.outs
    assert result.outs["username"] == "edge-devices"
    assert result.outs["expiresOn"] == "2026-12-27T12:00:00+00:00"
    assert result.outs["passwordName"] == "password1"
    assert result.id == f"{TOKEN_ID}/passwords"


def test_a_refused_secret_write_fails_the_password_and_says_which_token() -> None:
    from acr_cache.token_password import PasswordFailed

    from tests.arm_server import ArmServer, Scenario

    scenario = Scenario(refuse_secret_with=(403, "AuthorizationFailed", "no secrets/write on the vault"))
    with ArmServer(scenario) as server, pytest.raises(PasswordFailed) as failed:
        _password_provider(server).create(_password_props(server))
    # Azure generated a password, but it never reached the vault: the resource must not say it did.
    assert scenario.secrets == {}
    message = str(failed.value)
    assert message.startswith(f"token {TOKEN_ID}: the password could not be generated and stored")
    assert "AuthorizationFailed" in message and "GENERATED-password-value" not in message


@pytest.mark.parametrize("source", ["stack config", "ARM_* variables"])
def test_the_password_provider_signs_in_as_it_does_under_the_engine(
    loopback_entra: Any, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    """No injected credential: the engine's Configure hands over azure-native's stack config (or the
    ARM_* variables of the engine's environment hold the login), and the provider signs in to the
    loopback Entra ID with it, asks for the ARM scope and uses that token."""
    import datetime

    from acr_cache.token_password import TokenPasswordProvider
    from pulumi.dynamic import Config, ConfigureRequest

    from tests.arm_server import CLIENT_SECRET, ArmServer, Scenario
    from tests.test_image_import import CLIENT, SUB, TENANT, stack_config

    scenario = Scenario()
    with ArmServer(scenario) as server:
        loopback_entra(server)
        config = stack_config()
        if source == "ARM_* variables":
            config = {"acr-cache:registry": "{}"}
            for key, value in {
                "ARM_CLIENT_ID": CLIENT,
                "ARM_CLIENT_SECRET": CLIENT_SECRET,
                "ARM_TENANT_ID": TENANT,
                "ARM_SUBSCRIPTION_ID": SUB,
            }.items():
                monkeypatch.setenv(key, value)
        provider = TokenPasswordProvider(
            client_options={"connection_verify": str(server.cert_path)},
            identity_options={"disable_instance_discovery": True},
            now=lambda: datetime.datetime(2026, 11, 27, 12, 0, tzinfo=datetime.UTC),
        )
        provider.configure(ConfigureRequest(Config(config, "acr-cache")))
        outs = provider.create(_password_props(server)).outs
    [sign_in] = [s for s in scenario.sign_ins if s.get("form", {}).get("grant_type") == "client_credentials"]
    assert sign_in["form"]["client_id"] == CLIENT and sign_in["granted"]
    assert sign_in["path"] == f"/{TENANT}/oauth2/v2.0/token"
    # The public cloud's ARM audience, as azure-native asks for it, whatever endpoint ARM is reached at.
    assert sign_in["form"]["scope"] == "https://management.azure.com/.default"
    issued = set(scenario.issued)
    assert scenario.used_tokens and set(scenario.used_tokens) <= issued
    assert (outs["username"], outs["expiresOn"]) == ("edge-devices", "2026-12-27T12:00:00+00:00")


def test_an_answer_without_the_password_fails_and_writes_nothing() -> None:
    from acr_cache.token_password import PasswordFailed

    from tests.arm_server import ArmServer, Scenario

    scenario = Scenario(generate_nothing=True)
    with (
        ArmServer(scenario) as server,
        pytest.raises(PasswordFailed, match=r"\(Azure returned no password1\)"),
    ):
        _password_provider(server).create(_password_props(server))
    assert scenario.secrets == {}


def test_an_endpoint_written_with_its_trailing_slash_reaches_the_same_secret() -> None:
    # Clouds name ARM with a trailing slash (https://management.azure.com/): the secret's URL has one.
    from tests.arm_server import ArmServer, Scenario

    scenario = Scenario()
    with ArmServer(scenario) as server:
        _password_provider(server).create(_password_props(server, armEndpoint=f"{server.endpoint}/"))
    assert list(scenario.secrets) == [f"{TOKEN_VAULT}/secrets/acr-token-edge-devices"]
    [put] = [r for r in scenario.requests if r["method"] == "PUT"]
    assert put["target"].startswith(f"{TOKEN_VAULT}/secrets/"), put["target"]


def test_a_token_an_older_version_kept_in_the_inputs_never_reaches_the_outputs() -> None:
    from tests.arm_server import ArmServer, Scenario

    scenario = Scenario()
    with ArmServer(scenario) as server:
        provider = _password_provider(server)
        old = {**_password_props(server), "accessToken": "eyJ-an-old-arm-token"}
        created = provider.create(old).outs
        updated = provider.update("id", created, {**old, "rotation": "2027-q1"}).outs
    assert "accessToken" not in created and "accessToken" not in updated
    assert "eyJ-an-old-arm-token" not in repr(created) + repr(updated)


def test_the_resource_exposes_its_username_expiry_and_slot() -> None:
    from acr_cache.plan.runner import run_program
    from acr_cache.token_password import TokenPassword

    made: list[TokenPassword] = []

    def program() -> None:
        made.append(
            TokenPassword(
                "edge-devices-password",
                subscription_id=SUB,
                resource_group_name="rg-acr-test",
                registry_name="acrtest01",
                token_id=TOKEN_ID,
                vault_id=TOKEN_VAULT,
                secret_name="acr-token-edge-devices",
                expiry_days=30,
                rotation="initial",
                arm_endpoint="https://arm.example.test",
            )
        )

    import pulumi

    run = run_program(program, project="t", stack="t", config={})
    [record] = [r for r in run.resources if r.name == "edge-devices-password"]
    # What the provider reads (tests point it at a loopback ARM this way).
    assert record.inputs["armEndpoint"] == "https://arm.example.test"
    # The outputs are declared as inputs of None (the provider fills them), which is what makes the
    # SDK give the resource `.username` and friends at all.
    for output in ("username", "expiresOn", "passwordName"):
        assert isinstance(getattr(made[0], output), pulumi.Output), output


def test_a_new_rotation_generates_again_and_nothing_else_does() -> None:
    from tests.arm_server import ArmServer, Scenario

    scenario = Scenario()
    with ArmServer(scenario) as server:
        provider = _password_provider(server)
        old = _password_props(server)
        # Tokens an older version left in the state's inputs are no change.
        same = provider.diff("id", {**old, "accessToken": "old-run"}, _password_props(server))
        rotated = provider.diff("id", old, _password_props(server, rotation="2027-q1"))
        moved = provider.diff("id", old, _password_props(server, secretName="other"))
        provider.update("id", old, _password_props(server, rotation="2027-q1"))
    assert same.changes is False
    assert (rotated.changes, rotated.replaces) == (True, [])
    assert (moved.changes, moved.replaces) == (True, ["secretName"])
    assert [r["method"] for r in scenario.requests] == ["POST", "PUT"]


def test_rotations_alternate_the_two_passwords_so_clients_keep_a_valid_one() -> None:
    from tests.arm_server import ArmServer, Scenario

    scenario = Scenario()
    with ArmServer(scenario) as server:
        provider = _password_provider(server)
        created = provider.create(_password_props(server)).outs
        second = provider.update("id", created, _password_props(server, rotation="2027-q1")).outs
        third = provider.update("id", second, _password_props(server, rotation="2027-q2")).outs
    generated = [r["body"]["name"] for r in scenario.requests if r["path"].endswith("/generateCredentials")]
    # Each rotation writes the slot clients are not on; the one they hold stays valid meanwhile.
    assert generated == ["password1", "password2", "password1"]
    assert [created["passwordName"], second["passwordName"], third["passwordName"]] == generated
    contents = [r["body"]["properties"]["contentType"] for r in scenario.requests if r["method"] == "PUT"]
    assert contents == [f"{slot} of registry token edge-devices" for slot in generated]


def test_state_from_before_the_alternation_rotates_into_password2() -> None:
    from acr_cache.token_password import next_password

    # Outputs written before `passwordName` existed held password1.
    assert [next_password(None), next_password("password1"), next_password("password2")] == [
        "password2",
        "password2",
        "password1",
    ]


def test_a_new_expiry_alone_generates_no_password() -> None:
    from acr_cache.token_password import TokenPasswordProvider

    old = {"tokenId": "/t", "vaultId": "/v", "secretName": "s", "expiryDays": 30, "rotation": "a"}
    longer = TokenPasswordProvider().diff("id", old, {**old, "expiryDays": 60})
    assert (longer.changes, longer.replaces) == (False, [])


def test_a_refused_password_says_which_roles_and_never_shows_it() -> None:
    from acr_cache.token_password import PasswordFailed

    from tests.arm_server import ArmServer, Scenario

    scenario = Scenario(refuse_with=(403, "AuthorizationFailed", "no generateCredentials/action"))
    with ArmServer(scenario) as server, pytest.raises(PasswordFailed) as caught:
        _password_provider(server).create(_password_props(server))
    assert str(caught.value) == (
        f"token {TOKEN_ID}: the password could not be generated and stored (AuthorizationFailed: no "
        "generateCredentials/action); the identity azure-native signs in as needs Contributor on the registry "
        "and on the vault (the secret is written through ARM, as the stack's other secrets are)"
    )
    assert scenario.secrets == {}


def test_tokens_get_a_scope_map_and_a_password_in_the_vault() -> None:
    run = run_stack(
        sections(
            keyVault={"name": "kv-acrtest01"},
            tokens={
                "edge-devices": {
                    "repositories": {"library/nginx": [], "team/*": ["read", "write"]},
                    "expiryDays": 90,
                }
            },
        )
    )
    scope = one(run, "azure-native:containerregistry:ScopeMap").inputs
    assert scope["actions"] == [
        "repositories/library/nginx/content/read",
        "repositories/library/nginx/metadata/read",
        "repositories/team/*/content/read",
        "repositories/team/*/content/write",
        "repositories/team/*/metadata/read",
        "repositories/team/*/metadata/write",
    ]
    token = one(run, "azure-native:containerregistry:Token")
    assert token.inputs["status"] == "enabled" and "credentials" not in token.inputs
    record = one(run, "pulumi-python:dynamic/acr-cache:TokenPassword")
    password = record.inputs
    assert password["secretName"] == "acr-token-edge-devices" and password["expiryDays"] == 90
    assert "accessToken" not in password
    assert run.outputs["tokenIds"] == {"edge-devices": f"{REGISTRY_ID}/tokens/edge-devices"}
    # The password is written into the vault the stack creates: it waits for the vault to exist.
    vault = one(run, "azure-native:keyvault:Vault")
    assert vault.urn in record.depends_on


@pytest.mark.parametrize(
    ("document", "problems"),
    [
        (
            sections(tokens={"edge-devices": {"repositories": {"library/nginx": []}}}),
            [
                "acr-cache:keyVault: token passwords are generated into Key Vault: set `keyVault` (a `name` the "
                "stack creates, or an `existingId`)"
            ],
        ),
        (
            sections(
                keyVault={"name": "kv-acrtest01"}, tokens={"edge": {"repositories": {"library/nginx": []}}}
            ),
            ["acr-cache:tokens.edge: 'edge' is not a valid token name: 5-50 letters, digits and hyphens"],
        ),
        (
            sections(keyVault={"name": "kv-acrtest01"}, tokens={"edge-devices": {"repositories": {}}}),
            ["acr-cache:tokens.edge-devices.repositories: a token needs at least one repository"],
        ),
        (
            sections(
                keyVault={"name": "kv-acrtest01"},
                tokens={"edge-devices": {"repositories": {"Library/Nginx": []}}},
            ),
            [
                "acr-cache:tokens.edge-devices.repositories: 'Library/Nginx' is not a repository path: lowercase, "
                "`/`-separated, optionally ending in `/*`"
            ],
        ),
        (
            sections(
                keyVault={"name": "kv-acrtest01"}, tokens={"edge-devices": {"repositories": {"x": ["pull"]}}}
            ),
            [
                "acr-cache:tokens.edge-devices.repositories.x[0]: 'pull' is not one of `read`, `write`, `delete`"
            ],
        ),
    ],
    ids=["no-vault", "short-name", "no-repository", "uppercase", "unknown-action"],
)
def test_token_refusals(document: dict[str, Any], problems: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(as_pulumi_config(document))
    assert [str(p) for p in caught.value.problems] == problems


def test_the_password_provider_pickles_by_reference() -> None:
    # The engine keeps the provider in the state and runs it from the project's environment.
    import dill
    from acr_cache.token_password import TokenPasswordProvider

    blob = dill.dumps(TokenPasswordProvider())
    assert b"acr_cache.token_password" in blob and len(blob) < 300


def test_a_token_replaces_the_mirrors_anonymous_pull() -> None:
    run = run_stack(
        sections(
            keyVault={"name": "kv-acrtest01"},
            credentialSets=DOCKER_HUB_SET,
            tokens={"mirror-clients": {"repositories": {"library/*": []}}},
            dockerMirror={"enabled": True, "credentialSet": "dockerhub", "token": "mirror-clients"},
        )
    )
    assert one(run, "azure-native:containerregistry:Registry").inputs["anonymousPullEnabled"] is False
    rule = one(run, "azure-native:containerregistry:CacheRule").inputs
    assert (rule["sourceRepository"], rule["targetRepository"]) == ("docker.io/*", "*")


def test_a_mirror_token_must_be_one_of_the_tokens() -> None:
    document = sections(
        keyVault={"name": "kv-acrtest01"},
        credentialSets=DOCKER_HUB_SET,
        dockerMirror={"enabled": True, "credentialSet": "dockerhub", "token": "mirror-clients"},
    )
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(as_pulumi_config(document))
    assert [str(p) for p in caught.value.problems] == [
        "acr-cache:dockerMirror.token: no token 'mirror-clients' in `acr-cache:tokens` (none): add it there, "
        "with `read` on the repositories the mirror serves"
    ]


# --- the landing-zone modules' remaining refusals and wire values ----------------------------------


@pytest.mark.parametrize(
    ("encryption", "problem"),
    [
        (
            {
                "identity": {"existingId": EXISTING_IDENTITY, "clientId": "not-a-guid"},
                "key": {"existingUri": "https://kv-p01.vault.azure.net/keys/k"},
            },
            "acr-cache:encryption.identity.clientId: 'not-a-guid' is not a GUID (`az identity show ... --query "
            "clientId -o tsv`)",
        ),
        (
            {"identity": {}, "key": {"existingUri": "https://kv-p01.vault.azure.net/keys/k"}},
            "acr-cache:encryption.identity.name: give either `name` (the stack creates the identity) or `existingId`",
        ),
        (
            {"identity": {"name": "id acr"}, "key": {"existingUri": "https://kv-p01.vault.azure.net/keys/k"}},
            "acr-cache:encryption.identity.name: 'id acr' is not a valid identity name: 3-128 letters, digits, `-`, `_`",
        ),
        (
            {
                "identity": {"name": "id-acr-cmk", "principalId": PRINCIPAL},
                "key": {"existingUri": "https://kv-p01.vault.azure.net/keys/k"},
            },
            "acr-cache:encryption.identity.principalId: `principalId` is for an existing identity: the created one "
            "has its own",
        ),
        (
            {"identity": {"name": "id-acr-cmk"}, "key": {"name": "acr_cmk"}},
            "acr-cache:encryption.key.name: 'acr_cmk' is not a valid key name: 1-127 letters, digits, hyphens",
        ),
    ],
    ids=["client-id", "no-identity", "identity-name", "principal-of-created", "key-name"],
)
def test_more_encryption_refusals(encryption: dict[str, Any], problem: str) -> None:
    document = sections(keyVault={"name": "kv-acrtest01"}, encryption=encryption)
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(as_pulumi_config(document))
    assert [str(p) for p in caught.value.problems] == [problem]


def test_the_key_components_children_and_outputs() -> None:
    encryption = {"identity": {"name": "id-acr-cmk"}, "key": {"name": "acr-cmk", "size": 2048}}
    run = run_stack(sections(keyVault={"name": "kv-acrtest01"}, encryption=encryption))
    names = {r.name for r in run.resources if r.parent and "CustomerManagedKey" in r.parent}
    assert names == {"encryption-identity", "encryption-key", "encryption-key-reader"}
    assert one(run, "azure-native:keyvault:Key").inputs["properties"]["keySize"] == 2048
    (outputs,) = [
        o for urn, o in run.registered_outputs.items() if urn.endswith("CustomerManagedKey::encryption")
    ]
    assert outputs == {
        "identityId": f"/subscriptions/{SUB}/resourceGroups/rg-acr-test/providers/Microsoft.ManagedIdentity/"
        "userAssignedIdentities/id-acr-cmk",
        "keyUri": "https://kv-acrtest01.vault.azure.net/keys/acr-cmk",
    }


def test_a_tokens_children_their_names_and_order() -> None:
    run = run_stack(
        sections(
            keyVault={"name": "kv-acrtest01"},
            tokens={"edge-devices": {"repositories": {"team/app": ["delete"]}, "secretName": "edge-pass"}},
        )
    )
    scope = one(run, "azure-native:containerregistry:ScopeMap")
    token = one(run, "azure-native:containerregistry:Token")
    password = one(run, "pulumi-python:dynamic/acr-cache:TokenPassword")
    vault = one(run, "azure-native:keyvault:Vault")
    assert (scope.name, token.name, password.name) == (
        "tokens-edge-devices-scope",
        "tokens-edge-devices",
        "tokens-edge-devices-password",
    )
    assert scope.inputs["scopeMapName"] == "edge-devices-scope"
    assert scope.inputs["description"] == "acr-cache token edge-devices"
    # Deleting by tag reads the manifest first: delete carries read.
    assert scope.inputs["actions"] == [
        "repositories/team/app/content/delete",
        "repositories/team/app/content/read",
        "repositories/team/app/metadata/read",
    ]
    # Passwords come from Azure, never from the token's inputs.
    assert token.ignore_changes == ["credentials"]
    assert vault.urn in password.depends_on and password.inputs["secretName"] == "edge-pass"
    (outputs,) = [o for urn, o in run.registered_outputs.items() if urn.endswith("Tokens::tokens")]
    assert outputs == {"tokenIds": {"edge-devices": f"{REGISTRY_ID}/tokens/edge-devices"}}


def test_a_token_secret_name_follows_key_vaults_rule() -> None:
    document = sections(
        keyVault={"name": "kv-acrtest01"},
        tokens={"edge-devices": {"repositories": {"team/app": []}, "secretName": "edge_pass"}},
    )
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(as_pulumi_config(document))
    assert [str(p) for p in caught.value.problems] == [
        "acr-cache:tokens.edge-devices.secretName: 'edge_pass' is not a valid Key Vault secret name: 1-127 "
        "letters, digits, hyphens"
    ]


def test_the_password_outputs_in_full() -> None:
    from tests.arm_server import ArmServer, Scenario

    scenario = Scenario()
    with ArmServer(scenario) as server:
        props = _password_props(server)
        result = _password_provider(server).create(props)
    assert result.outs == {
        **props,
        "username": "edge-devices",
        "expiresOn": "2026-12-27T12:00:00+00:00",
        "passwordName": "password1",
    }


@pytest.mark.parametrize("key", ["subscriptionId", "resourceGroupName", "registryName", "tokenId", "vaultId"])
def test_another_token_or_place_is_a_new_password(key: str) -> None:
    from acr_cache.token_password import TokenPasswordProvider

    old = {
        "subscriptionId": SUB,
        "resourceGroupName": "rg",
        "registryName": "acr01",
        "tokenId": "/t",
        "vaultId": "/v",
        "secretName": "s",
        "expiryDays": 30,
        "rotation": "a",
    }
    diff = TokenPasswordProvider().diff("id", old, {**old, key: "other"})
    assert (diff.changes, diff.replaces, diff.delete_before_replace) == (True, [key], False)


def test_without_a_complete_login_the_password_is_not_generated(monkeypatch: pytest.MonkeyPatch) -> None:
    from acr_cache.azure_login import SETTINGS
    from acr_cache.token_password import PasswordFailed, TokenPasswordProvider
    from pulumi.dynamic import Config, ConfigureRequest

    from tests.arm_server import ArmServer, Scenario

    for variable in SETTINGS.values():
        monkeypatch.delenv(variable, raising=False)
    provider = TokenPasswordProvider()
    provider.configure(ConfigureRequest(Config({"azure-native:useOidc": "true"}, "acr-cache")))
    scenario = Scenario()
    with ArmServer(scenario) as server, pytest.raises(PasswordFailed) as caught:
        provider.create(_password_props(server))
    assert str(caught.value) == (
        f"token {TOKEN_ID}: signing in with OIDC needs azure-native:subscriptionId or ARM_SUBSCRIPTION_ID; "
        "azure-native:tenantId or ARM_TENANT_ID; azure-native:clientId or ARM_CLIENT_ID"
    )
    assert scenario.requests == []


def test_the_password_resource_inputs_in_full() -> None:
    run = run_stack(
        sections(
            keyVault={"name": "kv-acrtest01"}, tokens={"edge-devices": {"repositories": {"team/app": []}}}
        )
    )
    inputs = {
        k: v
        for k, v in one(run, "pulumi-python:dynamic/acr-cache:TokenPassword").inputs.items()
        if k != "__provider"
    }
    assert inputs == {
        "subscriptionId": SUB,
        "resourceGroupName": "rg-acr-test",
        "registryName": "acrcachetest01",
        "tokenId": f"{REGISTRY_ID}/tokens/edge-devices",
        "vaultId": f"/subscriptions/{SUB}/resourceGroups/rg-acr-test/providers/Microsoft.KeyVault/vaults/kv-acrtest01",
        "secretName": "acr-token-edge-devices",
        "expiryDays": 365,
        "rotation": "initial",
    }


@pytest.mark.parametrize(
    ("verbs", "actions"),
    [
        ([], ["content/read", "metadata/read"]),
        (["read"], ["content/read", "metadata/read"]),
        # `docker push` asks which layers exist before it writes: write needs read.
        (["write"], ["content/read", "content/write", "metadata/read", "metadata/write"]),
        # Deleting by tag reads the manifest to find its digest first.
        (["delete"], ["content/delete", "content/read", "metadata/read"]),
        (
            ["read", "write", "delete"],
            ["content/delete", "content/read", "content/write", "metadata/read", "metadata/write"],
        ),
    ],
    ids=["default", "read", "write", "delete", "all"],
)
def test_each_verb_gets_the_actions_acr_needs_for_it(verbs: list[str], actions: list[str]) -> None:
    from acr_cache.tokens import TokenConfig

    token = TokenConfig.model_validate({"repositories": {"team/app": verbs}})
    assert token.actions() == [f"repositories/team/app/{action}" for action in actions]
