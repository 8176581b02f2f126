"""The config model: valid documents load, each invalid one names its key and the fix."""

from __future__ import annotations

import json
from typing import Any

import pytest
from acr_cache.config import ConfigError, parse_stack_config
from acr_cache.registry import Sku

from tests.conftest import as_pulumi_config, sections


def problems_of(document: dict[str, Any], extra: dict[str, str] | None = None, secret=()) -> list[str]:
    values = {**as_pulumi_config(document), **(extra or {})}
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(values, secret)
    return [str(p) for p in caught.value.problems]


def test_valid_config_fills_secure_defaults() -> None:
    config = parse_stack_config(as_pulumi_config(sections(protection=None)))
    assert config.registry.sku is Sku.PREMIUM
    assert config.registry.effective_zone_redundancy is True
    assert config.registry.effective_retention_days == 7
    assert config.registry.export_enabled is None
    assert config.registry.effective_export_enabled(public_network_access=True) is True
    assert config.registry.effective_export_enabled(public_network_access=False) is False
    assert config.protection.protect is True
    assert config.resource_group.create is True
    assert config.registry.login_server == "acrcachetest01.azurecr.io"


def test_scalars_arrive_as_strings_like_the_engine_sends_them() -> None:
    values = as_pulumi_config(sections())
    values["acr-cache:protection"] = json.dumps({"protect": "false"})
    assert parse_stack_config(values).protection.protect is False


def test_other_namespaces_are_ignored() -> None:
    values = {**as_pulumi_config(sections()), "azure-native:location": "westeurope"}
    assert parse_stack_config(values).registry.location == "westeurope"


@pytest.mark.parametrize(
    ("document", "key", "fragment"),
    [
        (
            sections(registry={"name": "ab", "location": "westeurope"}),
            "acr-cache:registry.name",
            "5-50 letters",
        ),
        (
            sections(registry={"name": "acr-cache-01", "location": "westeurope"}),
            "acr-cache:registry.name",
            "no hyphens",
        ),
        (
            sections(registry={"name": "acrcachetest01", "location": "westeurope", "colour": "blue"}),
            "acr-cache:registry.colour",
            "unknown key; allowed keys here are `name`, `location`",
        ),
        (
            sections(registry={"name": "acrcachetest01", "location": "westeurope", "retentionDays": "seven"}),
            "acr-cache:registry.retentionDays",
            "valid integer",
        ),
        (
            sections(registry={"name": "acrcachetest01", "location": "westeurope", "retentionDays": 400}),
            "acr-cache:registry.retentionDays",
            "less than or equal to 365",
        ),
        (
            sections(registry={"name": "acrcachetest01", "location": "West Europe"}),
            "acr-cache:registry.location",
            "did you mean 'westeurope'?",
        ),
        (
            sections(registry={"name": "acrcachetest01", "location": "westeurope", "sku": "Ultra"}),
            "acr-cache:registry.sku",
            "'Ultra' is not one of `Basic`, `Standard`, `Premium`",
        ),
        (
            sections(
                registry={
                    "name": "acrcachetest01",
                    "location": "westeurope",
                    "sku": "Basic",
                    "retentionDays": 3,
                }
            ),
            "acr-cache:registry.retentionDays",
            "Premium feature",
        ),
        (
            sections(
                registry={
                    "name": "acrcachetest01",
                    "location": "westeurope",
                    "sku": "Standard",
                    "zoneRedundancy": True,
                }
            ),
            "acr-cache:registry.zoneRedundancy",
            "only be enabled on Premium",
        ),
        (
            sections(registry={"name": "acrcachetest01", "location": "westeurope", "exportEnabled": False}),
            "acr-cache:registry.exportEnabled",
            "public network access is disabled",
        ),
        (
            sections(
                registry={
                    "name": "acrcachetest01",
                    "location": "westeurope",
                    "sku": "Basic",
                    "exportEnabled": False,
                }
            ),
            "acr-cache:registry.exportEnabled",
            "disabling exports is a Premium feature",
        ),
        (
            sections(registry={"name": "acrcachetest01", "location": "westeurope", "tags": {"a/b": "x"}}),
            "acr-cache:registry.tags",
            "tag name 'a/b' is not allowed",
        ),
        (
            sections(
                registry={
                    "name": "acrcachetest01",
                    "location": "westeurope",
                    "tags": {f"t{i}": "x" for i in range(51)},
                }
            ),
            "acr-cache:registry.tags",
            "51 tags given; Azure allows at most 50 tags on a resource",
        ),
        (
            sections(registry={"name": "acrcachetest01", "location": "westeurope", "tags": {"": "x"}}),
            "acr-cache:registry.tags",
            "tag name '' is not allowed: 1-512 characters",
        ),
        (
            sections(registry={"name": "acrcachetest01", "location": "westeurope", "tags": {"k" * 513: "x"}}),
            "acr-cache:registry.tags",
            "is not allowed: 1-512 characters",
        ),
        (
            sections(
                registry={"name": "acrcachetest01", "location": "westeurope", "tags": {"owner": "x" * 257}}
            ),
            "acr-cache:registry.tags",
            "the value of tag 'owner' is 257 characters long; Azure allows 256",
        ),
        (
            sections(registry="acrcachetest01"),
            "acr-cache:registry",
            "expected an object with the keys `name`",
        ),
        (sections(registry=None), "acr-cache:registry", "required key is missing: The container registry"),
        (
            sections(registry={"location": "westeurope"}),
            "acr-cache:registry.name",
            "required key is missing: Registry name",
        ),
        (
            sections(resourceGroup={"name": "rg-acr", "create": False, "location": "westeurope"}),
            "acr-cache:resourceGroup.location",
            "an existing resource group keeps its own region",
        ),
        (
            sections(resourceGroup={"name": "rg-acr", "create": False, "tags": {"a": "b"}}),
            "acr-cache:resourceGroup.tags",
            "never modifies an existing resource group",
        ),
        (
            sections(resourceGroup={"name": "rg.acr."}),
            "acr-cache:resourceGroup.name",
            "not ending with a period",
        ),
        (
            sections(resourceGroup={"name": "rg", "create": "maybe"}),
            "acr-cache:resourceGroup.create",
            "boolean",
        ),
        (sections(protection={"protect": "sometimes"}), "acr-cache:protection.protect", "boolean"),
        (
            sections(protection={"lock": True}),
            "acr-cache:protection.lock",
            "allowed keys here are `protect`, `locks`",
        ),
    ],
)
def test_invalid_config_names_the_key_and_the_fix(document: dict[str, Any], key: str, fragment: str) -> None:
    problems = problems_of(document)
    matching = [p for p in problems if p.startswith(f"{key}: ")]
    assert matching, problems
    assert any(fragment in p for p in matching), matching


