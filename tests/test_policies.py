"""The policy pack: each control against a violating and a compliant resource, the offline engine,
the CrossGuard adapter, and the stacks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pytest
from acr_cache.cli import main
from acr_cache.plan import plan_program
from acr_cache.plan.values import Secret, Unknown
from acr_cache.policy import CONTROLS, PolicyConfig, PolicyConfigError, Res, evaluate, from_planned
from acr_cache.policy.controls import (
    CACHE_RULE,
    CONTRIBUTOR,
    CREDENTIAL_SET,
    DIAGNOSTIC_SETTING,
    IMAGE_IMPORT,
    KEY_VAULT_SECRETS_USER,
    KV_SECRET,
    OWNER,
    PRIVATE_ENDPOINT,
    REGISTRY,
    REPLICATION,
    ROLE_ASSIGNMENT,
    VAULT,
)
from pulumi_azure_native import authorization, containerregistry, keyvault, network

from tests.conftest import ROOT

REG_URN = "urn:pulumi:s::p::azure-native:containerregistry:Registry::reg"
SET_URN = "urn:pulumi:s::p::azure-native:containerregistry:CredentialSet::set"
VAULT_URN = "urn:pulumi:s::p::azure-native:keyvault:Vault::vault"
REGISTRY_SCOPE = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/acr1"

SECURE_REGISTRY = {
    "sku": {"name": "Premium"},
    "adminUserEnabled": False,
    "anonymousPullEnabled": False,
    "publicNetworkAccess": "Disabled",
    "networkRuleSet": {"defaultAction": "Deny"},
    "networkRuleBypassOptions": "AzureServices",
    "dataEndpointEnabled": True,
    "zoneRedundancy": "Enabled",
    "policies": {
        "azureADAuthenticationAsArmPolicy": {"status": "disabled"},
        "exportPolicy": {"status": "disabled"},
        "retentionPolicy": {"days": 7, "status": "enabled"},
    },
}
SECURE_VAULT = {
    "properties": {"enableRbacAuthorization": True, "enableSoftDelete": True, "enablePurgeProtection": True}
}


def res(
    kind: str,
    props: dict[str, Any],
    urn: str | None = None,
    deps: dict[str, set[str]] | None = None,
    **kw: Any,
) -> Res:
    return Res(
        urn=urn or f"urn:pulumi:s::p::{kind}::r",
        type=kind,
        name="r",
        props=props,
        property_dependencies={k: frozenset(v) for k, v in (deps or {}).items()},
        **kw,
    )


def registry(**changes: Any) -> Res:
    props = json.loads(json.dumps(SECURE_REGISTRY))
    for path, value in changes.items():
        target = props
        *parents, leaf = path.split("__")
        for parent in parents:
            target = target.setdefault(parent, {})
        if value is None:
            target.pop(leaf, None)
        else:
            target[leaf] = value
    return res(REGISTRY, props, REG_URN)


GRANT = res(
    ROLE_ASSIGNMENT,
    {
        "roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{KEY_VAULT_SECRETS_USER}",
        "principalId": "x",
    },
    deps={"principalId": {SET_URN}},
)
CASES: dict[str, tuple[list[Res], list[Res]]] = {
    # policy: (violating resources, compliant resources)
    "acr-admin-user-disabled": ([registry(adminUserEnabled=True)], [registry()]),
    "acr-anonymous-pull-disabled": ([registry(anonymousPullEnabled=True)], [registry()]),
    "acr-arm-audience-tokens-disabled": (
        [registry(policies__azureADAuthenticationAsArmPolicy=None)],
        [registry()],
    ),
    "acr-network-restricted": (
        [registry(publicNetworkAccess="Enabled", networkRuleSet__defaultAction="Allow")],
        [registry(publicNetworkAccess="Enabled")],  # public but default action Deny
    ),
    "acr-exports-disabled": ([registry(policies__exportPolicy__status="enabled")], [registry()]),
    "acr-premium-for-private-link": (
        [
            registry(sku__name="Standard", networkRuleSet=None),
            res(
                PRIVATE_ENDPOINT,
                {"privateLinkServiceConnections": [{"groupIds": ["registry"]}]},
                deps={"privateLinkServiceConnections": {REG_URN}},
            ),
        ],
        [registry(), res(PRIVATE_ENDPOINT, {}, deps={"privateLinkServiceConnections": {REG_URN}})],
    ),
    "acr-zone-redundant": (
        [registry(zoneRedundancy="Disabled"), res(REPLICATION, {"zoneRedundancy": "Disabled"})],
        [registry(), res(REPLICATION, {"zoneRedundancy": "Enabled"})],
    ),
    "acr-untagged-retention": (
        [registry(policies__retentionPolicy__status="disabled")],
        [
            registry(),
            registry(
                policies__retentionPolicy__status="disabled", policies__softDeletePolicy={"status": "enabled"}
            ),
        ],
    ),
    "acr-dedicated-data-endpoints": ([registry(dataEndpointEnabled=False)], [registry()]),
    "acr-trusted-services-for-cache": (
        [
            registry(networkRuleBypassOptions="None"),
            res(CACHE_RULE, {"sourceRepository": "mcr.microsoft.com/a"}),
        ],
        [registry(), res(CACHE_RULE, {"sourceRepository": "mcr.microsoft.com/a"})],
    ),
    "keyvault-rbac-soft-delete-purge-protection": (
        [res(VAULT, {"properties": {"enableRbacAuthorization": False, "enableSoftDelete": True}})],
        [res(VAULT, SECURE_VAULT)],
    ),
    "acr-diagnostic-logs": (
        [
            registry(),
            res(VAULT, {}, VAULT_URN),
            # A setting without a destination, and one that sends only the sign-ins.
            res(
                DIAGNOSTIC_SETTING,
                {"logs": [{"category": "ContainerRegistryRepositoryEvents", "enabled": True}]},
                deps={"resourceUri": {REG_URN}},
            ),
            res(
                DIAGNOSTIC_SETTING,
                {
                    "workspaceId": "/w",
                    "logs": [{"category": "ContainerRegistryLoginEvents", "enabled": True}],
                },
                deps={"resourceUri": {REG_URN}},
            ),
        ],
        [
            registry(),
            res(VAULT, {}, VAULT_URN),
            res(
                DIAGNOSTIC_SETTING,
                {
                    "workspaceId": "/w",
                    "logs": [
                        {"category": "ContainerRegistryRepositoryEvents", "enabled": True},
                        {"category": "ContainerRegistryLoginEvents", "enabled": True},
                    ],
                },
                deps={"resourceUri": {REG_URN}},
            ),
            res(
                DIAGNOSTIC_SETTING,
                {"storageAccountId": "/s", "logs": [{"categoryGroup": "audit", "enabled": True}]},
                deps={"resourceUri": {VAULT_URN}},
            ),
        ],
    ),
    "credential-set-key-vault-grant": (
        [res(CREDENTIAL_SET, {"loginServer": "docker.io"}, SET_URN)],
        [res(CREDENTIAL_SET, {"loginServer": "docker.io"}, SET_URN), GRANT],
    ),
    "dockerhub-rule-has-credential-set": (
        [res(CACHE_RULE, {"sourceRepository": "docker.io/library/nginx"})],
        [res(CACHE_RULE, {"sourceRepository": "docker.io/library/nginx", "credentialSetResourceId": "/x"})],
    ),
    "no-owner-contributor-on-registry": (
        [
            res(ROLE_ASSIGNMENT, {"scope": REGISTRY_SCOPE, "roleDefinitionId": f"/r/{OWNER}"}),
            res(ROLE_ASSIGNMENT, {"scope": REGISTRY_SCOPE, "roleDefinitionId": f"/r/{CONTRIBUTOR}"}),
        ],
        [
            res(
                ROLE_ASSIGNMENT,
                {"scope": REGISTRY_SCOPE, "roleDefinitionId": "/r/7f951dda-4ed3-4680-a7ca-43fe172d538d"},
            )
        ],
    ),
    "no-plaintext-secrets": (
        [
            res(KV_SECRET, {"properties": {"value": "hunter2"}}),
            res(IMAGE_IMPORT, {"password": "hunter2"}),
            res(REGISTRY, {"tags": {"note": "dckr_pat_abcdefghijklmnop"}}),
        ],
        [
            res(KV_SECRET, {"properties": {"value": Secret("hunter2")}}),
            res(IMAGE_IMPORT, {"password": Secret("dckr_pat_abcdefghijklmnop")}),
            res(REGISTRY, {"tags": {"note": "nothing to see"}}),
        ],
    ),
}


def test_every_control_has_a_case() -> None:
    assert sorted(CASES) == sorted(c.name for c in CONTROLS)


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_policy_flags_the_violation_and_passes_the_compliant(name: str) -> None:
    violating, compliant = CASES[name]
    only = PolicyConfig(levels={"all": "disabled", name: "mandatory"})
    flagged = evaluate(violating, only).violations
    assert flagged and {v.policy for v in flagged} == {name}
    assert evaluate(compliant, only).violations == []


# One value per alternative of the credential pattern, and sensitive keys in any case: the
# substring prefilter in front of the full walk must let every one of them through.
CREDENTIAL_SHAPES = [
    "dckr_pat_" + "a" * 12,
    *(f"gh{kind}_" + "b" * 24 for kind in "pousr"),
    "github_pat_" + "c" * 24,
    "DefaultEndpointsProtocol=https;AccountKey=" + "d" * 30,
    "https://x.blob.core.windows.net/c?sv=2024&sig=" + "e" * 30,
    "-----BEGIN RSA PRIVATE KEY-----",
]


@pytest.mark.parametrize("value", CREDENTIAL_SHAPES)
def test_credential_shaped_values_are_found_anywhere(value: str) -> None:
    only = PolicyConfig(levels={"all": "disabled", "no-plaintext-secrets": "mandatory"})
    nested = res(CACHE_RULE, {"sourceRepository": "docker.io/library/nginx", "x": {"y": [{"note": value}]}})
    assert [v.policy for v in evaluate([nested], only).violations] == ["no-plaintext-secrets"]


@pytest.mark.parametrize("key", ["password", "ClientSecret", "API_KEY", "accessToken", "ConnectionString"])
def test_sensitive_keys_are_found_in_any_case(key: str) -> None:
    only = PolicyConfig(levels={"all": "disabled", "no-plaintext-secrets": "mandatory"})
    assert evaluate([res(CACHE_RULE, {"settings": {key: "x"}})], only).violations
    assert not evaluate([res(CACHE_RULE, {"settings": {key: Secret("x")}})], only).violations


def test_every_control_names_what_it_mirrors_and_how_to_relax() -> None:
    for control in CONTROLS:
        assert control.level in ("mandatory", "advisory")
        assert control.mirrors and control.why and control.relax
        assert (
            ("Azure Policy" in control.mirrors)
            or ("Checkov" in control.mirrors)
            or ("ACR" in control.mirrors)
            or ("RBAC" in control.mirrors)
        )


def test_anonymous_pull_can_be_allowed_by_config() -> None:
    config = PolicyConfig.parse({"acr-anonymous-pull-disabled": {"allowAnonymousPull": True}})
    assert [
        v
        for v in evaluate([registry(anonymousPullEnabled=True)], config).violations
        if v.policy.startswith("acr-anon")
    ] == []


def test_unknown_values_are_not_judged() -> None:
    report = evaluate([registry(adminUserEnabled=Unknown())])
    assert not [v for v in report.violations if v.policy == "acr-admin-user-disabled"]
    assert any("adminUserEnabled" in n for n in report.not_evaluated)


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ([], "JSON object"),
        ({"nope": "advisory"}, "nope: no such policy"),
        ({"acr-admin-user-disabled": "sometimes"}, "is not one of"),
        ({"acr-anonymous-pull-disabled": {"allowAnonymousPull": "yes"}}, "expected bool"),
        (
            {"acr-anonymous-pull-disabled": {"colour": 1}},
            "unknown property; allowed: enforcementLevel, allowAnonymousPull",
        ),
        ({"all": "loud"}, "all: 'loud' is not one of"),
    ],
)
def test_bad_policy_config_is_refused(document: Any, fragment: str) -> None:
    with pytest.raises(PolicyConfigError) as caught:
        PolicyConfig.parse(document)
    assert fragment in str(caught.value)


# --- the CrossGuard adapter ------------------------------------------------------------------


def _crossguard_violations(resources: list[Res]) -> set[str]:
    from acr_cache.policy.crossguard import build_policies
    from pulumi_policy import (
        PolicyCustomTimeouts,
        PolicyResource,
        PolicyResourceOptions,
        ResourceValidationArgs,
        ResourceValidationPolicy,
        StackValidationArgs,
    )

    opts = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
    flagged: set[str] = set()
    policy_resources = [
        PolicyResource(r.type, _plain(r.props), r.urn, r.name, opts, None, None, [], {}) for r in resources
    ]
    by_urn = {p.urn: p for p in policy_resources}
    for r, p in zip(resources, policy_resources, strict=True):
        p.property_dependencies = {
            k: [by_urn[u] for u in v if u in by_urn] for k, v in r.property_dependencies.items()
        }
    for policy in build_policies():

        def report(message: str, urn: str | None = None, name: str = policy.name) -> None:
            flagged.add(name)

        if isinstance(policy, ResourceValidationPolicy):
            for r in resources:
                args = ResourceValidationArgs(r.type, _plain(r.props), r.urn, r.name, opts, None, {})
                policy.validate(args, report)
        else:
            policy.validate(StackValidationArgs(policy_resources, {}), report)
    return flagged


def _plain(value: Any) -> Any:
    if isinstance(value, Secret):
        return _plain(value.value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@pytest.mark.parametrize("name", sorted(set(CASES) - {"no-plaintext-secrets"}))
def test_crossguard_policies_run_the_same_validators(name: str) -> None:
    violating, compliant = CASES[name]
    assert name in _crossguard_violations(violating)
    assert name not in _crossguard_violations(compliant)


def test_crossguard_cannot_see_secretness_but_still_catches_credential_shapes() -> None:
    flagged = _crossguard_violations([res(REGISTRY, {"tags": {"note": "ghp_" + "a" * 30}})])
    assert "no-plaintext-secrets" in flagged
    # A secret value arrives unwrapped in CrossGuard; the sensitive field itself is not judged there.
    assert "no-plaintext-secrets" not in _crossguard_violations(
        [res(KV_SECRET, {"properties": {"value": "dckr_pat_abcdefghijklmn"}})]
    )


def test_the_pack_module_is_not_imported_by_the_library() -> None:
    import sys

    assert "policy.__main__" not in sys.modules
    text = (ROOT / "policy" / "__main__.py").read_text()
    assert "build_policies()" in text and "PolicyPack(" in text


# --- the stacks and the CLI ------------------------------------------------------------------


def _plan_violations(stack: str, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["plan", stack, "--cwd", str(ROOT), *extra])
    _, err = capsys.readouterr()
    return code, err


def test_prod_has_no_violation_at_all(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _plan_violations("prod", capsys, "--policy-config", str(ROOT / "policy" / "prod.json"))
    assert code == 0, err
    assert "policy:" not in err


def test_dev_carries_only_its_documented_advisory_violation(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _plan_violations("dev", capsys)
    assert code == 0
    lines = [line for line in err.splitlines() if line.startswith("policy:")]
    assert len(lines) == 1 and lines[0].startswith("policy: [advisory] acr-network-restricted:")


def test_a_mandatory_violation_fails_the_plan_with_exit_3(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    strict = tmp_path / "strict.json"
    strict.write_text(json.dumps({"acr-network-restricted": "mandatory"}))
    code, err = _plan_violations("dev", capsys, "--policy-config", str(strict))
    assert code == 3
    assert "policy: [mandatory] acr-network-restricted" in err and "1 mandatory policy violation" in err


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b'{"acr-admin-user-disabled": "loud"}', "is not one of"),
        (b'{"acr-export-disabled": "advisory"}', "no such policy (did you mean `acr-exports-disabled`?)"),
        (b'{"acr-admin-user-disabled": "advisory",', "line 1: not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "nests too deep"),
        (b"\xff\xfe{}", "not UTF-8 text"),
        (None, "is a directory"),
    ],
)
def test_bad_policy_config_file_exits_2(
    content: bytes | None, fragment: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    if content is None:
        bad.mkdir()
    else:
        bad.write_bytes(content)
    code, err = _plan_violations("dev", capsys, "--policy-config", str(bad))
    assert code == 2 and fragment in err and "Traceback" not in err
    assert len(err.splitlines()) == 1, err


def insecure_program() -> None:
    """Someone else's stack using raw resources loosely: it trips every control."""
    registry = containerregistry.Registry(
        "reg",
        resource_group_name="rg",
        registry_name="insecure01",
        sku=containerregistry.SkuArgs(name="Standard"),
        admin_user_enabled=True,
        anonymous_pull_enabled=True,
        public_network_access="Disabled",
        network_rule_bypass_options="None",
        zone_redundancy="Disabled",
        data_endpoint_enabled=False,
        policies=containerregistry.PoliciesArgs(
            azure_ad_authentication_as_arm_policy=containerregistry.AzureADAuthenticationAsArmPolicyArgs(
                status="enabled"
            ),
            export_policy=containerregistry.ExportPolicyArgs(status="enabled"),
        ),
        tags={"deployToken": "ghp_" + "x" * 30},
    )
    # An open Premium registry without retention.
    containerregistry.Registry(
        "open",
        resource_group_name="rg",
        registry_name="open01",
        sku=containerregistry.SkuArgs(name="Premium"),
    )
    network.PrivateEndpoint(
        "pe",
        resource_group_name="rg",
        subnet={
            "id": "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s"
        },
        private_link_service_connections=[
            network.PrivateLinkServiceConnectionArgs(
                name="c", private_link_service_id=registry.id, group_ids=["registry"]
            )
        ],
    )
    containerregistry.Replication(
        "rep", resource_group_name="rg", registry_name=registry.name, location="northeurope"
    )
    containerregistry.CredentialSet(
        "set",
        resource_group_name="rg",
        registry_name=registry.name,
        credential_set_name="dockerhub",
        login_server="docker.io",
    )
    containerregistry.CacheRule(
        "rule",
        resource_group_name="rg",
        registry_name=registry.name,
        source_repository="docker.io/library/nginx",
        target_repository="nginx",
    )
    keyvault.Vault(
        "kv",
        resource_group_name="rg",
        properties=keyvault.VaultPropertiesArgs(
            tenant_id="t", sku=keyvault.SkuArgs(family="A", name="standard")
        ),
    )
    keyvault.Secret(
        "secret",
        resource_group_name="rg",
        vault_name="kv",
        properties=keyvault.SecretPropertiesArgs(value="hunter2"),
    )
    authorization.RoleAssignment(
        "owner",
        scope=registry.id,
        principal_id="00000000-0000-0000-0000-000000000001",
        role_definition_id=f"/providers/Microsoft.Authorization/roleDefinitions/{OWNER}",
        principal_type="User",
    )
    pulumi.export("done", True)


def test_an_insecure_program_trips_every_policy() -> None:
    plan = plan_program(insecure_program, project="p", stack="insecure", config={})
    report = evaluate(from_planned(plan.run.resources), PolicyConfig(levels={"all": "mandatory"}))
    assert {v.policy for v in report.violations} == {c.name for c in CONTROLS}
