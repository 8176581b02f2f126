"""Azure's name rules and ARM ids, rule by rule, against the limits Azure documents (resource-name-rules,
the ACR and Key Vault API patterns). Expected values are written out here, never read from the code."""

from __future__ import annotations

import pytest
from acr_cache import arm

SUB = "00000000-0000-0000-0000-000000000000"
GROUP = f"/subscriptions/{SUB}/resourceGroups/rg-net"

# rule -> (accepted names, refused names, the message for the first refused one)
NAME_RULES = {
    "RESOURCE_GROUP": (
        ["a", "rg-net_(x).y", "r" * 90],
        ["", "rg.", "r" * 91, "rg/x"],
        "'' is not a valid resource group name: use 1-90 letters, digits, underscores, hyphens, periods or "
        "parentheses, not ending with a period",
    ),
    "REGISTRY_NAME": (
        ["abcde", "a" * 50, "Acr01"],
        ["abcd", "a" * 51, "acr-cache", "acr_cache"],
        "'abcd' is not a valid registry name: use 5-50 letters and digits only (no hyphens or underscores); the "
        "name must be unique across all of Azure",
    ),
    "CACHE_RULE_NAME": (
        ["abcde", "a-b-c", "a" * 50],
        ["abcd", "a" * 51, "a_bcd"],
        "'abcd' is not a valid rule name: 5-50 letters, digits and hyphens",
    ),
    "CREDENTIAL_SET_NAME": (
        ["dockerhub", "a" * 50],
        ["hub", "a" * 51, "docker.hub"],
        "'hub' is not a valid credential set name: 5-50 letters, digits and hyphens",
    ),
    "VAULT_NAME": (
        ["kv1", "kv-acr-01", "k" * 24],
        ["kv", "k" * 25, "1kv", "kv-", "kv--acr"],
        "'kv' is not a valid vault name: 3-24 letters, digits and hyphens, starting with a letter, ending with a "
        "letter or digit, no `--`; it must be unique across Azure",
    ),
    "SECRET_NAME": (
        ["a", "dockerhub-password", "s" * 127],
        ["", "s" * 128, "docker_hub"],
        "'' is not a valid Key Vault secret name: 1-127 letters, digits, hyphens",
    ),
    "PRIVATE_ENDPOINT_NAME": (
        ["pe", "pe-acr.hub_1", "p" * 64, "p_"],
        ["p", "p" * 65, "-pe", "pe-"],
        "'p' is not a valid private endpoint name: 2-64 letters, digits, `_ . -`, starting with a letter or digit "
        "and ending with a letter, digit or `_`",
    ),
    "NETWORK_INTERFACE_NAME": (
        ["n", "nic-1.a_", "n" * 80],
        ["", "n" * 81, ".nic", "nic."],
        "'' is not a valid network interface name: 1-80 letters, digits, `_ . -`, starting with a letter or digit "
        "and ending with a letter, digit or `_`",
    ),
    "WORKSPACE_NAME": (
        ["log1", "log-acr-01", "l" * 63],
        ["log", "l" * 64, "-log", "log-", "log_acr"],
        "'log' is not a valid Log Analytics workspace name: 4-63 letters, digits and hyphens, starting and "
        "ending with a letter or digit",
    ),
    "WEBHOOK_NAME": (
        ["hook1", "w" * 50],
        ["hook", "w" * 51, "hook-1"],
        "'hook' is not a valid webhook name: 5-50 letters and digits",
    ),
    "AGENT_POOL_NAME": (
        ["ap1", "pool-01", "p" * 20],
        ["ap", "p" * 21, "pool_1"],
        "'ap' is not a valid agent pool name: 3-20 letters, digits and hyphens",
    ),
}


@pytest.mark.parametrize("rule", NAME_RULES)
def test_each_name_rule_at_azures_limits(rule: str) -> None:
    accepted, refused, message = NAME_RULES[rule]
    check = getattr(arm, rule)
    for name in accepted:
        assert check.check(name) == name
    for name in refused:
        with pytest.raises(ValueError):
            check.check(name)
    with pytest.raises(ValueError) as caught:
        check.check(refused[0])
    assert str(caught.value) == message


