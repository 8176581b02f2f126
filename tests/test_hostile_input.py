"""Hostile input, round two: stack files that are not what they seem (through the CLI), and
properties over every string and integer of a config that sets every key."""

from __future__ import annotations

import codecs
import copy
import importlib
import json
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import acr_cache
import pytest
from acr_cache.cli import main
from acr_cache.config import NAMESPACE, ConfigError, StackConfig, parse_stack_config
from acr_cache.redaction import CREDENTIAL_SHAPES, credential_kind, one_line, redact, shown
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from tests.conftest import ROOT

SUB = "00000000-0000-0000-0000-000000000000"
VNET = f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-hub"
SET_ID = (
    f"/subscriptions/{SUB}/resourceGroups/rg-platform/providers/Microsoft.ContainerRegistry"
    "/registries/platformacr01/credentialSets/ghcr-set"
)
PRINCIPAL = "11111111-2222-3333-4444-555555555555"

# A config that sets every string key of every section at least once (the mirror aside: its `*`
# target overlaps every wildcard rule, so it has a document of its own below).
FULL: dict[str, Any] = {
    "resourceGroup": {"name": "rg-acr", "create": True, "location": "westeurope", "tags": {"env": "test"}},
    "subscriptionId": SUB,
    "registry": {
        "name": "acrcachefull01",
        "location": "westeurope",
        "sku": "Premium",
        "tags": {"team": "platform"},
        "aliases": ["urn:pulumi:full::acr-cache::azure-native:containerregistry:Registry::acr"],
        "identity": {
            "systemAssigned": True,
            "userAssignedIds": [
                f"/subscriptions/{SUB}/resourceGroups/rg-id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-acr"
            ],
        },
    },
    "replicas": {"northeurope": {"tags": {"replica": "one"}}},
    "network": {"publicAccess": "Disabled"},
    "privateAccess": {
        "endpoints": {
            "hub": {
                "subnetId": f"{VNET}/subnets/pe",
                "resourceGroup": "rg-net",
                "location": "westeurope",
                "name": "pe-hub",
                "networkInterfaceName": "pe-hub-nic",
                "subnetPrefixLength": 27,
                "applicationSecurityGroupIds": [
                    f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/applicationSecurityGroups/asg-pe"
                ],
                "manualApproval": True,
                "requestMessage": "platform team, ticket PLAT-1",
                "tags": {"role": "pe"},
            }
        },
        "dnsZone": {
            "mode": "create",
            "resourceGroup": "rg-dns",
            "subscriptionId": "44444444-4444-4444-4444-444444444444",
            "vnetLinks": {"hub": VNET, "spoke": {"vnetId": VNET + "2", "registrationEnabled": True}},
        },
    },
    "keyVault": {
        "name": "kv-acrfull01",
        "resourceGroup": "rg-sec",
        "location": "westeurope",
        "defaultAction": "Deny",
        "softDeleteRetentionDays": 30,
        "ipRules": ["198.51.100.7"],
        "tags": {"data": "secrets"},
    },
    "credentialSets": {
        "dockerhub": {
            "loginServer": "docker.io",
            "username": {"configKey": "dockerHubUsername", "secretName": "dh-user"},
            "password": {"configKey": "dockerHubToken", "secretName": "dh-token"},
        }
    },
    "cacheRules": {
        "dockerhub-library": {
            "source": "docker.io/library/*",
            "target": "library/*",
            "credentialSet": "dockerhub",
        },
        "ghcr-org": {"source": "ghcr.io/org/*", "target": "ghcr/*", "credentialSetId": SET_ID},
        "quay-app": {"source": "quay.io/org/app", "registryCredentialSet": "quay-set"},
    },
    "access": {
        "aks-pull": {"principalId": PRINCIPAL, "principalType": "ServicePrincipal", "role": "AcrPull"}
    },
    "imports": {
        "base/alpine:3.20": {
            "source": "docker.io/library/alpine:3.20",
            "usernameConfigKey": "dockerHubUsername",
            "passwordConfigKey": "dockerHubToken",
        }
    },
    "encryption": {
        "identity": {"name": "id-acr-cmk"},
        "key": {"name": "acr-cmk", "size": 4096, "rotateAfterDays": 180},
    },
    "tokens": {
        "edge-devices": {
            "repositories": {"library/nginx": ["read"], "team/*": ["read", "write"]},
            "expiryDays": 90,
            "rotation": "2026-q4",
            "secretName": "acr-token-edge",
        }
    },
    "agentPools": {"purgepool": {"subnetId": f"{VNET}/subnets/tasks", "tier": "S2", "count": 2}},
    "purge": {
        "dockerhub-library": {
            "schedule": "30 2 * * 1-5",
            "olderThanDays": 30,
            "keep": 3,
            "agentPool": "purgepool",
        }
    },
    "webhooks": {
        "releasehook": {
            "serviceUriConfigKey": "releaseHookUrl",
            "actions": ["push", "delete"],
            "scope": "base/alpine:*",
            "customHeaderConfigKeys": {"Authorization": "releaseHookToken"},
            "location": "northeurope",
        }
    },
    "monitoring": {
        "diagnostics": {
            "workspace": {"name": "log-acrfull", "retentionDays": 90, "tags": {"data": "logs"}},
            "storageAccountId": f"/subscriptions/{SUB}/resourceGroups/rg-logs/providers/Microsoft.Storage/storageAccounts/stacrlogs",
            "eventHub": {
                "authorizationRuleId": f"/subscriptions/{SUB}/resourceGroups/rg-logs/providers/Microsoft.EventHub"
                "/namespaces/evhns-siem/authorizationRules/send",
                "name": "acr-logs",
            },
            "registryLogs": ["ContainerRegistryLoginEvents"],
            "vaultLogs": ["AuditEvent", "AzurePolicyEvaluationDetails"],
        },
        "alerts": {
            "actionGroup": {
                "shortName": "acrfull",
                "emails": {"oncall": "oncall@example.com"},
                "webhookUrlConfigKey": "alertsWebhookUrl",
            },
            "existingActionGroupIds": [
                f"/subscriptions/{SUB}/resourceGroups/rg-ops/providers/Microsoft.Insights/actionGroups/ag-oncall"
            ],
            "storageUsedGib": {"threshold": 800, "severity": 3, "windowMinutes": 360},
            "failedPulls": {"threshold": 40, "severity": 2, "windowMinutes": 30},
            "failedLogins": {"threshold": 60, "severity": 3, "windowMinutes": 60},
            "cachePullFailures": {"threshold": 5, "severity": 1, "windowMinutes": 15},
        },
    },
}
# Mirror mode with a token instead of anonymous pull.
MIRROR_TOKEN: dict[str, Any] = {
    "resourceGroup": {"name": "rg-acr", "create": True},
    "registry": {"name": "acrcachemirror02", "location": "westeurope"},
    "keyVault": {"name": "kv-acrmirror02"},
    "credentialSets": {
        "dockerhub": {
            "loginServer": "docker.io",
            "username": {"secretName": "u"},
            "password": {"secretName": "p"},
        }
    },
    "tokens": {"mirror-clients": {"repositories": {"library/*": ["read"]}}},
    "dockerMirror": {"enabled": True, "credentialSet": "dockerhub", "token": "mirror-clients"},
}
# Adoption is checked on its own document: adopting changes nothing a string key refuses.
ADOPTING: dict[str, Any] = {
    "resourceGroup": {"name": "rg-acr", "create": False},
    "registry": {"name": "acrcacheadopt01", "location": "westeurope"},
    "adoption": {"subscriptionId": SUB, "registry": True},
}
MIRROR: dict[str, Any] = {
    "resourceGroup": FULL["resourceGroup"],
    "registry": {"name": "acrcachemirror01", "location": "westeurope"},
    "dockerMirror": {
        "enabled": True,
        "reason": "Docker daemons on the build farm cannot sign in to a mirror.",
        "registryCredentialSet": "dockerhub",
        "ruleName": "dockerhub-mirror",
    },
    # The list form, where a rule's name is a key of its own.
    "cacheRules": [{"source": "quay.io/org/app", "target": "quay/app", "name": "quay-app-rule"}],
}
# The other side of every either-or: an existing group, zone and vault, a restricted firewall, the
# mirror with the stack's own set, and the list form of cacheRules.
ALTERNATIVE: dict[str, Any] = {
    "resourceGroup": {"name": "rg-existing", "create": False},
    "registry": {"name": "acrcachealt01", "location": "westeurope"},
    "network": {"publicAccess": "Restricted", "ipRules": ["203.0.113.0/24"]},
    "privateAccess": {
        "endpoints": {"hub": {"subnetId": f"{VNET}/subnets/pe"}},
        "dnsZone": {
            "mode": "existing",
            "zoneId": f"/subscriptions/{SUB}/resourceGroups/rg-dns/providers/Microsoft.Network"
            "/privateDnsZones/privatelink.azurecr.io",
        },
    },
    "keyVault": {
        "existingId": f"/subscriptions/{SUB}/resourceGroups/rg-sec/providers/Microsoft.KeyVault/vaults/kv-shared01"
    },
    "monitoring": {
        "diagnostics": {
            "workspace": {
                "existingId": f"/subscriptions/{SUB}/resourceGroups/rg-ops/providers/Microsoft.OperationalInsights"
                "/workspaces/log-landing-zone"
            }
        }
    },
    "encryption": {
        "identity": {
            "existingId": f"/subscriptions/{SUB}/resourceGroups/rg-id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-cmk",
            "clientId": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
            "principalId": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
        },
        "key": {"existingUri": "https://kv-shared01.vault.azure.net/keys/acr-cmk"},
    },
    "credentialSets": {
        "dockerhub": {
            "loginServer": "docker.io",
            "username": {"configKey": "dockerHubUsername"},
            "password": {"configKey": "dockerHubToken"},
        }
    },
    "dockerMirror": {
        "enabled": True,
        "reason": "Docker daemons on the build farm cannot sign in to a mirror.",
        "credentialSet": "dockerhub",
    },
    "cacheRules": [
        {"source": "ghcr.io/org/app", "target": "ghcr/app", "name": "ghcr-app", "credentialSetId": SET_ID},
        {"source": "quay.io/org/app", "target": "quay/app", "registryCredentialSet": "quay-set"},
        {"source": "docker.io/library/nginx", "target": "library/nginx", "credentialSet": "dockerhub"},
    ],
}
MIRROR_BY_ID = copy.deepcopy(MIRROR)
MIRROR_BY_ID["dockerMirror"] = {
    **{k: v for k, v in MIRROR["dockerMirror"].items() if k != "registryCredentialSet"},
    "credentialSetId": SET_ID.replace("ghcr-set", "dockerhub"),
}
SECRETS = {
    f"{NAMESPACE}:dockerHubUsername": "octocat",
    f"{NAMESPACE}:dockerHubToken": "placeholder-token",
    f"{NAMESPACE}:releaseHookUrl": "https://ci.example.com/hooks/acr",
    f"{NAMESPACE}:releaseHookToken": "placeholder-bearer",
    f"{NAMESPACE}:alertsWebhookUrl": "https://chat.example.com/hooks/alerts",
}
FREE_TEXT = {("dockerMirror", "reason")}