def test_unknown_top_level_key_is_refused_with_the_section_names() -> None:
    problems = problems_of(sections(), extra={"acr-cache:registy": "{}"})
    assert len(problems) == 1
    assert problems[0].startswith(
        "acr-cache:registy: unknown config key (did you mean `registry`?); the sections are "
        "`resourceGroup`, `subscriptionId`, `registry`, `replicas`, `network`, `privateAccess`, `keyVault`, "
        "`credentialSets`, `cacheRules`, `dockerMirror`, `access`, `imports`, `webhooks`, `purge`, `agentPools`, "
        "`monitoring`, `tokens`, `encryption`, `adoption`, `protection`, `performance` ("
    )


def test_secret_keys_of_their_own_are_accepted() -> None:
    values = {**as_pulumi_config(sections()), "acr-cache:dockerHubToken": "s3cr3t-token"}
    parse_stack_config(values, secret_keys=["acr-cache:dockerHubToken"])


def test_a_section_holding_a_secret_is_refused_without_echoing_it() -> None:
    document = sections(
        registry={"name": "acrcachetest01", "location": "westeurope", "tags": {"t": "hunter2"}}
    )
    # Only the refusal: the section's absence from what the model reads is no news.
    assert problems_of(document, secret=["acr-cache:registry"]) == [
        "acr-cache:registry: this section is stored as a secret or holds a `secure:` value, and sections must "
        "be plain objects: move the secret into a key of its own (`pulumi config set --secret <name> ...`) and "
        "refer to it by name"
    ]


def test_every_problem_is_reported_at_once() -> None:
    document = sections(
        registry={"name": "ab", "location": "West Europe", "retentionDays": -1},
        resourceGroup={"name": "rg", "colour": "red"},
    )
    keys = sorted(p.split(": ", 1)[0] for p in problems_of(document))
    assert keys == [
        "acr-cache:registry.location",
        "acr-cache:registry.name",
        "acr-cache:registry.retentionDays",
        "acr-cache:resourceGroup.colour",
    ]


def test_error_is_a_run_error_so_pulumi_prints_no_traceback() -> None:
    import pulumi

    with pytest.raises(pulumi.RunError) as caught:
        parse_stack_config(as_pulumi_config(sections(registry={"name": "ab", "location": "westeurope"})))
    assert str(caught.value).startswith(
        "invalid stack configuration (1 problem):\n  acr-cache:registry.name: "
    )


def test_config_model_documents_every_field() -> None:
    from acr_cache.config import StackConfig
    from pydantic import BaseModel

    seen: set[type[BaseModel]] = set()

    def visit(model: type[BaseModel]) -> None:
        seen.add(model)
        assert model.model_config.get("extra") == "forbid", model
        # An unresolved forward reference leaves a model half-built, without its aliases.
        assert model.__pydantic_complete__, model
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name} has no description"
            for arg in (*getattr(info.annotation, "__args__", ()), info.annotation):
                if isinstance(arg, type) and issubclass(arg, BaseModel) and arg not in seen:
                    visit(arg)

    visit(StackConfig)
    assert len(seen) >= 4


