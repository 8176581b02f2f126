"""The components' typed args for the config sections, generated from the config models by
`acr-cache schema` (acr_cache.codegen): edit the models' Field descriptions, not this file.

No `from __future__ import annotations`: Pulumi's schema analyzer reads these annotations as
objects, not strings.
"""

from collections.abc import Awaitable
from typing import NotRequired, TypedDict, TypeVar, Union

import pulumi

T = TypeVar("T")
Input = Union[T, Awaitable[T], pulumi.Output[T]]  # noqa: UP007 (a `|` union cannot be subscripted)
"""`pulumi.Input` without its string forward reference to `Output[T]`, which typing.get_type_hints
cannot resolve outside Pulumi's module: the args types are read by IDEs, dataclass tools and
Pulumi's component analyzer, which takes either form."""


class ResourceGroupArgs(TypedDict):
    """Section `resourceGroup`: Where the registry lives: a resource group the stack creates, or an existing one."""

    name: str
    """Name of the resource group (1-90 letters, digits, `_ - . ( )`, not ending in `.`)."""

    create: NotRequired[bool]
    """`true`: the stack creates (and owns) the resource group. `false`: the group must already exist; the stack looks it up and never modifies or deletes it."""

    location: NotRequired[str]
    """Region of a resource group the stack creates. Defaults to `registry.location`. Not allowed when `create` is `false` (an existing group keeps its region)."""

    tags: NotRequired[dict[str, str]]
    """Tags on a resource group the stack creates."""


class RegistryIdentityArgs(TypedDict):
    """`registry.identity`: Managed identities of the registry: what it signs in as to Key Vault (a customer-managed key) or to other registries (ACR tasks, connected registries)."""

    system_assigned: NotRequired[bool]
    """Give the registry a system-assigned identity (its principal id is the stack output `registryPrincipalId`)."""

    user_assigned_ids: NotRequired[list[str]]
    """ARM ids of user-assigned identities to attach (`/subscriptions/.../providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>`)."""


class RegistrySettingsArgs(TypedDict):
    """Section `registry`: The container registry itself."""

    name: str
    """Registry name: 5-50 letters and digits, no hyphens. It becomes `<name>.azurecr.io` and must be unique across all of Azure, not only your subscription (check with `az acr check-name -n <name>`)."""

    location: str
    """Home region of the registry, e.g. `westeurope`. It cannot change after creation."""

    sku: NotRequired[str]
    """Service tier: `Basic`, `Standard` or `Premium`. Premium is needed for geo-replicas, private endpoints, IP rules and the untagged-manifest retention policy."""

    zone_redundancy: NotRequired[bool]
    """Zone redundancy of the home region. Default: on for Premium. Azure now makes registries in availability-zone regions zone redundant on every tier, but the property can only be set to `Enabled` on Premium, so `true` on another tier is refused. It cannot change after creation: a change replaces the registry."""

    untagged_retention: NotRequired[bool]
    """Whether the retention policy deletes untagged manifests (Premium). `false` keeps every manifest (and `retentionDays` is then refused); soft delete stays a separate choice. Default: on, except where `softDeleteDays` replaces it."""

    retention_days: NotRequired[int]
    """Days after which untagged manifests are deleted (0-365; 0 deletes them at once). Default: 7 on Premium. The retention policy is a Premium feature: set on another tier it is refused."""

    soft_delete_days: NotRequired[int]
    """Keep deleted artifacts recoverable for this many days (soft delete policy, preview, every tier). Azure allows it neither beside the retention policy for untagged manifests (so setting it turns retention off, and `retentionDays` is then refused) nor on a geo-replicated registry. Default: off."""

    export_enabled: NotRequired[bool]
    """Whether artifacts may be exported out of the registry (`az acr import` from it, transfer pipelines). Azure only lets a registry disable exports when its public network access is disabled. Default: off when public network access is disabled (as it is by default with private endpoints; Azure Policy 524b0254), on otherwise. Premium."""

    identity: NotRequired[RegistryIdentityArgs]
    """Managed identities of the registry. Default: none."""

    quarantine: NotRequired[bool]
    """Quarantine policy (Premium): a pushed image stays unpullable until a scanner marks it verified. Only for registries with such a scanner; cached and imported images would wait for it too."""

    repository_permissions: NotRequired[bool]
    """Repository permissions by Entra ABAC (`roleAssignmentMode: AbacRepositoryPermissions`). Not available: azure-native 3.x deploys registries with API 2023-01-01-preview, which lacks the setting, so `true` is refused rather than ignored."""

    tags: NotRequired[dict[str, str]]
    """Tags on the registry."""

    aliases: NotRequired[list[str]]
    """Earlier URNs of this registry in the same stack, e.g. `urn:pulumi:prod::acr-cache::azure-native:containerregistry:Registry::acr` from the program you ran before acr-cache. Pulumi then adopts that registry instead of deleting it and creating a new one. See docs/protection.md."""