def values_of(document: dict[str, Any]) -> dict[str, str]:
    return {**{f"{NAMESPACE}:{k}": json.dumps(v) for k, v in document.items()}, **SECRETS}


def parse(document: dict[str, Any]) -> StackConfig:
    return parse_stack_config(values_of(document), list(SECRETS))


USER_MAPS = {
    "replicas",
    "endpoints",
    "vnetLinks",
    "credentialSets",
    "cacheRules",
    "access",
    "imports",
    "tags",
    "agentPools",
    "purge",
    "webhooks",
    "customHeaderConfigKeys",
    "emails",
    "tokens",
    "repositories",
}
"""Maps whose keys are the user's names (a region, a rule name, a tag name)."""


def declared_leaves(annotation: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(field pattern, leaf type) of every scalar the model declares, map keys as `.<key>`."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        yield from declared_leaves(args[0], path)
    elif origin in (Union, UnionType):
        for arg in args:
            if arg is not type(None):
                yield from declared_leaves(arg, path)
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, info in annotation.model_fields.items():
            yield from declared_leaves(info.annotation, f"{path}.{info.alias or name}")
    elif origin is dict:
        yield from declared_leaves(args[0], f"{path}.<key>")
        yield from declared_leaves(args[1], f"{path}.<key>")
    elif origin is list:
        yield from declared_leaves(args[0], f"{path}[]")
    else:
        yield path, annotation


def string_positions(document: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    """(path, text) of every string of a document: values, and the keys of the user's maps
    (a key is the path step `("<key>", key)`)."""
    if isinstance(document, dict):
        for key, value in document.items():
            if path and path[-1] in USER_MAPS:
                yield (*path, ("<key>", key)), key
            yield from string_positions(value, (*path, key))
    elif isinstance(document, list):
        for index, item in enumerate(document):
            yield from string_positions(item, (*path, index))
    elif isinstance(document, str):
        yield path, document


def field_pattern(path: tuple[Any, ...]) -> str:
    text = ""
    for index, part in enumerate(path):
        if isinstance(part, int):
            text += "[]"
        elif isinstance(part, tuple) or (index and path[index - 1] in USER_MAPS):
            text += ".<key>"
        else:
            text += f".{part}"
    return text


def replaced(document: dict[str, Any], path: tuple[Any, ...], text: str) -> dict[str, Any]:
    """The document with the string at `path` (a value, or a map key) replaced by `text`."""
    changed = copy.deepcopy(document)
    node: Any = changed
    for part in path[:-1]:
        node = node[part[1] if isinstance(part, tuple) else part]
    last = path[-1]
    if isinstance(last, tuple):
        node[text] = node.pop(last[1])
    else:
        node[last] = text
    return changed


def key_path(path: tuple[Any, ...]) -> str:
    """The key path a problem about `path` is reported at (or below)."""
    text = f"{NAMESPACE}:{path[0]}"
    for part in path[1:]:
        if isinstance(part, tuple):
            break  # a problem about a map key names the key itself, or the map
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


DOCUMENTS = {
    "FULL": FULL,
    "MIRROR": MIRROR,
    "ALTERNATIVE": ALTERNATIVE,
    "MIRROR_BY_ID": MIRROR_BY_ID,
    "ADOPTING": ADOPTING,
    "MIRROR_TOKEN": MIRROR_TOKEN,
}
POSITIONS = [(name, path) for name, doc in DOCUMENTS.items() for path, _ in string_positions(doc)]


def test_the_full_documents_are_valid_and_set_every_string_key() -> None:
    for document in DOCUMENTS.values():
        parse(document)
    written = {field_pattern(path) for _, path in POSITIONS}
    # The list form of cacheRules holds the same rule model as the map form.
    # A rule of the map form is named by its key: `name` is refused there, and set in the list form.
    declared = {p for p, kind in declared_leaves(StackConfig) if kind is str} - {".cacheRules.<key>.name"}
    assert declared <= written, declared - written


# Never part of a name, an id, a region, a URL or a tag: `$` in a pattern let the first through.
CONTROL = ["\n", "\r\n", "\x00", "\t", "\x1b[31m", "\u2028", "\x7f"]


@given(st.sampled_from(POSITIONS), st.sampled_from(CONTROL), st.booleans())
@settings(max_examples=400, deadline=None)
def test_control_characters_are_refused_at_the_key_in_every_string(
    position: tuple[str, tuple[Any, ...]], control: str, at_end: bool
) -> None:
    name, path = position
    document = DOCUMENTS[name]
    original = dict(string_positions(document))[path]
    text = original + control if at_end else control + original
    if (path[0], path[-1]) in FREE_TEXT and control in ("\n", "\t"):
        return  # prose may break lines
    try:
        config = parse(replaced(document, path, text))
    except ConfigError as exc:
        where = key_path(path)
        assert any(p.key.startswith(where) or where.startswith(p.key) for p in exc.problems), (where, exc)
        for line in str(exc).splitlines()[1:]:
            assert control not in line and line.startswith("  "), line
    else:
        # Made safe instead (an IP rule is stripped): nothing with the character reaches Azure.
        assert control.strip() == "" or control not in json.dumps(config.model_dump(mode="json"))
        assert all(
            not re.search(r"[\x00-\x1f]", s) for _, s in string_positions(config.model_dump(mode="json"))
        )


def _modules() -> Iterator[Any]:
    for info in pkgutil.walk_packages(acr_cache.__path__, "acr_cache."):
        yield importlib.import_module(info.name)


def test_no_pattern_can_stop_short_of_the_end_of_a_value() -> None:
    """`$` matches before a trailing newline and `.match` stops wherever the pattern does: every
    pattern is written without anchors and used with fullmatch (or search, for a part)."""
    patterns = {
        f"{module.__name__}.{name}": value
        for module in _modules()
        for name, value in vars(module).items()
        if isinstance(value, re.Pattern)
    }
    assert len(patterns) >= 20, sorted(patterns)
    anchored = {name: p.pattern for name, p in patterns.items() if re.search(r"(?<!\\)\$|^\^", p.pattern)}
    assert not anchored, anchored
    package = Path(acr_cache.__file__).parent
    prefix_matches = [
        f"{path.relative_to(package)}:{number}"
        for path in package.rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"(?<!full)match\(", line) and "def " not in line
    ]
    assert not prefix_matches, prefix_matches


# --- integers are numbers, never booleans -------------------------------------------------------

INTEGER_FIELDS = {p for p, kind in declared_leaves(StackConfig) if kind is int}


def test_every_integer_key_is_in_the_full_document() -> None:
    written = {field_pattern(path) for doc in DOCUMENTS.values() for path, _ in _integer_positions(doc)}
    assert INTEGER_FIELDS - {".registry.retentionDays", ".registry.softDeleteDays"} <= written
    assert INTEGER_FIELDS, "the walk finds the integer fields"


def _integer_positions(document: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], int]]:
    if isinstance(document, dict):
        for key, value in document.items():
            yield from _integer_positions(value, (*path, key))
    elif isinstance(document, int) and not isinstance(document, bool):
        yield path, document


