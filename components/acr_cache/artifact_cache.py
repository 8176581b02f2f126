"""The artifact cache: credential sets backed by Key Vault, their grants, and cache rules.

Per credential set: two Key Vault secrets (written from Pulumi secret config, or existing ones),
the set with its system-assigned identity, and Key Vault Secrets User on exactly those two secrets
for that identity. Rules that use a set wait for its grants, so the set is healthy when the rule
is created.
"""

import re
import uuid
from collections.abc import Mapping
from functools import partial
from typing import Annotated, NamedTuple, NotRequired, Self, TypedDict

import pulumi
from pulumi_azure_native import authorization, containerregistry, keyvault
from pydantic import AfterValidator, Field, ValidationError, field_validator, model_validator

from acr_cache.arm import CACHE_RULE_NAME, CREDENTIAL_SET, CREDENTIAL_SET_NAME, SECRET_NAME, id_check
from acr_cache.azure_types import refused_in_place
from acr_cache.component_args import CacheRuleArgs, CredentialSetArgs, Input, KeyVaultArgs
from acr_cache.component_base import (
    ChildNames,
    Layout,
    RegistryRef,
    component_error,
    validated,
    validated_entries,
)
from acr_cache.key_vault import CredentialVault, KeyVaultConfig
from acr_cache.model import FREE_TEXT, ConfigModel, ConfigProblem, collisions, field_error
from acr_cache.redaction import shown
from acr_cache.roles import KEY_VAULT_SECRETS_USER, role_definition_id
from acr_cache.upstreams import (
    DOCKER_HUB,
    MAX_CACHE_RULES,
    Auth,
    check_login_server,
    check_target,
    derive_rule_name,
    is_wildcard,
    parse_source,
    wildcards_overlap,
)

_CONFIG_KEY = re.compile(r"[a-zA-Z][a-zA-Z0-9_-]{0,99}")
RuleName = Annotated[str, AfterValidator(CACHE_RULE_NAME.check)]
"""A cache rule's name (ARM CacheRuleNameParameter)."""
CredentialSetName = Annotated[str, AfterValidator(CREDENTIAL_SET_NAME.check)]
"""A credential set's name (ARM CredentialSetNameParameter)."""
CredentialSetId = Annotated[str, AfterValidator(id_check(CREDENTIAL_SET))]
"""The ARM id of a credential set."""
# Deterministic role assignment names: the same set and secret always give the same GUID, so a
# re-run never adds a second assignment.
_ASSIGNMENT_NAMESPACE = uuid.UUID("0b8f3c8e-4a3e-4d53-9a55-7c1c3b0b6f21")


CREDENTIAL_SET_TYPE = "azure-native:containerregistry:CredentialSet"
CACHE_RULE_REPLACES = refused_in_place("azure-native:containerregistry:CacheRule")
"""One list for every rule: a thousand rules share it."""


class SecretSource(ConfigModel):
    """Where one credential (username or password/token) comes from."""

    config_key: str | None = Field(
        default=None,
        description="A key in the `acr-cache` namespace holding the value, set with "
        "`pulumi config set --secret <key> <value>`; the stack writes it into the vault as "
        "`secretName`. A password must be a secret key; a username may be plain.",
    )
    secret_name: Annotated[str, AfterValidator(SECRET_NAME.check)] | None = Field(
        default=None,
        description="Name of the Key Vault secret (1-127 letters, digits, hyphens). With `configKey`, "
        "the secret the stack writes (default `<set>-username` / `<set>-password`); without, an "
        "existing secret in the vault (bring your own).",
    )

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if self.config_key is None and self.secret_name is None:
            raise field_error(
                "configKey",
                "give `configKey` (a Pulumi secret config key the stack writes into the vault) or "
                "`secretName` (an existing secret in the vault)",
            )
        if self.config_key is not None and not _CONFIG_KEY.fullmatch(self.config_key):
            raise field_error(
                "configKey",
                f"'{shown(self.config_key)}' is not a config key name: give the key without the `acr-cache:` "
                "namespace, e.g. `dockerHubToken`",
            )
        return self


