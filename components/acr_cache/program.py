"""The acr-cache Pulumi program: config in, components out.

`stacks/__main__.py` calls :func:`main` (Pulumi reaches it through the project's `__main__.py`); the
offline plan runs that same entry point under mocks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeAlias, cast

import pulumi
from pulumi_azure_native import authorization

from acr_cache import performance
from acr_cache.access import Access, AccessArgs
from acr_cache.adoption import AdoptedIds
from acr_cache.artifact_cache import ArtifactCache, ArtifactCacheArgs, CacheRuleConfig
from acr_cache.component_base import Layout, RegistryRef
from acr_cache.config import NAMESPACE, StackConfig, load_stack_config
from acr_cache.encryption import CustomerManagedKey, RegistryEncryption
from acr_cache.image_import import ImageImports, ImageImportsArgs
from acr_cache.key_vault import CredentialVault
from acr_cache.monitoring import Alerts, Diagnostics
from acr_cache.network import RegistryNetwork
from acr_cache.placement import Placement
from acr_cache.private_access import PrivateAccess, PrivateAccessArgs
from acr_cache.protection import DeletionLocks
from acr_cache.purge import PurgePlan, PurgeTasks
from acr_cache.references import rewrite_map
from acr_cache.registry import Registry, RegistryArgs
from acr_cache.replication import Replicas, ReplicasArgs
from acr_cache.tokens import Tokens
from acr_cache.webhooks import Webhooks


@dataclass
class Deployment:
    """The components one environment is made of."""

    core: Registry
    replicas: Replicas | None
    private_access: PrivateAccess | None
    vault: CredentialVault | None
    cache: ArtifactCache | None
    access: Access | None
    imports: ImageImports | None
    locks: DeletionLocks | None
    diagnostics: Diagnostics | None
    alerts: Alerts | None
    webhooks: Webhooks | None
    purge: PurgeTasks | None
    tokens: Tokens | None


def build(config: StackConfig) -> Deployment:
    """Register every resource of one environment and export what other stacks need."""
    default_subscription = pulumi.Config("azure-native").get("subscriptionId")
    # Resources whose ids name another subscription than the default provider's get a provider of
    # their own (acr_cache.placement); an unknown default keeps everything on it, as before.
    placement = Placement(default_subscription or config.subscription_id)
    has_endpoints = bool(config.private_access.endpoints)
    network = config.network.registry_network(has_endpoints)
    rules = config.rules()
    adopted = (
        AdoptedIds(
            config.adoption,
            resource_group=config.resource_group.name,
            registry_name=config.registry.name,
            replicas=config.replicas,
            credential_sets=config.credential_sets,
            rules=rules,
            private_access=config.private_access,
        )
        if config.adoption is not None
        else None
    )
    registry_args = {
        "resource_group": config.resource_group,
        "registry": config.registry,
        "network": config.network,
        "private_endpoints_planned": has_endpoints,
        "protect": config.protection.protect,
    }
    # Asked only when something needs the subscription or tenant: the invoke (and loading the
    # authorization module) is a measurable share of a small plan.
    needs_client = bool(
        config.credential_sets
        or config.key_vault
        or config.access
        or config.imports
        or config.encryption
        or config.tokens
        or any(rule.registry_credential_set for rule in rules.values())
    )
    client = authorization.get_client_config_output() if needs_client else None
    if config.subscription_id and not default_subscription:
        # The config says where the default provider deploys; at deployment, check that it does.
        client = client or authorization.get_client_config_output()
        client.subscription_id.apply(partial(_check_subscription, config.subscription_id))
    key_maker = _KeyMaker(config, client, placement)
    core = Registry(
        "acr",
        cast(RegistryArgs, registry_args),
        anonymous_pull=config.docker_mirror.anonymous_pull,
        layout=Layout.STACK,
        adopt=adopted.registry if adopted else None,
        encryption=key_maker.encryption if config.encryption is not None else None,
    )
    replicas = None
    if config.replicas:
        replicas = Replicas(
            "replicas",
            # The sections as their validated models, which the component takes as they are.
            cast(ReplicasArgs, {"registry_id": core.registry_id, "replicas": config.replicas}),
            registry=RegistryRef(core.registry_id, core.resource_group_name, core.registry_name),
            layout=Layout.STACK,
            adopt=adopted.replicas if adopted else None,
        )
    private_access = None
    if has_endpoints:
        args = {
            "registry_id": core.registry_id,
            "home_region": config.registry.location,
            "endpoints": config.private_access.endpoints,
            "dns_zone": config.private_access.dns_zone,
            "region_count": len(config.regions),
            "protect": config.protection.protect,
        }
        private_access = PrivateAccess(
            "private",
            cast(PrivateAccessArgs, args),
            registry=RegistryRef(core.registry_id, core.resource_group_name, config.registry.name),
            replicas=list(replicas.replications.values()) if replicas else [],
            layout=Layout.STACK,
            adopt=adopted.endpoints if adopted else None,
            placement=placement,
        )

    vault, cache = _artifact_cache(
        config, rules, core, client, adopted.cache if adopted else None, key_maker.vault, placement
    )
    access = None
    if config.access:
        access = Access(
            "access",
            cast(AccessArgs, {"registry_id": core.registry_id, "grants": config.access}),
            registry=RegistryRef(
                core.registry_id,
                core.resource_group_name,
                config.registry.name,
                _client(client).subscription_id,
            ),
            layout=Layout.STACK,
        )
    imports = _imports(config, core, client)
    tokens = None
    if config.tokens:
        if vault is None:
            vault = _vault(config, client, core.resource_group_name, placement)
        tokens = Tokens(
            "tokens",
            tokens=config.tokens,
            subscription_id=_client(client).subscription_id,
            resource_group_name=core.resource_group_name,
            registry_name=core.registry_name,
            vault_id=vault.vault_id,
            after=[vault.vault] if vault.vault is not None else [],
        )
    diagnostics, alerts = _monitoring(config, core, vault, rules)
    webhooks = None
    if config.webhooks:
        keys = [key for hook in config.webhooks.values() for key in hook.config_keys().values()]
        webhooks = Webhooks(
            "webhooks",
            webhooks=config.webhooks,
            secrets=_secrets(keys),
            registry_name=core.registry_name,
            resource_group_name=core.resource_group_name,
            home_region=config.registry.location,
        )
    purge = None
    if config.purge or config.agent_pools:
        purge = PurgeTasks(
            "purge",
            purges={name: PurgePlan(rules[name].target, spec) for name, spec in config.purge.items()},
            registry_name=core.registry_name,
            resource_group_name=core.resource_group_name,
            home_region=config.registry.location,
            agent_pools=config.agent_pools,
        )

    # Last: each lock waits for everything below its scope (see DeletionLocks).
    locks = None
    if config.protection.locks:
        scopes: dict[str, pulumi.Input[str]] = {"registry": core.registry_id}
        covers: dict[str, list[pulumi.Resource]] = {"registry": []}
        if replicas is not None:
            covers["registry"].extend(replicas.replications.values())
        if cache is not None:
            covers["registry"].extend([*cache.credential_sets.values(), *cache.cache_rules.values()])
        if access is not None:
            covers["registry"].extend(access.assignments.values())
        if webhooks is not None:
            covers["registry"].extend(webhooks.webhooks.values())
        if tokens is not None:
            covers["registry"].extend([*tokens.scope_maps.values(), *tokens.tokens.values()])
        if purge is not None:
            covers["registry"].extend([*purge.agent_pools.values(), *purge.tasks.values()])
        if diagnostics is not None and "registry" in diagnostics.settings:
            covers["registry"].append(diagnostics.settings["registry"])
        if vault is not None and vault.vault is not None:
            scopes["vault"] = vault.vault_id
            covers["vault"] = list(cache.vault_resources) if cache is not None else []
            if diagnostics is not None and "vault" in diagnostics.settings:
                covers["vault"].append(diagnostics.settings["vault"])
            made = key_maker.key
            if made is not None and made.key is not None and made.grant is not None:
                covers["vault"] += [made.key, made.grant]
        locks = DeletionLocks("locks", scopes=scopes, covers=covers)

    pulumi.export("resourceGroupName", core.resource_group_name)
    pulumi.export("registryId", core.registry_id)
    pulumi.export("registryName", core.registry_name)
    pulumi.export("loginServer", core.login_server)
    if core.principal_id is not None:
        pulumi.export("registryPrincipalId", core.principal_id)
    if config.registry.identity is not None and config.registry.identity.user_assigned_ids:
        pulumi.export("registryUserAssignedIdentityIds", list(config.registry.identity.user_assigned_ids))
    pulumi.export("endpoints", _region_endpoints(config, network))
    if private_access is not None:
        pulumi.export("privateEndpointIds", private_access.private_endpoint_ids)
        if private_access.zone_ids:  # none in `policy` mode: the landing zone owns the zone
            pulumi.export("privateDnsZoneIds", private_access.dns_zone_ids)
        if "shared" in private_access.zone_ids:
            pulumi.export("privateDnsZoneId", private_access.zone_ids["shared"])
    if cache is not None:
        # Only maps with something in them: an empty `credentialSetIds` reads as "sets expected".
        if cache.set_ids:
            pulumi.export("credentialSetIds", cache.credential_set_ids)
            pulumi.export("credentialSetPrincipalIds", cache.credential_set_principal_ids)
            # As Azure reported it when each set was last written or refreshed (a new set is checked
            # before its Key Vault grant exists): `pulumi refresh` or `acr-cache health` for now.
            pulumi.export(
                "credentialHealth",
                pulumi.Output.all(
                    **{name: s.auth_credentials for name, s in cache.credential_sets.items()}
                ).apply(_health_of),
            )
        if rules:
            pulumi.export("pullReferences", cache.pull_references)
            # Source prefix -> cache prefix, for other stacks (an AKS stack's admission policy, a CI
            # template) to read through a StackReference: acr-cache clients writes the same map.
            pulumi.export(
                "pullRewrites",
                pulumi.Output.from_input(core.login_server).apply(
                    partial(rewrite_map, config.pull_mappings())
                ),
            )
    if vault is not None:
        pulumi.export("keyVaultId", vault.vault_id)
    if imports is not None and config.imports:
        pulumi.export("importedImages", imports.references)
    if diagnostics is not None and diagnostics.workspace_id is not None:
        pulumi.export("logAnalyticsWorkspaceId", diagnostics.workspace_id)
    if alerts is not None:
        pulumi.export("alertRuleIds", alerts.rule_ids)
    if webhooks is not None:
        pulumi.export("webhookIds", webhooks.webhook_ids)
    if purge is not None:
        pulumi.export("purgeTaskIds", purge.task_ids)
    if tokens is not None:
        pulumi.export("tokenIds", tokens.token_ids)
    placement.report()
    return Deployment(
        core,
        replicas,
        private_access,
        vault,
        cache,
        access,
        imports,
        locks,
        diagnostics,
        alerts,
        webhooks,
        purge,
        tokens,
    )


def _check_subscription(configured: str, signed_in: str) -> None:
    if signed_in and signed_in.lower() != configured:
        pulumi.log.error(
            f"acr-cache:subscriptionId is {configured}, but azure-native deploys to subscription {signed_in.lower()} "
            "(az account show, or ARM_SUBSCRIPTION_ID): set azure-native:subscriptionId to "
            f"{configured}, or correct acr-cache:subscriptionId; resources were placed for {configured}"
        )


# A string, so that defining it does not load the (large) authorization module; it is loaded
# only when a stack asks for the client configuration.
_Client: TypeAlias = "pulumi.Output[authorization.GetClientConfigResult] | None"


def _client(client: _Client) -> pulumi.Output[authorization.GetClientConfigResult]:
    assert client is not None  # build() asks for it whenever a component needs it
    return client


def _secrets(keys: Iterable[str | None]) -> dict[str, pulumi.Input[str]]:
    """The values of the config keys a component names, by key, as secret Outputs (they come from
    keys of their own: require_object would have returned them in plain text)."""
    config = pulumi.Config(NAMESPACE)
    return {key: config.require_secret(key) for key in keys if key}


def _imports(config: StackConfig, core: Registry, client: _Client) -> ImageImports | None:
    if not config.imports:
        return None
    keys = [
        key
        for image in config.imports.values()
        for key in (image.username_config_key, image.password_config_key)
    ]
    args = {"registry_id": core.registry_id, "images": config.imports, "secrets": _secrets(keys)}
    return ImageImports(
        "imports",
        cast(ImageImportsArgs, args),
        registry=RegistryRef(
            core.registry_id,
            core.resource_group_name,
            core.registry_name,
            _client(client).subscription_id,
            config.registry.login_server,
        ),
        layout=Layout.STACK,
    )


class _KeyMaker:
    """Makes the customer-managed key's identity, vault, key and grant when the registry asks
    (once its resource group exists), and keeps the vault for the credential sets."""

    def __init__(self, config: StackConfig, client: _Client, placement: Placement) -> None:
        self.config, self.client, self.placement = config, client, placement
        self.vault: CredentialVault | None = None
        self.key: CustomerManagedKey | None = None

    def encryption(self, resource_group_name: pulumi.Input[str]) -> RegistryEncryption:
        config = self.config
        assert config.encryption is not None  # Registry asks only when the config has a key
        vault_id = vault_name = vault_group = None
        after: list[pulumi.Resource] = []
        if config.encryption.key.name is not None:
            assert config.key_vault is not None  # the config refuses a created key without a vault
            self.vault = _vault(config, self.client, resource_group_name, self.placement)
            vault_id, vault_name, vault_group = (
                self.vault.vault_id,
                self.vault.name,
                self.vault.resource_group_name,
            )
            after = [self.vault.vault] if self.vault.vault is not None else []
        self.key = CustomerManagedKey(
            "encryption",
            config.encryption,
            resource_group_name=resource_group_name,
            location=config.registry.location,
            vault_id=vault_id,
            vault_name=vault_name,
            vault_resource_group=vault_group,
            subscription_id=_client(self.client).subscription_id,
            protect=config.protection.protect,
            after=after,
            vault_provider=self.vault.provider if self.vault is not None else None,
            vault_subscription=self.vault.subscription if self.vault is not None else None,
        )
        return self.key.encryption


def _vault(
    config: StackConfig, client: _Client, resource_group_name: pulumi.Input[str], placement: Placement
) -> CredentialVault:
    assert config.key_vault is not None
    return CredentialVault(
        "vault",
        config=config.key_vault,
        tenant_id=_client(client).tenant_id,
        resource_group_name=resource_group_name,
        home_region=config.registry.location,
        protect=config.protection.protect,
        placement=placement,
    )


def _artifact_cache(
    config: StackConfig,
    rules: dict[str, CacheRuleConfig],
    core: Registry,
    client: _Client,
    adopt: dict[str, str] | None = None,
    made: CredentialVault | None = None,
    placement: Placement | None = None,
) -> tuple[CredentialVault | None, ArtifactCache | None]:
    """`made`: the vault made already for the registry's key, which the credential sets share."""
    if not rules and not config.credential_sets:
        return made, None
    vault = made
    if vault is None and config.key_vault is not None:
        vault = _vault(config, client, core.resource_group_name, placement or Placement(None))
    keys = [
        key
        for spec in config.credential_sets.values()
        for key in (spec.username.config_key, spec.password.config_key)
    ]
    args = {
        "registry_id": core.registry_id,
        "cache_rules": rules,
        "credential_sets": config.credential_sets,
        "key_vault": config.key_vault,
        "secrets": _secrets(keys),
    }
    cache = ArtifactCache(
        "cache",
        cast(ArtifactCacheArgs, args),
        # The registry's name as its output: every set and rule then depends on the registry through
        # `registryName`, a replace key, so a replacement of the registry (which deletes them in
        # Azure) replaces them too (step_generator.go `calculateDependentReplacements`), instead of
        # leaving them in the state only. The group's name stays the config's: a replaced group
        # replaces the registry, and the chain takes the sets and rules from there (one Output per
        # rule, not two: at 1,000 rules each costs the SDK about 0.15 s).
        registry=RegistryRef(
            core.registry_id,
            config.resource_group.name,
            core.registry_name,
            client.subscription_id if client is not None else "",
            config.registry.login_server,
        ),
        registry_resource=core.registry,
        vault=vault,
        layout=Layout.STACK,
        adopt=adopt,
    )
    return vault, cache


