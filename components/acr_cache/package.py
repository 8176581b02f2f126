"""The public components: for other Python stacks (`from acr_cache import ...`) and, as a Pulumi
component package, for TypeScript, Go, C#, Java and YAML stacks (`pulumi package add`).

Each component takes `args`, a typed dictionary whose sections are the stack config's sections
(docs/configuration.md), generated from the same models (`component_args.py`, by `acr-cache
schema`): the same names (snake_case here, camelCase in other languages and in YAML), the same
validation, the same messages. A section may also be given as its pydantic model
(`RegistryConfig(...)`). Components other than `Registry` attach to any registry by its ARM id,
so a team can add its own cache rules or grants to the platform's registry.

No `from __future__ import annotations` here: Pulumi's schema analyzer reads these annotations as
objects, not strings.
"""

from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

import pulumi
from pydantic import BaseModel, ValidationError

from acr_cache.access import Access
from acr_cache.arm import REGISTRY, parse_arm_id
from acr_cache.artifact_cache import (
    ArtifactCache as _ArtifactCache,
)
from acr_cache.artifact_cache import (
    CacheRuleConfig,
    CredentialSetConfig,
    SecretValues,
    credential_set_problems,
    rule_map_problems,
    rule_set_problems,
)
from acr_cache.component_args import (
    CacheRuleArgs,
    CredentialSetArgs,
    KeyVaultArgs,
)
from acr_cache.config import ConfigError, ConfigProblem, problems_from
from acr_cache.image_import import ImageImports
from acr_cache.key_vault import CredentialVault, KeyVaultConfig
from acr_cache.private_access import PrivateAccess
from acr_cache.redaction import shown
from acr_cache.registry import Registry
from acr_cache.replication import Replicas

PACKAGE = "acr-cache"
"""Name of the Pulumi component package (type tokens `acr-cache:index:<Component>`)."""


class ArtifactCacheArgs(TypedDict):
    """Arguments of ArtifactCache."""

    registry_id: pulumi.Input[str]
    """ARM id of the registry (any tier)."""
    cache_rules: dict[str, CacheRuleArgs]
    """Cache rules by name (5-50 of [a-zA-Z0-9-])."""
    credential_sets: NotRequired[dict[str, CredentialSetArgs]]
    """Credential sets by name."""
    key_vault: NotRequired[KeyVaultArgs]
    """The vault for the sets' secrets (required with credential_sets)."""
    secrets: NotRequired[dict[str, pulumi.Input[str]]]
    """Secret values by the `config_key` names the credential sets use."""
    protect: NotRequired[bool]
    """Protect a created vault (default true)."""


def _fail(component: str, name: str, problems: list[ConfigProblem]) -> ConfigError:
    return ConfigError(ConfigProblem(f"{component}('{shown(name)}').{p.key}", p.message) for p in problems)


def _model(model: type[BaseModel], data: Any, path: str, problems: list[ConfigProblem]) -> Any:
    try:
        return model.model_validate(data.model_dump() if isinstance(data, BaseModel) else data)
    except ValidationError as exc:
        problems.extend(problems_from(exc, prefix=f"{path}."))
        return None


def _models(
    model: type[BaseModel], entries: Mapping[str, Any], path: str, problems: list[ConfigProblem]
) -> dict[str, Any]:
    built = {key: _model(model, value, f"{path}.{key}", problems) for key, value in (entries or {}).items()}
    return {key: value for key, value in built.items() if value is not None}


def _registry_part(registry_id: pulumi.Input[str], part: str) -> pulumi.Output[str]:
    def pick(value: str) -> str:
        parsed = parse_arm_id(value, REGISTRY)
        return {"subscription": parsed.subscription, "group": parsed.resource_group, "name": parsed.name}[
            part
        ]

    return pulumi.Output.from_input(registry_id).apply(pick)


def _subscription(registry_id: pulumi.Input[str]) -> pulumi.Output[str]:
    return _registry_part(registry_id, "subscription")


def _secret_values(secrets: Mapping[str, pulumi.Input[str]] | None) -> dict[str, pulumi.Output[str]]:
    return {key: pulumi.Output.secret(value) for key, value in (secrets or {}).items()}


