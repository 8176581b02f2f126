"""The stack model: every section of one environment, and the rules that need two sections.

Each section's own rules live with its model in the module of that concern (`registry`,
`network`, `private_access`, ...); what is here can only be judged with two sections side by side
(a Premium feature in one, the tier in another). The rules report under a key path prefix, so
the components (`args.`) and the stack (`acr-cache:`) share them.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Discriminator, Field, Tag

from acr_cache.access import GrantConfig, grant_problems
from acr_cache.adoption import AdoptionConfig, adoption_problems
from acr_cache.arm import AGENT_POOL_NAME, SUBNET, guid_check, parse_arm_id
from acr_cache.artifact_cache import (
    CacheRuleConfig,
    CredentialSetConfig,
    CredentialSetName,
    DockerMirrorConfig,
    RuleName,
    credential_set_problems,
    rule_map_problems,
    rule_set_problems,
)
from acr_cache.encryption import EncryptionConfig
from acr_cache.image_import import ImportConfig, import_problems
from acr_cache.key_vault import KeyVaultConfig
from acr_cache.model import ConfigModel, ConfigProblem
from acr_cache.monitoring import MonitoringConfig
from acr_cache.network import NetworkConfig, PublicAccess
from acr_cache.performance import PerformanceConfig
from acr_cache.private_access import PrivateAccessConfig
from acr_cache.protection import ProtectionConfig
from acr_cache.purge import AgentPoolConfig, PurgeConfig, task_name
from acr_cache.redaction import shown
from acr_cache.references import Mapping, mappings
from acr_cache.registry import RegistryConfig, ResourceGroupConfig, Sku, network_problems
from acr_cache.replication import ReplicaConfig, ReplicaRegion
from acr_cache.tokens import TokenConfig, token_problems
from acr_cache.upstreams import is_wildcard, wildcard_prefix
from acr_cache.webhooks import WebhookConfig, webhook_problems

NAMESPACE = "acr-cache"
"""The config namespace of the project: every section is `acr-cache:<section>`."""
_ALERT_WEBHOOK_PATH = f"{NAMESPACE}:monitoring.alerts.actionGroup.webhookUrlConfigKey"


class StackConfig(ConfigModel):
    """Everything one environment of acr-cache is built from."""

    resource_group: ResourceGroupConfig = Field(
        description="The resource group that holds the registry (created by the stack, or existing).",
    )
    subscription_id: Annotated[str, AfterValidator(guid_check)] | None = Field(
        default=None,
        description="The subscription the stack deploys to (the default azure-native provider's), when "
        "`azure-native:subscriptionId` does not say it (the Azure CLI's or `ARM_SUBSCRIPTION_ID` is "
        "used then). Knowing it, the stack deploys what lives in another subscription (an endpoint in "
        "another subscription's VNet, a zone or vault there) through a provider of that subscription, "
        "and the offline plan shows where everything goes. Must equal `azure-native:subscriptionId` "
        "when both are set.",
    )
    registry: RegistryConfig = Field(description="The container registry.")
    replicas: dict[ReplicaRegion, ReplicaConfig] = Field(
        default_factory=dict,
        description="Geo-replicas by Azure region (Premium). The region is each replica's identity: "
        "reordering or adding replicas renames nothing. The home region (`registry.location`) is "
        "not listed: it always holds the registry.",
    )
    network: NetworkConfig = Field(
        default_factory=NetworkConfig,
        description="The firewall of the public endpoint: public access, IP rules, trusted services, "
        "dedicated data endpoints.",
    )
    private_access: PrivateAccessConfig = Field(
        default_factory=PrivateAccessConfig,
        description="Private endpoints and the `privatelink.azurecr.io` DNS zone (Premium).",
    )
    key_vault: KeyVaultConfig | None = Field(
        default=None,
        description="The Key Vault that holds the credential sets' secrets (created, or existing). "
        "Required when `credentialSets` is set.",
    )
    credential_sets: dict[CredentialSetName, CredentialSetConfig] = Field(
        default_factory=dict,
        description="Upstream credentials by set name (5-50 of `[a-zA-Z0-9-]`). Each set gets a "
        "system-assigned identity with Key Vault Secrets User on its two secrets only.",
    )
    cache_rules: Annotated[
        Annotated[dict[RuleName, CacheRuleConfig], Tag("<map>")]
        | Annotated[list[CacheRuleConfig], Tag("<list>")],
        # Pick the shape by the input's type, so errors come from that shape only.
        Discriminator(lambda value: "<list>" if isinstance(value, list) else "<map>"),
    ] = Field(
        default_factory=dict,
        description="Cache rules: a map by rule name (5-50 of `[a-zA-Z0-9-]`), or a list whose rules "
        "are named by `name` or, failing that, after their target. At most 1,000 per registry. Works "
        "on every tier.",
    )
    docker_mirror: DockerMirrorConfig = Field(
        default_factory=DockerMirrorConfig,
        description="Docker Engine mirror mode (anonymous pull, a registry-wide Docker Hub rule). "
        "Off unless enabled explicitly with a reason.",
    )
    access: dict[str, GrantConfig] = Field(
        default_factory=dict,
        description="Who may pull and push, by grant name (lowercase, hyphens): AKS kubelet identities, "
        "Container Apps, CI. Each becomes an AcrPull or AcrPush role assignment on the registry with a "
        "deterministic name, so a re-run never duplicates it.",
    )
    imports: dict[str, ImportConfig] = Field(
        default_factory=dict,
        description="Public images copied into the registry, by target `repository:tag`. Removing an "
        "entry leaves the image in the registry.",
    )
    webhooks: dict[str, WebhookConfig] = Field(
        default_factory=dict,
        description="Webhooks by name (5-50 letters and digits): a URL told of pushes, deletions or "
        "quarantines, with its URL and headers from secret config keys.",
    )
    purge: dict[str, PurgeConfig] = Field(
        default_factory=dict,
        description="Scheduled purges of cached content by cache rule name: an ACR task that runs "
        "`acr purge` on the rule's repositories, deleting tags not updated for a while.",
    )
    agent_pools: dict[str, AgentPoolConfig] = Field(
        default_factory=dict,
        description="Dedicated ACR task agent pools in a VNet, by name (Premium): they run the purge "
        "tasks of a registry whose public endpoint is closed.",
    )
    monitoring: MonitoringConfig = Field(
        default_factory=MonitoringConfig,
        description="Diagnostic settings (logs and metrics of the registry and the vault) and the "
        "baseline alerts with their action group. Off unless set.",
    )
    tokens: dict[str, TokenConfig] = Field(
        default_factory=dict,
        description="Repository-scoped tokens by name, for clients that cannot use Entra ID: a scope map "
        "each (pull by default), and a password Azure generates into `keyVault` (never into Pulumi's "
        "state), with an expiry and a `rotation` to renew it.",
    )
    encryption: EncryptionConfig | None = Field(
        default=None,
        description="Encrypt the registry with a customer-managed key (Premium, at creation only): a "
        "user-assigned identity (created or existing) reads a key (created in `keyVault` with a "
        "rotation policy, or existing) it is granted. Default: Microsoft-managed keys.",
    )
    adoption: AdoptionConfig | None = Field(
        default=None,
        description="Resources made outside the stack that it takes over as they are (Pulumi's import), "
        "instead of creating them: the registry, its replicas, endpoints, credential sets and rules. "
        "See docs/adoption.md.",
    )
    protection: ProtectionConfig = Field(
        default_factory=ProtectionConfig,
        description="Guards against deleting stateful resources.",
    )
    performance: PerformanceConfig = Field(
        default_factory=PerformanceConfig,
        description="How the program registers resources (the registration shortcuts).",
    )

    def rule_entries(self, at: str = f"{NAMESPACE}:") -> list[tuple[str, str, CacheRuleConfig]]:
        """(key path, rule name, rule) for every cache rule, the mirror's included, in config order."""
        entries: list[tuple[str, str, CacheRuleConfig]] = []
        if isinstance(self.cache_rules, dict):
            for key, rule in self.cache_rules.items():
                entries.append((f"{at}cacheRules.{key}", rule.name or key, rule))
        else:
            for index, rule in enumerate(self.cache_rules):
                entries.append((f"{at}cacheRules[{index}]", rule.rule_name, rule))
        if self.docker_mirror.enabled:
            entries.append((f"{at}dockerMirror", self.docker_mirror.rule_name, self.docker_mirror.rule()))
        return entries

    def pull_mappings(self) -> list[Mapping]:
        """Every cache rule as clients see it (what it serves and where): `acr-cache clients` and the
        `pullRewrites` output read the same."""
        return mappings((name, rule.source, rule.target) for _, name, rule in self.rule_entries())

    def rules(self) -> dict[str, CacheRuleConfig]:
        """Every cache rule by its name (names are unique once the config is valid)."""
        return {name: rule for _, name, rule in self.rule_entries()}

    def referenced_config_keys(self) -> dict[str, tuple[str, bool]]:
        """Config keys the stack reads (credential sets, imports, the alerts' webhook): key -> (key path
        that names it, must be secret)."""
        keys: dict[str, tuple[str, bool]] = {}
        for set_name, spec in self.credential_sets.items():
            for role, source in (("username", spec.username), ("password", spec.password)):
                if source.config_key is not None:
                    path = f"{NAMESPACE}:credentialSets.{set_name}.{role}.configKey"
                    previous = keys.get(source.config_key, (path, False))
                    keys[source.config_key] = (previous[0], previous[1] or role == "password")
        for target, image in self.imports.items():
            for field, key in (
                ("usernameConfigKey", image.username_config_key),
                ("passwordConfigKey", image.password_config_key),
            ):
                if key is not None:
                    previous = keys.get(key, (f"{NAMESPACE}:imports.{target}.{field}", False))
                    keys[key] = (previous[0], previous[1] or field == "passwordConfigKey")
        for name, hook in self.webhooks.items():
            for field, key in hook.config_keys().items():
                keys[key] = (keys.get(key, (f"{NAMESPACE}:webhooks.{name}.{field}",))[0], True)
        group = self.monitoring.alerts.action_group if self.monitoring.alerts else None
        if group is not None and group.webhook_url_config_key is not None:
            # A webhook URL usually carries its token (a chat or paging service's key).
            key = group.webhook_url_config_key
            keys[key] = (keys.get(key, (_ALERT_WEBHOOK_PATH,))[0], True)
        return keys

    @property
    def has_private_endpoints(self) -> bool:
        return bool(self.private_access.endpoints)

    @property
    def public_access(self) -> PublicAccess:
        return self.network.effective_public_access(self.has_private_endpoints)

    @property
    def regions(self) -> list[str]:
        """The home region first, then the replica regions in sorted order."""
        return [self.registry.location, *sorted(self.replicas)]

    def cross_section_problems(self, at: str = f"{NAMESPACE}:") -> list[ConfigProblem]:
        """Rules that span sections, which the section models cannot see on their own, with key
        paths below `at` (the namespace, or `args.` for the components)."""
        return [
            *self._replica_problems(at),
            *self._premium_problems(at),
            *self._network_problems(at),
            *self.private_access_problems(at),
            *self._credential_set_problems(at),
            *self._cache_rule_problems(at),
            *self._access_problems(at),
            *self._import_problems(at),
            *self.monitoring.problems(f"{at}monitoring"),
            *webhook_problems(self.webhooks, f"{at}webhooks", self.registry.sku.value, self.regions),
            *self._purge_problems(at),
            *adoption_problems(self.adoption, self.resource_group.create, at),
            *self._encryption_problems(at),
            *token_problems(self.tokens, at, self.key_vault is not None),
            *self._mirror_token_problems(at),
        ]

    def placement_problems(
        self, stack_subscription: str | None, at: str = f"{NAMESPACE}:"
    ) -> list[ConfigProblem]:
        """What cannot be placed where its ids say: an agent pool's subnet outside the registry's
        subscription ("Any Azure resource that you connect to the virtual network must be in the same
        subscription as the virtual network", MicrosoftDocs/azure-docs articles/virtual-network/
        manage-virtual-network.md; the pool is the registry's child), and resources of other
        subscriptions while the stack's own subscription is unknown."""
        problems = []
        for name, pool in sorted(self.agent_pools.items()):
            subnet = parse_arm_id(pool.subnet_id, SUBNET).subscription
            if stack_subscription is not None and subnet != stack_subscription:
                problems.append(
                    ConfigProblem(
                        f"{at}agentPools.{name}.subnetId",
                        f"the subnet is in subscription {subnet}, the registry in {stack_subscription}, and Azure "
                        "connects a resource only to a VNet of its own subscription: use a subnet of the registry's "
                        "subscription (peered to the network that reaches the registry)",
                    )
                )
        if stack_subscription is None:
            zone = self.private_access.dns_zone
            if zone.subscription_id is not None:
                problems.append(
                    ConfigProblem(
                        f"{at}privateAccess.dnsZone.subscriptionId",
                        "the zone goes into another subscription only when the stack's own is known: set "
                        f"`{at}subscriptionId` (or `azure-native:subscriptionId`) to the subscription the stack "
                        "deploys to",
                    )
                )
            spread = {e.subnet.subscription for e in self.private_access.endpoints.values()}
            if zone.mode.value == "perEndpoint" and len(spread) > 1:
                problems.append(
                    ConfigProblem(
                        f"{at}privateAccess.dnsZone",
                        "`perEndpoint` zones go into each endpoint VNet's subscription, and these endpoints' "
                        f"VNets span {len(spread)} subscriptions while the stack's own is unknown: set "
                        f"`{at}subscriptionId` (or `azure-native:subscriptionId`) to the subscription the stack "
                        "deploys to",
                    )
                )
        return problems

    def _mirror_token_problems(self, at: str) -> list[ConfigProblem]:
        token = self.docker_mirror.token
        if token is None or token in self.tokens:
            return []
        known = ", ".join(sorted(self.tokens)) or "none"
        return [
            ConfigProblem(
                f"{at}dockerMirror.token",
                f"no token '{shown(token)}' in `{at}tokens` ({known}): add it there, with `read` on the "
                "repositories the mirror serves",
            )
        ]

    def _encryption_problems(self, at: str) -> list[ConfigProblem]:
        encryption = self.encryption
        if encryption is None:
            return []
        problems = []
        if self.registry.sku is not Sku.PREMIUM:
            problems.append(
                ConfigProblem(
                    f"{at}encryption",
                    f"a customer-managed key is a Premium feature (sku is {self.registry.sku.value})",
                )
            )
        if encryption.key.name is not None:
            if self.key_vault is None:
                problems.append(
                    ConfigProblem(
                        f"{at}encryption.key.name",
                        f"a key the stack creates goes into `{at}keyVault`: set it (a `name` the stack creates, or "
                        "an `existingId`), or give an existing key by `existingUri`",
                    )
                )
            elif self.key_vault.name is not None and not self.key_vault.purge_protection:
                problems.append(
                    ConfigProblem(
                        f"{at}keyVault.purgeProtection",
                        "Azure encrypts a registry only with a key whose vault has purge protection: remove "
                        "`purgeProtection: false`",
                    )
                )
        if self.adoption is not None and self.adoption.registry:
            problems.append(
                ConfigProblem(
                    f"{at}encryption",
                    "Azure sets a registry's encryption at creation only, and an adopted registry exists: remove "
                    "`encryption` (or adopt a registry made with this key, and check the preview shows no change)",
                )
            )
        return problems

    def url_config_keys(self) -> dict[str, str]:
        """Config keys that hold a URL Azure posts to (must be https): key -> key path naming it."""
        keys = {
            hook.service_uri_config_key: f"{NAMESPACE}:webhooks.{name}.serviceUriConfigKey"
            for name, hook in self.webhooks.items()
        }
        group = self.monitoring.alerts.action_group if self.monitoring.alerts else None
        if group is not None and group.webhook_url_config_key is not None:
            keys.setdefault(group.webhook_url_config_key, _ALERT_WEBHOOK_PATH)
        return keys

    def _purge_problems(self, at: str) -> list[ConfigProblem]:
        problems = []
        rules = self.rules() if self.purge else {}
        tasks: dict[str, str] = {}
        for name, settings in self.purge.items():
            path = f"{at}purge.{name}"
            if name not in rules:
                known = ", ".join(sorted(rules)) or "none"
                problems.append(
                    ConfigProblem(
                        path, f"no cache rule '{shown(name)}' to purge: the key is a rule name ({known})"
                    )
                )
            elif rules[name].target == "*":
                problems.append(
                    ConfigProblem(
                        path,
                        f"rule '{shown(name)}' fills the whole registry (target `*`), so its purge would delete "
                        "old tags of every repository, pushed and imported ones too: purge narrower rules instead",
                    )
                )
            if settings.agent_pool is None and self.public_access is not PublicAccess.OPEN:
                problems.append(
                    ConfigProblem(
                        f"{path}.agentPool",
                        "the registry's public endpoint is closed or restricted, and the shared ACR task "
                        "agents reach it only there, so the purge would fail: name a dedicated agent pool "
                        "in a VNet that reaches the registry (`agentPool`), or purge from inside the "
                        "network (docs/operations.md)",
                    )
                )
            if self.agent_pools and settings.agent_pool not in (None, *self.agent_pools):
                problems.append(
                    ConfigProblem(
                        f"{path}.agentPool",
                        f"'{settings.agent_pool}' is not one of `agentPools` ({', '.join(sorted(self.agent_pools))}): "
                        "name one of them (a pool made outside the stack is fine when `agentPools` is empty)",
                    )
                )
            if settings.agent_pool is not None and self.registry.sku is not Sku.PREMIUM:
                problems.append(
                    ConfigProblem(f"{path}.agentPool", "dedicated agent pools are a Premium feature")
                )
            task = task_name(name)
            if task in tasks:
                problems.append(
                    ConfigProblem(
                        path, f"its task name '{task}' is also {tasks[task]}'s (cut to 50): rename a rule"
                    )
                )
            tasks.setdefault(task, name)
        for pool in self.agent_pools:
            path = f"{at}agentPools.{pool}"
            try:
                AGENT_POOL_NAME.check(pool)
            except ValueError as exc:
                problems.append(ConfigProblem(path, str(exc)))
            if self.registry.sku is not Sku.PREMIUM:
                problems.append(ConfigProblem(path, "dedicated agent pools are a Premium feature"))
        return problems

    def _access_problems(self, at: str) -> list[ConfigProblem]:
        return grant_problems(self.access, f"{at}access")

    def _import_problems(self, at: str) -> list[ConfigProblem]:
        problems = import_problems(self.imports, f"{at}imports")
        rules = self.rules()
        for target in self.imports:
            path = f"{at}imports.{target}"
            if ":" not in target:
                continue  # reported by import_problems
            repository = target.rpartition(":")[0]
            for name, rule in rules.items():
                covered = (
                    wildcard_prefix(rule.target) == ""
                    or repository.startswith(wildcard_prefix(rule.target) + "/")
                    if is_wildcard(rule.target)
                    else repository == rule.target
                )
                if covered:
                    problems.append(
                        ConfigProblem(
                            path,
                            f"repository '{shown(repository)}' belongs to cache rule '{shown(name)}' (target '{shown(rule.target)}'); "
                            "a cache rule's repositories must not already exist: import under another path, "
                            "e.g. 'base/" + target + "'",
                        )
                    )
        if (
            self.imports
            and not self.network.trusted_services_bypass
            and self.public_access is not PublicAccess.OPEN
        ):
            problems.append(
                ConfigProblem(
                    f"{at}network.trustedServicesBypass",
                    "importing into a restricted registry runs as a trusted Azure service: remove "
                    "`trustedServicesBypass: false` or the imports",
                )
            )
        return problems

    def _credential_set_problems(self, at: str) -> list[ConfigProblem]:
        problems = []
        prefix = f"{at}credentialSets"
        if self.credential_sets and self.key_vault is None:
            problems.append(
                ConfigProblem(
                    f"{at}keyVault",
                    f"credential sets keep their secrets in Key Vault: set `{at}keyVault` with a "
                    "`name` (the stack creates the vault) or an `existingId`",
                )
            )
        return problems + credential_set_problems(self.credential_sets, prefix)

    def _cache_rule_problems(self, at: str) -> list[ConfigProblem]:
        entries = self.rule_entries(at)
        problems = rule_set_problems(entries, self.credential_sets, f"{at}cacheRules", f"{at}credentialSets")
        if isinstance(self.cache_rules, dict):
            problems += rule_map_problems(self.cache_rules, f"{at}cacheRules")
        problems.extend(self._mirror_problems(at))
        if (
            entries
            and not self.network.trusted_services_bypass
            and self.public_access is not PublicAccess.OPEN
        ):
            problems.append(
                ConfigProblem(
                    f"{at}network.trustedServicesBypass",
                    "the artifact cache fills a restricted registry as a trusted Azure service, so it "
                    "cannot populate with the bypass off while cache rules exist: remove "
                    "`trustedServicesBypass: false`",
                )
            )
        return problems

    def _mirror_problems(self, at: str) -> list[ConfigProblem]:
        mirror = self.docker_mirror
        if not mirror.enabled:
            return []
        problems = []
        if self.registry.sku is Sku.BASIC:
            problems.append(
                ConfigProblem(
                    f"{at}dockerMirror.enabled",
                    "mirror mode needs anonymous pull, which Azure offers on Standard and Premium only: "
                    f"set `{at}registry.sku` to Standard or Premium",
                )
            )
        return problems

    def _replica_problems(self, at: str) -> list[ConfigProblem]:
        problems = []
        if self.replicas and self.registry.soft_delete_days is not None:
            problems.append(
                ConfigProblem(
                    f"{at}registry.softDeleteDays",
                    "Azure's soft delete policy does not support geo-replicated registries: remove "
                    "`softDeleteDays` (the retention policy then applies) or the replicas",
                )
            )
        for region in self.replicas:
            key = f"{at}replicas.{region}"
            if region == self.registry.location:
                problems.append(
                    ConfigProblem(
                        key,
                        f"'{shown(region)}' is the registry's home region (registry.location), which always "
                        "holds the registry: list only other regions as replicas",
                    )
                )
        return problems

    def _premium_problems(self, at: str) -> list[ConfigProblem]:
        registry = self.registry
        if registry.is_premium:
            return []
        needs = (
            f"needs the Premium tier (sku is {registry.sku.value}): set `{at}registry.sku: Premium` or remove"
        )
        problems = []
        if self.replicas:
            problems.append(ConfigProblem(f"{at}replicas", f"geo-replication {needs} the replicas"))
        if self.private_access.endpoints:
            problems.append(
                ConfigProblem(f"{at}privateAccess.endpoints", f"private endpoints {needs} the endpoints")
            )
        return problems

    def _network_problems(self, at: str) -> list[ConfigProblem]:
        return network_problems(self.registry, self.network, self.has_private_endpoints, at)

    def private_access_problems(self, at: str) -> list[ConfigProblem]:
        return self.private_access.problems(
            region_count=len(self.regions),
            at=f"{at}privateAccess",
            default_group=self.resource_group.name,
            registry_name=self.registry.name,
        )