class NetworkArgs(TypedDict):
    """Section `network`: The firewall of the registry's public endpoint."""

    public_access: NotRequired[str]
    """`Open`, `Restricted` (default action Deny, only `ipRules`) or `Disabled` (private endpoints only). Default: `Disabled` when private endpoints are configured and no IP rule is; `Restricted` when IP rules are; `Open` otherwise. `Restricted` and `Disabled` need Premium."""

    ip_rules: NotRequired[list[str]]
    """Public IPv4 addresses or CIDR ranges allowed through a `Restricted` firewall, at most 200 (an ACR limit). Normalised (`203.0.113.7/24` becomes `203.0.113.0/24`) and deduplicated. IP rules need Premium."""

    trusted_services_bypass: NotRequired[bool]
    """Let trusted Azure services (the artifact cache populating itself, `az acr import`, Defender, ACI, ML) through a restricted registry. The artifact cache cannot fill a restricted registry without it, so it cannot be turned off while cache rules exist."""

    tasks_bypass: NotRequired[bool]
    """Let ACR tasks with a managed identity through a restricted firewall (`networkRuleBypassAllowedForTasks`). Not available: azure-native 3.x deploys registries with API 2023-01-01-preview, which lacks it, so `true` is refused rather than ignored; purge tasks of a closed registry run on an agent pool instead (`acr-cache:agentPools`)."""

    data_endpoints: NotRequired[bool]
    """Dedicated data endpoints (`<registry>.<region>.data.azurecr.io`), so client firewalls allow-list those names instead of `*.blob.core.windows.net`. Default: on whenever the registry is restricted or has private endpoints (Azure turns them on for private endpoints anyway). Premium only."""


class ReplicaArgs(TypedDict):
    """An entry of section `replicas`: One geo-replica. Its key in `acr-cache:replicas` is its Azure region, e.g. `northeurope`."""

    zone_redundancy: NotRequired[bool]
    """Spread the replica over the region's availability zones. Azure cannot change this on an existing replica: a change deletes the replica and creates it again (its data syncs back from the other regions; pulls in that region go elsewhere meanwhile)."""

    region_endpoint_enabled: NotRequired[bool]
    """Whether the global endpoint routes pulls to this replica. `false` keeps syncing data into the region but sends clients elsewhere (for maintenance)."""

    tags: NotRequired[dict[str, str]]
    """Tags on the replica."""


class VnetLinkArgs(TypedDict):
    """An entry of `privateAccess.dnsZone.vnetLinks`: One VNet link of a created zone, in its long form (the short form is the VNet id alone)."""

    vnet_id: str
    """ARM id of the virtual network to link."""

    registration_enabled: NotRequired[bool]
    """Let the VNet's virtual machines register their own records in the zone (auto-registration). Off by default: the endpoints' records are kept by their zone groups. Azure allows auto-registration on one zone link per VNet."""


class PrivateEndpointArgs(TypedDict):
    """An entry of `privateAccess.endpoints`: One private endpoint of the registry. Its key in `endpoints` is its stable identity."""

    subnet_id: Input[str]
    """ARM id of the subnet the endpoint's network interface goes into. The component also takes it as an Output of another resource (a subnet made in the same program) when the DNS links do not have to be named after it: `dnsZone.mode: existing`, or `create` with `vnetLinks`."""

    resource_group: NotRequired[str]
    """Resource group of the endpoint. Default: the registry's resource group, or the subnet's when the subnet is in another subscription than the stack's (Azure puts an endpoint in its VNet's subscription, where the registry's group may not exist)."""

    location: NotRequired[str]
    """Region of the endpoint, which Azure requires to be the VNet's region. A subnet id does not reveal that region, so the default is the registry's home region: set it for a VNet elsewhere."""

    name: NotRequired[str]
    """Name of the private endpoint resource (2-64 characters). Default: `pe-<registry>-<key>`."""

    network_interface_name: NotRequired[str]
    """Name of the endpoint's network interface (1-80 letters, digits, `_ . -`). Azure sets it at creation only: a change replaces the endpoint. Default: `<endpoint name>-nic`. To adopt an endpoint made elsewhere, give what ARM reports as its `customNetworkInterfaceName`, or `""` when it reports none (Azure named the interface), so that none is sent."""

    subnet_prefix_length: NotRequired[int]
    """Prefix length of the subnet (27 for a /27), to check before deploying that it has room: every endpoint needs one address for the login server plus one per region's data endpoint, and adding a replica later fails and rolls back when any endpoint subnet is full."""

    application_security_group_ids: NotRequired[list[str]]
    """ARM ids of application security groups the endpoint's network interface joins, so that network security rules can name it (the VNet's, same region)."""

    manual_approval: NotRequired[bool]
    """Ask the registry's owner to approve the connection (a registry in another tenant or subscription whose owner approves endpoints): the endpoint stays Pending until `az network private-endpoint-connection approve`. Default: approved at once, as the stack owns both sides."""

    request_message: NotRequired[str]
    """With `manualApproval`: the message the approver sees (up to 140 characters)."""

    tags: NotRequired[dict[str, str]]
    """Tags on the private endpoint."""


