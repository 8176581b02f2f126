"""Customer-managed key encryption of the registry: a user-assigned identity reads a Key Vault key.

Azure takes the key only when the registry is created (Premium), through a user-assigned identity
(a system-assigned one does not exist before the registry), so the identity, the key and the
identity's grant on the key all come first, and the registry waits for them.
"""

import re
from collections.abc import Callable
from typing import Annotated, NamedTuple, Self

import pulumi
from pydantic import AfterValidator, Field, model_validator

from acr_cache.arm import GUID, USER_ASSIGNED_IDENTITY, id_check
from acr_cache.model import ConfigModel, WholeNumber, field_error
from acr_cache.redaction import shown
from acr_cache.roles import KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER, role_definition_id

_IDENTITY_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}")
_KEY_NAME = re.compile(r"[a-zA-Z0-9-]{1,127}")
# Versionless: `https://<vault>.vault.azure.net/keys/<name>` (a version would stop rotation).
_KEY_URI = re.compile(
    r"https://[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]\.vault\.azure\.net/keys/[a-zA-Z0-9-]{1,127}"
)


def _guid(value: str) -> str:
    if not re.fullmatch(GUID, value):
        raise ValueError(f"'{shown(value)}' is not a GUID (`az identity show ... --query clientId -o tsv`)")
    return value.lower()


class EncryptionIdentityConfig(ConfigModel):
    """The user-assigned identity the registry reads its key with: created, or existing."""

    name: str | None = Field(
        default=None,
        description="Name of an identity the stack creates in the registry's resource group and home "
        "region (3-128 letters, digits, `-`, `_`); the stack grants it the key.",
    )
    existing_id: Annotated[str, AfterValidator(id_check(USER_ASSIGNED_IDENTITY))] | None = Field(
        default=None, description="ARM id of an existing user-assigned identity instead."
    )
    client_id: Annotated[str, AfterValidator(_guid)] | None = Field(
        default=None,
        description="With `existingId`: its client id, which Azure's key reference names "
        "(`az identity show --ids <id> --query clientId -o tsv`).",
    )
    principal_id: Annotated[str, AfterValidator(_guid)] | None = Field(
        default=None,
        description="With `existingId` and a key the stack creates: its principal (object) id, which "
        "the stack grants the key (`az identity show --ids <id> --query principalId -o tsv`).",
    )

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.name is None) == (self.existing_id is None):
            raise field_error("name", "give either `name` (the stack creates the identity) or `existingId`")
        if self.name is not None:
            if not _IDENTITY_NAME.fullmatch(self.name):
                raise field_error(
                    "name",
                    f"'{shown(self.name)}' is not a valid identity name: 3-128 letters, digits, `-`, `_`",
                )
            for field, alias in (("client_id", "clientId"), ("principal_id", "principalId")):
                if getattr(self, field) is not None:
                    raise field_error(
                        alias, f"`{alias}` is for an existing identity: the created one has its own"
                    )
        elif self.client_id is None:
            raise field_error(
                "clientId", "an existing identity needs its `clientId`: Azure's key reference names it"
            )
        return self


class EncryptionKeyConfig(ConfigModel):
    """The key: created in the stack's vault with a rotation policy, or an existing one."""

    name: str | None = Field(
        default=None,
        description="Name of an RSA key the stack creates in `acr-cache:keyVault` (1-127 letters, digits, "
        "hyphens). It is `protect`ed and kept when removed from the config: losing it loses every image.",
    )
    size: WholeNumber = Field(default=3072, description="RSA key size of a created key: 2048, 3072 or 4096.")
    rotate_after_days: WholeNumber = Field(
        default=365,
        ge=28,
        le=3650,
        description="A created key gets a new version this many days after each version (Key Vault's "
        "rotation policy); the registry follows the newest version, since it is referenced without one.",
    )
    existing_uri: str | None = Field(
        default=None,
        description="Versionless URI of an existing key instead (`https://<vault>.vault.azure.net/keys/<name>`), "
        "whose vault has soft delete and purge protection. Grant the identity Key Vault Crypto Service "
        "Encryption User on it yourself.",
    )

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.name is None) == (self.existing_uri is None):
            raise field_error("name", "give either `name` (the stack creates the key) or `existingUri`")
        if self.name is not None and not _KEY_NAME.fullmatch(self.name):
            raise field_error(
                "name", f"'{shown(self.name)}' is not a valid key name: 1-127 letters, digits, hyphens"
            )
        if self.size not in (2048, 3072, 4096):
            raise field_error(
                "size", f"{self.size} is not an RSA key size Key Vault makes: use 2048, 3072 or 4096"
            )
        if self.existing_uri is not None and not _KEY_URI.fullmatch(self.existing_uri.rstrip("/")):
            raise field_error(
                "existingUri",
                f"'{shown(self.existing_uri)}' is not a versionless key URI: write "
                "`https://<vault>.vault.azure.net/keys/<name>` (without a version, so rotation reaches the registry)",
            )
        return self


class EncryptionConfig(ConfigModel):
    """Encryption of the registry with a customer-managed key (Premium, chosen at creation only)."""

    identity: EncryptionIdentityConfig = Field(description="The identity the registry reads the key with.")
    key: EncryptionKeyConfig = Field(description="The key.")

    @model_validator(mode="after")
    def _grantable(self) -> Self:
        if (
            self.key.name is not None
            and self.identity.existing_id is not None
            and self.identity.principal_id is None
        ):
            raise field_error(
                "identity",
                "the stack grants the key it creates to the identity: give the existing identity's "
                "`principalId` too",
            )
        return self


