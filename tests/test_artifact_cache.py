"""The artifact cache: vault, secrets, credential sets, grants and rules on the wire; every refusal."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from acr_cache.config import ConfigError, parse_stack_config
from acr_cache.plan.values import Secret

from tests.conftest import as_pulumi_config, by_type, one, refusal_ids, run_stack, sections

VAULT = "azure-native:keyvault:Vault"
SECRET = "azure-native:keyvault:Secret"
CREDENTIAL_SET = "azure-native:containerregistry:CredentialSet"
ASSIGNMENT = "azure-native:authorization:RoleAssignment"
RULE = "azure-native:containerregistry:CacheRule"
REGISTRY = "azure-native:containerregistry:Registry"
SUB = "00000000-0000-0000-0000-000000000000"
TOKEN = "dckr_pat_S3cr3t-Hunter2-Value"
USER = "octocat-user"
SECRETS = {"dockerHubUsername": USER, "dockerHubToken": TOKEN}
DOCKERHUB = {
    "loginServer": "docker.io",
    "username": {"configKey": "dockerHubUsername"},
    "password": {"configKey": "dockerHubToken"},
}
VAULT_ID = f"/subscriptions/{SUB}/resourceGroups/rg-sec/providers/Microsoft.KeyVault/vaults/kv-shared01"


def cache(rules: Any = None, **extra: Any) -> dict[str, Any]:
    """A valid document with a created vault, the Docker Hub set and the given rules."""
    document: dict[str, Any] = {
        "keyVault": {"name": "kv-acrtest01"},
        "credentialSets": {"dockerhub": DOCKERHUB},
        "cacheRules": rules
        if rules is not None
        else {
            "dockerhub-library": {
                "source": "docker.io/library/*",
                "target": "library/*",
                "credentialSet": "dockerhub",
            },
            "mcr-dotnet": {"source": "mcr.microsoft.com/dotnet/*", "target": "dotnet/*"},
        },
    }
    document.update(extra)
    return sections(**document)


def problems_of(document: dict[str, Any], secrets: dict[str, str] | None = None) -> list[str]:
    values = as_pulumi_config(document)
    values.update({f"acr-cache:{k}": v for k, v in (secrets if secrets is not None else SECRETS).items()})
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(values, [f"acr-cache:{k}" for k in (secrets if secrets is not None else SECRETS)])
    return [str(p) for p in caught.value.problems]


def test_vault_is_rbac_soft_delete_and_purge_protected() -> None:
    run = run_stack(cache(), secrets=SECRETS)
    vault = one(run, VAULT)
    assert vault.protect is True
    assert vault.inputs["vaultName"] == "kv-acrtest01"
    assert vault.inputs["properties"] == {
        "enablePurgeProtection": True,
        "enableRbacAuthorization": True,
        "enableSoftDelete": True,
        "enabledForDeployment": False,
        "enabledForDiskEncryption": False,
        "enabledForTemplateDeployment": False,
        "networkAcls": {"bypass": "AzureServices", "defaultAction": "Deny"},
        "publicNetworkAccess": "Enabled",
        "sku": {"family": "A", "name": "standard"},
        "softDeleteRetentionInDays": 90,
        "tenantId": "11111111-1111-1111-1111-111111111111",
    }


def test_vault_network_and_purge_protection_are_configurable() -> None:
    vault_config = {
        "name": "kv-acrtest01",
        "publicNetworkAccess": False,
        "ipRules": ["203.0.113.9"],
        "purgeProtection": False,
        "softDeleteRetentionDays": 7,
    }
    properties = one(run_stack(cache(keyVault=vault_config), secrets=SECRETS), VAULT).inputs["properties"]
    assert "enablePurgeProtection" not in properties  # Azure refuses `false`; off means not sent
    assert properties["publicNetworkAccess"] == "Disabled"
    assert properties["networkAcls"]["ipRules"] == [{"value": "203.0.113.9"}]
    assert properties["softDeleteRetentionInDays"] == 7


def test_secrets_are_written_as_secrets_and_never_in_plain_text() -> None:
    run = run_stack(cache(), secrets=SECRETS)
    secrets = {r.inputs["secretName"]: r.inputs for r in by_type(run, SECRET)}
    assert sorted(secrets) == ["dockerhub-password", "dockerhub-username"]
    assert secrets["dockerhub-password"]["properties"]["value"] == Secret(TOKEN)
    assert secrets["dockerhub-username"]["properties"]["value"] == Secret(USER)
    assert secrets["dockerhub-password"]["vaultName"] == "kv-acrtest01"
    assert secrets["dockerhub-password"]["resourceGroupName"] == "rg-acr-test"


def test_credential_set_has_identity_and_versionless_secret_uris() -> None:
    run = run_stack(cache(), secrets=SECRETS)
    credential_set = one(run, CREDENTIAL_SET)
    assert credential_set.inputs == {
        "authCredentials": [
            {
                "name": "Credential1",
                "passwordSecretIdentifier": "https://kv-acrtest01.vault.azure.net/secrets/dockerhub-password",
                "usernameSecretIdentifier": "https://kv-acrtest01.vault.azure.net/secrets/dockerhub-username",
            }
        ],
        "credentialSetName": "dockerhub",
        "identity": {"type": "SystemAssigned"},
        "loginServer": "docker.io",
        "registryName": "acrcachetest01",
        "resourceGroupName": "rg-acr-test",
    }
    secret_urns = {r.urn for r in by_type(run, SECRET)}
    assert secret_urns <= set(credential_set.depends_on)
    assert one(run, REGISTRY).urn in credential_set.depends_on


def test_each_set_reads_exactly_its_two_secrets() -> None:
    from acr_cache.plan.mocks import principal_id_for

    run = run_stack(cache(), secrets=SECRETS)
    # The id the mocks gave the set's identity (as Azure does), not one read back from the component.
    principal = principal_id_for(one(run, CREDENTIAL_SET).arm_id)
    assert run.outputs["credentialSetPrincipalIds"]["dockerhub"] == principal
    assignments = {r.inputs["scope"].rsplit("/", 1)[1]: r for r in by_type(run, ASSIGNMENT)}
    assert sorted(assignments) == ["dockerhub-password", "dockerhub-username"]
    for secret_name, assignment in assignments.items():
        assert (
            assignment.inputs["scope"]
            == f"{VAULT_ID.replace('rg-sec', 'rg-acr-test').replace('kv-shared01', 'kv-acrtest01')}/secrets/{secret_name}"
        )
        # Key Vault Secrets User, as Azure's built-in roles list it.
        assert assignment.inputs["roleDefinitionId"] == (
            f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6"
        )
        assert assignment.inputs["principalId"] == principal
        assert assignment.inputs["principalType"] == "ServicePrincipal"
        assert one(run, CREDENTIAL_SET).urn in assignment.depends_on
    names = {r.inputs["roleAssignmentName"] for r in by_type(run, ASSIGNMENT)}
    again = {r.inputs["roleAssignmentName"] for r in by_type(run_stack(cache(), secrets=SECRETS), ASSIGNMENT)}
    assert names == again and len(names) == 2


def test_docker_hub_rules_wait_for_the_grants_and_mcr_needs_no_set() -> None:
    run = run_stack(cache(), secrets=SECRETS)
    rules = {r.inputs["cacheRuleName"]: r for r in by_type(run, RULE)}
    grants = {r.urn for r in by_type(run, ASSIGNMENT)}
    library = rules["dockerhub-library"]
    assert library.inputs["credentialSetResourceId"] == run.outputs["credentialSetIds"]["dockerhub"]
    assert grants <= set(library.depends_on)
    assert library.inputs["sourceRepository"] == "docker.io/library/*"
    assert library.inputs["targetRepository"] == "library/*"
    mcr = rules["mcr-dotnet"]
    assert "credentialSetResourceId" not in mcr.inputs
    assert not grants & set(mcr.depends_on)
    assert run.outputs["pullReferences"] == {
        "dockerhub-library": "acrcachetest01.azurecr.io/library/*",
        "mcr-dotnet": "acrcachetest01.azurecr.io/dotnet/*",
    }


def test_list_form_rules_get_names_derived_from_their_targets() -> None:
    rules = [
        {"source": "docker.io/library/nginx", "target": "library/nginx", "credentialSet": "dockerhub"},
        {"source": "mcr.microsoft.com/dotnet/*", "target": "dotnet/*", "name": "dotnet-all"},
        {"source": "registry.k8s.io/pause", "target": "k8s/pause"},
    ]
    names = sorted(r.inputs["cacheRuleName"] for r in by_type(run_stack(cache(rules), secrets=SECRETS), RULE))
    assert names == ["dotnet-all", "k8s-pause", "library-nginx"]


def test_existing_vault_and_existing_secrets() -> None:
    document = cache(
        keyVault={"existingId": VAULT_ID},
        credentialSets={
            "dockerhub": {
                "loginServer": "docker.io",
                "username": {"secretName": "dockerhub-user"},
                "password": {"secretName": "dockerhub-pat"},
            }
        },
    )
    run = run_stack(document)
    assert by_type(run, VAULT) == [] and by_type(run, SECRET) == []
    credentials = one(run, CREDENTIAL_SET).inputs["authCredentials"][0]
    assert (
        credentials["usernameSecretIdentifier"]
        == "https://kv-shared01.vault.azure.net/secrets/dockerhub-user"
    )
    scopes = sorted(r.inputs["scope"] for r in by_type(run, ASSIGNMENT))
    assert scopes == [f"{VAULT_ID}/secrets/dockerhub-pat", f"{VAULT_ID}/secrets/dockerhub-user"]
    assert run.outputs["keyVaultId"] == VAULT_ID


def test_rule_with_an_existing_credential_set_id() -> None:
    set_id = f"/subscriptions/{SUB}/resourceGroups/rg-p/providers/Microsoft.ContainerRegistry/registries/platformacr/credentialSets/dockerhub"
    rules = {
        "team-nginx": {"source": "docker.io/library/nginx", "target": "team/nginx", "credentialSetId": set_id}
    }
    run = run_stack(sections(cacheRules=rules))
    assert one(run, RULE).inputs["credentialSetResourceId"] == set_id
    assert by_type(run, VAULT) == [] and by_type(run, CREDENTIAL_SET) == []


def test_rule_with_a_credential_set_of_the_same_registry_by_name() -> None:
    rules = {
        "team-nginx": {
            "source": "docker.io/library/nginx",
            "target": "team/nginx",
            "registryCredentialSet": "dockerhub",
        }
    }
    run = run_stack(sections(cacheRules=rules))
    assert one(run, RULE).inputs["credentialSetResourceId"] == (
        f"/subscriptions/{SUB}/resourceGroups/rg-acr-test/providers/Microsoft.ContainerRegistry/registries/"
        "acrcachetest01/credentialSets/dockerhub"
    )


def test_cache_rules_work_on_basic() -> None:
    run = run_stack(
        sections(
            registry={"name": "acrcachetest01", "location": "westeurope", "sku": "Basic"},
            cacheRules={"mcr-dotnet": {"source": "mcr.microsoft.com/dotnet/*", "target": "dotnet/*"}},
        )
    )
    assert one(run, RULE).inputs["cacheRuleName"] == "mcr-dotnet"


def test_docker_mirror_mode_is_explicit_and_opens_anonymous_pull() -> None:
    mirror = {
        "enabled": True,
        "reason": "CI agents use Docker daemon registry-mirrors, which cannot sign in",
        "credentialSet": "dockerhub",
    }
    run = run_stack(
        cache(
            rules={"mcr-dotnet-sdk": {"source": "mcr.microsoft.com/dotnet/sdk", "target": "dotnet/sdk"}},
            dockerMirror=mirror,
        ),
        secrets=SECRETS,
    )
    assert one(run, REGISTRY).inputs["anonymousPullEnabled"] is True
    rules = {r.inputs["cacheRuleName"]: r.inputs for r in by_type(run, RULE)}
    assert rules["dockerhub-mirror"]["sourceRepository"] == "docker.io/*"
    assert rules["dockerhub-mirror"]["targetRepository"] == "*"
    assert one(run_stack(cache(), secrets=SECRETS), REGISTRY).inputs["anonymousPullEnabled"] is False


def test_a_secret_value_never_appears_in_the_plan(capsys: pytest.CaptureFixture[str]) -> None:
    from acr_cache.plan import plan_program
    from acr_cache.plan.table import render_table
    from acr_cache.program import main

    values = as_pulumi_config(cache())
    values.update({"acr-cache:dockerHubUsername": USER, "acr-cache:dockerHubToken": TOKEN})
    plan = plan_program(
        main,
        project="acr-cache",
        stack="t",
        config=values,
        secret_keys=["acr-cache:dockerHubToken", "acr-cache:dockerHubUsername"],
    )
    text = (
        json.dumps(plan.to_json()) + render_table(plan) + "\n".join(plan.run.messages + plan.schema_problems)
    )
    out, err = capsys.readouterr()
    assert plan.schema_problems == []
    assert TOKEN not in text + out + err and USER not in text
    assert '"value": "[secret]"' in json.dumps(plan.to_json())


def test_a_password_in_plain_text_is_refused_without_echoing_it() -> None:
    values = as_pulumi_config(cache())
    values.update({"acr-cache:dockerHubUsername": USER, "acr-cache:dockerHubToken": TOKEN})
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(values, ["acr-cache:dockerHubUsername"])
    message = str(caught.value)
    assert "acr-cache:dockerHubToken: holds a password or token in plain text" in message
    assert TOKEN not in message


def test_a_plain_username_key_is_accepted() -> None:
    values = as_pulumi_config(cache())
    values.update({"acr-cache:dockerHubUsername": USER, "acr-cache:dockerHubToken": TOKEN})
    parse_stack_config(values, ["acr-cache:dockerHubToken"])


def wildcard(source: str, target: str, **extra: Any) -> dict[str, Any]:
    return {"source": source, "target": target, **extra}


DH = {"credentialSet": "dockerhub"}
MCR = "mcr.microsoft.com/dotnet/runtime"
REFUSED: list[tuple[Any, str, str]] = [
    # Every refusal of a target path, with the path ACR would have refused.
    (
        {"r-target-tag": wildcard(MCR, "dotnet/runtime:8.0")},
        "acr-cache:cacheRules.r-target-tag.target",
        "holds a tag or digest",
    ),
    (
        {"r-target-acr": wildcard(MCR, "acrcachetest01.azurecr.io/dotnet")},
        "acr-cache:cacheRules.r-target-acr.target",
        "names the registry itself",
    ),
    (
        {"r-target-long": wildcard(MCR, "a/" * 130 + "b")},
        "acr-cache:cacheRules.r-target-long.target",
        "is longer than 256",
    ),
    (
        {"r-target-star": wildcard("mcr.microsoft.com/dotnet/*", "dot*net/*")},
        "acr-cache:cacheRules.r-target-star.target",
        "that is not a trailing",
    ),
    (
        {"r-target-part": wildcard(MCR, "dotnet/-runtime")},
        "acr-cache:cacheRules.r-target-part.target",
        "is not a valid repository path component",
    ),
    (
        {
            "r-set-id": wildcard(
                MCR.replace("mcr.microsoft.com", "ghcr.io"),
                "ghcr/runtime",
                credentialSetId="/subscriptions/x/credentialSets/y",
            )
        },
        "acr-cache:cacheRules.r-set-id.credentialSetId",
        "is not the ARM id of a credential set",
    ),
    (
        {"r-named": wildcard(MCR, "dotnet/runtime", name="other-name")},
        "acr-cache:cacheRules.r-named.name",
        "in the map form the key is the rule's name",
    ),
    ({"bad": wildcard(MCR, "dotnet/runtime")}, "acr-cache:cacheRules.bad", "is not a valid rule name: 5-50"),
    (
        [wildcard(MCR, "dotnet/runtime", name="bad_name")],
        "acr-cache:cacheRules[0].name",
        "is not a valid rule name: 5-50",
    ),
    (
        {"r-colour": {"source": "mcr.microsoft.com/dotnet/*", "target": "dotnet/*", "colour": "red"}},
        "acr-cache:cacheRules.r-colour.colour",
        "unknown key; allowed keys here are `source`, `target`, `name`, `credentialSet`",
    ),
    (
        [{"source": "mcr.microsoft.com/dotnet/*", "target": "dotnet/*", "credential_set": "dockerhub"}],
        "acr-cache:cacheRules[0].credential_set",
        "unknown key (keys are camelCase: write `credentialSet`)",
    ),
    (
        {"r-acr": {"source": "other.azurecr.io/team/app", "credentialSet": "dockerhub"}},
        "acr-cache:cacheRules.r-acr.target",
        "without `target` it is the source as written",
    ),
    (
        {"r-upper": wildcard("docker.io/library/Nginx", "library/nginx", **DH)},
        "acr-cache:cacheRules.r-upper.source",
        "must be lowercase",
    ),
    (
        {"r-tag": wildcard("docker.io/library/python:3.11", "library/python", **DH)},
        "acr-cache:cacheRules.r-tag.source",
        "holds a tag; a rule caches a whole repository: write 'docker.io/library/python'",
    ),
    (
        {"r-digest": wildcard("docker.io/library/python@sha256:abc", "library/python", **DH)},
        "acr-cache:cacheRules.r-digest.source",
        "holds a digest",
    ),
    (
        {"r-host": wildcard("example.com/team/app", "team/app")},
        "acr-cache:cacheRules.r-host.source",
        "is not an upstream the artifact cache supports",
    ),
    (
        {"r-index": wildcard("index.docker.io/library/nginx", "library/nginx", **DH)},
        "acr-cache:cacheRules.r-index.source",
        "write 'docker.io/library/nginx'",
    ),
    (
        {"r-nopath": wildcard("ghcr.io", "x/y")},
        "acr-cache:cacheRules.r-nopath.source",
        "has no repository path",
    ),
    (
        {"r-nocreds": wildcard("docker.io/library/nginx", "library/nginx")},
        "acr-cache:cacheRules.r-nocreds.credentialSet",
        "EnforceDockerAuthentication",
    ),
    (
        {"r-official": wildcard("docker.io/nginx", "nginx", **DH)},
        "acr-cache:cacheRules.r-official.source",
        "write 'docker.io/library/nginx'",
    ),
    (
        {"r-mcr": wildcard("mcr.microsoft.com/dotnet/sdk", "dotnet/sdk", **DH)},
        "acr-cache:cacheRules.r-mcr.credentialSet",
        "only serves anonymous pulls",
    ),
    (
        {"r-quay": wildcard("quay.io/prometheus/node-exporter", "prom/node-exporter", **DH)},
        "acr-cache:cacheRules.r-quay.credentialSet",
        "logs in to docker.io, but the rule pulls from quay.io",
    ),
    (
        {"r-unknown": wildcard("quay.io/a/b", "a/b", credentialSet="nope1")},
        "acr-cache:cacheRules.r-unknown.credentialSet",
        "no credential set 'nope1'",
    ),
    (
        {"r-mid": wildcard("docker.io/library/*/x", "library/*/x", **DH)},
        "acr-cache:cacheRules.r-mid.source",
        "not a trailing `/*`",
    ),
    (
        {"r-glob": wildcard("docker.io/library/ng*", "library/ng*", **DH)},
        "acr-cache:cacheRules.r-glob.source",
        "not a trailing `/*`",
    ),
    (
        {"r-oneside": wildcard("docker.io/library/*", "library/nginx", **DH)},
        "acr-cache:cacheRules.r-oneside.target",
        "must both end in `/*`",
    ),
    (
        {"r-oneside2": wildcard("docker.io/library/nginx", "library/*", **DH)},
        "acr-cache:cacheRules.r-oneside2.target",
        "must both end in `/*`",
    ),
    (
        {
            "r-all": wildcard("mcr.microsoft.com/*", "*"),
            "r-lib": wildcard("docker.io/library/*", "library/*", **DH),
        },
        "acr-cache:cacheRules.r-lib.target",
        "wildcard target 'library/*' overlaps '*'",
    ),
    (
        {
            "r-lib": wildcard("docker.io/library/*", "library/*", **DH),
            "r-dotnet": wildcard("mcr.microsoft.com/dotnet/*", "library/dotnet/*"),
        },
        "acr-cache:cacheRules.r-dotnet.target",
        "overlaps 'library/*'",
    ),
    (
        {"r-one": wildcard("mcr.microsoft.com/a/*", "same/*"), "r-two": wildcard("ghcr.io/b/*", "same/*")},
        "acr-cache:cacheRules.r-two.target",
        "overlaps 'same/*'",
    ),
    (
        {
            "r-one": wildcard("docker.io/library/nginx", "web/nginx", **DH),
            "r-two": wildcard("ghcr.io/nginx/nginx", "web/nginx"),
        },
        "acr-cache:cacheRules.r-two.target",
        "already the target of acr-cache:cacheRules.r-one",
    ),
    (
        {"ab": wildcard("mcr.microsoft.com/dotnet/sdk", "dotnet/sdk")},
        "acr-cache:cacheRules.ab",
        "not a valid rule name",
    ),
    (
        {"rule_1": wildcard("mcr.microsoft.com/dotnet/sdk", "dotnet/sdk")},
        "acr-cache:cacheRules.rule_1",
        "not a valid rule name",
    ),
    (
        {"r-tgt": wildcard("mcr.microsoft.com/dotnet/sdk", "Dotnet/SDK")},
        "acr-cache:cacheRules.r-tgt.target",
        "must be lowercase",
    ),
    (
        {
            "r-both": wildcard(
                "docker.io/library/nginx",
                "library/nginx",
                credentialSet="dockerhub",
                credentialSetId=f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ContainerRegistry"
                "/registries/platformacr01/credentialSets/dockerhub",
            )
        },
        "acr-cache:cacheRules.r-both.credentialSetId",
        "not several",
    ),
    (
        [wildcard("mcr.microsoft.com/a/b", "lib/x-y"), wildcard("ghcr.io/c/d", "lib/x/y")],
        "acr-cache:cacheRules[1]",
        "rule name 'lib-x-y' is also the name of acr-cache:cacheRules[0]",
    ),
    (
        [wildcard(f"mcr.microsoft.com/r{i}", f"r{i}") for i in range(1001)],
        "acr-cache:cacheRules",
        "1001 cache rules; a registry holds at most 1000",
    ),
]


@pytest.mark.parametrize(("rules", "key", "fragment"), REFUSED, ids=refusal_ids(REFUSED))
def test_refused_rules_name_the_key_and_the_fix(rules: Any, key: str, fragment: str) -> None:
    problems = problems_of(cache(rules=copy.deepcopy(rules)))
    matching = [p for p in problems if p.startswith(f"{key}: ")]
    assert matching, problems
    assert any(fragment in p for p in matching), matching


OTHER_REFUSED: list[tuple[dict[str, Any], str, str]] = [
    (
        cache(credentialSets={"dh": DOCKERHUB}),
        "acr-cache:credentialSets.dh",
        "is not a valid credential set name: 5-50",
    ),
    (
        cache(
            rules={},
            dockerMirror={
                "enabled": True,
                "reason": "Docker daemons on the build farm cannot sign in.",
                "credentialSet": "dockerhub",
                "registryCredentialSet": "dockerhub",
            },
        ),
        "acr-cache:dockerMirror.credentialSetId",
        "give one of `credentialSet`, `credentialSetId` and `registryCredentialSet`",
    ),
    (
        sections(credentialSets={"dockerhub": DOCKERHUB}),
        "acr-cache:keyVault",
        "credential sets keep their secrets in Key Vault",
    ),
    (cache(keyVault={"name": "kv--double"}), "acr-cache:keyVault.name", "not a valid vault name"),
    (cache(keyVault={"name": "k"}), "acr-cache:keyVault.name", "not a valid vault name"),
    (cache(keyVault={}), "acr-cache:keyVault.name", "give either `name`"),
    (cache(keyVault={"name": "kv-a01", "existingId": VAULT_ID}), "acr-cache:keyVault.name", "not both"),
    (
        cache(keyVault={"existingId": "/subscriptions/x/vaults/y"}),
        "acr-cache:keyVault.existingId",
        "is not the ARM id of a Key Vault",
    ),
    (
        cache(keyVault={"existingId": VAULT_ID, "location": "westeurope"}),
        "acr-cache:keyVault.location",
        "only applies to a vault the stack creates",
    ),
    (
        cache(keyVault={"name": "kv-acrtest01", "softDeleteRetentionDays": 3}),
        "acr-cache:keyVault.softDeleteRetentionDays",
        "greater than or equal to 7",
    ),
    (
        cache(credentialSets={"dockerhub": {**DOCKERHUB, "loginServer": "mcr.microsoft.com"}}),
        "acr-cache:credentialSets.dockerhub.loginServer",
        "takes no credential set",
    ),
    (
        cache(credentialSets={"dockerhub": {**DOCKERHUB, "loginServer": "example.com"}}),
        "acr-cache:credentialSets.dockerhub.loginServer",
        "not an upstream",
    ),
    (
        cache(credentialSets={"dockerhub": {**DOCKERHUB, "loginServer": "Docker.io"}}),
        "acr-cache:credentialSets.dockerhub.loginServer",
        "must be lowercase",
    ),
    (
        cache(credentialSets={"dh": DOCKERHUB}, cacheRules={}),
        "acr-cache:credentialSets.dh",
        "not a valid credential set name",
    ),
    (
        cache(credentialSets={"dockerhub": {**DOCKERHUB, "password": {}}}),
        "acr-cache:credentialSets.dockerhub.password.configKey",
        "give `configKey`",
    ),
    (
        cache(credentialSets={"dockerhub": {**DOCKERHUB, "password": {"configKey": "acr-cache:token"}}}),
        "acr-cache:credentialSets.dockerhub.password.configKey",
        "without the `acr-cache:` namespace",
    ),
    (
        cache(credentialSets={"dockerhub": {**DOCKERHUB, "password": {"secretName": "bad_name"}}}),
        "acr-cache:credentialSets.dockerhub.password.secretName",
        "not a valid Key Vault secret name",
    ),
    (
        cache(
            credentialSets={
                "dockerhub": DOCKERHUB,
                "ghcr-creds": {
                    "loginServer": "ghcr.io",
                    "username": {"configKey": "dockerHubUsername", "secretName": "dockerhub-username"},
                    "password": {"configKey": "dockerHubToken", "secretName": "gh-pat"},
                },
            }
        ),
        "acr-cache:credentialSets.ghcr-creds.username.secretName",
        "the vault secret 'dockerhub-username' is already used by dockerhub.username",
    ),
    (
        cache(dockerMirror={"enabled": True, "credentialSet": "dockerhub"}),
        "acr-cache:dockerMirror.reason",
        "say in `reason`",
    ),
    (
        cache(dockerMirror={"enabled": True, "reason": "daemons cannot sign in to mirrors"}),
        "acr-cache:dockerMirror.credentialSet",
        "name the Docker Hub credential set",
    ),
    (
        cache(
            registry={"name": "acrcachetest01", "location": "westeurope", "sku": "Basic"},
            dockerMirror={
                "enabled": True,
                "reason": "daemons cannot sign in to mirrors",
                "credentialSet": "dockerhub",
            },
        ),
        "acr-cache:dockerMirror.enabled",
        "Standard and Premium only",
    ),
    (
        cache(
            dockerMirror={
                "enabled": True,
                "reason": "daemons cannot sign in to mirrors",
                "credentialSet": "dockerhub",
            }
        ),
        "acr-cache:dockerMirror.enabled",
        "overlaps",
    ),
    (
        cache(network={"publicAccess": "Restricted", "trustedServicesBypass": False}),
        "acr-cache:network.trustedServicesBypass",
        "cannot populate with the bypass off while cache rules exist",
    ),
]


@pytest.mark.parametrize(("document", "key", "fragment"), OTHER_REFUSED, ids=refusal_ids(OTHER_REFUSED))
def test_refused_vault_sets_and_mirror_config(document: dict[str, Any], key: str, fragment: str) -> None:
    problems = problems_of(copy.deepcopy(document))
    matching = [p for p in problems if p.startswith(f"{key}: ")]
    assert matching, problems
    assert any(fragment in p for p in matching), matching


def test_unset_secret_key_is_refused_with_the_command_to_set_it() -> None:
    problems = problems_of(cache(), secrets={"dockerHubUsername": USER})
    assert problems == [
        "acr-cache:credentialSets.dockerhub.password.configKey: config key `acr-cache:dockerHubToken` is not "
        "set: run `pulumi config set --secret dockerHubToken <value>` (it is never committed in plain text), or set it in the stack's Pulumi ESC environment under `values.pulumiConfig`"
    ]


def test_a_plain_stray_key_is_still_unknown() -> None:
    values = as_pulumi_config(cache())
    values.update(
        {"acr-cache:dockerHubUsername": USER, "acr-cache:dockerHubToken": TOKEN, "acr-cache:colour": "x"}
    )
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(values, ["acr-cache:dockerHubToken"])
    assert [p.key for p in caught.value.problems] == ["acr-cache:colour"]


@pytest.mark.parametrize(
    ("target", "name"),
    [
        ("library/nginx", "library-nginx"),
        ("library/*", "library-all"),
        ("*", "all-cache"),
        ("team-a/otel/*", "team-a-otel-all"),
        # Too long for ACR's 50 characters: cut, with a hash of the whole target.
        ("a" * 60 + "/x", "a" * 41 + "-efd4b9c4"),
        # Five characters is the shortest name ARM takes; shorter ones get a suffix.
        ("abcd", "abcd-cache"),
        ("abcde", "abcde"),
        # Every run of other characters becomes one hyphen.
        ("a.b/c_d", "a-b-c-d"),
        # A cut that ends on a hyphen drops it before the hash.
        ("x/" + "y" * 38 + "/" + "z" * 15, "x-" + "y" * 38 + "-45d19ea5"),
    ],
)
def test_list_form_rules_are_named_after_their_target(target: str, name: str) -> None:
    run = run_stack(sections(cacheRules=[{"source": f"mcr.microsoft.com/{target}", "target": target}]))
    assert [r.inputs["cacheRuleName"] for r in by_type(run, RULE)] == [name]


@pytest.mark.parametrize("first", ["lib", "library"])
def test_wildcard_targets_that_only_share_a_prefix_are_both_accepted(first: str) -> None:
    # Either way round: `lib` is a prefix of `library`, but not a whole path component of it.
    second = "library" if first == "lib" else "lib"
    rules = {
        f"{name}-rule": {"source": f"mcr.microsoft.com/{name}/*", "target": f"{name}/*"}
        for name in (first, second)
    }
    run = run_stack(sections(cacheRules=rules))
    assert sorted(r.inputs["targetRepository"] for r in by_type(run, RULE)) == ["lib/*", "library/*"]


@pytest.mark.parametrize(
    ("login_server", "source"),
    [
        ("europe-docker.pkg.dev", "europe-docker.pkg.dev/my-project/images/*"),
        ("teamacr01.azurecr.io", "teamacr01.azurecr.io/base/*"),
    ],
)
def test_the_wildcard_upstreams_take_a_credential_set_of_their_host(login_server: str, source: str) -> None:
    sets = {"upstream": {**DOCKERHUB, "loginServer": login_server}}
    run = run_stack(
        cache(
            rules={"upstream-rule": {"source": source, "target": "up/*", "credentialSet": "upstream"}},
            credentialSets=sets,
        ),
        secrets=SECRETS,
    )
    rule = one(run, RULE).inputs
    assert rule["sourceRepository"] == source
    assert one(run, CREDENTIAL_SET).inputs["loginServer"] == login_server
    assert rule["credentialSetResourceId"].endswith("/registries/acrcachetest01/credentialSets/upstream")


def test_written_secrets_are_plain_text_secrets_whose_value_stays_secret() -> None:
    from acr_cache.plan.values import Secret

    run = run_stack(cache(), secrets=SECRETS)
    for secret in by_type(run, SECRET):
        properties = secret.inputs["properties"]
        properties = properties.value if isinstance(properties, Secret) else properties
        assert properties["contentType"] == "text/plain"
        assert isinstance(properties["value"], Secret)


# --- Every refusal of a rule set, with the whole message (key path and wording are the contract) ---

REASON = "daemons cannot sign in"  # 22 characters: a reason of 20 or more is accepted


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (
            cache({"r-default": {"source": "mcr.microsoft.com/dotnet/runtime"}}),
            None,  # the target defaults to the source as written, which is a valid path
        ),
        (
            cache({"r-long": {"source": "mcr.microsoft.com/" + "a" * 240 + "/b" * 4}}),
            "acr-cache:cacheRules.r-long.target: without `target` it is the source as written, and "
            f"'mcr.microsoft.com/{'a' * 181}… (266 characters)' is longer than 256 characters: give `target`",
        ),
        (
            cache({"r-mixed": {"source": "mcr.microsoft.com/dotnet/*", "target": "dotnet"}}),
            "acr-cache:cacheRules.r-mixed.target: source 'mcr.microsoft.com/dotnet/*' and target 'dotnet' must both "
            "end in `/*` (a wildcard rule) or neither (a rule for one repository)",
        ),
        (
            cache(
                [
                    {"name": "same-name", "source": "mcr.microsoft.com/a", "target": "a"},
                    {"name": "same-name", "source": "mcr.microsoft.com/b", "target": "b"},
                ]
            ),
            "acr-cache:cacheRules[1]: rule name 'same-name' is also the name of acr-cache:cacheRules[0]: give one of "
            "them a different `name`",
        ),
        (
            sections(
                cacheRules={
                    "r-ghcr": {"source": "ghcr.io/org/app", "target": "app", "credentialSet": "github"}
                }
            ),
            "acr-cache:cacheRules.r-ghcr.credentialSet: no credential set 'github' in acr-cache:credentialSets "
            "(defined: none)"
            ": define it there, or name a set that already exists on the registry (another stack's) with `registryCredentialSet` instead",
        ),
        (
            cache({"r-ghcr": {"source": "ghcr.io/org/app", "target": "app", "credentialSet": "github"}}),
            "acr-cache:cacheRules.r-ghcr.credentialSet: no credential set 'github' in acr-cache:credentialSets "
            "(defined: `dockerhub`)"
            ": define it there, or name a set that already exists on the registry (another stack's) with `registryCredentialSet` instead",
        ),
        (
            cache(
                {"r-ghcr": {"source": "ghcr.io/org/app", "target": "app", "credentialSet": "github"}},
                credentialSets={"dockerhub": DOCKERHUB, "quayio": {**DOCKERHUB, "loginServer": "quay.io"}},
            ),
            "acr-cache:cacheRules.r-ghcr.credentialSet: no credential set 'github' in acr-cache:credentialSets "
            "(defined: `dockerhub`, `quayio`)"
            ": define it there, or name a set that already exists on the registry (another stack's) with `registryCredentialSet` instead",
        ),
        (
            cache({"r-ghcr": {"source": "ghcr.io/org/app", "target": "app", "credentialSet": "dockerhub"}}),
            "acr-cache:cacheRules.r-ghcr.credentialSet: credential set 'dockerhub' logs in to docker.io, but the rule "
            "pulls from ghcr.io: use a set whose loginServer is ghcr.io",
        ),
        (
            cache(
                {
                    "r-outer": {"source": "mcr.microsoft.com/dotnet/*", "target": "dotnet/*"},
                    "r-inner": {"source": "mcr.microsoft.com/dotnet/sdk/*", "target": "dotnet/sdk/*"},
                }
            ),
            "acr-cache:cacheRules.r-inner.target: wildcard target 'dotnet/sdk/*' overlaps 'dotnet/*' of "
            "acr-cache:cacheRules.r-outer; ACR refuses wildcard rules whose targets are equal or nested: remove "
            "one, or use a static rule for the single repository",
        ),
        (
            cache(
                {
                    "r-first": {"source": "mcr.microsoft.com/a", "target": "same"},
                    "r-second": {"source": "mcr.microsoft.com/b", "target": "same"},
                }
            ),
            "acr-cache:cacheRules.r-second.target: target 'same' is already the target of "
            "acr-cache:cacheRules.r-first: a repository can have one rule",
        ),
        (
            cache({"r-mcr": {"source": "mcr.microsoft.com/a", "target": "a", "name": "other-name"}}),
            "acr-cache:cacheRules.r-mcr.name: in the map form the key is the rule's name: remove `name`",
        ),
        (
            cache(
                credentialSets={
                    "dockerhub": DOCKERHUB,
                    "dockerhub2": {
                        **DOCKERHUB,
                        "password": {"configKey": "dockerHubToken", "secretName": "dockerhub-password"},
                    },
                }
            ),
            "acr-cache:credentialSets.dockerhub2.password.secretName: the vault secret 'dockerhub-password' is already "
            "used by dockerhub.password: give each written secret its own `secretName`",
        ),
        (
            cache(
                {"r-mirror": {"source": "mcr.microsoft.com/a", "target": "a"}},
                dockerMirror={"enabled": True, "credentialSet": "dockerhub", "reason": "x" * 19},
            ),
            "acr-cache:dockerMirror.reason: mirror mode opens anonymous pull: say in `reason` (20 characters or "
            "more) why this environment needs it",
        ),
        (
            cache(
                {"r-mirror": {"source": "mcr.microsoft.com/a", "target": "a"}},
                dockerMirror={"enabled": True, "credentialSet": "dockerhub", "reason": "x" * 20},
            ),
            None,
        ),
        (
            cache(
                dockerMirror={
                    "enabled": True,
                    "credentialSet": "dockerhub",
                    "reason": REASON,
                    "ruleName": "ab",
                }
            ),
            "acr-cache:dockerMirror.ruleName: 'ab' is not a valid rule name: 5-50 letters, digits and hyphens",
        ),
        (
            cache(
                dockerMirror={
                    "enabled": True,
                    "credentialSet": "dockerhub",
                    "registryCredentialSet": "dockerhub",
                    "reason": REASON,
                }
            ),
            "acr-cache:dockerMirror.credentialSetId: give one of `credentialSet`, `credentialSetId` and "
            "`registryCredentialSet`, not several",
        ),
    ],
)
def test_each_rule_set_refusal_in_full(document: dict[str, Any], problem: str | None) -> None:
    values = as_pulumi_config(document)
    values.update({f"acr-cache:{k}": v for k, v in SECRETS.items()})
    try:
        parse_stack_config(values, [f"acr-cache:{k}" for k in SECRETS])
    except ConfigError as exc:
        assert problem is not None, [str(p) for p in exc.problems]
        assert problem in [str(p) for p in exc.problems]
    else:
        assert problem is None


def test_more_rules_than_a_registry_holds() -> None:
    rules = {f"r-{i:04d}": {"source": f"mcr.microsoft.com/r{i}", "target": f"r{i}"} for i in range(1001)}
    assert problems_of(cache(rules)) == [
        "acr-cache:cacheRules: 1001 cache rules; a registry holds at most 1000: replace groups of rules by "
        "wildcard rules (`library/*`)"
    ]


def test_names_equal_but_for_case_are_refused() -> None:
    found = problems_of(
        cache(
            {
                "r-Upper": {"source": "mcr.microsoft.com/a", "target": "a"},
                "r-upper": {"source": "mcr.microsoft.com/b", "target": "b"},
            },
            credentialSets={
                "dockerhub": DOCKERHUB,
                "DockerHub": {
                    **DOCKERHUB,
                    "username": {"secretName": "u2"},
                    "password": {"secretName": "p2"},
                },
            },
        )
    )
    assert any(
        p.startswith("acr-cache:cacheRules.r-upper: ")
        and "cache rule name (Azure ignores case in names)" in p
        and "rename one" in p
        for p in found
    ), found
    assert any(
        p.startswith("acr-cache:credentialSets.")
        and "credential set name (Azure ignores case in names)" in p
        and p.endswith("rename one of them")
        for p in found
    ), found


@pytest.mark.parametrize(
    ("vault", "problem"),
    [
        (
            {},
            "acr-cache:keyVault.name: give either `name` (the stack creates the vault) or `existingId` (an existing vault), not both",
        ),
        (
            {"name": "kv-acrtest01", "existingId": VAULT_ID},
            "acr-cache:keyVault.name: give either `name` (the stack creates the vault) or `existingId` (an existing "
            "vault), not both",
        ),
        *[
            (
                {"existingId": VAULT_ID, key: value},
                f"acr-cache:keyVault.{key}: `{key}` only applies to a vault the stack creates: remove it",
            )
            for key, value in (
                ("resourceGroup", "rg-sec"),
                ("location", "westeurope"),
                ("ipRules", ["203.0.113.7"]),
                ("tags", {"a": "b"}),
            )
        ],
        (
            {"name": "kv-acrtest01", "softDeleteRetentionDays": 6},
            "acr-cache:keyVault.softDeleteRetentionDays: Input should be greater than or equal to 7",
        ),
        (
            {"name": "kv-acrtest01", "softDeleteRetentionDays": 91},
            "acr-cache:keyVault.softDeleteRetentionDays: Input should be less than or equal to 90",
        ),
    ],
)
def test_vault_refusals_in_full(vault: dict[str, Any], problem: str) -> None:
    assert problem in problems_of(cache(keyVault=vault))


@pytest.mark.parametrize("days", [7, 90])
def test_vault_retention_at_azures_limits_is_accepted(days: int) -> None:
    run = run_stack(
        cache(keyVault={"name": "kv-acrtest01", "softDeleteRetentionDays": days}), secrets=SECRETS
    )
    assert one(run, VAULT).inputs["properties"]["softDeleteRetentionInDays"] == days


def test_secrets_written_into_an_existing_vault_go_to_its_resource_group() -> None:
    run = run_stack(cache(keyVault={"existingId": VAULT_ID}), secrets=SECRETS)
    assert by_type(run, VAULT) == []
    for secret in by_type(run, SECRET):
        assert (secret.inputs["resourceGroupName"], secret.inputs["vaultName"]) == ("rg-sec", "kv-shared01")
