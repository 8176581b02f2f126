"""Access grants, import resources and protection: wire inputs, URN stability, refusals."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from acr_cache.config import ConfigError, parse_stack_config
from acr_cache.plan.values import Secret

from tests.conftest import DOCKER_HUB_SET, as_pulumi_config, by_type, one, refusal_ids, run_stack, sections

ASSIGNMENT = "azure-native:authorization:RoleAssignment"
IMPORT = "pulumi-python:dynamic/acr-cache:ImageImport"
LOCK = "azure-native:authorization:ManagementLockByScope"
REGISTRY = "azure-native:containerregistry:Registry"
SUB = "00000000-0000-0000-0000-000000000000"
PULLER = "0c2f4b9a-7d3e-4e1f-8a6b-5c9d0e1f2a33"
PUSHER = "6F3C8F6E-2A51-4C0E-9A57-0D9D2A1B7C11"
DIGEST = "sha256:" + "b" * 64
REGISTRY_ID = f"/subscriptions/{SUB}/resourceGroups/rg-acr-test/providers/Microsoft.ContainerRegistry/registries/acrcachetest01"


def grants(**entries: dict[str, Any]) -> dict[str, Any]:
    return entries


def test_pull_and_push_grants_at_registry_scope() -> None:
    access = grants(
        aks={"principalId": PULLER, "principalType": "ServicePrincipal"},
        ci={"principalId": PUSHER, "principalType": "ServicePrincipal", "role": "AcrPush"},
        devs={"principalId": "11111111-2222-3333-4444-555555555555", "principalType": "Group"},
    )
    run = run_stack(sections(access=access))
    assignments = {r.name: r.inputs for r in by_type(run, ASSIGNMENT)}
    assert sorted(assignments) == ["access-aks", "access-ci", "access-devs"]
    aks = assignments["access-aks"]
    assert aks["scope"] == REGISTRY_ID
    assert aks["principalId"] == PULLER
    assert aks["principalType"] == "ServicePrincipal"
    assert (
        aks["roleDefinitionId"]
        # AcrPull and AcrPush, as Azure's built-in roles list them.
        == f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d"
    )
    assert assignments["access-ci"]["roleDefinitionId"] == (
        f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/8311e382-0749-4cb8-b61a-304f252e45ec"
    )
    assert assignments["access-ci"]["principalId"] == PUSHER.lower()
    assert assignments["access-devs"]["principalType"] == "Group"
    # Deterministic names: a second run (or a reordered config) gives the same GUIDs.
    again = run_stack(sections(access=dict(reversed(list(access.items())))))
    assert {r.name: r.inputs["roleAssignmentName"] for r in by_type(again, ASSIGNMENT)} == {
        name: inputs["roleAssignmentName"] for name, inputs in assignments.items()
    }
    assert len({inputs["roleAssignmentName"] for inputs in assignments.values()}) == 3
    # The names are the assignments' identity in Azure: a changed formula would grant everything a
    # second time under new names. These are the names deployed stacks hold.
    assert {name: inputs["roleAssignmentName"] for name, inputs in assignments.items()} == {
        "access-aks": "ce5a0f53-75e7-58b2-8385-e8195748507f",
        "access-ci": "d1cd3e56-546c-53e2-86a7-da966b967ac6",
        "access-devs": "2c0082d1-577d-5514-8223-3527422d07b4",
    }
    assert assignments["access-ci"]["description"] == "AcrPush on acrcachetest01 for ci"


@pytest.mark.parametrize(
    ("role", "name"),
    [
        ("Owner", "Owner"),
        ("contributor", "Contributor"),
        ("b24988ac-6180-42a0-ab88-20f7382dd24c", "Contributor"),
        ("8E3AF657-A8FF-443C-A75C-2FE8C4BCB635", "Owner"),
    ],
)
def test_broad_roles_are_refused_by_name_or_by_id(role: str, name: str) -> None:
    document = sections(
        access={"aks": {"principalId": PULLER, "principalType": "ServicePrincipal", "role": role}}
    )
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(as_pulumi_config(document))
    assert [str(p) for p in caught.value.problems] == [
        f"acr-cache:access.aks.role: {name} on the registry can delete it and open its firewall: grant "
        "`AcrPull` to workloads that pull and `AcrPush` to CI that publishes"
    ]


def test_imports_are_resources_with_secret_credentials() -> None:
    imports = {
        "base/alpine:3.20": {
            "source": "docker.io/library/alpine:3.20",
            "usernameConfigKey": "hubUser",
            "passwordConfigKey": "hubToken",
        },
        "base/dotnet:8.0": {"source": f"mcr.microsoft.com/dotnet/runtime@{DIGEST}", "force": True},
    }
    run = run_stack(sections(imports=imports), secrets={"hubUser": "octocat", "hubToken": "tok-SECRET"})
    records = {r.inputs["target"]: r for r in by_type(run, IMPORT)}
    alpine = records["base/alpine:3.20"].inputs
    assert alpine["source"] == "docker.io/library/alpine:3.20"
    assert alpine["username"] == Secret("octocat") and alpine["password"] == Secret("tok-SECRET")
    assert alpine["registryName"] == "acrcachetest01" and alpine["subscriptionId"] == SUB
    assert alpine["force"] is False
    dotnet = records["base/dotnet:8.0"].inputs
    assert dotnet["force"] is True and "password" not in dotnet
    assert one(run, REGISTRY).urn in records["base/dotnet:8.0"].depends_on
    assert run.outputs["importedImages"] == {
        "base/alpine:3.20": "acrcachetest01.azurecr.io/base/alpine:3.20",
        "base/dotnet:8.0": "acrcachetest01.azurecr.io/base/dotnet:8.0",
    }


def test_locks_on_registry_and_created_vault_only_when_configured() -> None:
    document = sections(
        keyVault={"name": "kv-acrtest01"},
        credentialSets=DOCKER_HUB_SET,
        protection={"protect": True, "locks": True},
    )
    run = run_stack(document)
    locks = {r.name: r.inputs for r in by_type(run, LOCK)}
    assert sorted(locks) == ["locks-registry", "locks-vault"]
    assert locks["locks-registry"]["scope"] == REGISTRY_ID
    assert locks["locks-registry"]["level"] == "CanNotDelete"
    assert locks["locks-vault"]["scope"].endswith("/providers/Microsoft.KeyVault/vaults/kv-acrtest01")
    # The lock's name is what the portal and `az lock list` show; the note says how to lift it.
    assert locks["locks-registry"]["lockName"] == "acr-cache-registry-do-not-delete"
    assert locks["locks-vault"]["lockName"] == "acr-cache-vault-do-not-delete"
    for lock in locks.values():
        assert lock["notes"] == (
            "Managed by the acr-cache Pulumi stack: set acr-cache:protection.locks to false and run "
            "`pulumi up` before deleting."
        )
    assert by_type(run_stack(sections()), LOCK) == []


def test_protect_covers_registry_vault_and_zone() -> None:
    subnet = f"/subscriptions/{SUB}/resourceGroups/rg-hub/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/pe"
    document = sections(
        keyVault={"name": "kv-acrtest01"},
        credentialSets=DOCKER_HUB_SET,
        privateAccess={"endpoints": {"hub": {"subnetId": subnet}}},
    )
    run = run_stack(document)
    protected = sorted(r.type for r in run.resources if r.protect)
    assert protected == [
        "azure-native:containerregistry:Registry",
        "azure-native:keyvault:Vault",
        "azure-native:privatedns:PrivateZone",
        "azure-native:resources:ResourceGroup",
    ]


REFUSED = [
    (
        sections(access={"aks": {"principalId": "not-a-guid", "principalType": "ServicePrincipal"}}),
        "acr-cache:access.aks.principalId",
        "is not an object id",
    ),
    (
        sections(access={"aks": {"principalId": PULLER}}),
        "acr-cache:access.aks.principalType",
        "required key is missing",
    ),
    (
        sections(access={"aks": {"principalId": PULLER, "principalType": "Robot"}}),
        "acr-cache:access.aks.principalType",
        "'Robot' is not one of `ServicePrincipal`, `User`, `Group`",
    ),
    (
        sections(access={"ops": {"principalId": PULLER, "principalType": "User", "role": "Owner"}}),
        "acr-cache:access.ops.role",
        "grant `AcrPull` to workloads that pull and `AcrPush` to CI",
    ),
    (
        sections(access={"ops": {"principalId": PULLER, "principalType": "User", "role": "Contributor"}}),
        "acr-cache:access.ops.role",
        "Contributor on the registry can delete it",
    ),
    (
        sections(
            access={
                "ops": {
                    "principalId": PULLER,
                    "principalType": "User",
                    "role": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
                }
            }
        ),
        "acr-cache:access.ops.role",
        "Owner on the registry",
    ),
    (
        sections(access={"ops": {"principalId": PULLER, "principalType": "User", "role": "Reader"}}),
        "acr-cache:access.ops.role",
        "is not a registry role here: use one of `AcrPull`, `AcrPush`, `AcrDelete`",
    ),
    (
        sections(access={"AKS_1": {"principalId": PULLER, "principalType": "User"}}),
        "acr-cache:access.AKS_1",
        "not a valid grant name",
    ),
    (
        sections(
            access={
                "a1": {"principalId": PULLER, "principalType": "User"},
                "a2": {"principalId": PULLER.upper(), "principalType": "User"},
            }
        ),
        "acr-cache:access.a2",
        "same principal as acr-cache:access.a1",
    ),
    (
        sections(imports={"base/alpine:3.20": {"source": f"docker.io/library/alpine:3.20@{DIGEST}"}}),
        "acr-cache:imports.base/alpine:3.20.source",
        "has both a tag (3.20) and a digest",
    ),
    (
        sections(imports={"base/alpine:3.20": {"source": "docker.io/library/alpine"}}),
        "acr-cache:imports.base/alpine:3.20.source",
        "has no tag or digest",
    ),
    (
        sections(imports={"base/alpine:3.20": {"source": "docker.io/alpine:3.20"}}),
        "acr-cache:imports.base/alpine:3.20.source",
        "write 'docker.io/library/alpine:3.20'",
    ),
    (
        sections(imports={"base/alpine:3.20": {"source": "index.docker.io/library/alpine:3.20"}}),
        "acr-cache:imports.base/alpine:3.20.source",
        "'index.docker.io' is not how ACR names Docker Hub: write 'docker.io/library/alpine:3.20'",
    ),
    (
        sections(imports={"base/alpine:3.20": {"source": "docker.io/library/alpine@sha256:abc"}}),
        "acr-cache:imports.base/alpine:3.20.source",
        "is not a digest",
    ),
    (
        sections(imports={"base/alpine:3.20": {"source": "alpine:3.20"}}),
        "acr-cache:imports.base/alpine:3.20.source",
        "needs the registry host first",
    ),
    (
        sections(imports={"base/alpine:3.20": {"source": "Docker.io/Library/alpine:3.20"}}),
        "acr-cache:imports.base/alpine:3.20.source",
        "lowercase",
    ),
    (
        sections(imports={"base/alpine": {"source": "docker.io/library/alpine:3.20"}}),
        "acr-cache:imports.base/alpine",
        "must be `repository:tag`",
    ),
    (
        sections(imports={"Base/Alpine:3.20": {"source": "docker.io/library/alpine:3.20"}}),
        "acr-cache:imports.Base/Alpine:3.20",
        "not a valid repository path",
    ),
    (
        sections(imports={"base/alpine:3.20": {"source": "mcr.microsoft.com/Dotnet/runtime:8.0"}}),
        "acr-cache:imports.base/alpine:3.20.source",
        "must have a lowercase repository: write 'mcr.microsoft.com/dotnet/runtime:8.0'",
    ),
    (
        sections(imports={"base/alpine:3.20": {"source": f"mcr.microsoft.com/dotnet/runtime:8.0@{DIGEST}"}}),
        "acr-cache:imports.base/alpine:3.20.source",
        f"has both a tag (8.0) and a digest, which ACR cannot check agree: keep 'mcr.microsoft.com/dotnet/runtime@{DIGEST}'",
    ),
    (
        sections(imports={"base/alpine:3.20": {"source": "mcr.microsoft.com/dotnet/runtime:.8"}}),
        "acr-cache:imports.base/alpine:3.20.source",
        "'.8' in 'mcr.microsoft.com/dotnet/runtime:.8' is not a valid tag",
    ),
    (
        sections(imports={"base/alpine:3.20": {"source": "mcr.microsoft.com/dotnet--/runtime:8.0"}}),
        "acr-cache:imports.base/alpine:3.20.source",
        "'dotnet--/runtime' in 'mcr.microsoft.com/dotnet--/runtime:8.0' is not a valid repository path",
    ),
    (
        sections(imports={"base/alpine:.3": {"source": "docker.io/library/alpine:3.20"}}),
        "acr-cache:imports.base/alpine:.3",
        "'.3' in 'base/alpine:.3' is not a valid tag",
    ),
    (
        sections(imports={"base/alpine:3/20": {"source": "docker.io/library/alpine:3.20"}}),
        "acr-cache:imports.base/alpine:3/20",
        "must be `repository:tag`",
    ),
    (
        sections(
            imports={
                "base/alpine:3.20": {"source": "docker.io/library/alpine:3.20", "usernameConfigKey": "u"}
            }
        ),
        "acr-cache:imports.base/alpine:3.20.passwordConfigKey",
        "give both",
    ),
    (
        sections(
            cacheRules={"mcr-all": {"source": "mcr.microsoft.com/dotnet/*", "target": "dotnet/*"}},
            imports={"dotnet/runtime:8.0": {"source": "mcr.microsoft.com/dotnet/runtime:8.0"}},
        ),
        "acr-cache:imports.dotnet/runtime:8.0",
        "belongs to cache rule 'mcr-all'",
    ),
    (
        sections(
            network={"publicAccess": "Restricted", "trustedServicesBypass": False},
            imports={"base/a:1": {"source": "mcr.microsoft.com/a:1"}},
        ),
        "acr-cache:network.trustedServicesBypass",
        "importing into a restricted registry runs as a trusted Azure service",
    ),
    (
        sections(
            registry={
                "name": "acrcachetest01",
                "location": "westeurope",
                "softDeleteDays": 7,
                "retentionDays": 7,
            }
        ),
        "acr-cache:registry.softDeleteDays",
        "not allow the soft delete policy beside the retention policy",
    ),
    (
        sections(
            registry={"name": "acrcachetest01", "location": "westeurope", "softDeleteDays": 7},
            replicas={"northeurope": {}},
        ),
        "acr-cache:registry.softDeleteDays",
        "does not support geo-replicated registries",
    ),
    (sections(protection={"locks": "sometimes"}), "acr-cache:protection.locks", "boolean"),
]


@pytest.mark.parametrize(("document", "key", "fragment"), REFUSED, ids=refusal_ids(REFUSED))
def test_refused_access_imports_and_protection(document: dict[str, Any], key: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(as_pulumi_config(copy.deepcopy(document)))
    problems = [str(p) for p in caught.value.problems]
    matching = [p for p in problems if p.startswith(f"{key}: ")]
    assert matching, problems
    assert any(fragment in p for p in matching), matching


def test_import_passwords_must_be_secret() -> None:
    values = as_pulumi_config(
        sections(
            imports={
                "base/a:1": {
                    "source": "docker.io/library/a:1",
                    "usernameConfigKey": "u",
                    "passwordConfigKey": "p",
                }
            }
        )
    )
    values.update({"acr-cache:u": "user", "acr-cache:p": "plain-password"})
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(values, [])
    assert [str(p).split(":", 2)[1] for p in caught.value.problems] == ["p"]
    assert "plain-password" not in str(caught.value)


def test_an_adopted_registry_keeps_its_earlier_urn_as_an_alias() -> None:
    earlier = "urn:pulumi:test::acr-cache::azure-native:containerregistry:Registry::platform-acr"
    registry = {"name": "acrcachetest01", "location": "westeurope", "aliases": [earlier]}
    record = one(run_stack(sections(registry=registry)), REGISTRY)
    assert record.alias_urns == [earlier]
    assert one(run_stack(sections()), REGISTRY).alias_urns == []
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(as_pulumi_config(sections(registry={**registry, "aliases": ["platform-acr"]})))
    assert "acr-cache:registry.aliases[0]: 'platform-acr' is not the URN of a registry" in str(caught.value)