# kind -> (a valid id, its names, the message for an id of another type)
ARM_KINDS = {
    "VIRTUAL_NETWORK": (
        f"{GROUP}/providers/Microsoft.Network/virtualNetworks/vnet-hub",
        ("vnet-hub",),
        "is not the ARM id of a virtual network: expected /subscriptions/<guid>/resourceGroups/<group>/providers/"
        "Microsoft.Network/virtualNetworks/<vnet> (`az network vnet show ... --query id -o tsv` prints it)",
    ),
    "SUBNET": (
        f"{GROUP}/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/snet-pe",
        ("vnet-hub", "snet-pe"),
        "is not the ARM id of a subnet: expected /subscriptions/<guid>/resourceGroups/<group>/providers/"
        "Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet> (`az network vnet subnet show ... --query id "
        "-o tsv` prints it)",
    ),
    "PRIVATE_DNS_ZONE": (
        f"{GROUP}/providers/Microsoft.Network/privateDnsZones/privatelink.azurecr.io",
        ("privatelink.azurecr.io",),
        "is not the ARM id of a `privatelink.azurecr.io` private DNS zone: expected /subscriptions/<guid>/"
        "resourceGroups/<group>/providers/Microsoft.Network/privateDnsZones/privatelink.azurecr.io (`az network "
        "private-dns zone show -g <group> -n privatelink.azurecr.io --query id -o tsv` prints it)",
    ),
    "KEY_VAULT": (
        f"{GROUP}/providers/Microsoft.KeyVault/vaults/kv-acr01",
        ("kv-acr01",),
        "is not the ARM id of a Key Vault: expected /subscriptions/<guid>/resourceGroups/<group>/providers/"
        "Microsoft.KeyVault/vaults/<name> (`az keyvault show -n <name> --query id -o tsv` prints it)",
    ),
    "REGISTRY": (
        f"{GROUP}/providers/Microsoft.ContainerRegistry/registries/acrcache01",
        ("acrcache01",),
        "is not the ARM id of a container registry: expected /subscriptions/<guid>/resourceGroups/<group>/"
        "providers/Microsoft.ContainerRegistry/registries/<registry> (`az acr show -n <name> --query id -o tsv` "
        "prints it)",
    ),
    "CREDENTIAL_SET": (
        f"{GROUP}/providers/Microsoft.ContainerRegistry/registries/acrcache01/credentialSets/dockerhub",
        ("acrcache01", "dockerhub"),
        "is not the ARM id of a credential set: expected /subscriptions/<guid>/resourceGroups/<group>/providers/"
        "Microsoft.ContainerRegistry/registries/<registry>/credentialSets/<name> (`az acr credential-set show -r "
        "<registry> -n <name> --query id -o tsv` prints it)",
    ),
    "LOG_ANALYTICS_WORKSPACE": (
        f"{GROUP}/providers/Microsoft.OperationalInsights/workspaces/log-acr-01",
        ("log-acr-01",),
        "is not the ARM id of a Log Analytics workspace: expected /subscriptions/<guid>/resourceGroups/<group>/"
        "providers/Microsoft.OperationalInsights/workspaces/<name> (`az monitor log-analytics workspace show -g "
        "<group> -n <name> --query id -o tsv` prints it)",
    ),
    "STORAGE_ACCOUNT": (
        f"{GROUP}/providers/Microsoft.Storage/storageAccounts/stacrlogs01",
        ("stacrlogs01",),
        "is not the ARM id of a storage account: expected /subscriptions/<guid>/resourceGroups/<group>/providers/"
        "Microsoft.Storage/storageAccounts/<name> (`az storage account show -n <name> --query id -o tsv` prints it)",
    ),
    "EVENT_HUB_RULE": (
        f"{GROUP}/providers/Microsoft.EventHub/namespaces/evhns-acr/authorizationRules/RootManageSharedAccessKey",
        ("evhns-acr", "RootManageSharedAccessKey"),
        "is not the ARM id of an Event Hubs namespace authorization rule: expected /subscriptions/<guid>/"
        "resourceGroups/<group>/providers/Microsoft.EventHub/namespaces/<namespace>/authorizationRules/<rule> "
        "(`az eventhubs namespace authorization-rule show -g <group> --namespace-name <namespace> -n <rule> "
        "--query id -o tsv` prints it)",
    ),
    "ACTION_GROUP": (
        f"{GROUP}/providers/Microsoft.Insights/actionGroups/ag-platform on-call",
        ("ag-platform on-call",),
        "is not the ARM id of an action group: expected /subscriptions/<guid>/resourceGroups/<group>/providers/"
        "Microsoft.Insights/actionGroups/<name> (`az monitor action-group show -g <group> -n <name> --query id "
        "-o tsv` prints it)",
    ),
    "USER_ASSIGNED_IDENTITY": (
        f"{GROUP}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-acr_cmk",
        ("id-acr_cmk",),
        "is not the ARM id of a user-assigned managed identity: expected /subscriptions/<guid>/resourceGroups/"
        "<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name> (`az identity show -g <group> "
        "-n <name> --query id -o tsv` prints it)",
    ),
    "APPLICATION_SECURITY_GROUP": (
        f"{GROUP}/providers/Microsoft.Network/applicationSecurityGroups/asg-acr.clients",
        ("asg-acr.clients",),
        "is not the ARM id of an application security group: expected /subscriptions/<guid>/resourceGroups/"
        "<group>/providers/Microsoft.Network/applicationSecurityGroups/<name> (`az network asg show -g <group> "
        "-n <name> --query id -o tsv` prints it)",
    ),
}
OTHER = f"{GROUP}/providers/Microsoft.Storage/storageAccounts/stacr01"


