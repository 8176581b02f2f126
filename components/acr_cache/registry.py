"""The registry core: the resource group and a Premium registry with a secure posture by default."""

import re
from collections.abc import Mapping
from enum import Enum, StrEnum
from typing import Annotated, Any, NotRequired, Self, TypedDict, TypeVar

import pulumi
from pulumi_azure_native import containerregistry, resources
from pydantic import AfterValidator, Field, field_validator, model_validator

from acr_cache.arm import USER_ASSIGNED_IDENTITY, id_check
from acr_cache.azure_types import refused_in_place
from acr_cache.component_args import NetworkArgs, RegistrySettingsArgs, ResourceGroupArgs
from acr_cache.component_base import Layout, component_error, validated
from acr_cache.encryption import EncryptionFactory
from acr_cache.model import (
    AzureRegion,
    ConfigModel,
    ConfigProblem,
    ResourceGroupName,
    Tags,
    WholeNumber,
    field_error,
)
from acr_cache.network import NetworkConfig, PublicAccess, RegistryNetwork
from acr_cache.redaction import shown

# ARM RegistryNameParameter: 5-50 characters, ^[a-zA-Z0-9]*$, unique across all of Azure.
_REGISTRY_NAME = re.compile(r"[a-zA-Z0-9]{5,50}")
_REGISTRY_URN = re.compile(
    r"urn:pulumi:[^:]+::[^:]+::([^:]+:[^:]+:[^:]+\$)*azure-native:containerregistry:Registry::.+"
)


def _check_registry_urn(urn: str) -> str:
    if not _REGISTRY_URN.fullmatch(urn):
        raise ValueError(
            f"'{shown(urn)}' is not the URN of a registry: expected urn:pulumi:<stack>::<project>::"
            "[<parent types>$]azure-native:containerregistry:Registry::<name> "
            "(`pulumi stack --show-urns` lists them)"
        )
    return urn


class Sku(StrEnum):
    """Registry service tier. Geo-replication, private endpoints and IP rules need Premium."""

    BASIC = "Basic"
    STANDARD = "Standard"
    PREMIUM = "Premium"


class ResourceGroupConfig(ConfigModel):
    """Where the registry lives: a resource group the stack creates, or an existing one."""

    name: ResourceGroupName = Field(
        examples=["rg-acr-cache", "rg-registry"],
        description="Name of the resource group (1-90 letters, digits, `_ - . ( )`, not ending in `.`).",
    )
    create: bool = Field(
        default=True,
        description="`true`: the stack creates (and owns) the resource group. `false`: the group must "
        "already exist; the stack looks it up and never modifies or deletes it.",
    )
    location: AzureRegion | None = Field(
        default=None,
        description="Region of a resource group the stack creates. Defaults to `registry.location`. "
        "Not allowed when `create` is `false` (an existing group keeps its region).",
    )
    tags: Tags = Field(
        default_factory=dict,
        description="Tags on a resource group the stack creates.",
    )

    @model_validator(mode="after")
    def _existing_group_has_no_settings(self) -> Self:
        if not self.create and self.location is not None:
            raise field_error(
                "location",
                "an existing resource group keeps its own region: remove `location`, "
                "or set `create: true` to let the stack create the group",
            )
        if not self.create and self.tags:
            raise field_error(
                "tags",
                "the stack never modifies an existing resource group: remove `tags`, "
                "or set `create: true` to let the stack create the group",
            )
        return self


