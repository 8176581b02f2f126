"""`acr-cache init STACK`: a commented `Pulumi.<stack>.yaml` from a few answers, that plans clean.

The file it writes is the user's from then on: every section it sets says why, and where to read
more. It is checked with the same loader as `acr-cache plan` before it is written, so a bad answer
(a region that does not exist, a subnet id that is not one) is refused with its flag and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

import yaml

from acr_cache.stack_schema import MODELINE
from acr_cache.upstreams import UPSTREAMS, Auth


class Access(StrEnum):
    """How clients reach the registry."""

    PUBLIC = "public"
    """Over the internet, signed in (anonymous pull stays off)."""
    RESTRICTED = "restricted"
    """Over the internet from listed IP ranges only (the registry firewall)."""
    PRIVATE = "private"
    """Only through a private endpoint in a VNet; the public endpoint is closed."""


class Preset(NamedTuple):
    """The rule `init` writes for an upstream: its name, what it caches and where it lands."""

    rule: str
    source: str
    target: str
    slug: str
    """Names the credential set and its config keys."""

    @property
    def credential_set(self) -> str:
        """The set's name (5-50 characters, as ACR requires)."""
        return self.slug if len(self.slug) >= 5 else f"{self.slug}-credentials"

    def secret_commands(self) -> list[str]:
        """How a user sets the two config keys the set reads."""
        title = _TITLE[self.source.partition("/")[0]]
        return [
            f"pulumi config set --secret {self.slug}Username <{title} user>",
            f"pulumi config set --secret {self.slug}Token <{title} access token, read-only>",
        ]


# One rule per upstream, under a path of its own so upstreams never overlap. Docker Hub's is its
# official images (`docker.io/library/nginx` -> `library/nginx`), the way people write them.
PRESETS: dict[str, Preset] = {
    "docker.io": Preset("dockerhub-library", "docker.io/library/*", "library/*", "dockerhub"),
    "mcr.microsoft.com": Preset("mcr-images", "mcr.microsoft.com/*", "mcr/*", "mcr"),
    "ghcr.io": Preset("ghcr-images", "ghcr.io/*", "ghcr/*", "ghcr"),
    "quay.io": Preset("quay-images", "quay.io/*", "quay/*", "quay"),
    "registry.k8s.io": Preset("k8s-images", "registry.k8s.io/*", "k8s/*", "k8s"),
    "public.ecr.aws": Preset("ecr-public-images", "public.ecr.aws/*", "ecr-public/*", "ecrpublic"),
    "gcr.io": Preset("gcr-images", "gcr.io/*", "gcr/*", "gcr"),
    "nvcr.io": Preset("nvcr-images", "nvcr.io/*", "nvcr/*", "nvcr"),
    "registry.redhat.io": Preset("redhat-images", "registry.redhat.io/*", "redhat/*", "redhat"),
    "registry.access.redhat.com": Preset(
        "redhat-public-images", "registry.access.redhat.com/*", "redhat-public/*", "redhatpublic"
    ),
    "dhi.io": Preset("dhi-images", "dhi.io/*", "dhi/*", "dhi"),
}
_AUTH = {u.pattern: u.auth for u in UPSTREAMS}
_TITLE = {u.pattern: u.title for u in UPSTREAMS}


class InitError(Exception):
    """An answer `init` cannot use: each line names the flag and the fix."""

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


