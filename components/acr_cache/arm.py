"""Azure names and ARM resource ids: one rule per kind of name, one parser for ids, one wording.

An id is `/subscriptions/<guid>/resourceGroups/<group>/providers/<namespace>/<type>/<name>[/<type>/<name>]`.
ARM compares ids without case; the parts keep the case written, for the names sent to Azure.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

from acr_cache.redaction import shown


class NameRule(NamedTuple):
    """What Azure (or this project, for keys that become names) allows in one kind of name."""

    what: str
    """How messages call it: `registry name`."""
    pattern: str
    allowed: str
    """The rule in words, as the message gives it."""

    def matches(self, value: str) -> bool:
        return _compiled(self.pattern).fullmatch(value) is not None

    def check(self, value: str) -> str:
        """The value, or ValueError in the one wording every name rule uses."""
        if not self.matches(value):
            raise ValueError(f"'{shown(value)}' is not a valid {self.what}: {self.allowed}")
        return value


class ArmKind(NamedTuple):
    """One resource type the config takes ids of."""

    what: str
    """How messages name it: `a subnet`."""
    provider: str
    """`Microsoft.Network`."""
    segments: tuple[tuple[str, str, str], ...]
    """(type, name pattern, placeholder) from the top: `virtualNetworks`, then `subnets`."""
    hint: str
    """Where the user finds the id."""

    @property
    def template(self) -> str:
        tail = "".join(f"/{kind}/{placeholder}" for kind, _, placeholder in self.segments)
        return f"/subscriptions/<guid>/resourceGroups/<group>/providers/{self.provider}{tail}"

    @property
    def pattern(self) -> re.Pattern[str]:
        tail = "".join(
            f"/{re.escape(kind)}/(?P<n{index}>{name})" for index, (kind, name, _) in enumerate(self.segments)
        )
        return _compiled(
            rf"/subscriptions/(?P<subscription>{GUID})/resourceGroups/(?P<group>{RESOURCE_GROUP.pattern})"
            rf"/providers/{re.escape(self.provider)}{tail}",
            re.IGNORECASE,
        )


_CACHE: dict[tuple[str, int], re.Pattern[str]] = {}


def _compiled(pattern: str, flags: int = 0) -> re.Pattern[str]:
    key = (pattern, flags)
    if key not in _CACHE:
        _CACHE[key] = re.compile(pattern, flags)
    return _CACHE[key]


class ArmId(NamedTuple):
    """A parsed ARM id."""

    value: str
    subscription: str
    """Lowercase, for comparing."""
    resource_group: str
    names: tuple[str, ...]
    """The resource names from the top type down: (vnet, subnet)."""

    @property
    def name(self) -> str:
        return self.names[-1]

    @property
    def parent(self) -> str:
        """The id of the resource one level up (a subnet's VNet)."""
        return self.value.rsplit("/", 2)[0]


def parse_arm_id(value: str, kind: ArmKind) -> ArmId:
    """The id's parts, or ValueError saying what an id of this kind looks like."""
    match = kind.pattern.fullmatch(value)
    if match is None or match["group"].endswith("."):
        raise ValueError(
            f"'{shown(value)}' is not the ARM id of {kind.what}: expected {kind.template} ({kind.hint})"
        )
    return ArmId(
        value,
        match["subscription"].lower(),
        match["group"],
        tuple(match[f"n{index}"] for index in range(len(kind.segments))),
    )


ID_TYPE_NAMES: dict[Any, str] = {}
"""Validator function -> the type name the config reference shows (`subnet id`)."""


def id_check(kind: ArmKind) -> Callable[[str], str]:
    """The validator of a config field holding an id of this kind (kept as written):
    `Annotated[str, AfterValidator(id_check(SUBNET))]`."""

    def check(value: str) -> str:
        parse_arm_id(value, kind)
        return value

    ID_TYPE_NAMES[check] = f"{kind.what.split(' ', 1)[1]} id"
    return check


GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
"""A GUID as ARM writes subscription, tenant and object ids."""


def guid_check(value: str) -> str:
    """A subscription id, lowercase (ARM compares them without case), or ValueError with the fix."""
    if not _compiled(GUID).fullmatch(value):
        raise ValueError(
            f"'{shown(value)}' is not a subscription id: expected a GUID (`az account show --query id -o tsv`)"
        )
    return value.lower()


# ARM naming rules (https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules),
# and ACR's API patterns for registries, credential sets and cache rules.
RESOURCE_GROUP = NameRule(
    "resource group name",
    r"[-\w.()]{0,89}[-\w()]",
    "use 1-90 letters, digits, underscores, hyphens, periods or parentheses, not ending with a period",
)
REGISTRY_NAME = NameRule(
    "registry name",
    r"[a-zA-Z0-9]{5,50}",
    "use 5-50 letters and digits only (no hyphens or underscores); the name must be unique across all of Azure",
)
CHILD_NAME = r"[a-zA-Z0-9-]{5,50}"
CACHE_RULE_NAME = NameRule("rule name", CHILD_NAME, "5-50 letters, digits and hyphens")
CREDENTIAL_SET_NAME = NameRule("credential set name", CHILD_NAME, "5-50 letters, digits and hyphens")
VAULT_NAME = NameRule(
    "vault name",
    r"[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]",
    "3-24 letters, digits and hyphens, starting with a letter, ending with a letter or digit, no `--`; "
    "it must be unique across Azure",
)
SECRET_NAME = NameRule("Key Vault secret name", r"[a-zA-Z0-9-]{1,127}", "1-127 letters, digits, hyphens")
PRIVATE_ENDPOINT_NAME = NameRule(
    "private endpoint name",
    r"[a-zA-Z0-9][\w.-]{0,62}\w",
    "2-64 letters, digits, `_ . -`, starting with a letter or digit and ending with a letter, digit or `_`",
)
NETWORK_INTERFACE_NAME = NameRule(
    "network interface name",
    r"[a-zA-Z0-9]([\w.-]{0,78}\w)?",
    "1-80 letters, digits, `_ . -`, starting with a letter or digit and ending with a letter, digit or `_`",
)

_VNET_SEGMENT = ("virtualNetworks", r"[-\w.]{2,64}", "<vnet>")
VIRTUAL_NETWORK = ArmKind(
    "a virtual network",
    "Microsoft.Network",
    (_VNET_SEGMENT,),
    "`az network vnet show ... --query id -o tsv` prints it",
)
SUBNET = ArmKind(
    "a subnet",
    "Microsoft.Network",
    (_VNET_SEGMENT, ("subnets", r"[-\w.]{1,80}", "<subnet>")),
    "`az network vnet subnet show ... --query id -o tsv` prints it",
)
PRIVATE_DNS_ZONE = ArmKind(
    "a `privatelink.azurecr.io` private DNS zone",
    "Microsoft.Network",
    (("privateDnsZones", r"privatelink\.azurecr\.io", "privatelink.azurecr.io"),),
    "`az network private-dns zone show -g <group> -n privatelink.azurecr.io --query id -o tsv` prints it",
)
KEY_VAULT = ArmKind(
    "a Key Vault",
    "Microsoft.KeyVault",
    (("vaults", VAULT_NAME.pattern, "<name>"),),
    "`az keyvault show -n <name> --query id -o tsv` prints it",
)
REGISTRY = ArmKind(
    "a container registry",
    "Microsoft.ContainerRegistry",
    (("registries", REGISTRY_NAME.pattern, "<registry>"),),
    "`az acr show -n <name> --query id -o tsv` prints it",
)
CREDENTIAL_SET = ArmKind(
    "a credential set",
    "Microsoft.ContainerRegistry",
    (("registries", REGISTRY_NAME.pattern, "<registry>"), ("credentialSets", CHILD_NAME, "<name>")),
    "`az acr credential-set show -r <registry> -n <name> --query id -o tsv` prints it",
)
WORKSPACE_NAME = NameRule(
    "Log Analytics workspace name",
    r"[a-zA-Z0-9][a-zA-Z0-9-]{2,61}[a-zA-Z0-9]",
    "4-63 letters, digits and hyphens, starting and ending with a letter or digit",
)
LOG_ANALYTICS_WORKSPACE = ArmKind(
    "a Log Analytics workspace",
    "Microsoft.OperationalInsights",
    (("workspaces", WORKSPACE_NAME.pattern, "<name>"),),
    "`az monitor log-analytics workspace show -g <group> -n <name> --query id -o tsv` prints it",
)
STORAGE_ACCOUNT = ArmKind(
    "a storage account",
    "Microsoft.Storage",
    (("storageAccounts", r"[a-z0-9]{3,24}", "<name>"),),
    "`az storage account show -n <name> --query id -o tsv` prints it",
)
EVENT_HUB_RULE = ArmKind(
    "an Event Hubs namespace authorization rule",
    "Microsoft.EventHub",
    (
        ("namespaces", r"[a-zA-Z][a-zA-Z0-9-]{4,48}[a-zA-Z0-9]", "<namespace>"),
        ("authorizationRules", r"[\w.-]{1,256}", "<rule>"),
    ),
    "`az eventhubs namespace authorization-rule show -g <group> --namespace-name <namespace> -n <rule> --query id -o tsv` prints it",
)
ACTION_GROUP = ArmKind(
    "an action group",
    "Microsoft.Insights",
    (("actionGroups", r"[^/]{1,260}", "<name>"),),
    "`az monitor action-group show -g <group> -n <name> --query id -o tsv` prints it",
)
WEBHOOK_NAME = NameRule("webhook name", r"[a-zA-Z0-9]{5,50}", "5-50 letters and digits")
AGENT_POOL_NAME = NameRule("agent pool name", r"[a-zA-Z0-9-]{3,20}", "3-20 letters, digits and hyphens")
USER_ASSIGNED_IDENTITY = ArmKind(
    "a user-assigned managed identity",
    "Microsoft.ManagedIdentity",
    (("userAssignedIdentities", r"[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}", "<name>"),),
    "`az identity show -g <group> -n <name> --query id -o tsv` prints it",
)
APPLICATION_SECURITY_GROUP = ArmKind(
    "an application security group",
    "Microsoft.Network",
    (("applicationSecurityGroups", r"[\w][\w.-]{0,78}\w?", "<name>"),),
    "`az network asg show -g <group> -n <name> --query id -o tsv` prints it",
)