BOOLEAN_FOR_INTEGER = [
    (("registry", "retentionDays"), FULL),
    (("registry", "softDeleteDays"), {**FULL, "replicas": {}}),
    (("privateAccess", "endpoints", "hub", "subnetPrefixLength"), FULL),
    (("keyVault", "softDeleteRetentionDays"), FULL),
    (("agentPools", "purgepool", "count"), FULL),
    (("encryption", "key", "size"), FULL),
    (("tokens", "edge-devices", "expiryDays"), FULL),
    (("encryption", "key", "rotateAfterDays"), FULL),
    (("purge", "dockerhub-library", "olderThanDays"), FULL),
    (("purge", "dockerhub-library", "keep"), FULL),
    (("monitoring", "diagnostics", "workspace", "retentionDays"), FULL),
    *[
        (("monitoring", "alerts", alert, field), FULL)
        for alert in ("storageUsedGib", "failedPulls", "failedLogins", "cachePullFailures")
        for field in ("severity", "windowMinutes")
    ],
]


def test_the_boolean_cases_cover_every_integer_key() -> None:
    assert {field_pattern(path) for path, _ in BOOLEAN_FOR_INTEGER} == INTEGER_FIELDS


@pytest.mark.parametrize(("path", "document"), BOOLEAN_FOR_INTEGER, ids=lambda p: ".".join(map(str, p)))
@pytest.mark.parametrize("flag", [True, False])
def test_a_boolean_is_refused_where_an_integer_belongs(
    path: tuple[str, ...], document: dict[str, Any], flag: bool
) -> None:
    changed = copy.deepcopy(document)
    node = changed
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = flag
    with pytest.raises(ConfigError) as caught:
        parse(changed)
    where = key_path(path)
    assert [str(p) for p in caught.value.problems if p.key == where] == [
        f"{where}: expected a whole number, not `{str(flag).lower()}`"
    ], caught.value