SUBNET_ID = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-hub/providers/Microsoft.Network/"
    "virtualNetworks/vnet-hub/subnets/pe"
)
# The Docker Hub set reading secrets that are in the vault already.
HUB_WITH_VAULT_SECRETS = {
    "loginServer": "docker.io",
    "username": {"secretName": "u"},
    "password": {"secretName": "p"},
}
# Docker mirror mode on the Docker Hub set above.
MIRROR = {"enabled": True, "credentialSet": "dockerhub", "reason": "daemons cannot sign in here"}
RESTRICTED_NO_BYPASS = {"publicAccess": "Restricted", "trustedServicesBypass": False}
STANDARD = {"name": "acrcachetest01", "location": "westeurope", "sku": "Standard"}


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (
            sections(
                cacheRules={"mcr-all": {"source": "mcr.microsoft.com/dotnet/*", "target": "dotnet/*"}},
                imports={"dotnet/runtime:8.0": {"source": "mcr.microsoft.com/dotnet/runtime:8.0"}},
            ),
            "acr-cache:imports.dotnet/runtime:8.0: repository 'dotnet/runtime' belongs to cache rule 'mcr-all' "
            "(target 'dotnet/*'); a cache rule's repositories must not already exist: import under another path, "
            "e.g. 'base/dotnet/runtime:8.0'",
        ),
        (
            sections(
                cacheRules={"mcr-root": {"source": "mcr.microsoft.com/*", "target": "*"}},
                imports={"x/y:1": {"source": "mcr.microsoft.com/x/y:1"}},
            ),
            "acr-cache:imports.x/y:1: repository 'x/y' belongs to cache rule 'mcr-root' (target '*'); a cache "
            "rule's repositories must not already exist: import under another path, e.g. 'base/x/y:1'",
        ),
        (
            sections(
                cacheRules={"mcr-one": {"source": "mcr.microsoft.com/dotnet/sdk", "target": "sdk"}},
                imports={"sdk:8.0": {"source": "mcr.microsoft.com/dotnet/sdk:8.0"}},
            ),
            "acr-cache:imports.sdk:8.0: repository 'sdk' belongs to cache rule 'mcr-one' (target 'sdk'); a cache "
            "rule's repositories must not already exist: import under another path, e.g. 'base/sdk:8.0'",
        ),
        (
            sections(network=RESTRICTED_NO_BYPASS, imports={"x/y:1": {"source": "mcr.microsoft.com/x/y:1"}}),
            "acr-cache:network.trustedServicesBypass: importing into a restricted registry runs as a trusted Azure "
            "service: remove `trustedServicesBypass: false` or the imports",
        ),
        (
            sections(
                network=RESTRICTED_NO_BYPASS,
                cacheRules={"mcr-x": {"source": "mcr.microsoft.com/x", "target": "x"}},
            ),
            "acr-cache:network.trustedServicesBypass: the artifact cache fills a restricted registry as a trusted "
            "Azure service, so it cannot populate with the bypass off while cache rules exist: remove "
            "`trustedServicesBypass: false`",
        ),
        (
            sections(credentialSets={"dockerhub": HUB_WITH_VAULT_SECRETS}),
            "acr-cache:keyVault: credential sets keep their secrets in Key Vault: set `acr-cache:keyVault` with a "
            "`name` (the stack creates the vault) or an `existingId`",
        ),
        (
            sections(
                registry={**STANDARD, "sku": "Basic"},
                keyVault={"name": "kv-acrtest01"},
                credentialSets={"dockerhub": HUB_WITH_VAULT_SECRETS},
                dockerMirror=MIRROR,
            ),
            "acr-cache:dockerMirror.enabled: mirror mode needs anonymous pull, which Azure offers on Standard and "
            "Premium only: set `acr-cache:registry.sku` to Standard or Premium",
        ),
        (
            sections(
                registry={"name": "acrcachetest01", "location": "westeurope", "softDeleteDays": 7},
                replicas={"northeurope": {}},
            ),
            "acr-cache:registry.softDeleteDays: Azure's soft delete policy does not support geo-replicated "
            "registries: remove `softDeleteDays` (the retention policy then applies) or the replicas",
        ),
        (
            sections(replicas={"westeurope": {}}),
            "acr-cache:replicas.westeurope: 'westeurope' is the registry's home region (registry.location), which "
            "always holds the registry: list only other regions as replicas",
        ),
        (
            sections(registry=STANDARD, replicas={"northeurope": {}}),
            "acr-cache:replicas: geo-replication needs the Premium tier (sku is Standard): set "
            "`acr-cache:registry.sku: Premium` or remove the replicas",
        ),
        (
            sections(registry=STANDARD, network={"publicAccess": "Restricted", "ipRules": ["203.0.113.7"]}),
            "acr-cache:network.ipRules: an IP firewall needs the Premium tier (sku is Standard): set "
            "`acr-cache:registry.sku: Premium` or remove `ipRules`",
        ),
        (
            sections(registry=STANDARD, network={"publicAccess": "Disabled"}),
            "acr-cache:network.publicAccess: `Disabled` public access needs the Premium tier (sku is Standard): set "
            "`acr-cache:registry.sku: Premium` or remove `publicAccess`",
        ),
        (
            sections(registry=STANDARD, privateAccess={"endpoints": {"hub": {"subnetId": SUBNET_ID}}}),
            "acr-cache:privateAccess.endpoints: private endpoints needs the Premium tier (sku is Standard): set "
            "`acr-cache:registry.sku: Premium` or remove the endpoints",
        ),
        (
            sections(registry=STANDARD, network={"dataEndpoints": True}),
            "acr-cache:network.dataEndpoints: dedicated data endpoints needs the Premium tier (sku is Standard): set "
            "`acr-cache:registry.sku: Premium` or remove `dataEndpoints`",
        ),
        (
            sections(registry={"name": "acrcachetest01", "location": "westeurope", "exportEnabled": False}),
            "acr-cache:registry.exportEnabled: Azure only allows disabling exports when public network access is "
            "disabled, and public access is `Open`: set `acr-cache:network.publicAccess: Disabled` (reach the "
            "registry through private endpoints) or remove `exportEnabled: false`",
        ),
        (
            sections(
                network={"dataEndpoints": False},
                privateAccess={"endpoints": {"hub": {"subnetId": SUBNET_ID}}},
            ),
            "acr-cache:network.dataEndpoints: Azure turns dedicated data endpoints on for every registry with "
            "private endpoints: remove `dataEndpoints: false`",
        ),
    ],
)
def test_cross_section_refusals_in_full(document: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(as_pulumi_config(document))
    assert problem in [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(
    "document",
    [
        # A repository beside a wildcard rule's, sharing only a prefix of its name.
        sections(
            cacheRules={"mcr-all": {"source": "mcr.microsoft.com/dotnet/*", "target": "dotnet/*"}},
            imports={"dotnetx/runtime:8.0": {"source": "mcr.microsoft.com/dotnet/runtime:8.0"}},
        ),
        # Imports and rules into an open registry, or a restricted one that lets trusted services in.
        sections(
            network={"trustedServicesBypass": False}, imports={"x/y:1": {"source": "mcr.microsoft.com/x/y:1"}}
        ),
        sections(
            network={"publicAccess": "Restricted", "ipRules": ["203.0.113.7"]},
            cacheRules={"mcr-x": {"source": "mcr.microsoft.com/x", "target": "x"}},
            imports={"x/y:1": {"source": "mcr.microsoft.com/x/y:1"}},
        ),
        sections(registry=STANDARD, network={"publicAccess": "Open"}),
        sections(
            registry={"name": "acrcachetest01", "location": "westeurope", "exportEnabled": False},
            network={"publicAccess": "Disabled"},
            privateAccess={"endpoints": {"hub": {"subnetId": SUBNET_ID}}},
        ),
    ],
)
def test_cross_section_settings_that_fit_are_accepted(document: dict[str, Any]) -> None:
    parse_stack_config(as_pulumi_config(document))


def _secret_problems(document: dict[str, Any], plain: dict[str, str], secret: dict[str, str]) -> list[str]:
    values = {**as_pulumi_config(document), **{f"acr-cache:{k}": v for k, v in {**plain, **secret}.items()}}
    try:
        parse_stack_config(values, [f"acr-cache:{k}" for k in secret])
    except ConfigError as exc:
        return [str(p) for p in exc.problems]
    return []


GHCR_IMPORT = {
    "x/y:1": {
        "source": "ghcr.io/org/y:1",
        "usernameConfigKey": "ghcr-user",
        "passwordConfigKey": "ghcr-token",
    }
}


def test_the_keys_an_import_reads_must_be_set_and_its_password_secret() -> None:
    document = sections(imports=GHCR_IMPORT)
    assert _secret_problems(document, {}, {}) == [
        "acr-cache:imports.x/y:1.usernameConfigKey: config key `acr-cache:ghcr-user` is not set: run `pulumi "
        "config set --secret ghcr-user <value>` (it is never committed in plain text), or set it in the stack's Pulumi ESC environment under `values.pulumiConfig`",
        "acr-cache:imports.x/y:1.passwordConfigKey: config key `acr-cache:ghcr-token` is not set: run `pulumi "
        "config set --secret ghcr-token <value>` (it is never committed in plain text), or set it in the stack's Pulumi ESC environment under `values.pulumiConfig`",
    ]
    # A user name may sit in plain text; a password never.
    assert _secret_problems(document, {"ghcr-user": "octocat"}, {"ghcr-token": "t"}) == []
    assert _secret_problems(document, {"ghcr-user": "octocat", "ghcr-token": "t"}, {}) == [
        "acr-cache:ghcr-token: holds a password or token in plain text: remove it from the stack file and set it "
        "with `pulumi config set --secret ghcr-token <value>` (from Pulumi ESC: wrap it in `fn::secret`)"
    ]


def test_a_key_one_set_reads_as_user_name_and_another_as_password_must_be_secret() -> None:
    hub = {
        "loginServer": "docker.io",
        "username": {"configKey": "shared"},
        "password": {"configKey": "hub-token"},
    }
    quay = {
        "loginServer": "quay.io",
        "username": {"configKey": "quay-user"},
        "password": {"configKey": "shared"},
    }
    document = sections(keyVault={"name": "kv-acrtest01"}, credentialSets={"dockerhub": hub, "quayio": quay})
    secrets = {"hub-token": "t", "quay-user": "u"}
    assert _secret_problems(document, {}, {**secrets, "shared": "s"}) == []
    assert _secret_problems(document, {"shared": "s"}, secrets) == [
        "acr-cache:shared: holds a password or token in plain text: remove it from the stack file and set it with "
        "`pulumi config set --secret shared <value>` (from Pulumi ESC: wrap it in `fn::secret`)"
    ]


# The Docker Hub set reading its user name and token from config keys.
HUB_READING_CONFIG_KEYS = sections(
    keyVault={"name": "kv-acrtest01"},
    credentialSets={
        "dockerhub": {
            "loginServer": "docker.io",
            "username": {"configKey": "hub-user"},
            "password": {"configKey": "hub-token"},
        }
    },
)


def test_an_unset_user_name_key_is_named_at_its_own_path() -> None:
    document = HUB_READING_CONFIG_KEYS
    assert _secret_problems(document, {}, {"hub-token": "t"}) == [
        "acr-cache:credentialSets.dockerhub.username.configKey: config key `acr-cache:hub-user` is not set: run "
        "`pulumi config set --secret hub-user <value>` (it is never committed in plain text), or set it in the stack's Pulumi ESC environment under `values.pulumiConfig`"
    ]


def test_unset_secret_keys_are_placeholders_only_inside_the_offline_block() -> None:
    from acr_cache.config import offline_placeholders

    values = as_pulumi_config(HUB_READING_CONFIG_KEYS)
    with offline_placeholders() as missing:
        parse_stack_config(values)
    assert missing == ["acr-cache:hub-token", "acr-cache:hub-user"]
    # After the block the next read (the next stack, a test) is strict again.
    after = problems_of(HUB_READING_CONFIG_KEYS)
    assert len(after) == 2 and all("is not set: run `pulumi config set --secret" in p for p in after)


def test_an_import_target_without_a_tag_is_reported_once_even_under_a_root_wildcard() -> None:
    document = sections(
        cacheRules={"mcr-root": {"source": "mcr.microsoft.com/*", "target": "*"}},
        imports={"base/alpine": {"source": "docker.io/library/alpine:3.20"}},
    )
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(as_pulumi_config(document))
    assert [str(p) for p in caught.value.problems] == [
        "acr-cache:imports.base/alpine: 'base/alpine' must be `repository:tag`, e.g. 'base/alpine:3.20'"
    ]


SECTIONS_LIST = (
    "`resourceGroup`, `subscriptionId`, `registry`, `replicas`, `network`, `privateAccess`, `keyVault`, `credentialSets`, "
    "`cacheRules`, `dockerMirror`, `access`, `imports`, `webhooks`, `purge`, `agentPools`, `monitoring`, "
    "`tokens`, `encryption`, `adoption`, `protection`, `performance`"
)


def test_unknown_config_keys_in_full() -> None:
    values = as_pulumi_config(sections())
    values.update({"acr-cache:replica": "{}", "acr-cache:cache_rules": "{}", "acr-cache:colour": "x"})
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(values)
    tail = (
        f"; the sections are {SECTIONS_LIST} (secrets go in keys of their own, set with `pulumi config set "
        "--secret`, and a credential set names them in `configKey`)"
    )
    # In the order the file has them.
    assert [str(p) for p in caught.value.problems] == [
        f"acr-cache:replica: unknown config key (did you mean `replicas`?){tail}",
        f"acr-cache:cache_rules: unknown config key (keys are camelCase: write `cacheRules`){tail}",
        f"acr-cache:colour: unknown config key{tail}",
    ]


@pytest.mark.parametrize(("lists", "too_deep"), [(30, False), (31, True)])
def test_nesting_is_refused_past_32_levels(lists: int, too_deep: bool) -> None:
    # registry (0) -> tags (1) -> a key (2) -> the lists: 30 of them reach level 32 exactly.
    value: object = "x"
    for _ in range(lists):
        value = [value]
    document = sections(registry={"name": "acrcachetest01", "location": "westeurope", "tags": {"a": value}})
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(as_pulumi_config(document))
    depth = (
        "acr-cache:registry: lists and maps nest more than 32 levels deep; no setting goes deeper than 6: check "
        "the indentation"
    )
    assert (depth in [str(p) for p in caught.value.problems]) is too_deep
    if too_deep:
        # The refused section is not validated: no "required key is missing" follows for it.
        assert [str(p) for p in caught.value.problems] == [depth]


def test_a_plain_user_name_key_that_holds_a_token_is_refused() -> None:
    # A user name may sit in plain text, so its key is not a typo; a token in it is still a credential.
    document = HUB_READING_CONFIG_KEYS
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2"
    assert _secret_problems(document, {"hub-user": token}, {"hub-token": "t"}) == [
        "acr-cache:hub-user: looks like a GitHub token: this value is not secret and would be stored in plain text: "
        "put the credential in a key of its own with `pulumi config set --secret <name> <value>` and refer to it "
        "(`configKey`, `passwordConfigKey`), or, if it is not a credential, change it"
    ]
    assert _secret_problems(document, {"hub-user": "octocat"}, {"hub-token": "t"}) == []


# --- Issue #15: the loader's own refusals, each as the whole message at its exact key ------------

GITHUB_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2"
REGISTRY = {"name": "acrcachetest01", "location": "westeurope"}
CREDENTIAL_TAIL = (
    "this value is not secret and would be stored in plain text: put the credential in a key of its own "
    "with `pulumi config set --secret <name> <value>` and refer to it (`configKey`, `passwordConfigKey`), "
    "or, if it is not a credential, change it"
)
REGISTRY_KEYS = (
    "`name`, `location`, `sku`, `zoneRedundancy`, `untaggedRetention`, `retentionDays`, `softDeleteDays`, "
    "`exportEnabled`, `identity`, `quarantine`, `repositoryPermissions`, `tags`, `aliases`"
)
REGISTRY_SHAPE = ", e.g. `registry: {name: contosocache, location: westeurope}`"
RULE_KEYS = "`source`, `target`, `name`, `credentialSet`, `credentialSetId`, `registryCredentialSet`"
SOURCE_DESCRIPTION = (
    "Upstream repository with its host, lowercase, no tag or digest: `docker.io/library/nginx`, or a "
    "wildcard ending in `/*` (`mcr.microsoft.com/dotnet/*`)."
)


def _with(**values: str) -> dict[str, str]:
    return {**as_pulumi_config(sections()), **{f"acr-cache:{k}": v for k, v in values.items()}}


def _all_problems(values: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(values)
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("values", "problems"),
    [
        # The walk and the model both find a credential: reported once, at the walk's exact key.
        (
            as_pulumi_config(sections(registry={**REGISTRY, "tags": {"team": GITHUB_TOKEN}})),
            [f"acr-cache:registry.tags.team: looks like a GitHub token: {CREDENTIAL_TAIL}"],
        ),
        (
            as_pulumi_config(sections(registry={**REGISTRY, "tags": {GITHUB_TOKEN: "x"}})),
            [f"acr-cache:registry.tags: a key here looks like a GitHub token: {CREDENTIAL_TAIL}"],
        ),
        # A snake_case key whose camelCase form is no section either gets the nearest section.
        (
            _with(cache_rulez="{}"),
            [
                "acr-cache:cache_rulez: unknown config key (did you mean `cacheRules`?); the sections are "
                f"{SECTIONS_LIST} (secrets go in keys of their own, set with `pulumi config set --secret`, "
                "and a credential set names them in `configKey`)"
            ],
        ),
        # Only `configKey`-like keys name config keys: the registry's name does not make one read.
        (
            _with(acrcachetest01="x"),
            [
                f"acr-cache:acrcachetest01: unknown config key; the sections are {SECTIONS_LIST} (secrets go "
                "in keys of their own, set with `pulumi config set --secret`, and a credential set names them "
                "in `configKey`)"
            ],
        ),
        # A scalar where a section goes is kept as written and refused as not an object.
        # Each with a one-line example of the shape that goes there.
        (
            _with(registry="hello"),
            [f"acr-cache:registry: expected an object with the keys {REGISTRY_KEYS}{REGISTRY_SHAPE}"],
        ),
        (
            _with(registry="[1]"),
            [f"acr-cache:registry: expected an object with the keys {REGISTRY_KEYS}{REGISTRY_SHAPE}"],
        ),
        (
            as_pulumi_config(sections(registry={**REGISTRY, "tags": "x"})),
            ["acr-cache:registry.tags: expected an object (a YAML mapping), e.g. `tags: {name: value}`"],
        ),
        # An invalid map key is reported at the key, not at pydantic's `[key]` step below it.
        (
            as_pulumi_config(
                sections(
                    cacheRules={"Bad Key!": {"source": "mcr.microsoft.com/dotnet/runtime", "target": "d"}}
                )
            ),
            [
                "acr-cache:cacheRules.Bad Key!: 'Bad Key!' is not a valid rule name: 5-50 letters, digits and hyphens"
            ],
        ),
        # The list form of `cacheRules` (a tagged union): the path has no `<list>` step.
        (
            as_pulumi_config(sections(cacheRules=[{"target": "nginx", "bogus": 1}])),
            # A missing key is reported where its entry begins, before what the entry holds.
            [
                f"acr-cache:cacheRules[0].source: required key is missing: {SOURCE_DESCRIPTION}",
                f"acr-cache:cacheRules[0].bogus: unknown key; allowed keys here are {RULE_KEYS}",
            ],
        ),
        (
            as_pulumi_config(sections(cacheRules={"nginx": {"target": "nginx", "bogus": 1}})),
            [
                f"acr-cache:cacheRules.nginx.source: required key is missing: {SOURCE_DESCRIPTION}",
                f"acr-cache:cacheRules.nginx.bogus: unknown key; allowed keys here are {RULE_KEYS}",
            ],
        ),
        # An optional section (`keyVault`) is still known as its model.
        (
            as_pulumi_config(sections(keyVault={"nmae": "kv-acrtest01"})),
            [
                "acr-cache:keyVault.nmae: unknown key (did you mean `name`?); allowed keys here are `name`, "
                "`existingId`, `resourceGroup`, `location`, `publicNetworkAccess`, `defaultAction`, `ipRules`, "
                "`softDeleteRetentionDays`, `purgeProtection`, `tags`"
            ],
        ),
        (
            as_pulumi_config(sections(registry={**REGISTRY, "sku": "Premiun"})),
            [
                "acr-cache:registry.sku: 'Premiun' is not one of `Basic`, `Standard`, `Premium` (did you mean `Premium`?)"
            ],
        ),
        (
            as_pulumi_config(sections(registry={**REGISTRY, "sku": True})),
            ["acr-cache:registry.sku: 'true' is not one of `Basic`, `Standard`, `Premium`"],
        ),
    ],
    ids=[
        "credential-value-once",
        "credential-key-once",
        "snake-case-typo",
        "value-is-no-key-name",
        "scalar-section",
        "list-section",
        "scalar-map",
        "bad-map-key",
        "list-form-rule",
        "map-form-rule",
        "optional-section",
        "enum-typo",
        "enum-boolean",
    ],
)
def test_loader_refusals_in_full(values: dict[str, str], problems: list[str]) -> None:
    assert _all_problems(values) == problems


def test_sections_handed_over_as_objects_are_read_as_they_are() -> None:
    # A Python caller (a test, a tool) may pass parsed values instead of the engine's JSON text.
    config = parse_stack_config({f"acr-cache:{key}": value for key, value in sections().items()})
    assert config.registry.name == "acrcachetest01"


@pytest.mark.parametrize(("maps", "too_deep"), [(30, False), (31, True)])
def test_nesting_of_maps_is_refused_past_32_levels(maps: int, too_deep: bool) -> None:
    value: object = "x"
    for _ in range(maps):
        value = {"a": value}
    document = sections(registry={**REGISTRY, "tags": {"a": value}})
    depth = (
        "acr-cache:registry: lists and maps nest more than 32 levels deep; no setting goes deeper than 6: check "
        "the indentation"
    )
    assert (depth in _all_problems(as_pulumi_config(document))) is too_deep


def test_problems_of_any_model_are_named_with_its_own_keys() -> None:
    from acr_cache.model import ConfigModel
    from acr_cache.problems import problems_from
    from pydantic import BaseModel, Field, ValidationError, model_validator

    class Inner(ConfigModel):
        size: int = Field(description="How big.")

    class Plain(BaseModel):
        bare: int

    class Outer(ConfigModel):
        inner: Inner = Field(description="The inner part.")
        plain: Plain = Field(description="A model without descriptions.")

        @model_validator(mode="after")
        def _whole(self) -> Outer:
            if self.inner.size > 9:
                raise ValueError("too big as a whole")
            return self

    def problems(data: dict[str, Any]) -> list[str]:
        with pytest.raises(ValidationError) as caught:
            Outer.model_validate(data)
        return [str(p) for p in problems_from(caught.value, "Thing('t').args.", Outer)]

    assert problems({"inner": {"size": 1, "colour": "red"}, "plain": {}}) == [
        "Thing('t').args.inner.colour: unknown key; allowed keys here are `size`",
        "Thing('t').args.plain.bare: required key is missing",
    ]
    assert problems({"inner": {"size": 10}, "plain": {"bare": 1}}) == ["Thing('t').args: too big as a whole"]


def test_a_key_no_model_describes_is_only_unknown() -> None:
    # A plain union of models (the config's own use tagged unions): pydantic names each branch by
    # its class, and no model sits at such a place to list allowed keys from.
    from acr_cache.model import ConfigModel
    from acr_cache.problems import problems_from
    from pydantic import Field, ValidationError

    class A(ConfigModel):
        a: int = Field(description="a")

    class B(ConfigModel):
        b: int = Field(description="b")

    class Outer(ConfigModel):
        either: A | B = Field(description="either")

    with pytest.raises(ValidationError) as caught:
        Outer.model_validate({"either": {"a": 1, "c": 2}})
    assert "X.either.A.c: unknown key" in [str(p) for p in problems_from(caught.value, "X.", Outer)]


@pytest.mark.parametrize(
    ("document", "problems"),
    [
        # An invalid map key is reported at the key itself, not at pydantic's `[key]` step.
        (
            sections(replicas={"West Europe": {}}),
            [
                "acr-cache:replicas.West Europe: 'West Europe' is not an Azure region name: did you mean 'westeurope'?"
            ],
        ),
        # A map key that ends like a union's tag is still a key of the path.
        (
            sections(cacheRules={"rule>": {"target": "x"}}),
            [
                "acr-cache:cacheRules.rule>: 'rule>' is not a valid rule name: 5-50 letters, digits and hyphens",
                f"acr-cache:cacheRules.rule>.source: required key is missing: {SOURCE_DESCRIPTION}",
            ],
        ),
        # Two findings at one key: the credential (once), and the choice it is not.
        (
            sections(registry={**REGISTRY, "sku": GITHUB_TOKEN}),
            [
                f"acr-cache:registry.sku: looks like a GitHub token: {CREDENTIAL_TAIL}",
                "acr-cache:registry.sku: '[hidden: a GitHub token]' is not one of `Basic`, `Standard`, `Premium`",
            ],
        ),
    ],
    ids=["region-key", "tag-like-key", "credential-where-a-choice-goes"],
)
def test_map_keys_in_key_paths(document: dict[str, Any], problems: list[str]) -> None:
    assert _all_problems(as_pulumi_config(document)) == problems


def test_problems_are_ordered_by_their_place_in_the_file_down_to_the_walks_depth() -> None:
    import copy

    from acr_cache.config import MAX_DEPTH, in_file_order
    from acr_cache.model import ConfigProblem

    # The node at MAX_DEPTH has a place but no places below it: a problem deeper than that takes its
    # deepest placed ancestor's, and problems that share a place keep the order they were found in.
    end = {"m": {"x": 1, "y": 1}, "n": {"x": 1, "y": 1}}
    chain: Any = end
    for _ in range(MAX_DEPTH - 1):
        chain = {"k": chain}
    listed: Any = copy.deepcopy(end)
    for _ in range(MAX_DEPTH - 1):
        listed = [listed]
    values = {
        "acr-cache:first": json.dumps({"x": {"y": 1}, "list": [{"k": 1}, {"k": 2}]}),
        "acr-cache:chain": json.dumps(chain),
        "acr-cache:listed": json.dumps(listed),
        "acr-cache:last": "1",
    }
    deep = "acr-cache:chain" + ".k" * (MAX_DEPTH - 1)
    in_lists = "acr-cache:listed" + "[0]" * (MAX_DEPTH - 1)
    found = [
        "acr-cache:unknown",
        "acr-cache:last",
        f"{in_lists}.n.y",
        f"{in_lists}.n.x",
        f"{in_lists}.m.y",
        f"{in_lists}.m.x",
        f"{deep}.n.y",
        f"{deep}.n.x",
        f"{deep}.m.y",
        f"{deep}.m.x",
        "acr-cache:first.list[1].k",
        "acr-cache:first.x.y.z",
        "acr-cache:first.list[0].k",
        "acr-cache:first.x.y",
    ]
    problems = [ConfigProblem(key, "bad") for key in found]
    assert [p.key for p in in_file_order(problems, values)] == [
        "acr-cache:first.x.y.z",
        "acr-cache:first.x.y",
        "acr-cache:first.list[0].k",
        "acr-cache:first.list[1].k",
        f"{deep}.m.y",
        f"{deep}.m.x",
        f"{deep}.n.y",
        f"{deep}.n.x",
        f"{in_lists}.m.y",
        f"{in_lists}.m.x",
        f"{in_lists}.n.y",
        f"{in_lists}.n.x",
        "acr-cache:last",
        "acr-cache:unknown",
    ]


# --- Rules across sections, each problem in full ---------------------------------------------------

_POOL_SUBNET = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-net/providers/"
    "Microsoft.Network/virtualNetworks/vnet-hub/subnets/tasks"
)
_DOTNET = {"source": "mcr.microsoft.com/dotnet/*", "target": "dotnet/*"}
_LONG = "a" * 44  # a rule name whose purge task name (`purge-` + name, cut to 50) ends inside it


@pytest.mark.parametrize(
    ("document", "problems"),
    [
        pytest.param(
            sections(
                cacheRules={"mcr-all": _DOTNET},
                imports={
                    # Refused by the import rules: the checks against the cache rules go on past it.
                    "dotnet-runtime": {"source": "mcr.microsoft.com/dotnet/runtime:8.0"},
                    "dotnet/runtime:8.0": {"source": "mcr.microsoft.com/dotnet/runtime:8.0"},
                },
            ),
            [
                "acr-cache:imports.dotnet-runtime: 'dotnet-runtime' must be `repository:tag`, e.g. 'base/alpine:3.20'",
                "acr-cache:imports.dotnet/runtime:8.0: repository 'dotnet/runtime' belongs to cache rule 'mcr-all' "
                "(target 'dotnet/*'); a cache rule's repositories must not already exist: import under another "
                "path, e.g. 'base/dotnet/runtime:8.0'",
            ],
            id="import-after-one-without-tag",
        ),
        pytest.param(
            sections(
                cacheRules={
                    f"{_LONG}-one": {"source": "mcr.microsoft.com/one/*", "target": "one/*"},
                    f"{_LONG}-two": {"source": "mcr.microsoft.com/two/*", "target": "two/*"},
                },
                purge={f"{_LONG}-one": {}, f"{_LONG}-two": {}},
            ),
            [
                f"acr-cache:purge.{_LONG}-two: its task name 'purge-{_LONG}' is also {_LONG}-one's (cut to 50): "
                "rename a rule"
            ],
            id="purge-task-names-collide",
        ),
        pytest.param(
            sections(purge={"mcr-dotnet": {}}),
            [
                "acr-cache:purge.mcr-dotnet: no cache rule 'mcr-dotnet' to purge: the key is a rule name (none)"
            ],
            id="purge-without-rules",
        ),
        pytest.param(
            sections(
                cacheRules={
                    "mcr-dotnet": _DOTNET,
                    "ghcr-flux": {"source": "ghcr.io/fluxcd/*", "target": "fluxcd/*"},
                },
                purge={"mcr-dotnets": {}},
            ),
            [
                "acr-cache:purge.mcr-dotnets: no cache rule 'mcr-dotnets' to purge: the key is a rule name "
                "(ghcr-flux, mcr-dotnet)"
            ],
            id="purge-among-rules",
        ),
        pytest.param(
            sections(
                cacheRules={"mcr-dotnet": _DOTNET},
                agentPools={"purgepool": {"subnetId": _POOL_SUBNET}, "otherpool": {"subnetId": _POOL_SUBNET}},
                purge={"mcr-dotnet": {"agentPool": "thirdpool"}},
            ),
            [
                "acr-cache:purge.mcr-dotnet.agentPool: 'thirdpool' is not one of `agentPools` (otherpool, "
                "purgepool): name one of them (a pool made outside the stack is fine when `agentPools` is empty)"
            ],
            id="purge-pool-among-pools",
        ),
        pytest.param(
            sections(
                keyVault={"name": "kv-acrtest01"},
                encryption={"identity": {"name": "id-acr-cmk"}, "key": {"name": "acr-cmk"}},
                resourceGroup={"name": "rg-acr-test", "create": False},
                adoption={"subscriptionId": "11111111-2222-3333-4444-555555555555", "registry": True},
            ),
            [
                "acr-cache:encryption: Azure sets a registry's encryption at creation only, and an adopted "
                "registry exists: remove `encryption` (or adopt a registry made with this key, and check the "
                "preview shows no change)"
            ],
            id="encryption-of-an-adopted-registry",
        ),
        pytest.param(
            sections(
                keyVault={"name": "kv-acrtest01"},
                credentialSets={"dockerhub": HUB_WITH_VAULT_SECRETS},
                dockerMirror={**MIRROR, "token": "mirror-clients"},
                tokens={
                    "ci-read": {"repositories": {"library/*": ["read"]}},
                    "team-b": {"repositories": {"library/*": ["read"]}},
                },
            ),
            [
                "acr-cache:dockerMirror.token: no token 'mirror-clients' in `acr-cache:tokens` (ci-read, team-b): "
                "add it there, with `read` on the repositories the mirror serves"
            ],
            id="mirror-token-among-tokens",
        ),
        pytest.param(
            # One config key read twice: reported once, under the key path that named it first.
            sections(
                webhooks={"releasehook": {"serviceUriConfigKey": "hookUrl"}},
                monitoring={
                    "diagnostics": {"workspace": {"name": "log-acrcache-test"}},
                    "alerts": {"actionGroup": {"webhookUrlConfigKey": "hookUrl"}},
                },
            ),
            [
                "acr-cache:webhooks.releasehook.serviceUriConfigKey: config key `acr-cache:hookUrl` is not set: run "
                "`pulumi config set --secret hookUrl <value>` (it is never committed in plain text), or set it in "
                "the stack's Pulumi ESC environment under `values.pulumiConfig`"
            ],
            id="a-config-key-read-twice",
        ),
    ],
)
def test_rules_across_sections_in_full(document: dict[str, Any], problems: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(as_pulumi_config(document))
    assert [str(p) for p in caught.value.problems] == problems