class CredentialSetConfig(ConfigModel):
    """Credentials for one upstream. Its key in `credentialSets` is its name (5-50 of `[a-zA-Z0-9-]`)."""

    login_server: str = Field(
        description="Upstream login server: `docker.io`, `ghcr.io`, `quay.io`, `registry.k8s.io`, "
        "`nvcr.io`, `gcr.io`, `<region>-docker.pkg.dev`, `registry.redhat.io`, `dhi.io` or "
        "`<name>.azurecr.io`. Upstreams that only serve anonymous pulls (MCR, ECR Public) take no set.",
    )
    username: SecretSource = Field(description="The upstream username (Docker Hub: your account name).")
    password: SecretSource = Field(
        description="The upstream password or, better, an access token (Docker Hub: a personal access "
        "token with read-only public repository scope)."
    )

    @field_validator("login_server")
    @classmethod
    def _login_server(cls, value: str) -> str:
        return check_login_server(value)


class CacheRuleConfig(ConfigModel):
    """One cache rule: pulls of `<registry>/<target>` come from `<source>` through the registry."""

    source: str = Field(
        description="Upstream repository with its host, lowercase, no tag or digest: "
        "`docker.io/library/nginx`, or a wildcard ending in `/*` (`mcr.microsoft.com/dotnet/*`)."
    )
    target: str = Field(
        default="",
        description="Repository inside the registry (`library/nginx`), or a wildcard ending in `/*` "
        "(or `*`) when the source is one. Wildcard targets may not be equal or nested. Default: the "
        "source as written (`docker.io/library/nginx`), as the Azure Verified Modules do.",
    )
    name: RuleName | None = Field(
        default=None,
        description="Rule name (5-50 of `[a-zA-Z0-9-]`). In the map form it is the key; in the list "
        "form it defaults to one derived from the target (hashed when too long).",
    )
    credential_set: str | None = Field(
        default=None, description="Key of a credential set in `credentialSets` that authenticates this rule."
    )
    credential_set_id: CredentialSetId | None = Field(
        default=None,
        description="ARM id of a credential set that exists outside this stack (another team's "
        "registry config), instead of `credentialSet`.",
    )
    registry_credential_set: CredentialSetName | None = Field(
        default=None,
        description="Name of a credential set that already exists on the same registry (the "
        "platform's `dockerhub`, say), instead of `credentialSet`: a team adding rules to a shared "
        "registry reuses its sets without knowing their ids.",
    )

    @model_validator(mode="after")
    def _shape(self) -> Self:
        try:
            source = parse_source(self.source)
        except ValueError as exc:
            raise field_error("source", str(exc)) from None
        defaulted = "target" not in self.model_fields_set
        if defaulted:
            # Frozen model: the default is derived from another field, once, while validating.
            object.__setattr__(self, "target", self.source)
        try:
            check_target(self.target)
        except ValueError as exc:
            if defaulted:
                raise field_error(
                    "target", f"without `target` it is the source as written, and {exc}: give `target`"
                ) from None
            raise field_error("target", str(exc)) from None
        if source.wildcard != is_wildcard(self.target):
            raise field_error(
                "target",
                f"source '{shown(self.source)}' and target '{shown(self.target)}' must both end in `/*` (a wildcard "
                "rule) or neither (a rule for one repository)",
            )
        given = [
            k for k in ("credential_set", "credential_set_id", "registry_credential_set") if getattr(self, k)
        ]
        if len(given) > 1:
            raise field_error(
                "credentialSetId",
                "give one of `credentialSet`, `credentialSetId` and `registryCredentialSet`, not several",
            )
        uses_set = bool(self.credential_set or self.credential_set_id or self.registry_credential_set)
        upstream = source.upstream
        if upstream.auth is Auth.REQUIRED and not uses_set:
            hint = " (Azure refuses it: EnforceDockerAuthentication)" if source.host == DOCKER_HUB else ""
            raise field_error(
                "credentialSet",
                f"{upstream.title} only serves authenticated pulls to the cache{hint}: add "
                f"`credentialSet` naming a set whose loginServer is {source.host}",
            )
        if upstream.auth is Auth.NONE and uses_set:
            raise field_error(
                "credentialSet",
                f"{upstream.title} only serves anonymous pulls: remove `credentialSet`",
            )
        return self

    @property
    def host(self) -> str:
        return self.source.partition("/")[0]

    @property
    def rule_name(self) -> str:
        return self.name or derive_rule_name(self.target)


