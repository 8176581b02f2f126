"""The security baseline: one control per rule that Azure Policy built-ins and Checkov hold a
registry (and its credential vault) to, as plain validators.

The validators see resources as the provider receives them (wire names), through `Res`. The same
functions serve the CrossGuard pack (`policy/`) and `acr-cache plan`; neither needs the other.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from acr_cache.plan.values import Secret, Unknown
from acr_cache.redaction import credential_kind
from acr_cache.roles import CONTRIBUTOR, KEY_VAULT_SECRETS_USER, OWNER, USER_ACCESS_ADMINISTRATOR

REGISTRY = "azure-native:containerregistry:Registry"
REPLICATION = "azure-native:containerregistry:Replication"
CACHE_RULE = "azure-native:containerregistry:CacheRule"
CREDENTIAL_SET = "azure-native:containerregistry:CredentialSet"
VAULT = "azure-native:keyvault:Vault"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
PRIVATE_ENDPOINT = "azure-native:network:PrivateEndpoint"
KV_SECRET = "azure-native:keyvault:Secret"
IMAGE_IMPORT = "pulumi-python:dynamic/acr-cache:ImageImport"
DIAGNOSTIC_SETTING = "azure-native:monitor:DiagnosticSetting"


MANDATORY = "mandatory"
ADVISORY = "advisory"
DISABLED = "disabled"
LEVELS = (MANDATORY, ADVISORY, DISABLED)


class NotKnown(Exception):
    """A value the control needs is only known after deployment: the control cannot judge yet."""


@dataclass(frozen=True)
class Res:
    """A resource as a control sees it."""

    urn: str
    type: str
    name: str
    props: Mapping[str, Any]
    property_dependencies: Mapping[str, frozenset[str]] = field(default_factory=dict)
    secrets_known: bool = True
    """True where secret values carry a marker (offline plan); CrossGuard hands them over unwrapped."""


def get(props: Mapping[str, Any], path: str, default: Any = None) -> Any:
    """A nested wire property (`policies.exportPolicy.status`); raises NotKnown for unknowns."""
    value: Any = props
    for part in path.split("."):
        if isinstance(value, Secret):
            value = value.value
        if isinstance(value, Unknown):
            raise NotKnown(path)
        if not isinstance(value, Mapping) or part not in value:
            return default
        value = value[part]
    if isinstance(value, Secret):
        value = value.value
    if isinstance(value, Unknown):
        raise NotKnown(path)
    return value


ResourceCheck = Callable[[Res, Mapping[str, Any]], Iterable[str]]
StackCheck = Callable[[list[Res], Mapping[str, Any]], Iterable[tuple[str, str]]]


@dataclass(frozen=True)
class Control:
    name: str
    description: str
    mirrors: str
    """The Azure Policy definition id(s) or Checkov id(s) (or the Azure rule) it mirrors."""
    level: str
    """Default enforcement: mandatory or advisory."""
    why: str
    relax: str
    """How a team that must relax it does so."""
    types: tuple[str, ...] = ()
    check: ResourceCheck | None = None
    stack_check: StackCheck | None = None
    options: Mapping[str, tuple[type, Any, str]] = field(default_factory=dict)
    """Config properties: name -> (type, default, description)."""
    config_fix: str = ""
    """The acr-cache stack config that satisfies it, as the violation tells the user."""
    fix_for: Callable[[Res], str] | None = None
    """The same for one resource, with its own key (`replicas.westus3.zoneRedundancy`), where the
    resource says which entry of the config made it."""

    @property
    def relaxable(self) -> bool:
        return not self.relax.startswith("Not relaxable")

    def remedy(self, res: Res | None = None) -> str:
        """What a violation adds to its message: the config key that fixes it (the resource's own
        key when it is known), and the override."""
        fix = self.fix_for(res) if self.fix_for is not None and res is not None else self.config_fix
        parts = [f"fix: {fix}"] if fix else []
        if self.relaxable:
            parts.append(
                f'or relax: `{{"{self.name}": "advisory"}}` in the policy pack config '
                "(`acr-cache plan --policy-config`, `pulumi preview --policy-pack-config`)"
            )
        return "; ".join(parts)


def _restricted(props: Mapping[str, Any]) -> bool:
    return (
        get(props, "publicNetworkAccess") == "Disabled"
        or get(props, "networkRuleSet.defaultAction") == "Deny"
    )


def _admin_user(res: Res, _: Mapping[str, Any]) -> Iterable[str]:
    if get(res.props, "adminUserEnabled") is not False:
        yield "the admin user must be off (adminUserEnabled: false): use Entra ID identities with AcrPull/AcrPush"


def _anonymous_pull(res: Res, options: Mapping[str, Any]) -> Iterable[str]:
    if get(res.props, "anonymousPullEnabled") is True and not options.get("allowAnonymousPull"):
        yield (
            "anonymous pull is on: anyone who reaches the registry can pull every repository; turn it off, "
            "or set this policy's allowAnonymousPull for a documented Docker mirror"
        )


def _arm_audience(res: Res, _: Mapping[str, Any]) -> Iterable[str]:
    if get(res.props, "policies.azureADAuthenticationAsArmPolicy.status") != "disabled":
        yield "ARM-audience tokens must be disabled (policies.azureADAuthenticationAsArmPolicy.status: disabled)"


def _network(res: Res, _: Mapping[str, Any]) -> Iterable[str]:
    if not _restricted(res.props):
        yield "the registry accepts every address: disable public network access or set the firewall to Deny"


def _exports(res: Res, _: Mapping[str, Any]) -> Iterable[str]:
    if (
        get(res.props, "publicNetworkAccess") == "Disabled"
        and get(res.props, "policies.exportPolicy.status") != "disabled"
    ):
        yield "a private registry must not allow exports (policies.exportPolicy.status: disabled)"


def _premium_private_link(resources: list[Res], _: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    registries = {r.urn: r for r in resources if r.type == REGISTRY}
    by_id = {get(r.props, "id", "") or "": r for r in registries.values()}
    for res in registries.values():
        if get(res.props, "sku.name") != "Premium" and (
            get(res.props, "networkRuleSet.ipRules") or get(res.props, "publicNetworkAccess") == "Disabled"
        ):
            yield res.urn, "IP rules and private-only access need the Premium tier"
    for endpoint in (r for r in resources if r.type == PRIVATE_ENDPOINT):
        targets = set(endpoint.property_dependencies.get("privateLinkServiceConnections", frozenset()))
        for connection in get(endpoint.props, "privateLinkServiceConnections", []) or []:
            link = connection.get("privateLinkServiceId") if isinstance(connection, Mapping) else None
            if isinstance(link, str) and link in by_id:
                targets.add(by_id[link].urn)
        for urn in sorted(targets & set(registries)):
            if get(registries[urn].props, "sku.name") != "Premium":
                yield endpoint.urn, "private endpoints need a Premium registry"


def _grant_key(res: Res) -> str:
    # acr-cache describes each assignment as "<role> on <registry> for <grant>".
    description = str(get(res.props, "description", "") or "")
    return description.rsplit(" for ", 1)[1] if " for " in description else "<grant>"


def _zone_redundancy(res: Res, _: Mapping[str, Any]) -> Iterable[str]:
    if res.type == REGISTRY and get(res.props, "sku.name") != "Premium":
        return
    if get(res.props, "zoneRedundancy") != "Enabled":
        yield "zone redundancy must be Enabled"


def _retention(res: Res, _: Mapping[str, Any]) -> Iterable[str]:
    if get(res.props, "sku.name") != "Premium":
        return
    retention = get(res.props, "policies.retentionPolicy.status")
    soft_delete = get(res.props, "policies.softDeletePolicy.status")
    if retention != "enabled" and soft_delete != "enabled":
        yield "untagged manifests must be cleaned up: enable the retention policy (or soft delete)"


def _data_endpoints(res: Res, _: Mapping[str, Any]) -> Iterable[str]:
    if _restricted(res.props) and get(res.props, "dataEndpointEnabled") is not True:
        yield (
            "a restricted registry needs dedicated data endpoints (dataEndpointEnabled: true), or clients must "
            "allow-list *.blob.core.windows.net"
        )


def _trusted_services(resources: list[Res], _: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    if not any(r.type == CACHE_RULE for r in resources):
        return
    for res in resources:
        if (
            res.type == REGISTRY
            and _restricted(res.props)
            and get(res.props, "networkRuleBypassOptions") != "AzureServices"
        ):
            yield (
                res.urn,
                "cache rules exist, and the artifact cache fills a restricted registry only as a trusted service: networkRuleBypassOptions must be AzureServices",
            )


def _key_vault(res: Res, _: Mapping[str, Any]) -> Iterable[str]:
    if get(res.props, "properties.enableRbacAuthorization") is not True:
        yield "the vault must use Azure RBAC (properties.enableRbacAuthorization: true)"
    if get(res.props, "properties.enableSoftDelete") is False:
        yield "the vault must keep soft delete on"
    if get(res.props, "properties.enablePurgeProtection") is not True:
        yield "the vault must have purge protection (properties.enablePurgeProtection: true)"


# The log categories a diagnostic setting must send, per resource type: what an audit of pulls,
# pushes, sign-ins and secret reads needs. A category group that includes them counts too.
_AUDIT_LOGS = {
    REGISTRY: {"ContainerRegistryRepositoryEvents", "ContainerRegistryLoginEvents"},
    VAULT: {"AuditEvent"},
}
_AUDIT_GROUPS = {"allLogs", "audit"}


def _sent_logs(setting: Res) -> set[str]:
    sent = set()
    for log in get(setting.props, "logs", []) or []:
        if isinstance(log, Mapping) and log.get("enabled") is True:
            sent |= {str(log.get("category")), str(log.get("categoryGroup"))}
    return sent


def _diagnostic_logs(resources: list[Res], _: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    settings = [r for r in resources if r.type == DIAGNOSTIC_SETTING]
    for res in resources:
        wanted = _AUDIT_LOGS.get(res.type)
        if wanted is None:
            continue
        sent: set[str] = set()
        for setting in settings:
            target = res.urn in setting.property_dependencies.get("resourceUri", frozenset()) or (
                bool(get(res.props, "id")) and get(setting.props, "resourceUri") == get(res.props, "id")
            )
            has_destination = any(
                get(setting.props, key)
                for key in ("workspaceId", "storageAccountId", "eventHubAuthorizationRuleId")
            )
            if target and has_destination:
                sent |= _sent_logs(setting)
        missing = sorted(wanted - sent) if not sent & _AUDIT_GROUPS else []
        if missing:
            yield (
                res.urn,
                f"no diagnostic setting sends {', '.join(missing)} anywhere: its audit trail is lost",
            )


def _credential_set_grants(resources: list[Res], _: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    readers = [
        r
        for r in resources
        if r.type == ROLE_ASSIGNMENT
        and str(get(r.props, "roleDefinitionId", "")).endswith(KEY_VAULT_SECRETS_USER)
    ]
    for res in resources:
        if res.type != CREDENTIAL_SET:
            continue
        granted = any(res.urn in r.property_dependencies.get("principalId", frozenset()) for r in readers)
        if not granted:
            yield (
                res.urn,
                "no Key Vault Secrets User grant for this credential set's identity: the set stays unhealthy",
            )


def _docker_hub_credentials(res: Res, _: Mapping[str, Any]) -> Iterable[str]:
    source = str(get(res.props, "sourceRepository", "") or "")
    if source.startswith("docker.io/") and not get(res.props, "credentialSetResourceId"):
        yield "Docker Hub rules need a credential set (Azure refuses them: EnforceDockerAuthentication)"


def _broad_roles(res: Res, _: Mapping[str, Any]) -> Iterable[str]:
    scope = str(get(res.props, "scope", "") or "")
    role = str(get(res.props, "roleDefinitionId", "") or "").lower()
    if "/providers/microsoft.containerregistry/registries/" in scope.lower() and role.endswith(
        (OWNER, CONTRIBUTOR, USER_ACCESS_ADMINISTRATOR)
    ):
        yield (
            "Owner, Contributor or User Access Administrator on a registry can delete it, open its firewall "
            "or grant anything: grant AcrPull or AcrPush (or another registry role)"
        )


# Inputs that hold credentials, by resource type, as wire paths.
_SENSITIVE = {
    KV_SECRET: ("properties.value",),
    IMAGE_IMPORT: ("username", "password"),
}
_SENSITIVE_NAMES = ("password", "secret", "token", "apikey", "api_key", "privatekey", "connectionstring")
_SENSITIVE_KEY = re.compile(rf"(?:{'|'.join(_SENSITIVE_NAMES)})\Z", re.IGNORECASE)
# The same names as JSON keys (`"password":`), to find in the lowered JSON text of the inputs.
_SENSITIVE_KEYS_IN_JSON = tuple(f'{name}":' for name in _SENSITIVE_NAMES)


def _plain_secrets(res: Res, _: Mapping[str, Any]) -> Iterable[str]:
    sensitive = set(_SENSITIVE.get(res.type, ()))
    if not sensitive and type(res.props) is dict:  # CrossGuard's proxies take the full walk
        # Most resources hold neither a sensitive key nor a credential-shaped value: one pass of
        # the C JSON encoder and a few substring searches rule them out before walking every leaf.
        # The encoder escapes everything outside ASCII, so lowering the text is exact.
        text = json.dumps(res.props, default=repr)
        lowered = text.lower()
        if credential_kind(text) is None and not any(key in lowered for key in _SENSITIVE_KEYS_IN_JSON):
            return
    for path, value, secret in _leaves(res.props):
        leaf = path.rsplit(".", 1)[-1]
        is_sensitive = path in sensitive or bool(_SENSITIVE_KEY.search(leaf))
        if path == "__provider" or not isinstance(value, str) or not value:
            continue
        if is_sensitive and res.secrets_known and not secret:
            yield f"input `{path}` holds a credential that is not marked secret: pass it as pulumi.Output.secret(...)"
        elif not is_sensitive and not secret and (kind := credential_kind(value)):
            yield f"input `{path}` looks like {kind} in plain text: move it to a secret config key"


def _leaves(value: Any, path: str = "", secret: bool = False) -> Iterable[tuple[str, Any, bool]]:
    if isinstance(value, Secret):
        yield from _leaves(value.value, path, True)
    elif isinstance(value, Mapping):
        for key in value:
            yield from _leaves(value[key], f"{path}.{key}" if path else str(key), secret)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]", secret)
    elif not isinstance(value, Unknown):
        yield path, value, secret


CONTROLS: tuple[Control, ...] = (
    Control(
        "acr-admin-user-disabled",
        "Container registries have the local admin account disabled.",
        "Azure Policy dc921057-6b28-4fbe-9b83-f7bec05db6c2; Checkov CKV_AZURE_137",
        MANDATORY,
        "The admin user is one shared password with push rights, outside Entra ID, audit and rotation.",
        "None needed: every client can use `az acr login` or a managed identity.",
        types=(REGISTRY,),
        check=_admin_user,
        config_fix="acr-cache never enables it; a program that does must set `adminUserEnabled: false`",
    ),
    Control(
        "acr-anonymous-pull-disabled",
        "Container registries have anonymous pull disabled.",
        "Azure Policy 9f2dea28-e834-476c-99c5-3507b4728395; Checkov CKV_AZURE_138",
        MANDATORY,
        "Anonymous pull lets anyone who reaches the registry read every repository in it.",
        "Docker Engine mirror mode needs it: set this policy's `allowAnonymousPull: true` in the pack "
        "config of that environment, next to `acr-cache:dockerMirror.reason`.",
        types=(REGISTRY,),
        check=_anonymous_pull,
        options={"allowAnonymousPull": (bool, False, "Accept anonymous pull (Docker Engine mirror mode).")},
        config_fix="`acr-cache:dockerMirror.enabled: false`, or this policy's `allowAnonymousPull: true` for a documented mirror",
    ),
    Control(
        "acr-arm-audience-tokens-disabled",
        "Container registries have ARM-audience token authentication disabled.",
        "Azure Policy 42781ec6-6127-4c30-bdfa-fb423a0047d3",
        MANDATORY,
        "Entra tokens for the ARM audience are broader than registry-scoped ones; `az acr login` needs none.",
        "Only for clients that cannot request an ACR-audience token; set the level to advisory.",
        types=(REGISTRY,),
        check=_arm_audience,
        config_fix="acr-cache always disables them; a program that does not must set `policies.azureADAuthenticationAsArmPolicy.status: disabled`",
    ),
    Control(
        "acr-network-restricted",
        "Container registries do not allow unrestricted network access.",
        "Azure Policy d0793b48-0edc-4296-a390-4c75d1bdfd71 and 0fdf0491-d080-4575-b627-ad0e843cba0f; "
        "Checkov CKV_AZURE_139",
        ADVISORY,
        "An open endpoint leaves only authentication between the internet and your images.",
        "Advisory by default because a dev registry used from laptops and hosted CI is open on purpose; "
        "production sets `publicAccess: Disabled` or `Restricted`. Make it mandatory in prod's pack config.",
        types=(REGISTRY,),
        check=_network,
        config_fix="`acr-cache:network.publicAccess: Disabled` (with `privateAccess.endpoints`) or `Restricted` (with `network.ipRules`)",
    ),
    Control(
        "acr-exports-disabled",
        "Private container registries have exports disabled.",
        "Azure Policy 524b0254-c285-4903-bee6-bb8126cde579",
        MANDATORY,
        "Exports (`az acr import` from it, transfer pipelines) copy content out around the private network.",
        "Keep exports on by setting this policy to advisory for that stack.",
        types=(REGISTRY,),
        check=_exports,
        config_fix="`acr-cache:registry.exportEnabled: false`",
    ),
    Control(
        "acr-premium-for-private-link",
        "Registries that use private endpoints or IP rules are Premium.",
        "Azure Policy bd560fc0-3c69-498a-ae9f-aa8eb7de0e13",
        MANDATORY,
        "Private link and IP rules exist on Premium only: on another tier the deployment fails.",
        "Not relaxable: Azure refuses it.",
        stack_check=_premium_private_link,
        config_fix="`acr-cache:registry.sku: Premium`",
    ),
    Control(
        "acr-zone-redundant",
        "Premium registries and their replicas are zone redundant.",
        "Azure Policy 9d2b0a20-57d6-474c-9d12-44a4a20999c6; Checkov CKV_AZURE_233",
        ADVISORY,
        "A zonal outage must not take the registry (and every deployment pulling from it) down.",
        "Regions without availability zones: keep the level advisory.",
        types=(REGISTRY, REPLICATION),
        check=_zone_redundancy,
        config_fix="`acr-cache:registry.zoneRedundancy: true` and `acr-cache:replicas.<region>.zoneRedundancy: true` (both replace the resource)",
        fix_for=lambda res: (
            "`acr-cache:registry.zoneRedundancy: true` (it replaces the registry)"
            if res.type == REGISTRY
            else f"`acr-cache:replicas.{get(res.props, 'location', '<region>')}.zoneRedundancy: true` (it replaces "
            "the replica)"
        ),
    ),
    Control(
        "acr-untagged-retention",
        "Premium registries clean up untagged manifests (retention policy, or soft delete).",
        "Checkov CKV_AZURE_167",
        ADVISORY,
        "Cached tags move; without retention, dangling manifests grow storage without bound.",
        "Registries that must keep every manifest: advisory, or `retentionDays` high.",
        types=(REGISTRY,),
        check=_retention,
        config_fix="`acr-cache:registry.untaggedRetention: true` (the default), or `softDeleteDays`",
    ),
    Control(
        "acr-dedicated-data-endpoints",
        "Restricted registries use dedicated data endpoints.",
        "Checkov CKV_AZURE_237",
        MANDATORY,
        "Without them, clients behind a firewall must allow *.blob.core.windows.net, an exfiltration path.",
        "Set the level to advisory if clients already allow the storage wildcard.",
        types=(REGISTRY,),
        check=_data_endpoints,
        config_fix="`acr-cache:network.dataEndpoints: true`",
    ),
    Control(
        "acr-trusted-services-for-cache",
        "Restricted registries with cache rules let trusted Azure services through.",
        "ACR artifact cache requirement (artifact-cache-cli: 'Artifact cache can't populate the target "
        "registry when trusted-services access is disabled')",
        MANDATORY,
        "The cache fills a restricted registry as a trusted service; without the bypass every pull fails.",
        "Not relaxable while cache rules exist.",
        stack_check=_trusted_services,
        config_fix="`acr-cache:network.trustedServicesBypass: true`",
    ),
    Control(
        "keyvault-rbac-soft-delete-purge-protection",
        "The credential vault uses RBAC and has soft delete and purge protection.",
        "Azure Policy 12d4fa5e-1f9f-4c21-97a9-b99b3c6611b5, 1e66c121-a66a-4b1f-9b83-0fd99bf0fc2d, "
        "0b60c0b2-2dc2-4e1c-b5c9-abbed971de53; Checkov CKV_AZURE_42, CKV_AZURE_110, CKV_AZURE_111",
        MANDATORY,
        "RBAC allows grants on single secrets; soft delete and purge protection keep upstream credentials "
        "recoverable from a mistaken or malicious delete.",
        "A throwaway vault may set the level to advisory (purge protection cannot be turned off later).",
        types=(VAULT,),
        check=_key_vault,
        config_fix="`acr-cache:keyVault.purgeProtection: true` (a vault given by `existingId` is configured where it was made)",
    ),
    Control(
        "acr-diagnostic-logs",
        "The registry and the credential vault send their audit logs to a destination.",
        "PSRule Azure.ACR.Logs and Azure.KeyVault.Logs; Azure Policy built-ins 'Resource logs in Key Vault "
        "should be enabled' and 'Enable logging by category group for Container registries'",
        ADVISORY,
        "Pulls, pushes, sign-ins and secret reads are the evidence of an incident and of who broke a shared cache.",
        "Advisory by default (a dev registry may go without); prod's pack config makes it mandatory.",
        stack_check=_diagnostic_logs,
        config_fix="`acr-cache:monitoring.diagnostics` with a `workspace` (or `storageAccountId`, `eventHub`) "
        "and the default log categories",
    ),
    Control(
        "credential-set-key-vault-grant",
        "Every credential set's identity is granted Key Vault Secrets User.",
        "ACR artifact cache requirement (the set's identity needs secrets/getSecret/action)",
        MANDATORY,
        "Without the grant the set is Unhealthy and every pull through its rules fails.",
        "Vaults granted outside this stack: set the level to advisory for that stack.",
        stack_check=_credential_set_grants,
        config_fix="acr-cache grants it for every set in `acr-cache:credentialSets`; for a vault granted elsewhere, grant Key Vault Secrets User to the set's identity",
    ),
    Control(
        "dockerhub-rule-has-credential-set",
        "Every Docker Hub cache rule uses a credential set.",
        "ACR API rule EnforceDockerAuthentication",
        MANDATORY,
        "Azure refuses Docker Hub rules without credentials; anonymous pulls would hit Docker Hub's rate limit.",
        "Not relaxable: Azure refuses it.",
        types=(CACHE_RULE,),
        check=_docker_hub_credentials,
        config_fix="`acr-cache:cacheRules.<rule>.credentialSet` naming a set whose `loginServer` is docker.io",
        fix_for=lambda res: (
            f"`acr-cache:cacheRules.{get(res.props, 'cacheRuleName', '<rule>')}.credentialSet` naming a set whose "
            "`loginServer` is docker.io"
        ),
    ),
    Control(
        "no-owner-contributor-on-registry",
        "No Owner or Contributor role assignment at registry scope.",
        "Azure RBAC least privilege for ACR (AcrPull 7f951dda-4ed3-4680-a7ca-43fe172d538d, AcrPush "
        "8311e382-0749-4cb8-b61a-304f252e45ec)",
        MANDATORY,
        "Owner and Contributor can delete the registry, open its firewall and enable the admin user.",
        "Grant them at a higher scope through your platform's RBAC process, not from this stack.",
        types=(ROLE_ASSIGNMENT,),
        check=_broad_roles,
        config_fix="`acr-cache:access.<grant>.role: AcrPull` (or `AcrPush`)",
        fix_for=lambda res: f"`acr-cache:access.{_grant_key(res)}.role: AcrPull` (or `AcrPush`)",
    ),
    Control(
        "no-plaintext-secrets",
        "No credential travels in a plain (non-secret) input.",
        "Checkov secrets scanning (CKV_SECRET_*)",
        MANDATORY,
        "A plain input lands unencrypted in the state file, in `pulumi preview --diff` and in logs.",
        "Not relaxable; mark the value secret (`pulumi config set --secret`).",
        types=(),
        check=_plain_secrets,
        config_fix="put the value in a key of its own, `pulumi config set --secret <name> <value>`, and refer to it by `configKey`",
    ),
)
"""Every control of the baseline, in report order."""


def control(name: str) -> Control:
    return next(c for c in CONTROLS if c.name == name)