class RegistryEncryption(NamedTuple):
    """What the registry needs for its key, once the identity, key and grant exist."""

    identity_id: pulumi.Input[str]
    client_id: pulumi.Input[str]
    key_uri: pulumi.Input[str]
    ready: list[pulumi.Resource]
    """What the registry waits for (the grant above all: Azure checks the key at creation)."""


EncryptionFactory = Callable[[pulumi.Input[str]], RegistryEncryption]
"""Given the registry's resource group name, make the identity, key and grant; see `Registry`."""


class CustomerManagedKey(pulumi.ComponentResource):
    """The identity (created or given), the key (created or given) and the identity's grant on a
    created key, for one registry."""

    encryption: RegistryEncryption
    """What the registry takes: identity, client id, versionless key URI, what to wait for."""

    def __init__(
        self,
        name: str,
        config: EncryptionConfig,
        *,
        resource_group_name: pulumi.Input[str],
        location: str,
        vault_id: pulumi.Input[str] | None,
        vault_name: pulumi.Input[str] | None,
        vault_resource_group: pulumi.Input[str] | None,
        subscription_id: pulumi.Input[str],
        protect: bool,
        after: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
        vault_provider: pulumi.ProviderResource | None = None,
        vault_subscription: str | None = None,
    ) -> None:
        """`after`: what the key waits for (the vault); `vault_provider`: the provider of the vault's
        subscription when it is not the stack's (the key is the vault's child)."""
        from pulumi_azure_native import authorization, keyvault, managedidentity

        super().__init__("acr-cache:encryption:CustomerManagedKey", name, None, opts)
        identity, key = config.identity, config.key
        self.key: keyvault.Key | None = None
        """The key the stack created, if it did."""
        self.grant: authorization.RoleAssignment | None = None
        """The identity's grant on that key."""
        ready: list[pulumi.Resource] = []
        if identity.name is not None:
            created = managedidentity.UserAssignedIdentity(
                f"{name}-identity",
                resource_name_=identity.name,
                resource_group_name=resource_group_name,
                location=location,
                opts=pulumi.ResourceOptions(parent=self, protect=protect),
            )
            identity_id: pulumi.Input[str] = created.id
            client_id: pulumi.Input[str] = created.client_id
            # Not in `ready`: the registry's identity input is this identity's id, and the SDK sends
            # every resource an input's outputs come from among the registration's dependencies
            # (pulumi sdk/python/lib/pulumi/runtime/resource.py `prepare_resource`: `dependencies`
            # is the explicit ones plus each property's), which the engine waits for.
            principal_id: pulumi.Input[str] | None = created.principal_id
        else:
            identity_id, client_id = str(identity.existing_id), str(identity.client_id)
            principal_id = identity.principal_id
        if key.name is None:
            key_uri: pulumi.Input[str] = str(key.existing_uri).rstrip("/")
        else:
            assert (
                vault_id is not None and vault_name is not None and vault_resource_group is not None
            )  # mutation: equivalent
            days = key.rotate_after_days
            self.key = keyvault.Key(
                f"{name}-key",
                key_name=key.name,
                vault_name=vault_name,
                resource_group_name=vault_resource_group,
                properties=keyvault.KeyPropertiesArgs(
                    kty=keyvault.JsonWebKeyType.RSA,
                    key_size=key.size,
                    key_ops=[keyvault.JsonWebKeyOperation.WRAP_KEY, keyvault.JsonWebKeyOperation.UNWRAP_KEY],
                    rotation_policy=keyvault.RotationPolicyArgs(
                        # Expiry leaves the rotation 30 days of slack; the registry follows each version.
                        attributes=keyvault.KeyRotationPolicyAttributesArgs(expiry_time=f"P{days + 30}D"),
                        lifetime_actions=[
                            keyvault.LifetimeActionArgs(
                                action=keyvault.ActionArgs(type=keyvault.KeyRotationPolicyActionType.ROTATE),
                                trigger=keyvault.TriggerArgs(time_after_create=f"P{days}D"),
                            )
                        ],
                    ),
                ),
                # Losing the key loses every image: never delete it with the stack (azure-native
                # would delete it through the vault's data plane).
                opts=pulumi.ResourceOptions(
                    parent=self,
                    provider=vault_provider,
                    protect=protect,
                    retain_on_delete=True,
                    depends_on=after,
                ),
            )
            assert principal_id is not None  # EncryptionConfig asks for it with an existing identity
            self.grant = authorization.RoleAssignment(
                f"{name}-key-reader",
                scope=pulumi.Output.concat(vault_id, "/keys/", key.name),
                # The role's definition in the subscription of the scope (the vault's).
                role_definition_id=role_definition_id(
                    vault_subscription or subscription_id, KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER
                ),
                principal_id=principal_id,
                principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
                description=f"acr-cache: the registry's identity reads its encryption key {key.name}",
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.key]),
            )
            ready += [self.key, self.grant]
            key_uri = pulumi.Output.concat("https://", vault_name, ".vault.azure.net/keys/", key.name)
        self.encryption = RegistryEncryption(identity_id, client_id, key_uri, ready)
        self.register_outputs({"identityId": identity_id, "keyUri": key_uri})
