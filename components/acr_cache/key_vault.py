"""The Key Vault that holds upstream credentials for the artifact cache's credential sets."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import pulumi
from pulumi_azure_native import keyvault
from pydantic import AfterValidator, Field, model_validator

from acr_cache.arm import KEY_VAULT, VAULT_NAME, id_check, parse_arm_id
from acr_cache.ip_rules import normalise_ip_rule
from acr_cache.model import AzureRegion, ConfigModel, ResourceGroupName, Tags, WholeNumber, field_error
from acr_cache.placement import Placement, subscription_of

VaultName = Annotated[str, AfterValidator(VAULT_NAME.check)]
VaultId = Annotated[str, AfterValidator(id_check(KEY_VAULT))]


class DefaultAction(StrEnum):
    ALLOW = "Allow"
    DENY = "Deny"


class KeyVaultConfig(ConfigModel):
    """The vault for upstream credentials: created by the stack, or an existing one by id."""

    name: VaultName | None = Field(
        default=None,
        description="Name of a vault the stack creates: 3-24 letters, digits and hyphens, starting with "
        "a letter, no `--`; unique across all of Azure (it becomes `<name>.vault.azure.net`).",
    )
    existing_id: VaultId | None = Field(
        default=None,
        description="ARM id of an existing vault to use instead "
        "(`/subscriptions/.../providers/Microsoft.KeyVault/vaults/<name>`). It must use Azure RBAC "
        "(the stack grants Key Vault Secrets User on the credential secrets), and the secrets the "
        "stack writes go into it.",
    )
    resource_group: ResourceGroupName | None = Field(
        default=None, description="Resource group of a created vault. Default: the registry's."
    )
    location: AzureRegion | None = Field(
        default=None, description="Region of a created vault. Default: the home region."
    )
    public_network_access: bool = Field(
        default=True,
        description="Whether the vault's data plane answers on its public endpoint (filtered by "
        "`defaultAction` and `ipRules`). The stack writes secrets through ARM, which the vault "
        "firewall does not filter, and the credential sets read them as a trusted service, so "
        "`false` works for the cache too.",
    )
    default_action: DefaultAction = Field(
        default=DefaultAction.DENY,
        description="Vault firewall action for addresses not in `ipRules`. Trusted Azure services "
        "(the registry's credential sets among them) always pass.",
    )
    ip_rules: list[Annotated[str, AfterValidator(normalise_ip_rule)]] = Field(
        default_factory=list,
        description="Public IPv4 addresses or CIDR ranges allowed to the vault's data plane.",
    )
    soft_delete_retention_days: WholeNumber = Field(
        default=90, ge=7, le=90, description="Days a deleted vault or secret stays recoverable (7-90)."
    )
    purge_protection: bool = Field(
        default=True,
        description="Forbid purging deleted secrets and the vault before the retention ends. Azure "
        "cannot turn it off once on; a throwaway dev vault may leave it off to reuse its name at once.",
    )
    tags: Tags = Field(default_factory=dict, description="Tags on a created vault.")

    @model_validator(mode="after")
    def _one_vault(self) -> KeyVaultConfig:
        if (self.name is None) == (self.existing_id is None):
            raise field_error(
                "name",
                "give either `name` (the stack creates the vault) or `existingId` (an existing vault), not both",
            )
        if self.existing_id is not None:
            created_only = ("resource_group", "location", "ip_rules", "tags")
            for field in created_only:
                if field in self.model_fields_set:
                    alias = type(self).model_fields[field].alias or field
                    raise field_error(
                        alias, f"`{alias}` only applies to a vault the stack creates: remove it"
                    )
        return self

    @property
    def vault_name(self) -> str:
        if self.name is not None:
            return self.name
        assert self.existing_id is not None  # one of the two, validated on the way in
        return parse_arm_id(self.existing_id, KEY_VAULT).name

    @property
    def existing_resource_group(self) -> str | None:
        return parse_arm_id(self.existing_id, KEY_VAULT).resource_group if self.existing_id else None

    def secret_uri(self, secret_name: str) -> str:
        """Versionless secret URI: rotating the secret's value reaches ACR without touching it."""
        return f"https://{self.vault_name.lower()}.vault.azure.net/secrets/{secret_name}"