class DockerMirrorConfig(ConfigModel):
    """Docker Engine mirror mode: a registry-wide Docker Hub rule with anonymous pull."""

    enabled: bool = Field(
        default=False,
        description="Add the rule `docker.io/*` -> `*` and turn anonymous pull on, so that Docker "
        "daemons whose `registry-mirrors` point at the registry (they cannot authenticate to a mirror) "
        "pull Docker Hub through it. Anyone who reaches the registry can then pull every repository in "
        "it without signing in. Never on by default; see docs/docker-mirror.md.",
    )
    reason: str | None = Field(
        default=None,
        json_schema_extra=FREE_TEXT,
        description="Why this environment needs anonymous pull (required when enabled; kept in the "
        "config for reviewers and auditors).",
    )
    credential_set: str | None = Field(
        default=None,
        description="Key of the Docker Hub credential set in `credentialSets` that the mirror rule "
        "uses. When enabled, this, `credentialSetId` or `registryCredentialSet` is required.",
    )
    credential_set_id: CredentialSetId | None = Field(
        default=None,
        description="ARM id of a Docker Hub credential set that exists outside this stack, instead "
        "of `credentialSet`.",
    )
    registry_credential_set: CredentialSetName | None = Field(
        default=None,
        description="Name of a Docker Hub credential set that already exists on the registry, "
        "instead of `credentialSet`.",
    )
    rule_name: RuleName = Field(default="dockerhub-mirror", description="Name of the mirror's cache rule.")
    token: str | None = Field(
        default=None,
        description="Name of a token in `acr-cache:tokens` that the clients sign in to the mirror with, "
        "instead of anonymous pull (for runtimes that can sign in to a mirror, such as containerd "
        "with `hosts.toml` credentials). Anonymous pull then stays off and `reason` is not needed.",
    )

    @property
    def anonymous_pull(self) -> bool:
        """Whether mirror mode opens anonymous pull (it does unless a token replaces it)."""
        return self.enabled and self.token is None

    @model_validator(mode="after")
    def _explicit(self) -> Self:
        if self.enabled:
            if self.token is None and (not self.reason or len(self.reason.strip()) < 20):
                raise field_error(
                    "reason",
                    "mirror mode opens anonymous pull: say in `reason` (20 characters or more) why this "
                    "environment needs it",
                )
            if not (self.credential_set or self.credential_set_id or self.registry_credential_set):
                raise field_error(
                    "credentialSet",
                    "Docker Hub needs credentials: name the Docker Hub credential set (`credentialSet`), "
                    "or one made outside the stack (`credentialSetId`, `registryCredentialSet`)",
                )
            try:
                self.rule()
            # What only the rule checks (one credential set, not several), under the mirror's key:
            # the shapes of ids and names the mirror's own fields have checked already. pydantic-core
            # today merges a ValidationError raised in a validator into the outer one the same way,
            # but pydantic's docs ask validators to raise ValueError: this does not lean on that.
            except ValidationError as exc:  # mutation: equivalent (pydantic-core gives the same problem)
                error = exc.errors()[0]  # mutation: equivalent (the rule stops at its first problem)
                raise field_error(error["ctx"]["field"], error["ctx"]["message"]) from None
        return self

    def rule(self) -> CacheRuleConfig:
        return CacheRuleConfig(
            source=f"{DOCKER_HUB}/*",
            target="*",
            name=self.rule_name,
            credential_set=self.credential_set,
            credential_set_id=self.credential_set_id,
            registry_credential_set=self.registry_credential_set,
        )