class PrivateDnsZoneArgs(TypedDict):
    """`privateAccess.dnsZone`: The private DNS zone `privatelink.azurecr.io` that the endpoints' records go into."""

    mode: NotRequired[str]
    """`create`: one zone made by the stack, linked to `vnetLinks`. `existing`: the zone given by `zoneId` (central DNS in a hub). `perEndpoint`: a zone in each endpoint's VNet resource group, linked to that VNet (one zone per resource group; the VNets must be in the subscription the stack deploys to). `policy`: Azure Policy writes the records (a landing zone's central DNS): the endpoints get no DNS zone group, and the plan lists the records the policy must create."""

    resource_group: NotRequired[str]
    """`create` mode: resource group of the zone. Default: the registry's resource group."""

    subscription_id: NotRequired[str]
    """`create` mode: subscription of the zone and its VNet links (a connectivity subscription), deployed through a provider of that subscription; `resourceGroup` must be given with it. Default: the stack's subscription."""

    registration_enabled: NotRequired[bool]
    """`perEndpoint` mode: turn auto-registration on for the VNet link each zone gets, so the VNet's virtual machines register their own records in it. Azure allows it on one zone link per VNet, which `perEndpoint` keeps (one link per VNet)."""

    zone_id: NotRequired[str]
    """`existing` mode: ARM id of the `privatelink.azurecr.io` zone (`/subscriptions/.../providers/Microsoft.Network/privateDnsZones/privatelink.azurecr.io`)."""

    vnet_links: NotRequired[dict[str, VnetLinkArgs]]
    """`create` mode: VNets to link the zone to, by a name of your choice (the name keys the link, so reordering renames nothing): each a VNet id, or `{vnetId, registrationEnabled}` to turn auto-registration on for that link. Default: the VNet of every private endpoint, each keyed by its VNet name, without auto-registration. VNets that resolve through a hub's DNS need no link."""


class SecretSourceArgs(TypedDict):
    """Where a credential comes from: Where one credential (username or password/token) comes from."""

    config_key: NotRequired[str]
    """A key in the `acr-cache` namespace holding the value, set with `pulumi config set --secret <key> <value>`; the stack writes it into the vault as `secretName`. A password must be a secret key; a username may be plain."""

    secret_name: NotRequired[str]
    """Name of the Key Vault secret (1-127 letters, digits, hyphens). With `configKey`, the secret the stack writes (default `<set>-username` / `<set>-password`); without, an existing secret in the vault (bring your own)."""


class CredentialSetArgs(TypedDict):
    """An entry of `credentialSets`: Credentials for one upstream. Its key in `credentialSets` is its name (5-50 of `[a-zA-Z0-9-]`)."""

    login_server: str
    """Upstream login server: `docker.io`, `ghcr.io`, `quay.io`, `registry.k8s.io`, `nvcr.io`, `gcr.io`, `<region>-docker.pkg.dev`, `registry.redhat.io`, `dhi.io` or `<name>.azurecr.io`. Upstreams that only serve anonymous pulls (MCR, ECR Public) take no set."""

    username: SecretSourceArgs
    """The upstream username (Docker Hub: your account name)."""

    password: SecretSourceArgs
    """The upstream password or, better, an access token (Docker Hub: a personal access token with read-only public repository scope)."""