class RegistryIdentityConfig(ConfigModel):
    """Managed identities of the registry: what it signs in as to Key Vault (a customer-managed key)
    or to other registries (ACR tasks, connected registries)."""

    system_assigned: bool = Field(
        default=False,
        description="Give the registry a system-assigned identity (its principal id is the stack output "
        "`registryPrincipalId`).",
    )
    user_assigned_ids: list[Annotated[str, AfterValidator(id_check(USER_ASSIGNED_IDENTITY))]] = Field(
        default_factory=list,
        description="ARM ids of user-assigned identities to attach "
        "(`/subscriptions/.../providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>`).",
    )

    @model_validator(mode="after")
    def _some(self) -> Self:
        if not self.system_assigned and not self.user_assigned_ids:
            raise field_error(
                "systemAssigned", "an identity section needs `systemAssigned: true` or `userAssignedIds`"
            )
        lowered = [i.lower() for i in self.user_assigned_ids]
        if len(set(lowered)) != len(lowered):
            raise field_error("userAssignedIds", "an identity is listed twice (ARM ids compare without case)")
        return self


class RegistryConfig(ConfigModel):
    """The container registry itself."""

    name: str = Field(
        examples=["contosocache", "examplecache"],
        json_schema_extra={"pattern": f"^{_REGISTRY_NAME.pattern}$"},
        description="Registry name: 5-50 letters and digits, no hyphens. It becomes "
        "`<name>.azurecr.io` and must be unique across all of Azure, not only your subscription "
        "(check with `az acr check-name -n <name>`).",
    )
    location: AzureRegion = Field(
        examples=["westeurope", "eastus2", "swedencentral"],
        description="Home region of the registry, e.g. `westeurope`. It cannot change after creation.",
    )
    sku: Sku = Field(
        default=Sku.PREMIUM,
        description="Service tier: `Basic`, `Standard` or `Premium`. Premium is needed for geo-replicas, "
        "private endpoints, IP rules and the untagged-manifest retention policy.",
    )
    zone_redundancy: bool | None = Field(
        default=None,
        description="Zone redundancy of the home region. Default: on for Premium. Azure now makes "
        "registries in availability-zone regions zone redundant on every tier, but the property can "
        "only be set to `Enabled` on Premium, so `true` on another tier is refused. "
        "It cannot change after creation: a change replaces the registry.",
    )
    untagged_retention: bool = Field(
        default=True,
        description="Whether the retention policy deletes untagged manifests (Premium). `false` keeps "
        "every manifest (and `retentionDays` is then refused); soft delete stays a separate choice. "
        "Default: on, except where `softDeleteDays` replaces it.",
    )
    retention_days: WholeNumber | None = Field(
        default=None,
        ge=0,
        le=365,
        description="Days after which untagged manifests are deleted (0-365; 0 deletes them at once). "
        "Default: 7 on Premium. The retention policy is a Premium feature: set on another tier it "
        "is refused.",
    )
    soft_delete_days: WholeNumber | None = Field(
        default=None,
        ge=1,
        le=90,
        description="Keep deleted artifacts recoverable for this many days (soft delete policy, "
        "preview, every tier). Azure allows it neither beside the retention policy for untagged "
        "manifests (so setting it turns retention off, and `retentionDays` is then refused) nor on a "
        "geo-replicated registry. Default: off.",
    )
    export_enabled: bool | None = Field(
        default=None,
        description="Whether artifacts may be exported out of the registry (`az acr import` from it, "
        "transfer pipelines). Azure only lets a registry disable exports when its public network "
        "access is disabled. Default: off when public network access is disabled (as it is by "
        "default with private endpoints; Azure Policy 524b0254), on otherwise. Premium.",
    )
    identity: RegistryIdentityConfig | None = Field(
        default=None, description="Managed identities of the registry. Default: none."
    )
    quarantine: bool = Field(
        default=False,
        description="Quarantine policy (Premium): a pushed image stays unpullable until a scanner marks "
        "it verified. Only for registries with such a scanner; cached and imported images would wait "
        "for it too.",
    )
    repository_permissions: bool = Field(
        default=False,
        description="Repository permissions by Entra ABAC (`roleAssignmentMode: "
        "AbacRepositoryPermissions`). Not available: azure-native 3.x deploys registries with API "
        "2023-01-01-preview, which lacks the setting, so `true` is refused rather than ignored.",
    )
    tags: Tags = Field(default_factory=dict, description="Tags on the registry.")
    aliases: list[Annotated[str, AfterValidator(_check_registry_urn)]] = Field(
        default_factory=list,
        description="Earlier URNs of this registry in the same stack, e.g. "
        "`urn:pulumi:prod::acr-cache::azure-native:containerregistry:Registry::acr` from the program "
        "you ran before acr-cache. Pulumi then adopts that registry instead of deleting it and "
        "creating a new one. See docs/protection.md.",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _REGISTRY_NAME.fullmatch(value):
            raise ValueError(
                f"'{shown(value)}' is not a valid registry name: use 5-50 letters and digits only "
                "(no hyphens or underscores); the name must be unique across all of Azure"
            )
        return value

    @model_validator(mode="after")
    def _premium_features(self) -> Self:
        if self.sku is not Sku.PREMIUM and self.zone_redundancy:
            raise field_error(
                "zoneRedundancy",
                f"zone redundancy can only be enabled on Premium (sku is {self.sku.value}): "
                "set `sku: Premium` or remove `zoneRedundancy`",
            )
        if self.sku is not Sku.PREMIUM and self.retention_days is not None:
            raise field_error(
                "retentionDays",
                f"the retention policy is a Premium feature (sku is {self.sku.value}): "
                "set `sku: Premium` or remove `retentionDays`",
            )
        if not self.untagged_retention and self.retention_days is not None:
            raise field_error(
                "retentionDays",
                "`untaggedRetention: false` turns the retention policy off: remove `retentionDays`, or "
                "`untaggedRetention: false`",
            )
        if self.soft_delete_days is not None and self.retention_days is not None:
            raise field_error(
                "softDeleteDays",
                "Azure does not allow the soft delete policy beside the retention policy: remove "
                "`retentionDays` (soft delete then replaces it) or `softDeleteDays`",
            )
        if self.repository_permissions:
            raise field_error(
                "repositoryPermissions",
                "repository permissions by ABAC need the registry API 2025-11-01 or later, and "
                "azure-native 3.x deploys 2023-01-01-preview: remove it, and grant `AcrPull`/`AcrPush` on the "
                "registry (`acr-cache:access`) or use scope-map tokens",
            )
        if self.quarantine and self.sku is not Sku.PREMIUM:
            raise field_error(
                "quarantine", f"the quarantine policy is a Premium feature (sku is {self.sku.value})"
            )
        if self.sku is not Sku.PREMIUM and self.export_enabled is False:
            raise field_error(
                "exportEnabled",
                f"disabling exports is a Premium feature (sku is {self.sku.value}): "
                "set `sku: Premium` or remove `exportEnabled`",
            )
        return self

    @property
    def is_premium(self) -> bool:
        return self.sku is Sku.PREMIUM

    @property
    def effective_zone_redundancy(self) -> bool:
        return self.is_premium if self.zone_redundancy is None else self.zone_redundancy

    def effective_export_enabled(self, public_network_access: bool) -> bool:
        """Exports are on unless turned off, or, by default, when the public endpoint is off."""
        return public_network_access if self.export_enabled is None else self.export_enabled

    @property
    def effective_retention_days(self) -> int | None:
        """Retention in days, or None where the tier has no retention policy."""
        if not self.is_premium or self.soft_delete_days is not None or not self.untagged_retention:
            return None
        return 7 if self.retention_days is None else self.retention_days

    @property
    def login_server(self) -> str:
        return f"{self.name.lower()}.azurecr.io"


def network_problems(
    registry: RegistryConfig, network: NetworkConfig, has_private_endpoints: bool, at: str
) -> list[ConfigProblem]:
    """What the registry's tier and export policy refuse of the network section, with key paths
    below `at` (the stack's namespace, or `args.` for the component)."""
    access = network.effective_public_access(has_private_endpoints)
    problems = []
    if not registry.is_premium:
        needs = (
            f"needs the Premium tier (sku is {registry.sku.value}): set `{at}registry.sku: Premium` or remove"
        )
        if network.ip_rules:
            problems.append(ConfigProblem(f"{at}network.ipRules", f"an IP firewall {needs} `ipRules`"))
        elif access is not PublicAccess.OPEN and network.public_access is not None:
            problems.append(
                ConfigProblem(
                    f"{at}network.publicAccess", f"`{access.value}` public access {needs} `publicAccess`"
                )
            )
        if network.data_endpoints:
            problems.append(
                ConfigProblem(
                    f"{at}network.dataEndpoints", f"dedicated data endpoints {needs} `dataEndpoints`"
                )
            )
    if registry.export_enabled is False and access is not PublicAccess.DISABLED:
        problems.append(
            ConfigProblem(
                f"{at}registry.exportEnabled",
                "Azure only allows disabling exports when public network access is disabled, and "
                f"public access is `{access.value}`: set `{at}network.publicAccess: Disabled` "
                "(reach the registry through private endpoints) or remove `exportEnabled: false`",
            )
        )
    if network.data_endpoints is False and has_private_endpoints:
        problems.append(
            ConfigProblem(
                f"{at}network.dataEndpoints",
                "Azure turns dedicated data endpoints on for every registry with private endpoints: "
                "remove `dataEndpoints: false`",
            )
        )
    return problems


class RegistryArgs(TypedDict):
    """Arguments of Registry."""

    resource_group: ResourceGroupArgs
    """The resource group (created or existing)."""
    registry: RegistrySettingsArgs
    """The registry."""
    network: NotRequired[NetworkArgs]
    """The firewall; default: open, every value explicit."""
    private_endpoints_planned: NotRequired[bool]
    """Set when private endpoints will be attached: public access then defaults to Disabled."""
    protect: NotRequired[bool]
    """Protect the registry and a created resource group (default true)."""


class Registry(pulumi.ComponentResource):
    """A resource group (created or existing) and a registry with a secure posture by default.

    Secure defaults: admin user off, anonymous pull off, ARM-audience tokens off, export policy and
    retention explicit, zone redundancy on for Premium, and every network value explicit.
    """

    registry_id: pulumi.Output[str]
    """ARM id of the registry."""
    registry_name: pulumi.Output[str]
    """Name of the registry."""
    login_server: pulumi.Output[str]
    """Login server, <name>.azurecr.io."""
    resource_group_name: pulumi.Output[str]
    """Resource group of the registry."""

    def __init__(
        self,
        name: str,
        args: RegistryArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        anonymous_pull: bool = False,
        adopt: Mapping[str, str] | None = None,
        layout: Layout = Layout.COMPONENT,
        encryption: EncryptionFactory | None = None,
    ) -> None:
        """`anonymous_pull`: the stack program's Docker mirror mode (docs/docker-mirror.md). `adopt`:
        ARM ids of existing resources to import instead of creating, by child (`rg`, `registry`)."""
        adopted = adopt or {}
        super().__init__("acr-cache:index:Registry", name, None, layout.options(opts, FORMER_TYPE))
        problems: list[ConfigProblem] = []
        resource_group = validated(
            ResourceGroupConfig, args["resource_group"], "args.resource_group", problems
        )
        registry = validated(RegistryConfig, args["registry"], "args.registry", problems)
        network_config = validated(NetworkConfig, args.get("network") or {}, "args.network", problems)
        endpoints = bool(args.get("private_endpoints_planned", False))
        if registry is not None and network_config is not None:
            problems += network_problems(registry, network_config, endpoints, "args.")
        if problems or resource_group is None or registry is None or network_config is None:
            raise component_error("Registry", name, problems, RegistryArgs)
        network = network_config.registry_network(endpoints)
        protect = bool(args.get("protect", True))
        former = layout.former_children(self, name, FORMER_TYPE, "core")

        if resource_group.create:
            group = resources.ResourceGroup(
                f"{name}-rg",
                resource_group_name=resource_group.name,
                location=resource_group.location or registry.location,
                tags=resource_group.tags or None,
                opts=pulumi.ResourceOptions(
                    parent=self,
                    protect=protect,
                    aliases=former("rg"),
                    import_=adopted.get("rg"),
                ),
            )
            self.resource_group_name = group.name
        else:
            # The lookup fails the preview when the group does not exist, instead of the deploy.
            existing = resources.get_resource_group_output(
                resource_group_name=resource_group.name,
                opts=pulumi.InvokeOutputOptions(parent=self),
            )
            self.resource_group_name = existing.name

        # A customer-managed key is made (and granted) once the group exists, before the registry:
        # Azure checks the key when it creates the registry, and never takes one later.
        encrypted = encryption(self.resource_group_name) if encryption is not None else None
        self.registry: containerregistry.Registry = containerregistry.Registry(
            f"{name}-registry",
            resource_group_name=self.resource_group_name,
            registry_name=registry.name,
            location=registry.location,
            sku=containerregistry.SkuArgs(name=registry.sku.value),
            admin_user_enabled=False,
            # Off unless Docker Engine mirror mode asks for it explicitly (daemons cannot sign in
            # to a mirror); Azure Policy 9f2dea28-e834-476c-99c5-3507b4728395.
            anonymous_pull_enabled=anonymous_pull,
            zone_redundancy=_enabled(registry.effective_zone_redundancy, containerregistry.ZoneRedundancy),
            public_network_access=_enabled(
                network.public_network_access, containerregistry.PublicNetworkAccess
            ),
            network_rule_bypass_options=(
                containerregistry.NetworkRuleBypassOptions.AZURE_SERVICES
                if network.trusted_services_bypass
                else containerregistry.NetworkRuleBypassOptions.NONE
            ),
            # Network rule sets exist on Premium only; Azure rejects them on other tiers.
            network_rule_set=_network_rule_set(network) if registry.is_premium else None,
            data_endpoint_enabled=network.data_endpoint_enabled,
            policies=_policies(registry, registry.effective_export_enabled(network.public_network_access)),
            identity=_identity(registry.identity, encrypted.identity_id if encrypted else None),
            encryption=(
                containerregistry.EncryptionPropertyArgs(
                    status=containerregistry.EncryptionStatus.ENABLED,
                    key_vault_properties=containerregistry.KeyVaultPropertiesArgs(
                        identity=encrypted.client_id, key_identifier=encrypted.key_uri
                    ),
                )
                if encrypted
                else None
            ),
            tags=registry.tags or None,
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=protect,
                # Zone redundancy is set at creation only: a change replaces the registry, which
                # `protect` then stops (and the diff flags) before anything is deleted.
                replace_on_changes=refused_in_place("azure-native:containerregistry:Registry"),
                delete_before_replace=True,
                aliases=[
                    *registry.aliases,
                    *(former("registry") or []),
                ]
                or None,
                import_=adopted.get("registry"),
                depends_on=encrypted.ready if encrypted else None,
            ),
        )
        self.registry_id = self.registry.id
        self.registry_name = self.registry.name
        self.login_server = self.registry.login_server
        outputs: dict[str, Any] = {
            "registryId": self.registry_id,
            "registryName": self.registry_name,
            "loginServer": self.login_server,
            "resourceGroupName": self.resource_group_name,
        }
        self.principal_id: pulumi.Output[str] | None = None
        """Principal id of the registry's system-assigned identity, when it has one."""
        if registry.identity is not None and registry.identity.system_assigned:
            self.principal_id = self.registry.identity.apply(lambda i: str(i.principal_id) if i else "")
            outputs["principalId"] = self.principal_id
        self.register_outputs(outputs)