def rule_set_problems(
    entries: list[tuple[str, str, CacheRuleConfig]],
    credential_sets: Mapping[str, CredentialSetConfig],
    rules_path: str,
    sets_path: str,
) -> list[ConfigProblem]:
    """What ACR refuses in a set of rules: more than 1,000, duplicate names,
    equal or nested wildcard targets, two rules for one repository, a credential set that is
    missing or logs in to another upstream, names equal but for case. `entries` are (key path, rule
    name, rule)."""
    problems: list[ConfigProblem] = []
    if len(entries) > MAX_CACHE_RULES:
        problems.append(
            ConfigProblem(
                rules_path,
                f"{len(entries)} cache rules; a registry holds at most {MAX_CACHE_RULES}: replace groups of "
                "rules by wildcard rules (`library/*`)",
            )
        )
    names: dict[str, str] = {}
    lowered: dict[str, str] = {}  # path -> name, without case
    static_targets: dict[str, str] = {}
    wildcards: list[tuple[str, str]] = []
    for path, name, rule in entries:
        if name in names:
            problems.append(
                ConfigProblem(
                    path,
                    f"rule name '{shown(name)}' is also the name of {names[name]}: give one of them a different `name`",
                )
            )
        else:
            lowered[path] = name.lower()  # exact duplicates are reported just above
        names.setdefault(name, path)
        if rule.credential_set is not None:
            spec = credential_sets.get(rule.credential_set)
            if spec is None:
                known = ", ".join(f"`{k}`" for k in credential_sets) or "none"
                problems.append(
                    ConfigProblem(
                        _field(path, "credentialSet"),
                        f"no credential set '{shown(rule.credential_set)}' in {sets_path} (defined: {known}): "
                        "define it there, or name a set that already exists on the registry (another stack's) "
                        "with `registryCredentialSet` instead",
                    )
                )
            elif spec.login_server != rule.host:
                problems.append(
                    ConfigProblem(
                        _field(path, "credentialSet"),
                        f"credential set '{shown(rule.credential_set)}' logs in to {spec.login_server}, but the rule "
                        f"pulls from {rule.host}: use a set whose loginServer is {rule.host}",
                    )
                )
        if is_wildcard(rule.target):
            for other_path, other_target in wildcards:
                if wildcards_overlap(rule.target, other_target):
                    problems.append(
                        ConfigProblem(
                            _field(path, "target"),
                            f"wildcard target '{shown(rule.target)}' overlaps '{shown(other_target)}' of {other_path}; ACR "
                            "refuses wildcard rules whose targets are equal or nested: remove one, or use a "
                            "static rule for the single repository",
                        )
                    )
            wildcards.append((path, rule.target))
        elif rule.target in static_targets:
            problems.append(
                ConfigProblem(
                    _field(path, "target"),
                    f"target '{shown(rule.target)}' is already the target of {static_targets[rule.target]}: a "
                    "repository can have one rule",
                )
            )
        else:
            static_targets[rule.target] = path
    problems += collisions(lowered, "cache rule name (Azure ignores case in names)", "rename one")
    return problems


def rule_map_problems(rules: Mapping[str, CacheRuleConfig], at: str) -> list[ConfigProblem]:
    """Rules given as a map: each key is the rule's name, so it follows the name rule and a `name`
    beside it can only contradict it."""
    problems = []
    for key, rule in rules.items():
        try:
            CACHE_RULE_NAME.check(key)
        except ValueError as exc:
            problems.append(ConfigProblem(f"{at}.{key}", str(exc)))
            continue
        if rule.name is not None and rule.name != key:
            problems.append(
                ConfigProblem(f"{at}.{key}.name", "in the map form the key is the rule's name: remove `name`")
            )
    return problems