# --- credentials never come back, wherever they are put -----------------------------------------

ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
TOKENS = st.one_of(
    st.text(ALNUM + "_-", min_size=27, max_size=36).map(lambda t: f"dckr_pat_{t}"),
    st.text(ALNUM, min_size=36, max_size=36).map(lambda t: f"ghp_{t}"),
    st.text(ALNUM + "_", min_size=60, max_size=82).map(lambda t: f"github_pat_{t}"),
    st.text(ALNUM + "-_", min_size=20, max_size=20).map(lambda t: f"glpat-{t}"),
    st.tuples(st.text(ALNUM, min_size=10, max_size=30), st.text(ALNUM, min_size=10, max_size=40)).map(
        lambda p: f"eyJhbGciOiJIUzI1NiJ9.eyJ{p[0]}.{p[1]}"
    ),
    st.text(ALNUM, min_size=8, max_size=20).map(lambda t: f"https://robot:pw~{t}@registry.example.com/app"),
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", min_size=16, max_size=16).map(lambda t: f"AKIA{t}"),
)


@given(st.sampled_from(POSITIONS), TOKENS)
@settings(max_examples=300, deadline=None)
def test_a_credential_in_any_string_is_refused_and_never_repeated(
    position: tuple[str, tuple[Any, ...]], token: str
) -> None:
    name, path = position
    assert credential_kind(token) is not None, token
    with pytest.raises(ConfigError) as caught:
        parse(replaced(DOCUMENTS[name], path, token))
    text = str(caught.value)
    secret_part = token.split(":")[-1].split("@")[0] if token.startswith("https://") else token
    assert secret_part not in text
    assert any("looks like" in p.message or "hidden:" in str(p) for p in caught.value.problems), text