FORMER_TYPE = "acr-cache:registry:RegistryCore"
"""The type the registry's component had in the stack program, and inside the public `Registry`,
before the two became one: the aliases that keep the registry (and every image in it) name it."""


_E = TypeVar("_E", bound=Enum)  # mutation: equivalent (a type checker's name only)


def _enabled(on: bool, enum: type[_E]) -> _E:
    return enum("Enabled" if on else "Disabled")


def _identity(
    identity: RegistryIdentityConfig | None, key_reader: pulumi.Input[str] | None = None
) -> pulumi.Input[containerregistry.IdentityPropertiesArgs] | None:
    """The registry's identities, with the one that reads its encryption key added."""
    system = identity is not None and identity.system_assigned
    given = list(identity.user_assigned_ids) if identity is not None else []
    if not system and not given and key_reader is None:
        return None

    def build(reader: str | None) -> containerregistry.IdentityPropertiesArgs:
        ids = given + ([reader] if reader and reader.lower() not in {g.lower() for g in given} else [])
        kinds = ["SystemAssigned"] if system else []
        kinds += ["UserAssigned"] if ids else []
        return containerregistry.IdentityPropertiesArgs(
            type=containerregistry.ResourceIdentityType(", ".join(kinds)),
            user_assigned_identities={uid: containerregistry.UserIdentityPropertiesArgs() for uid in ids}
            or None,
        )

    if key_reader is None:
        return build(None)
    return pulumi.Output.from_input(key_reader).apply(build)