def credential_set_problems(sets: Mapping[str, CredentialSetConfig], at: str) -> list[ConfigProblem]:
    """Credential sets as a whole: names, names equal but for case, and two sets writing one vault
    secret (the second write would replace the first set's credential)."""
    problems = []
    owners: dict[str, str] = {}
    for set_name, spec in sets.items():
        try:
            CREDENTIAL_SET_NAME.check(set_name)
        except ValueError as exc:
            problems.append(ConfigProblem(f"{at}.{set_name}", str(exc)))
        for role, source in (("username", spec.username), ("password", spec.password)):
            secret = secret_name_for(set_name, role, source)
            if secret in owners and source.config_key is not None:
                problems.append(
                    ConfigProblem(
                        f"{at}.{set_name}.{role}.secretName",
                        f"the vault secret '{shown(secret)}' is already used by {owners[secret]}: give each "
                        "written secret its own `secretName`",
                    )
                )
            owners.setdefault(secret, f"{set_name}.{role}")
    problems += collisions(
        {f"{at}.{k}": k.lower() for k in sets},
        "credential set name (Azure ignores case in names)",
        "rename one of them",
    )
    return problems


def _field(rule_path: str, field: str) -> str:
    """The key path of a rule's field. The mirror's rule has no `target` key (it is always `*`,
    made by `enabled`)."""
    if rule_path.endswith(":dockerMirror"):
        return f"{rule_path}.{'enabled' if field == 'target' else field}"
    return f"{rule_path}.{field}"


class SecretValues(NamedTuple):
    """The secret config values a credential set needs, as Pulumi secrets."""

    username: pulumi.Input[str] | None
    password: pulumi.Input[str] | None


def secret_name_for(set_name: str, role: str, source: SecretSource) -> str:
    return source.secret_name or f"{set_name}-{role}"


def assignment_name(registry_name: str, set_name: str, secret_name: str) -> str:
    return str(
        uuid.uuid5(
            _ASSIGNMENT_NAMESPACE,
            f"{registry_name.lower()}/{set_name}/{secret_name}/{KEY_VAULT_SECRETS_USER}",
        )
    )


class ArtifactCacheArgs(TypedDict):
    """Arguments of ArtifactCache."""

    registry_id: Input[str]
    """ARM id of the registry (any tier)."""
    cache_rules: dict[str, CacheRuleArgs]
    """Cache rules by name (5-50 of [a-zA-Z0-9-])."""
    credential_sets: NotRequired[dict[str, CredentialSetArgs]]
    """Credential sets by name."""
    key_vault: NotRequired[KeyVaultArgs]
    """The vault for the sets' secrets (required with credential_sets)."""
    secrets: NotRequired[dict[str, Input[str]]]
    """Secret values by the `config_key` names the credential sets use."""
    protect: NotRequired[bool]
    """Protect a created vault (default true)."""