@given(TOKENS)
@settings(max_examples=100, deadline=None)
def test_a_credential_as_a_key_name_or_a_namespace_is_never_repeated(token: str) -> None:
    values = {**values_of(FULL), f"{NAMESPACE}:{token}": "x", f"{token}:registry": "{}"}
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(values, list(SECRETS))
    secret_part = token.split(":")[-1].split("@")[0] if token.startswith("https://") else token
    assert secret_part not in str(caught.value)


@given(st.text(min_size=0, max_size=300))
@settings(max_examples=300, deadline=None)
def test_a_shown_value_is_one_short_line_with_no_credential(text: str) -> None:
    shown_text = shown(text)
    assert "\n" not in shown_text and "\r" not in shown_text and len(shown_text) <= 230
    assert not re.search(r"[\x00-\x1f\x7f]", one_line(text))
    assert credential_kind(redact(text)) is None


def test_every_credential_shape_is_caught_and_hidden() -> None:
    samples = {
        "a Docker Hub access token": "dckr_pat_" + "a1B2" * 7,
        "a GitHub token": "ghs_" + "x" * 36,
        "a GitLab token": "glpat-" + "y" * 20,
        "a JSON web token": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl",
        "a URL with credentials": "https://user:hunter2@example.com/x",
        "an AWS access key": "AKIAABCDEFGHIJKLMNOP",
        "a Google API key": "AIza" + "b" * 35,
        "a Slack token": "xoxb-1234567890-abcdef",
        "an npm token": "npm_" + "c" * 36,
        "an Entra ID client secret": "abc8Q~" + "d" * 34,
        "an Azure storage key or SAS": "AccountKey=" + "e" * 40,
        "a private key": "-----BEGIN RSA PRIVATE KEY-----",
    }
    assert set(samples) == {kind for kind, _ in CREDENTIAL_SHAPES}
    for kind, sample in samples.items():
        assert credential_kind(f"prefix {sample} suffix") == kind
        assert sample not in redact(f"x {sample} y") and f"[hidden: {kind}]" in redact(sample)
    for legitimate in (
        f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/acr01",
        "sha256:" + "0" * 64,
        PRINCIPAL,
        "docker.io/library/nginx:1.27",
        "ghcr.io/org/app",
        "urn:pulumi:prod::acr-cache::azure-native:containerregistry:Registry::acr",
        "https://kv-acr01.vault.azure.net/secrets/dockerhub-password",
    ):
        assert credential_kind(legitimate) is None, legitimate