def _network_rule_set(network: RegistryNetwork) -> containerregistry.NetworkRuleSetArgs:
    return containerregistry.NetworkRuleSetArgs(
        default_action=(
            containerregistry.DefaultAction.DENY
            if network.default_action_deny
            else containerregistry.DefaultAction.ALLOW
        ),
        ip_rules=[
            containerregistry.IPRuleArgs(i_p_address_or_range=rule, action=containerregistry.Action.ALLOW)
            for rule in network.ip_rules
        ]
        or None,
    )


def _policies(registry: RegistryConfig, export_enabled: bool) -> containerregistry.PoliciesArgs:
    # Tokens with the ARM audience are broader than registry-scoped ones (Azure Policy
    # 42781ec6-6127-4c30-bdfa-fb423a0047d3); clients use `az acr login`, which needs none.
    arm_audience = containerregistry.AzureADAuthenticationAsArmPolicyArgs(
        status=containerregistry.AzureADAuthenticationAsArmPolicyStatus.DISABLED,
    )
    soft_delete = (
        containerregistry.SoftDeletePolicyArgs(
            retention_days=registry.soft_delete_days, status=containerregistry.PolicyStatus.ENABLED
        )
        if registry.soft_delete_days is not None
        else containerregistry.SoftDeletePolicyArgs(status=containerregistry.PolicyStatus.DISABLED)
    )
    if not registry.is_premium:
        # Export and retention policies are Premium features; other tiers keep Azure's own
        # defaults (exports enabled, no retention), so nothing is sent for them.
        return containerregistry.PoliciesArgs(
            azure_ad_authentication_as_arm_policy=arm_audience, soft_delete_policy=soft_delete
        )
    retention_days = registry.effective_retention_days
    return containerregistry.PoliciesArgs(
        azure_ad_authentication_as_arm_policy=arm_audience,
        soft_delete_policy=soft_delete,
        quarantine_policy=containerregistry.QuarantinePolicyArgs(
            status=containerregistry.PolicyStatus.ENABLED
            if registry.quarantine
            else containerregistry.PolicyStatus.DISABLED
        ),
        export_policy=containerregistry.ExportPolicyArgs(
            status=(
                containerregistry.ExportPolicyStatus.ENABLED
                if export_enabled
                else containerregistry.ExportPolicyStatus.DISABLED
            ),
        ),
        retention_policy=(
            containerregistry.RetentionPolicyArgs(
                days=retention_days, status=containerregistry.PolicyStatus.ENABLED
            )
            if retention_days is not None
            # Turned off, or soft delete is on instead (Azure refuses both at once).
            else containerregistry.RetentionPolicyArgs(status=containerregistry.PolicyStatus.DISABLED)
        ),
    )