class KeyVaultArgs(TypedDict):
    """Section `keyVault`: The vault for upstream credentials: created by the stack, or an existing one by id."""

    name: NotRequired[str]
    """Name of a vault the stack creates: 3-24 letters, digits and hyphens, starting with a letter, no `--`; unique across all of Azure (it becomes `<name>.vault.azure.net`)."""

    existing_id: NotRequired[str]
    """ARM id of an existing vault to use instead (`/subscriptions/.../providers/Microsoft.KeyVault/vaults/<name>`). It must use Azure RBAC (the stack grants Key Vault Secrets User on the credential secrets), and the secrets the stack writes go into it."""

    resource_group: NotRequired[str]
    """Resource group of a created vault. Default: the registry's."""

    location: NotRequired[str]
    """Region of a created vault. Default: the home region."""

    public_network_access: NotRequired[bool]
    """Whether the vault's data plane answers on its public endpoint (filtered by `defaultAction` and `ipRules`). The stack writes secrets through ARM, which the vault firewall does not filter, and the credential sets read them as a trusted service, so `false` works for the cache too."""

    default_action: NotRequired[str]
    """Vault firewall action for addresses not in `ipRules`. Trusted Azure services (the registry's credential sets among them) always pass."""

    ip_rules: NotRequired[list[str]]
    """Public IPv4 addresses or CIDR ranges allowed to the vault's data plane."""

    soft_delete_retention_days: NotRequired[int]
    """Days a deleted vault or secret stays recoverable (7-90)."""

    purge_protection: NotRequired[bool]
    """Forbid purging deleted secrets and the vault before the retention ends. Azure cannot turn it off once on; a throwaway dev vault may leave it off to reuse its name at once."""

    tags: NotRequired[dict[str, str]]
    """Tags on a created vault."""


class CacheRuleArgs(TypedDict):
    """An entry of `cacheRules`, keyed by name: One cache rule: pulls of `<registry>/<target>` come from `<source>` through the registry."""

    source: str
    """Upstream repository with its host, lowercase, no tag or digest: `docker.io/library/nginx`, or a wildcard ending in `/*` (`mcr.microsoft.com/dotnet/*`)."""

    target: NotRequired[str]
    """Repository inside the registry (`library/nginx`), or a wildcard ending in `/*` (or `*`) when the source is one. Wildcard targets may not be equal or nested. Default: the source as written (`docker.io/library/nginx`), as the Azure Verified Modules do."""

    credential_set: NotRequired[str]
    """Key of a credential set in `credentialSets` that authenticates this rule."""

    credential_set_id: NotRequired[str]
    """ARM id of a credential set that exists outside this stack (another team's registry config), instead of `credentialSet`."""

    registry_credential_set: NotRequired[str]
    """Name of a credential set that already exists on the same registry (the platform's `dockerhub`, say), instead of `credentialSet`: a team adding rules to a shared registry reuses its sets without knowing their ids."""


class GrantArgs(TypedDict):
    """An entry of `access`: One principal's access. Its key in `acr-cache:access` names the grant (lowercase, hyphens)."""

    principal_id: Input[str]
    """Object id (GUID) of the principal: an AKS kubelet identity (`az aks show --query identityProfile.kubeletidentity.objectId`), a Container App's identity, a CI service principal's object id, a user or a group. The components also take it as an Output of another resource (an identity created in the same program)."""

    principal_type: str
    """`ServicePrincipal` (managed identities included), `User` or `Group`."""

    role: NotRequired[str]
    """A built-in registry role by name: `AcrPull` (pull only), `AcrPush` (push and pull), `AcrDelete` (delete content), `AcrImageSigner` (content trust, which Azure retires on 2028-03-31), `AcrQuarantineReader` or `AcrQuarantineWriter` (quarantined images). Owner, Contributor and User Access Administrator are refused: they can also delete the registry, change its network rules or grant anything. The repository roles (`Container Registry Repository ...`) need a registry in ABAC mode, which the deployed API cannot set."""


class ImageArgs(TypedDict):
    """An entry of `imports`, keyed by target: One image to import. Its key in `acr-cache:imports` is the target, `repository:tag`."""

    source: str
    """The image to copy, with its registry host and a tag or a digest: `docker.io/library/alpine:3.20` or `mcr.microsoft.com/dotnet/runtime@sha256:<64 hex>`. A digest pins the exact content; a tag is copied as it is at import time."""

    username_config_key: NotRequired[str]
    """Config key (in the `acr-cache` namespace) holding the upstream username, for registries that need one (Docker Hub: avoids its anonymous rate limit)."""

    password_config_key: NotRequired[str]
    """Secret config key holding the upstream password or token (`pulumi config set --secret <key> <value>`). Give it together with `usernameConfigKey`."""

    force: NotRequired[bool]
    """Overwrite the target tag if it already exists in the registry (mode Force). Without it the first import fails on an existing tag instead of replacing it."""