class ArtifactCache(pulumi.ComponentResource):
    """Cache rules on a registry, with credential sets backed by Key Vault and their grants."""

    credential_set_ids: pulumi.Output[dict[str, str]]
    """ARM ids of the credential sets by name."""
    credential_set_principal_ids: pulumi.Output[dict[str, str]]
    """Principal ids of the sets' identities by name."""
    pull_references: pulumi.Output[dict[str, str]]
    """Per rule: <loginServer>/<target>."""

    def __init__(
        self, name: str, args: ArtifactCacheArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{PACKAGE}:index:ArtifactCache", name, None, opts)
        problems: list[ConfigProblem] = []
        rules = _models(CacheRuleConfig, args["cache_rules"], "args.cache_rules", problems)
        sets = _models(
            CredentialSetConfig, args.get("credential_sets") or {}, "args.credential_sets", problems
        )
        vault_args = args.get("key_vault")
        vault_config = _model(KeyVaultConfig, vault_args, "args.key_vault", problems) if vault_args else None
        secrets = _secret_values(args.get("secrets"))
        entries = [(f"args.cache_rules.{key}", key, rule) for key, rule in rules.items()]
        problems += rule_set_problems(entries, sets, "args.cache_rules", "args.credential_sets")
        problems += rule_map_problems(rules, "args.cache_rules")
        problems += credential_set_problems(sets, "args.credential_sets")
        if vault_config is not None and vault_config.name is not None and vault_config.location is None:
            problems.append(
                ConfigProblem(
                    "args.key_vault.location", "a vault the component creates needs its region in `location`"
                )
            )
        if sets and vault_config is None:
            problems.append(
                ConfigProblem(
                    "args.key_vault", "credential sets keep their secrets in Key Vault: give key_vault"
                )
            )
        for set_name, spec in sets.items():
            for role, source in (("username", spec.username), ("password", spec.password)):
                if source.config_key is not None and source.config_key not in secrets:
                    problems.append(
                        ConfigProblem(
                            f"args.credential_sets.{set_name}.{role}.config_key",
                            f"no value '{shown(source.config_key)}' in args.secrets",
                        )
                    )
        if problems:
            raise _fail("ArtifactCache", name, problems)
        group = _registry_part(args["registry_id"], "group")
        registry_name = _registry_part(args["registry_id"], "name")
        vault = None
        if vault_config is not None:
            from pulumi_azure_native import authorization

            vault = CredentialVault(
                f"{name}-vault",
                config=vault_config,
                tenant_id=authorization.get_client_config_output(
                    opts=pulumi.InvokeOutputOptions(parent=self)
                ).tenant_id,
                resource_group_name=group,
                home_region=vault_config.location or "",
                protect=bool(args.get("protect", True)),
                opts=pulumi.ResourceOptions(parent=self),
            )
        inner = _ArtifactCache(
            f"{name}-cache",
            registry_name=registry_name,
            registry_key=registry_name,
            login_server=registry_name.apply(lambda n: f"{n.lower()}.azurecr.io"),
            resource_group_name=group,
            subscription_id=_subscription(args["registry_id"]),
            vault=vault,
            vault_config=vault_config,
            credential_sets=sets,
            secrets={
                set_name: SecretValues(
                    secrets.get(spec.username.config_key or ""), secrets.get(spec.password.config_key or "")
                )
                for set_name, spec in sets.items()
            },
            rules=rules,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.credential_set_ids = pulumi.Output.all(**inner.credential_set_ids).apply(dict)
        self.credential_set_principal_ids = pulumi.Output.all(**inner.credential_set_principal_ids).apply(
            dict
        )
        self.pull_references = inner.pull_references
        self.register_outputs(
            {
                "credentialSetIds": self.credential_set_ids,
                "credentialSetPrincipalIds": self.credential_set_principal_ids,
                "pullReferences": self.pull_references,
            }
        )


COMPONENTS: list[type[pulumi.ComponentResource]] = [
    Registry,
    Replicas,
    PrivateAccess,
    ArtifactCache,
    Access,
]
"""The components hosted for other languages (the package schema lists exactly these)."""

PYTHON_ONLY: list[type[pulumi.ComponentResource]] = [ImageImports]
"""Components for Python stacks only. ImageImports registers a Python dynamic resource: inside a
component served to another language it does not load (pulumi/pulumi#5455: the engine would run
the dynamic provider from the consumer's project, whose environment has no `acr_cache` to
unpickle it from). Other languages import images with `az acr import` or their own tooling."""


def package_schema(version: str) -> dict[str, Any]:
    """The component package schema, generated offline by Pulumi's analyzer (what `pulumi package
    add` reads from the running host)."""
    from pulumi.provider.experimental.analyzer import Analyzer
    from pulumi.provider.experimental.schema import generate_schema

    result = Analyzer(PACKAGE).analyze(COMPONENTS)
    schema = generate_schema(
        PACKAGE,
        version,
        None,
        result["component_definitions"],
        result["type_definitions"],
        sorted(result["dependencies"], key=lambda d: d.name),
    )
    return dict(schema.to_json())