@pytest.mark.parametrize("kind", ARM_KINDS)
def test_each_id_kind_parses_its_ids_and_refuses_others(kind: str) -> None:
    valid, names, message = ARM_KINDS[kind]
    parsed = arm.parse_arm_id(valid, getattr(arm, kind))
    assert (parsed.subscription, parsed.resource_group, parsed.names, parsed.name) == (
        SUB,
        "rg-net",
        names,
        names[-1],
    )
    assert parsed.value == valid
    other = OTHER if kind != "STORAGE_ACCOUNT" else ARM_KINDS["VIRTUAL_NETWORK"][0]
    with pytest.raises(ValueError) as caught:
        arm.parse_arm_id(other, getattr(arm, kind))
    assert str(caught.value) == f"'{other}' {message}"
    # A trailing segment, a missing one, and a name outside the rule are not ids of the kind.
    # An action group's name may hold any character but `/`, up to 260 of them.
    outside = "a" * 261 if kind == "ACTION_GROUP" else "*"
    for wrong in (f"{valid}/extra", valid.rsplit("/", 1)[0], f"{valid.rsplit('/', 1)[0]}/{outside}"):
        with pytest.raises(ValueError):
            arm.parse_arm_id(wrong, getattr(arm, kind))


def test_ids_compare_without_case_and_keep_the_names_as_written() -> None:
    written = f"/SUBSCRIPTIONS/{SUB.upper()}/RESOURCEGROUPS/RG-Net/PROVIDERS/microsoft.network/VIRTUALNETWORKS/Vnet-Hub/SUBNETS/Snet"
    parsed = arm.parse_arm_id(written.replace("0", "A"), arm.SUBNET)
    assert parsed.subscription == SUB.replace("0", "a")
    assert (parsed.resource_group, parsed.names) == ("RG-Net", ("Vnet-Hub", "Snet"))
    assert parsed.parent == written.replace("0", "A").rsplit("/", 2)[0]


def test_a_resource_group_ending_in_a_period_is_no_id() -> None:
    with pytest.raises(ValueError, match="is not the ARM id of a virtual network"):
        arm.parse_arm_id(
            f"/subscriptions/{SUB}/resourceGroups/rg./providers/Microsoft.Network/virtualNetworks/vnet",
            arm.VIRTUAL_NETWORK,
        )


def test_a_subscription_that_is_no_guid_is_no_id() -> None:
    with pytest.raises(ValueError):
        arm.parse_arm_id(
            "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet",
            arm.VIRTUAL_NETWORK,
        )


def test_the_reference_names_each_id_type() -> None:
    check = arm.id_check(arm.CREDENTIAL_SET)
    assert arm.ID_TYPE_NAMES[check] == "credential set id"
    assert check(ARM_KINDS["CREDENTIAL_SET"][0]) == ARM_KINDS["CREDENTIAL_SET"][0]