class ArtifactCache(pulumi.ComponentResource):
    """Cache rules on a registry, with credential sets backed by Key Vault and their grants."""

    credential_set_ids: pulumi.Output[dict[str, str]]
    """ARM ids of the credential sets by name."""
    credential_set_principal_ids: pulumi.Output[dict[str, str]]
    """Principal ids of the sets' identities by name."""
    pull_references: pulumi.Output[dict[str, str]]
    """Per rule: <loginServer>/<target>."""

    def __init__(
        self,
        name: str,
        args: ArtifactCacheArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        registry: RegistryRef | None = None,
        registry_resource: pulumi.Resource | None = None,
        vault: CredentialVault | None = None,
        layout: Layout = Layout.COMPONENT,
        adopt: Mapping[str, str] | None = None,
    ) -> None:
        """The stack program passes what it holds already: the `registry` by the names in its
        config (known at preview, and cheaper to register a thousand times), the `registry_resource`
        every set and rule waits for, and the `vault` it made beside the cache."""
        super().__init__("acr-cache:index:ArtifactCache", name, None, layout.options(opts, FORMER_TYPE))
        problems: list[ConfigProblem] = []
        rules = validated_entries(CacheRuleConfig, args["cache_rules"], "args.cache_rules", problems)
        credential_sets = validated_entries(
            CredentialSetConfig, args.get("credential_sets") or {}, "args.credential_sets", problems
        )
        vault_args = args.get("key_vault")
        vault_config = (
            validated(KeyVaultConfig, vault_args, "args.key_vault", problems) if vault_args else None
        )
        given = {key: pulumi.Output.secret(value) for key, value in (args.get("secrets") or {}).items()}
        entries = [(f"args.cache_rules.{key}", key, rule) for key, rule in rules.items()]
        problems += rule_set_problems(entries, credential_sets, "args.cache_rules", "args.credential_sets")
        problems += rule_map_problems(rules, "args.cache_rules")
        problems += credential_set_problems(credential_sets, "args.credential_sets")
        creates_vault = vault is None and vault_config is not None and vault_config.name is not None
        if creates_vault and vault_config is not None and vault_config.location is None:
            problems.append(
                ConfigProblem(
                    "args.key_vault.location", "a vault the component creates needs its region in `location`"
                )
            )
        if credential_sets and vault_config is None:
            problems.append(
                ConfigProblem(
                    "args.key_vault", "credential sets keep their secrets in Key Vault: give key_vault"
                )
            )
        for set_name, spec in credential_sets.items():
            for role, source in (("username", spec.username), ("password", spec.password)):
                if source.config_key is not None and source.config_key not in given:
                    problems.append(
                        ConfigProblem(
                            f"args.credential_sets.{set_name}.{role}.config_key",
                            f"no value '{shown(source.config_key)}' in args.secrets",
                        )
                    )
        if problems:
            raise component_error("ArtifactCache", name, problems, ArtifactCacheArgs)
        ref = registry or RegistryRef.from_id(args["registry_id"])
        # Asked once, and only when needed: the tenant of a vault the component creates, or the
        # subscription of a registry given without one.
        client_config: pulumi.Output[authorization.GetClientConfigResult] | None = None

        # Quoted: evaluated at definition, the annotation would load the whole authorization module
        # (0.15 s) in every program, whether or not it signs anything in.
        def login() -> (
            "pulumi.Output[authorization.GetClientConfigResult]"  # mutation: equivalent (never evaluated)
        ):
            nonlocal client_config
            if client_config is None:
                client_config = authorization.get_client_config_output(
                    opts=pulumi.InvokeOutputOptions(parent=self)
                )
            return client_config

        if vault is None and vault_config is not None:
            vault = CredentialVault(
                f"{name}-vault",
                config=vault_config,
                tenant_id=login().tenant_id,
                resource_group_name=ref.resource_group_name,
                home_region="",  # a vault the component creates has its `location` (checked above)
                protect=bool(args.get("protect", True)),
                opts=pulumi.ResourceOptions(parent=self),
            )
        # A value per source that names a config key (present: checked above); None for a secret
        # already in the vault.
        secrets = {
            set_name: SecretValues(
                *(
                    given[source.config_key] if source.config_key else None
                    for source in (spec.username, spec.password)
                )
            )
            for set_name, spec in credential_sets.items()
        }
        registry_name, registry_key, login_server = ref.registry_name, ref.registry_name, ref.pull_host
        resource_group_name = ref.resource_group_name
        subscription_id: pulumi.Input[str] | None = ref.subscription_id or None
        if subscription_id is None and (
            credential_sets or any(rule.registry_credential_set for rule in rules.values())
        ):
            # A registry given without its subscription (a RegistryRef from another stack, say): the
            # grants' role and the sets named on the registry need it, and it is the login's own.
            subscription_id = login().subscription_id

        former = layout.former_children(self, name, FORMER_TYPE, "cache")
        children = ChildNames(name, [*credential_sets, *rules])

        self.credential_sets: dict[str, containerregistry.CredentialSet] = {}
        set_ids: dict[str, pulumi.Output[str]] = {}
        principal_ids: dict[str, pulumi.Output[str]] = {}
        self.vault_resources: list[pulumi.Resource] = []
        """What this component puts inside the vault: secrets and the sets' grants on them."""
        grants: dict[str, list[pulumi.Resource]] = {}
        # Given the registry resource, names can be plain strings (known at preview, and cheaper to
        # register a thousand times) while sets and rules still wait for the registry explicitly.
        after_registry: list[pulumi.Resource] = [registry_resource] if registry_resource is not None else []
        # The subscription is needed only for grants and for sets named on the registry.
        # A role is assigned by its definition in the subscription of the scope: an existing vault's own.
        scope_subscription = (
            vault.subscription if vault is not None and vault.subscription else subscription_id
        )
        role_definition = (
            role_definition_id(scope_subscription, KEY_VAULT_SECRETS_USER)
            if scope_subscription is not None
            else None
        )
        for set_name in sorted(credential_sets):
            # The config requires a vault for sets.
            assert vault is not None
            assert vault_config is not None
            spec = credential_sets[set_name]
            written: dict[str, pulumi.Resource] = {}
            secret_names: dict[str, str] = {}
            for role, source, value in (
                ("username", spec.username, secrets[set_name].username),
                ("password", spec.password, secrets[set_name].password),
            ):
                secret_name = secret_name_for(set_name, role, source)
                secret_names[role] = secret_name
                if value is not None:
                    written[role] = keyvault.Secret(
                        f"{children[set_name]}-{role}",
                        resource_group_name=vault.resource_group_name,
                        # The vault's own output: the secret waits for the vault to exist.
                        vault_name=vault.name,
                        secret_name=secret_name,
                        properties=keyvault.SecretPropertiesArgs(
                            value=pulumi.Output.secret(value), content_type="text/plain"
                        ),
                        opts=pulumi.ResourceOptions(
                            parent=self,
                            # A child of the vault: in the vault's subscription.
                            provider=vault.provider,
                            aliases=children.aliases(set_name, f"-{role}", former(f"{set_name}-{role}")),
                            additional_secret_outputs=["properties"],
                            # azure-native deletes secrets through the vault's data plane
                            # (custom_keyvault.go), which a vault firewall on Deny or without
                            # public access refuses to the deployer, and purge protection keeps
                            # a deleted name taken. Removing a set or `pulumi destroy` therefore
                            # leaves the secret in the vault (docs/protection.md).
                            retain_on_delete=True,
                        ),
                    )
            credential_set = containerregistry.CredentialSet(
                children[set_name],
                resource_group_name=resource_group_name,
                registry_name=registry_name,
                credential_set_name=set_name,
                login_server=spec.login_server,
                identity=containerregistry.IdentityPropertiesArgs(
                    type=containerregistry.ResourceIdentityType.SYSTEM_ASSIGNED
                ),
                auth_credentials=[
                    containerregistry.AuthCredentialArgs(
                        name=containerregistry.CredentialName.CREDENTIAL1,
                        username_secret_identifier=vault_config.secret_uri(secret_names["username"]),
                        password_secret_identifier=vault_config.secret_uri(secret_names["password"]),
                    )
                ],
                # The secret URIs must resolve once the set checks its credentials.
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[*after_registry, *written.values()],
                    aliases=children.aliases(set_name, "", former(set_name)),
                    # Azure keeps a set's login server for life; the same name is deleted first.
                    replace_on_changes=refused_in_place(CREDENTIAL_SET_TYPE),
                    delete_before_replace=True,
                    import_=(adopt or {}).get(f"set:{set_name}"),
                ),
            )
            principal_id: pulumi.Output[str] = credential_set.identity.apply(
                lambda identity: (identity.principal_id or "") if identity else ""
            )
            grants[set_name] = [
                authorization.RoleAssignment(
                    f"{children[set_name]}-{role}-reader",
                    # The narrowest scope Azure allows: the one secret, not the vault.
                    scope=vault.secret_id(secret_names[role]),
                    role_assignment_name=pulumi.Output.from_input(registry_key).apply(
                        partial(assignment_name, set_name=set_name, secret_name=secret_names[role])
                    ),
                    role_definition_id=role_definition,
                    principal_id=principal_id,
                    # Without the type, ARM looks the new identity up in Entra ID first and can fail
                    # while it replicates.
                    principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
                    description=pulumi.Output.concat(
                        "Credential set ", set_name, " of ", registry_key, " reads its ", role
                    ),
                    # Its own secret only: the two grants of a set do not wait for each other.
                    opts=pulumi.ResourceOptions(
                        parent=self,
                        depends_on=[written[role]] if role in written else [],
                        aliases=children.aliases(
                            set_name, f"-{role}-reader", former(f"{set_name}-{role}-reader")
                        ),
                    ),
                )
                for role in ("username", "password")
            ]
            self.vault_resources.extend([*written.values(), *grants[set_name]])
            self.credential_sets[set_name] = credential_set
            set_ids[set_name] = credential_set.id
            principal_ids[set_name] = principal_id

        self.cache_rules: dict[str, containerregistry.CacheRule] = {}
        for rule_name in sorted(rules):
            rule = rules[rule_name]
            set_id: pulumi.Input[str] | None = rule.credential_set_id
            waits: list[pulumi.Resource] = []
            if rule.registry_credential_set:
                assert subscription_id is not None  # looked up above for sets named on the registry
                set_id = pulumi.Output.concat(
                    "/subscriptions/",
                    subscription_id,
                    "/resourceGroups/",
                    resource_group_name,
                    "/providers/Microsoft.ContainerRegistry/registries/",
                    registry_name,
                    "/credentialSets/",
                    rule.registry_credential_set,
                )
            if rule.credential_set:
                set_id = set_ids[rule.credential_set]
                # An unhealthy set makes the first pulls fail: create the rule once the grants exist.
                waits = grants[rule.credential_set]
            self.cache_rules[rule_name] = containerregistry.CacheRule(
                children[rule_name],
                resource_group_name=resource_group_name,
                registry_name=registry_name,
                cache_rule_name=rule_name,
                source_repository=rule.source,
                target_repository=rule.target,
                credential_set_resource_id=set_id,
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[*after_registry, *waits],
                    aliases=children.aliases(rule_name, "", former(rule_name)),
                    # Azure keeps a rule's source and target for life; the same name is deleted first.
                    replace_on_changes=CACHE_RULE_REPLACES,
                    delete_before_replace=True,
                    import_=(adopt or {}).get(f"rule:{rule_name}"),
                ),
            )

        # One output for all rules: a thousand separate Outputs would cost a thousand tasks.
        targets = {name: rules[name].target for name in sorted(rules)}
        self.pull_references = pulumi.Output.from_input(login_server).apply(
            lambda server: {name: f"{server}/{target}" for name, target in targets.items()}
        )
        # Plain maps for the program (what it exports, and whether it has any); one Output each for
        # other languages.
        self.set_ids = set_ids
        self.credential_set_ids = pulumi.Output.all(**set_ids).apply(dict)
        self.credential_set_principal_ids = pulumi.Output.all(**principal_ids).apply(dict)
        self.register_outputs(
            {
                "credentialSetIds": self.credential_set_ids,
                "credentialSetPrincipalIds": self.credential_set_principal_ids,
                "pullReferences": self.pull_references,
            }
        )


FORMER_TYPE = "acr-cache:artifact_cache:ArtifactCache"
"""The type the cache's component had in the stack program, and inside the public
`ArtifactCache`, before the two became one: the aliases that keep sets, grants and rules name it."""