@dataclass
class Answers:
    """What `init` asks (or reads from flags)."""

    stack: str
    region: str = "westeurope"
    replicas: list[str] = field(default_factory=list)
    upstreams: list[str] = field(default_factory=lambda: ["docker.io", "mcr.microsoft.com"])
    credentials: list[str] = field(default_factory=list)
    """Upstreams whose credentials are optional and that should use some (private images, limits)."""
    access: Access = Access.PUBLIC
    ip_rules: list[str] = field(default_factory=list)
    subnet_id: str | None = None
    registry_name: str | None = None
    resource_group: str | None = None
    subscription_id: str | None = None

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]", "", self.stack.lower())

    def registry(self) -> str:
        # Unique across Azure is checked only by Azure: `az acr check-name` before the first `up`.
        return self.registry_name or f"acrcache{self.slug}"[:50].ljust(5, "0")

    def group(self) -> str:
        return self.resource_group or f"rg-acr-cache-{self.stack}"[:90]

    def vault(self) -> str:
        # 3-24 letters, digits and hyphens, starting with a letter, globally unique like the registry.
        return f"kv-acr-{self.slug}"[:24].rstrip("-")

    def needs_credentials(self, upstream: str) -> bool:
        return _AUTH.get(upstream) is Auth.REQUIRED or upstream in self.credentials

    def check(self) -> None:
        problems = []
        for upstream in [*self.upstreams, *self.credentials]:
            if upstream not in PRESETS:
                problems.append(
                    f"--upstream {upstream}: not an upstream `init` knows: use one of {', '.join(PRESETS)} "
                    "(other rules go into `acr-cache:cacheRules` by hand, docs/configuration.md)"
                )
        for upstream in self.credentials:
            if upstream in PRESETS and _AUTH.get(upstream) is Auth.NONE:
                problems.append(
                    f"--credentials {upstream}: {_TITLE[upstream]} serves anonymous pulls only and ACR refuses "
                    "a credential set for it: remove it"
                )
        # Each access mode and the answer only it takes.
        needs: dict[Access, tuple[str, object, str]] = {
            Access.RESTRICTED: (
                "--ip-rule",
                self.ip_rules,
                "give the addresses that may reach the registry with --ip-rule CIDR (repeat it), "
                "e.g. --ip-rule 203.0.113.0/24",
            ),
            Access.PRIVATE: (
                "--subnet-id",
                self.subnet_id,
                "give the subnet of the private endpoint with --subnet-id /subscriptions/<id>/resourceGroups/"
                "<rg>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>",
            ),
        }
        for mode, (flag, given, ask) in needs.items():
            if self.access is mode and not given:
                problems.append(f"--access {mode.value}: {ask}")
            if self.access is not mode and given:
                problems.append(f"{flag}: goes with --access {mode.value} only (not {self.access.value})")
        if problems:
            raise InitError(*problems)


def stack_file(answers: Answers) -> str:
    """The commented stack file for the answers."""
    answers.check()
    name = answers.registry()
    lines = [
        MODELINE,
        f"# Stack `{answers.stack}`, written by `acr-cache init`. Every key is described in",
        "# docs/configuration.md; editors complete and check them through the line above.",
        f"# The registry name must be unique across all of Azure: `az acr check-name -n {name}`.",
        "config:",
        f"  azure-native:location: {answers.region}",
    ]

    def section(key: str, value: object, *comments: str) -> None:
        lines.extend(f"  # {c}" for c in comments)
        body = yaml.safe_dump(
            {f"acr-cache:{key}": value}, sort_keys=False, default_flow_style=False, width=200
        )
        lines.extend(f"  {line}" for line in body.rstrip("\n").splitlines())

    subscription = answers.subscription_id
    if subscription is None and answers.subnet_id:
        found = re.search(r"\A/subscriptions/([^/]+)/", answers.subnet_id, re.IGNORECASE)
        subscription = found.group(1) if found else None
    if subscription:
        lines.append(
            "  # The subscription the stack deploys to (so resources elsewhere get a provider of their own)."
        )
        lines.append(f"  acr-cache:subscriptionId: {subscription}")
    section("resourceGroup", {"name": answers.group()})
    section(
        "registry",
        {"name": name, "location": answers.region, "sku": "Premium"},
        "Premium: geo-replicas, private endpoints, the firewall and zone redundancy need it.",
    )
    if answers.replicas:
        section(
            "replicas",
            {region: {} for region in answers.replicas},
            "A replica per region, zone redundant by default; each is billed as a registry.",
        )
    if answers.access is Access.RESTRICTED:
        section(
            "network",
            {"publicAccess": "Restricted", "ipRules": answers.ip_rules},
            "Only these addresses reach the public endpoint; Azure's trusted services (the cache) still do.",
        )
    elif answers.access is Access.PRIVATE:
        subnet = answers.subnet_id or ""
        vnet = subnet.rsplit("/subnets/", 1)[0]
        found = re.search(r"/virtualNetworks/([^/]+)/subnets/", subnet, re.IGNORECASE)
        vnet_name = found.group(1) if found else "vnet"
        section(
            "privateAccess",
            {
                "dnsZone": {"mode": "create", "vnetLinks": {_key(vnet_name): vnet}},
                "endpoints": {"main": {"subnetId": subnet}},
            },
            "Clients reach the registry through this endpoint only (public access is off with endpoints).",
            "The endpoint sits in its VNet's region: add `location:` under it if that is not the registry's.",
        )
    secured = [u for u in answers.upstreams if answers.needs_credentials(u)]
    if secured:
        section(
            "keyVault",
            {"name": answers.vault()},
            "The upstream credentials live here (the stack creates the vault, RBAC, purge protection on).",
        )
        sets = {
            PRESETS[upstream].credential_set: {
                "loginServer": upstream,
                "username": {"configKey": f"{PRESETS[upstream].slug}Username"},
                "password": {"configKey": f"{PRESETS[upstream].slug}Token"},
            }
            for upstream in secured
        }
        section(
            "credentialSets",
            sets,
            "Set the credentials once per stack, never commit them (or take them from Pulumi ESC, README):",
            *(f"  {c}" for c in secret_commands(answers)),
        )
    rules: dict[str, dict[str, str]] = {}
    for upstream in answers.upstreams:
        preset = PRESETS[upstream]
        rule = {"source": preset.source, "target": preset.target}
        if answers.needs_credentials(upstream):
            rule["credentialSet"] = preset.credential_set
        rules[preset.rule] = rule
    if rules:
        example = PRESETS[answers.upstreams[0]]
        pulled = example.target.replace("*", "<image>")
        section(
            "cacheRules",
            rules,
            f"Pull through the cache: docker pull {name.lower()}.azurecr.io/{pulled}:<tag>",
        )
    return "\n".join(lines) + "\n"