class CredentialVault(pulumi.ComponentResource):
    """A Key Vault with RBAC, soft delete and purge protection, or a reference to an existing one."""

    vault: keyvault.Vault | None
    """The created vault, or None for an existing one."""
    vault_name: str
    name: pulumi.Output[str]
    """Name of the vault, as an output of the created vault: secrets written into it wait for it."""
    resource_group_name: pulumi.Output[str]
    """Resource group of the vault."""
    vault_id: pulumi.Output[str]
    """ARM id of the vault."""

    def __init__(
        self,
        name: str,
        *,
        config: KeyVaultConfig,
        tenant_id: pulumi.Input[str],
        resource_group_name: pulumi.Input[str],
        home_region: str,
        protect: bool,
        opts: pulumi.ResourceOptions | None = None,
        placement: Placement | None = None,
    ) -> None:
        """`placement`: the providers of other subscriptions, for an existing vault in another one."""
        super().__init__("acr-cache:key_vault:CredentialVault", name, None, opts)
        self.vault_name = config.vault_name
        self.provider: pulumi.ProviderResource | None = None
        """The provider of the vault's subscription, for what the stack writes into it (secrets,
        keys: the vault's children); None: the default provider."""
        self.subscription: str | None = subscription_of(config.existing_id)
        """An existing vault's subscription (its grants' role definitions name it); None: created."""
        if config.existing_id is not None:
            self.provider = (placement or Placement(None)).provider(
                subscription_of(config.existing_id), f"secrets and keys in Key Vault {config.vault_name}"
            )
            self.vault = None
            self.vault_id = pulumi.Output.from_input(config.existing_id)
            self.name = pulumi.Output.from_input(config.vault_name)
            self.resource_group_name = pulumi.Output.from_input(config.existing_resource_group or "")
        else:
            group = pulumi.Output.from_input(config.resource_group or resource_group_name)
            self.vault = keyvault.Vault(
                f"{name}-vault",
                vault_name=config.name,
                resource_group_name=group,
                location=config.location or home_region,
                properties=keyvault.VaultPropertiesArgs(
                    tenant_id=tenant_id,
                    sku=keyvault.SkuArgs(family=keyvault.SkuFamily.A, name=keyvault.SkuName.STANDARD),
                    # RBAC, so that grants can be as narrow as one secret; access policies cannot.
                    enable_rbac_authorization=True,
                    enable_soft_delete=True,
                    soft_delete_retention_in_days=config.soft_delete_retention_days,
                    # Azure refuses `false` here; leaving purge protection off means not sending it.
                    enable_purge_protection=True if config.purge_protection else None,
                    enabled_for_deployment=False,
                    enabled_for_disk_encryption=False,
                    enabled_for_template_deployment=False,
                    public_network_access="Enabled" if config.public_network_access else "Disabled",
                    network_acls=keyvault.NetworkRuleSetArgs(
                        default_action=config.default_action.value,
                        bypass=keyvault.NetworkRuleBypassOptions.AZURE_SERVICES,
                        ip_rules=[keyvault.IPRuleArgs(value=rule) for rule in config.ip_rules] or None,
                    ),
                ),
                tags=config.tags or None,
                opts=pulumi.ResourceOptions(parent=self, protect=protect),
            )
            self.vault_id = self.vault.id
            self.name = self.vault.name
            self.resource_group_name = group
        self.register_outputs({"vaultId": self.vault_id})

    def secret_id(self, secret_name: str) -> pulumi.Output[str]:
        """ARM id of a secret in the vault: the narrowest scope a role assignment can have."""
        return self.vault_id.apply(lambda vault_id: f"{vault_id}/secrets/{secret_name}")