# --- stack files that are not what they seem, through the CLI ----------------------------------

GOOD_SECTIONS = "config:\n  acr-cache:resourceGroup:\n    name: rg-acr\n  acr-cache:registry:\n    name: acrcache01\n    location: westeurope\n"


def _alias_bomb() -> str:
    lines = ["config:", "  acr-cache:bomb:", "    a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 10):
        lines.append(f"    a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


# (file name, bytes, fragment of the one problem line)
FILE_CORPUS: list[tuple[str, bytes, str]] = [
    (
        "Pulumi.bytes.yaml",
        b"config:\n  acr-cache:registry:\n    name: \xff\xfe\x00\x81\n",
        "is not UTF-8 text",
    ),
    ("Pulumi.latin1.yaml", "config:\n  acr-cache:x: café\n".encode("latin-1"), "byte 0xe9 is not UTF-8"),
    ("Pulumi.utf32.yaml", codecs.BOM_UTF32_LE + GOOD_SECTIONS.encode("utf-32-le"), "UTF-32"),
    (
        "Pulumi.binary.yaml",
        (GOOD_SECTIONS + "  acr-cache:blob: !!binary aGVsbG8=\n").encode(),
        "tag `!!binary`",
    ),
    ("Pulumi.set.yaml", (GOOD_SECTIONS + "  acr-cache:s: !!set {a, b}\n").encode(), "tag `!!set`"),
    ("Pulumi.local.yaml", (GOOD_SECTIONS + "  acr-cache:s: !Ref thing\n").encode(), "tag `!Ref`"),
    (
        "Pulumi.deep.yaml",
        ("config:\n  acr-cache:x: " + "[" * 400 + "]" * 400 + "\n").encode(),
        "nest more than 34",
    ),
    ("Pulumi.bomb.yaml", _alias_bomb().encode(), "grows past 200,000 values (aliases `*name` expanded)"),
    (
        "Pulumi.huge.yaml",
        ("config:\n  acr-cache:registry:\n    name: " + "a" * 1_000_000 + "\n").encode(),
        "a value of 1,000,000 characters",
    ),
    ("Pulumi.big.yaml", b"config:\n  acr-cache:x: " + b"a" * 5_000_000 + b"\n", "5,000,024 bytes"),
    ("Pulumi.star.yaml", (GOOD_SECTIONS + "  acr-cache:x: *\n").encode(), "an unquoted `*` starts an alias"),
    ("Pulumi.tabs.yaml", b"config:\n\tacr-cache:x: 1\n", "not tabs"),
    ("Pulumi.colon.yaml", (GOOD_SECTIONS + "  acr-cache:x: a: b\n").encode(), "must be quoted"),
    ("Pulumi.merge.yaml", (GOOD_SECTIONS + "  acr-cache:y:\n    <<: {a: 1}\n").encode(), "merge keys"),
    ("Pulumi.nul.yaml", (GOOD_SECTIONS + "  acr-cache:x: a\x00b\n").encode(), "control characters"),
    ("Pulumi.inf.yaml", (GOOD_SECTIONS + "  acr-cache:x:\n    n: .inf\n").encode(), "`inf` is not a number"),
    ("Pulumi.secure.yaml", (GOOD_SECTIONS + "  acr-cache:t:\n    secure: ''\n").encode(), "not a ciphertext"),
    (
        "Pulumi.securelist.yaml",
        (GOOD_SECTIONS + "  acr-cache:t:\n    secure: [1]\n").encode(),
        "not a ciphertext",
    ),
    ("Pulumi.twocolons.yaml", (GOOD_SECTIONS + "  acr-cache:a:b: 1\n").encode(), "not a config key"),
    (
        "Pulumi.typo.yaml",
        (GOOD_SECTIONS + "  acr-cahce:replicas:\n    northeurope: {}\n").encode(),
        "did you mean `acr-cache:replicas`?",
    ),
    (
        "Pulumi.case.yaml",
        (GOOD_SECTIONS + "  ACR-Cache:network: {}\n").encode(),
        "did you mean `acr-cache:network`?",
    ),
    (
        "Pulumi.token.yaml",
        (GOOD_SECTIONS + "    tags:\n      owner: ghp_" + "Z" * 36 + "\n").encode(),
        "acr-cache:registry.tags.owner: looks like a GitHub token",
    ),
    (
        "Pulumi.keyname.yaml",
        (GOOD_SECTIONS + "  acr-cache:dckr_pat_" + "Q" * 27 + ": x\n").encode(),
        "[hidden: a Docker Hub access token]: unknown config key",
    ),
    (
        "Pulumi.newline.yaml",
        (GOOD_SECTIONS.replace("name: acrcache01", 'name: "acrcache01\\n"')).encode(),
        "'acrcache01\\n' contains a control character",
    ),
]


@pytest.mark.parametrize(("name", "content", "fragment"), FILE_CORPUS, ids=[c[0] for c in FILE_CORPUS])
def test_stack_file_case_exits_2_with_one_line_per_problem(
    name: str, content: bytes, fragment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_project(tmp_path)
    (tmp_path / name).write_bytes(content)
    code = main(["plan", "--config", str(tmp_path / name)])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == "" and "Traceback" not in err
    assert any(fragment in line for line in err.splitlines()), err
    for line in err.splitlines():
        # One problem, one line: every line is a problem, a problem of the list, or the summary.
        assert line.startswith(("error: ", "  ", "nothing was planned")), line
        assert len(line) < 2_000, line[:200]
    for secret in ("ghp_" + "Z" * 36, "dckr_pat_" + "Q" * 27, "a" * 1_000):
        assert secret not in err


def test_a_utf16_stack_file_is_read_as_the_cli_reads_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_project(tmp_path)
    text = GOOD_SECTIONS + "    tags:\n      created: 2024-06-01\n"
    (tmp_path / "Pulumi.u16.yaml").write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    (tmp_path / "Pulumi.bom8.yaml").write_bytes(codecs.BOM_UTF8 + text.encode())
    for name in ("Pulumi.u16.yaml", "Pulumi.bom8.yaml"):
        assert main(["plan", "--config", str(tmp_path / name), "--format", "json"]) == 0
        out, _ = capsys.readouterr()
        registry = next(
            r for r in json.loads(out)["resources"] if r["type"] == "azure-native:containerregistry:Registry"
        )
        # A timestamp stays the text written, as yaml.v3 gives it to the CLI.
        assert registry["inputs"]["tags"] == {"created": "2024-06-01"}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["plan", ""], "a stack name may not be empty"),
        (["plan", "a::b"], "':' is not allowed"),
        (["plan", "org/dev"], "the part after the last `/`"),
        (["plan", "x" * 101], "cannot exceed 100 characters"),
        (["plan", "--config", "Pulumi..yaml"], "a stack name may not be empty"),
        (["plan", "--config", "."], "is a directory"),
    ],
)
def test_stack_names_are_checked_as_pulumi_does(
    args: list[str], fragment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_project(tmp_path)
    (tmp_path / "Pulumi..yaml").write_text(GOOD_SECTIONS)
    code = main(
        [*args, "--cwd", str(tmp_path)] if "--config" not in args else [*args[:2], str(tmp_path / args[2])]
    )
    _, err = capsys.readouterr()
    assert code == 2 and fragment in err and len(err.splitlines()) == 1, err


def test_the_legacy_config_form_of_a_key_is_read_as_the_cli_reads_it(tmp_path: Path) -> None:
    from acr_cache.plan.stackfile import load_stack_files

    write_project(tmp_path)
    (tmp_path / "Pulumi.legacy.yaml").write_text(
        "config:\n  acr-cache:config:registry:\n    name: acrcache01\n    location: westeurope\n"
    )
    files = load_stack_files("legacy", None, tmp_path)
    assert json.loads(files.config["acr-cache:registry"])["name"] == "acrcache01"


def write_project(directory: Path) -> None:
    (directory / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (directory / "stacks").mkdir(exist_ok=True)
    (directory / "stacks" / "__main__.py").write_text((ROOT / "stacks" / "__main__.py").read_text())
    (directory / "__main__.py").write_text((ROOT / "__main__.py").read_text())


@pytest.mark.parametrize(
    "namespace", ["acr-cahce", "acrcache", "acr_cache", "ACR-Cache", "arc-cache", "acr-caches"]
)
def test_a_namespace_close_to_the_projects_is_refused_with_the_key_meant(namespace: str) -> None:
    values = {**values_of(FULL), f"{namespace}:replicas": '{"northeurope": {}}'}
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(values, list(SECRETS))
    assert [str(p) for p in caught.value.problems] == [
        f"{namespace}:replicas: the namespace `{namespace}:` is not this project's: did you mean "
        "`acr-cache:replicas`? (keys of other namespaces are passed over, so this one would be ignored)"
    ]


def test_keys_of_other_namespaces_stay_allowed() -> None:
    others = ["azure-native", "azure", "azuread", "pulumi", "aws", "gcp", "kubernetes", "docker", "random"]
    parse_stack_config(values_of(FULL), list(SECRETS), other_keys=[f"{ns}:location" for ns in others])


@pytest.mark.parametrize("depth", [40, 5_000])
def test_deep_nesting_handed_over_by_the_engine_is_one_problem(depth: int) -> None:
    """Under `pulumi up` the CLI's reader builds the values and hands them over as JSON text."""
    values = {**values_of(FULL), f"{NAMESPACE}:network": "[" * depth + "]" * depth}
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(values, list(SECRETS))
    assert [p.key for p in caught.value.problems] == [f"{NAMESPACE}:network"]
    assert "nest more than 32 levels" in caught.value.problems[0].message


def resolves(path: str, annotation: Any = StackConfig) -> bool:
    """Whether a key path below the namespace (`registry.tags.env`, `cacheRules[0].source`) names
    a key the config has (a map key may be anything, dots included)."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return resolves(path, args[0])
    if origin in (Union, UnionType):
        return any(resolves(path, a) for a in args if a is not type(None))
    if path == "":
        return True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, info in annotation.model_fields.items():
            alias = info.alias or name
            rest = path.removeprefix(".") if annotation is not StackConfig else path
            named_here = rest == alias or rest.startswith((f"{alias}.", f"{alias}["))
            if named_here and resolves(rest[len(alias) :], info.annotation):
                return True
        return False
    if origin is dict and path.startswith("."):
        # Try every split: the key ends before one of the later dots (or at the end).
        cuts = [i for i in range(2, len(path) + 1) if i == len(path) or path[i] in ".["]
        return any(resolves(path[cut:], args[1]) for cut in cuts)
    if origin is list:
        match = re.match(r"\[\d+\]", path)
        return match is not None and resolves(path[match.end() :], args[0])
    return False


def test_every_key_a_refusal_names_exists() -> None:
    """A problem's key path, and every `acr-cache:` key its message tells the user to set, name
    keys the config has (a mirror problem once named `dockerMirror.target`)."""
    from tests.test_hardening import CORPUS

    secrets = {f"{NAMESPACE}:dockerHubUsername": "octocat", f"{NAMESPACE}:dockerHubToken": "t0ken-value"}
    checked = 0
    for document, _, _ in CORPUS:
        values = {**{f"{NAMESPACE}:{k}": json.dumps(v) for k, v in document.items()}, **secrets}
        with pytest.raises(ConfigError) as caught:
            parse_stack_config(values, list(secrets))
        for problem in caught.value.problems:
            # An unknown key is named as written: that it does not exist is the problem.
            named = [] if problem.message.startswith("unknown key") else [problem.key]
            named += re.findall(r"`(acr-cache:[A-Za-z.\[\]0-9-]+)", problem.message)
            for key in named:
                path = key.removeprefix(f"{NAMESPACE}:")
                if key.startswith(f"{NAMESPACE}:") and path.split(".")[0].split("[")[0] in {
                    info.alias or name for name, info in StackConfig.model_fields.items()
                }:
                    assert resolves(path), (key, str(problem))
                    checked += 1
    assert checked > 120


@pytest.mark.parametrize(
    "path",
    [
        "dockerMirror.target",
        "registry.colour",
        "cacheRules[0].colour",
        "privateAccess.dnsZone.mode.x",
        "registry.name.x",
        "network.ipRules.x",
    ],
)
def test_the_key_resolver_refuses_keys_that_do_not_exist(path: str) -> None:
    assert not resolves(path)


@pytest.mark.parametrize(
    ("project", "stack"), [("acr-cache", ""), ("acr-cache", "a::b"), ("my project", "dev")]
)
def test_the_plan_api_refuses_names_the_engine_would(project: str, stack: str) -> None:
    from acr_cache.plan import plan_program

    with pytest.raises(ValueError, match=r"may only contain|may not be empty"):
        plan_program(lambda: None, project=project, stack=stack, config={})


def test_the_plan_hides_a_credential_in_any_input_and_keeps_each_value_on_one_line() -> None:
    """Defence in depth: a program that puts a token into a plain input (not from our config, which
    refuses it) still never has the plan repeat it."""
    from acr_cache.plan import plan_program
    from acr_cache.plan.table import render_table
    from pulumi_azure_native import resources

    token = "ghp_" + "T" * 36

    def program() -> None:
        resources.ResourceGroup(
            "rg", resource_group_name="rg", location="westeurope", tags={"owner": token, "note": "a\nb"}
        )

    plan = plan_program(program, project="p", stack="s", config={})
    shown_json = json.dumps(plan.to_json())
    table = render_table(plan)
    assert token not in shown_json and token not in table
    assert "[hidden: a GitHub token]" in shown_json and "tags.note: a\\nb" in table


def test_a_credential_is_reported_once_at_its_exact_key() -> None:
    """The loader's walk finds it at its key; the model's check on every string would find it
    again at the field that holds it (`registry.tags`)."""
    token = "ghp_" + "Z" * 36
    document = {**FULL, "registry": {**FULL["registry"], "tags": {"owner": token}}}
    with pytest.raises(ConfigError) as caught:
        parse(document)
    assert [p.key for p in caught.value.problems] == [f"{NAMESPACE}:registry.tags.owner"]
    assert caught.value.problems[0].message.startswith("looks like a GitHub token")