def secret_commands(answers: Answers) -> list[str]:
    """The `pulumi config set --secret` commands for the credentials the answers need."""
    return [
        command
        for upstream in answers.upstreams
        if answers.needs_credentials(upstream)
        for command in PRESETS[upstream].secret_commands()
    ]


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9-]", "-", name.lower()).strip("-") or "vnet"


def ask(answers: Answers, read: Callable[[str], str]) -> Answers:
    """Fill the answers from a person at a terminal (Enter keeps the value shown)."""

    def question(text: str, current: str) -> str:
        reply = read(f"{text} [{current}]: ").strip()
        return reply or current

    answers.registry_name = question("Registry name (unique across Azure)", answers.registry())
    answers.region = question("Home region", answers.region)
    replicas = question("Replica regions, comma-separated (none: -)", ",".join(answers.replicas) or "-")
    answers.replicas = [] if replicas == "-" else [r.strip() for r in replicas.split(",") if r.strip()]
    upstreams = question(f"Upstreams ({', '.join(PRESETS)})", ",".join(answers.upstreams))
    answers.upstreams = [u.strip() for u in upstreams.split(",") if u.strip()]
    optional = [u for u in answers.upstreams if _AUTH.get(u) is Auth.OPTIONAL]
    if optional:
        chosen = question(
            f"Of {', '.join(optional)}, which use credentials (private images, higher limits; none: -)",
            ",".join(answers.credentials) or "-",
        )
        answers.credentials = [] if chosen == "-" else [c.strip() for c in chosen.split(",") if c.strip()]
    access = question("Access: public, restricted (IP rules) or private (endpoint)", answers.access.value)
    try:
        answers.access = Access(access)
    except ValueError:
        raise InitError(f"access '{access}': answer public, restricted or private") from None
    if answers.access is Access.RESTRICTED:
        rules = question("IP ranges allowed, comma-separated", ",".join(answers.ip_rules))
        answers.ip_rules = [r.strip() for r in rules.split(",") if r.strip()]
    if answers.access is Access.PRIVATE:
        answers.subnet_id = question("Subnet id of the private endpoint", answers.subnet_id or "")
    return answers


# Where each answer lands in the file: a problem the loader finds there is the flag's.
FLAGS = {
    "acr-cache:registry.name": "--registry-name",
    "acr-cache:registry.location": "--region",
    "acr-cache:resourceGroup.name": "--resource-group",
    "acr-cache:replicas": "--replica",
    "acr-cache:network.ipRules": "--ip-rule",
    "acr-cache:privateAccess": "--subnet-id",
    "acr-cache:keyVault.name": "--stack (the vault is named after it)",
    "acr-cache:subscriptionId": "--subscription-id",
}


def flag_of(key: str) -> str | None:
    """The flag whose answer a problem at this key path is about."""
    for prefix, flag in FLAGS.items():
        if key == prefix or key.startswith((f"{prefix}.", f"{prefix}[")):
            return flag
    return None