def _health_of(credentials: dict[str, Any]) -> dict[str, str]:
    """Each set's `authCredentials[0].credentialHealth.status` (output types are dicts keyed by the
    SDK's snake_case names; a plain wire dict has camelCase)."""

    def field(value: Any, *names: str) -> Any:
        for name in names:
            if isinstance(value, dict) and value.get(name) is not None:
                return value[name]
        return None

    states = {}
    for name, items in credentials.items():
        first = (items or [None])[0]
        health = field(first, "credential_health", "credentialHealth")
        states[name] = str(field(health, "status") or "unknown until deployed")
    return states


def _monitoring(
    config: StackConfig,
    core: Registry,
    vault: CredentialVault | None,
    rules: dict[str, CacheRuleConfig],
) -> tuple[Diagnostics | None, Alerts | None]:
    settings = config.monitoring
    diagnostics = None
    if settings.diagnostics is not None:
        targets: dict[str, tuple[pulumi.Input[str], list[str]]] = {
            "registry": (core.registry_id, [str(c) for c in settings.diagnostics.registry_logs])
        }
        if vault is not None:
            targets["vault"] = (vault.vault_id, [str(c) for c in settings.diagnostics.vault_logs])
        diagnostics = Diagnostics(
            "monitoring",
            settings=settings.diagnostics,
            targets=targets,
            resource_group_name=core.resource_group_name,
            location=config.registry.location,
            protect=config.protection.protect,
        )
    alerts = None
    if settings.alerts is not None:
        group = settings.alerts.action_group
        key = group.webhook_url_config_key if group is not None else None
        alerts = Alerts(
            "alerts",
            settings=settings.alerts,
            registry_id=core.registry_id,
            registry_name=config.registry.name,
            resource_group_name=core.resource_group_name,
            workspace_id=diagnostics.workspace_id if diagnostics is not None else None,
            # A created workspace is in the home region; a rule over an existing one (maybe in
            # another subscription) is kept in the home region too (docs/operations.md).
            workspace_location=config.registry.location,
            cache_targets=[rule.target for rule in rules.values()],
            webhook_url=_secrets([key])[key] if key else None,
        )
    return diagnostics, alerts


def _region_endpoints(config: StackConfig, network: RegistryNetwork) -> dict[str, dict[str, str]]:
    """Per region, the names clients resolve and firewalls allow-list."""
    login_server = config.registry.login_server
    data = network.data_endpoint_enabled
    name = config.registry.name.lower()
    return {
        region: {
            "loginServer": login_server,
            # Without dedicated data endpoints, layers come from the regional storage account.
            "dataEndpoint": f"{name}.{region}.data.azurecr.io" if data else "*.blob.core.windows.net",
        }
        for region in config.regions
    }


def main() -> None:
    # Validation comes first, so a bad config registers nothing.
    config = load_stack_config()
    for message in performance.register(config.performance):
        pulumi.log.info(message)
    build(config)
