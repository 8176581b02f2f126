"""What the users of a cache need to pull through it, generated offline from the stack's config:
the cache reference of an image, a Kyverno policy that rewrites pods' images, containerd's
`hosts.toml` per upstream host, and Docker Engine's `daemon.json`. docs/clients.md walks through them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml

from acr_cache.references import (
    Mapping,
    ReferenceError,
    Resolution,
    parse_reference,
    resolve,
    rewrite_map,
)
from acr_cache.stack import StackConfig
from acr_cache.tokens import secret_name_of
from acr_cache.upstreams import DOCKER_HUB, is_wildcard, wildcard_prefix

CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
"""The pod spec's lists of containers whose images the policy rewrites."""
DOCKER_HUB_REGISTRIES = ("docker.io", "index.docker.io", "registry-1.docker.io")
"""How Kyverno's `images` variables name Docker Hub: as the reference does (a reference without a host
is `docker.io`, Kyverno pkg/utils/image `addDefaultRegistry`; it keeps a host written out as is)."""
UPSTREAM_SERVERS = {DOCKER_HUB: "https://registry-1.docker.io"}
"""The registry API endpoint of an upstream whose host is not its own endpoint."""


class ClientsError(Exception):
    """The stack cannot give what was asked: what is missing and how to provide it."""


@dataclass(frozen=True)
class Cache:
    """A stack's registry and rules, as clients see them."""

    stack: str
    login_server: str
    rules: list[Mapping]
    anonymous_pull: bool
    tokens: dict[str, Any] = field(default_factory=dict)
    vault: str | None = None

    @classmethod
    def of(cls, stack: str, config: StackConfig) -> Cache:
        return cls(
            stack,
            config.registry.login_server,
            config.pull_mappings(),
            config.docker_mirror.anonymous_pull,
            dict(config.tokens),
            config.key_vault.vault_name if config.key_vault is not None else None,
        )

    def resolve(self, images: list[str]) -> list[Resolution]:
        """Each image's cache reference; ReferenceError names the first malformed one."""
        # All parsed first: a malformed one is refused before anything is printed.
        parsed = [(image, parse_reference(image)) for image in images]
        return [resolve(ref, self.rules, self.login_server, written) for written, ref in parsed]


def table(resolutions: list[Resolution]) -> str:
    rows = [("IMAGE", "CACHE", "RULE")] + [
        (r.image, r.cache or f"(unchanged: {r.note})", r.rule or "-") for r in resolutions
    ]
    widths = [max(len(row[i]) for row in rows) for i in (0, 1)]
    return "".join(f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c}".rstrip() + "\n" for a, b, c in rows)


def as_json(resolutions: list[Resolution]) -> str:
    return (
        json.dumps([{"image": r.image, "cache": r.cache, "rule": r.rule} for r in resolutions], indent=1)
        + "\n"
    )


# --- Kubernetes: a Kyverno ClusterPolicy -----------------------------------------------------------


def kyverno_policy(cache: Cache) -> dict[str, Any]:
    """A ClusterPolicy that rewrites every pod container image a rule serves to its cache reference.

    Images are compared as Kyverno normalises them (`images.<list>.<container>`: registry, path,
    tag, digest; kyverno/kyverno pkg/utils/image/infos.go), so `nginx`, `library/nginx` and
    `docker.io/library/nginx` are one image. Images already on the registry, or served by no rule,
    are left alone. Static rules come before wildcard rules, and among wildcards the longest prefix
    first, as `acr-cache clients --resolve` decides.
    """
    ordered = sorted(cache.rules, key=lambda m: (m.wildcard, -len(m.source_path), m.rule))
    rules = []
    for kind in CONTAINER_LISTS:
        info = f'images.{kind}."{{{{element.name}}}}"'
        entries = []
        for mapping in ordered:
            registry = list(DOCKER_HUB_REGISTRIES) if mapping.host == DOCKER_HUB else [mapping.host]
            source, target = mapping.source_path, mapping.target_path
            path = f"{{{{ {info}.path }}}}"
            if mapping.wildcard:
                path_tests = [{"key": path, "operator": "Equals", "value": f"{source}/*" if source else "*"}]
                # Each image gets one rewrite: what a static rule or a longer wildcard of the same
                # upstream serves, and what ACR serves by a static rule on the target path, is not this one's.
                path_tests += [
                    {"key": path, "operator": "NotEquals", "value": other}
                    for other in _not_this_wildcards(mapping, cache.rules)
                ]
                rest = f"{{{{ trim_prefix({info}.path, '{source}/') }}}}" if source else path
                new_path = f"{target}/{rest}" if target else rest
            else:
                path_tests = [{"key": path, "operator": "Equals", "value": source}]
                new_path = target
            for pinned in (True, False):
                suffix = f"@{{{{ {info}.digest }}}}" if pinned else f":{{{{ {info}.tag }}}}"
                entries.append(
                    {
                        "list": f"request.object.spec.{kind}",
                        "preconditions": {
                            "all": [
                                {"key": f"{{{{ {info}.registry }}}}", "operator": "AnyIn", "value": registry},
                                *path_tests,
                                {
                                    "key": f"{{{{ {info}.digest || '' }}}}",
                                    "operator": "NotEquals" if pinned else "Equals",
                                    "value": "",
                                },
                            ]
                        },
                        "patchesJson6902": yaml.safe_dump(
                            [
                                {
                                    "op": "replace",
                                    "path": f"/spec/{kind}/{{{{elementIndex}}}}/image",
                                    "value": f"{cache.login_server}/{new_path}{suffix}",
                                }
                            ],
                            sort_keys=False,  # mutation: equivalent (op, path, value: sorted already)
                            width=10_000,  # mutation: equivalent (only keeps YAML from folding the value)
                        ),
                    }
                )
        if not entries:
            continue  # mutation: equivalent (`break`: entries are empty for every list or none, by the rules alone)
        rule: dict[str, Any] = {
            "name": f"pull-through-cache-{kind.lower()}",
            "match": {
                "any": [
                    {
                        "resources": {
                            "kinds": ["Pod"] if kind != "ephemeralContainers" else ["Pod/ephemeralcontainers"]
                        }
                    }
                ]
            },
            "mutate": {"foreach": entries},
        }
        if kind != "containers":
            # A pod without this list has nothing to rewrite (and foreach needs a list).
            rule["preconditions"] = {
                "all": [
                    {
                        "key": f"{{{{ request.object.spec.{kind}[] || `[]` | length(@) }}}}",
                        "operator": "GreaterThanOrEquals",
                        "value": 1,
                    }
                ]
            }
        rules.append(rule)
    return {
        "apiVersion": "kyverno.io/v1",
        "kind": "ClusterPolicy",
        "metadata": {
            "name": f"acr-cache-{cache.stack}",
            "annotations": {
                "policies.kyverno.io/title": f"Pull through {cache.login_server}",
                "policies.kyverno.io/subject": "Pod",
                "policies.kyverno.io/description": (
                    f"Rewrites container images that the cache rules of acr-cache stack {cache.stack} serve to "
                    f"their references on {cache.login_server} (generated by `acr-cache clients {cache.stack} "
                    "--format kyverno`). Nodes pull them with their kubelet identity, which needs AcrPull on the "
                    "registry (acr-cache:access)."
                ),
                "pod-policies.kyverno.io/autogen-controllers": "none",
            },
        },
        "spec": {"background": False, "rules": rules},
    }


class _PlainDumper(yaml.SafeDumper):
    """YAML without anchors and aliases (shared lists written out again), as kubectl users read it."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def kyverno_yaml(cache: Cache) -> str:
    # A width past any line: YAML never folds a long value (a description, a patch) across lines.
    return yaml.dump(
        kyverno_policy(cache),
        Dumper=_PlainDumper,
        sort_keys=False,
        width=10_000,  # mutation: equivalent (a line more or less than 10,000 characters)
    )


def _not_this_wildcards(mapping: Mapping, rules: list[Mapping]) -> list[str]:
    """Source paths (patterns) below a wildcard rule's prefix that it must not rewrite: those of the
    same upstream's static rules and longer wildcards (they come first), and those whose target path
    a static rule holds for another source (ACR serves that path by the static rule)."""
    prefix, target = mapping.source_path, mapping.target_path
    found = []
    for other in rules:
        if other is mapping:
            continue
        if other.host == mapping.host:
            path = other.source_path
            # Below this rule's prefix, hence longer than it (a static path always is; another
            # registry-wide wildcard, with no path at all, is not).
            inside = not prefix or path.startswith(f"{prefix}/")
            if inside and len(path) > len(prefix):
                found.append(f"{path}/*" if other.wildcard else path)
        if not other.wildcard and (not target or other.target.startswith(f"{target}/")):
            rest = other.target[len(target) + 1 :] if target else other.target
            shadowed = f"{prefix}/{rest}" if prefix else rest
            if (other.host, other.source) != (mapping.host, shadowed):
                found.append(shadowed)
    return sorted(set(found))


# --- Node-level mirrors: containerd and Docker Engine ----------------------------------------------


def _mirror_prefix(mapping: Mapping) -> str | None:
    """What the mirror puts before every repository of the rule's upstream so that it lands where the
    rule caches it (`ghcr.io/*` -> `ghcr/*` needs `ghcr/`), or None when no prefix does it (the
    rule renames the repository)."""
    source, target = mapping.source_path, mapping.target_path
    if not source:
        return f"{target}/" if target else ""
    if target == source:
        return ""
    if target.endswith(f"/{source}"):
        return target[: -len(source)]
    return None


@dataclass(frozen=True)
class MirrorFile:
    path: str
    text: str
    unserved: list[str]
    """Rules of this upstream whose repositories a mirror cannot reach (they rename them)."""
    unreadable: list[str] = field(default_factory=list)
    """Rules whose repositories the mirror's token may not read (its pulls fall back upstream)."""


def _authentication(cache: Cache, token: str | None) -> list[str]:
    """The comment lines of the mirror's sign-in: none with anonymous pull, a token's basic header
    (with `token`), or ClientsError."""
    if token is not None:
        if token not in cache.tokens:
            known = ", ".join(sorted(cache.tokens)) or "none"
            raise ClientsError(
                f"no token '{token}' in acr-cache:tokens (defined: {known}): add one with `read` on the "
                "repositories the mirror serves, or leave --token out with anonymous pull (dockerMirror)"
            )
        secret = secret_name_of(token, cache.tokens[token])
        vault = cache.vault or "<vault>"
        return [
            f"# Signs in as token {token}: put base64('{token}:<password>') below; the password is in Key Vault:",
            f"#   az keyvault secret show --vault-name {vault} --name {secret} --query value -o tsv",
        ]
    if cache.anonymous_pull:
        return ["# The registry serves anonymous pulls (acr-cache:dockerMirror): no sign-in."]
    raise ClientsError(
        "the registry serves pulls only to signed-in clients, and a node-level mirror signs in with neither "
        "an Entra ID identity nor `docker login`: pass --token NAME (a token in acr-cache:tokens with `read` on "
        "the served repositories), or turn on acr-cache:dockerMirror (anonymous pull, docs/docker-mirror.md); "
        "Kubernetes nodes can instead pull rewritten references with their kubelet identity (--format kyverno)"
    )


def containerd_hosts(cache: Cache, token: str | None = None) -> list[MirrorFile]:
    """`/etc/containerd/certs.d/<host>/hosts.toml` for every upstream host that has rules."""
    lines = _authentication(cache, token)
    files = []
    for host in sorted({m.host for m in cache.rules}):
        rules = [m for m in cache.rules if m.host == host]
        prefixes: dict[str, list[str]] = {}
        unserved = []
        for mapping in rules:
            prefix = _mirror_prefix(mapping)
            if prefix is None:
                unserved.append(mapping.rule)
            else:
                prefixes.setdefault(prefix, []).append(mapping.rule)
        if not prefixes:
            continue
        text = [
            f"# Pulls of {host} through {cache.login_server} (acr-cache stack {cache.stack}; generated by",
            f"# `acr-cache clients {cache.stack} --format containerd`). containerd tries each host in order",
            "# and falls back to the server when none has the image.",
            *lines,
            f'server = "{UPSTREAM_SERVERS.get(host, f"https://{host}")}"',
            "",
        ]
        # The longest prefix first: containerd asks the hosts in file order.
        for prefix in sorted(prefixes, key=lambda prefix: (-len(prefix), prefix)):
            names = prefixes[prefix]
            url = f"https://{cache.login_server}" + (f"/v2/{prefix.rstrip('/')}" if prefix else "")
            text.append(f"# rules: {', '.join(sorted(names))}")
            text.append(f'[host."{url}"]')
            text.append('  capabilities = ["pull", "resolve"]')
            if prefix:
                # The URL holds the API path and the prefix; containerd appends `/<repository>/...`.
                text.append("  override_path = true")
            if token is not None:
                text.append(f'  [host."{url}".header]')
                text.append('    authorization = "Basic <base64 of token:password>"')
            text.append("")
        unreadable = (
            sorted(m.rule for m in rules if not _token_reads(cache.tokens[token], m))
            if token is not None
            else []
        )
        if unreadable:
            text.append(
                f"# Token {token} does not read everything these rules cache (give it `read` on their targets in "
                f"acr-cache:tokens, or pulls it may not read fall back upstream): {', '.join(unreadable)}"
            )
        if unserved:
            text.append(
                f"# Not through the mirror (these rules rename repositories; pull their cache references): "
                f"{', '.join(sorted(unserved))}"
            )
        files.append(
            MirrorFile(
                f"/etc/containerd/certs.d/{host}/hosts.toml",
                "\n".join(text).rstrip() + "\n",
                unserved,
                unreadable,
            )
        )
    if not files:
        raise ClientsError("no cache rule of this stack can be served through a node-level mirror")
    return files


def _token_reads(token: Any, mapping: Mapping) -> bool:
    """Whether a token's scope map reads every repository a rule caches (a `prefix/*` entry covers
    the repositories below it, as ACR's scope maps do)."""
    covered = mapping.target_path

    def reads(repository: str) -> bool:
        if not is_wildcard(repository):
            return repository == mapping.target
        # A scope map names no registry-wide `*` (acr_cache.tokens refuses it): a prefix is never empty.
        prefix = wildcard_prefix(repository)
        return covered == prefix or covered.startswith(f"{prefix}/")

    # Every action a scope map grants includes read (write and delete carry it, acr_cache.tokens).
    return any(reads(repository) for repository in token.repositories)


def docker_daemon(cache: Cache) -> str:
    """`/etc/docker/daemon.json` for Docker Hub mirror mode."""
    hub = [
        m for m in cache.rules if m.host == DOCKER_HUB and m.wildcard and m.source == "*" and m.target == "*"
    ]
    if not hub or not cache.anonymous_pull:
        raise ClientsError(
            "Docker Engine's registry-mirrors sends Docker Hub pulls unchanged and cannot sign in (moby#30880): it "
            "needs a registry-wide Docker Hub rule (docker.io/* -> *) with anonymous pull, which "
            "acr-cache:dockerMirror turns on (docs/docker-mirror.md)"
        )
    return json.dumps({"registry-mirrors": [f"https://{cache.login_server}"]}, indent=2) + "\n"


def rewrite_rules(cache: Cache) -> dict[str, str]:
    """The rewrite map a stack exports (`pullRewrites`)."""
    return rewrite_map(cache.rules, cache.login_server)


__all__ = [
    "Cache",
    "ClientsError",
    "ReferenceError",
    "as_json",
    "containerd_hosts",
    "docker_daemon",
    "kyverno_policy",
    "kyverno_yaml",
    "table",
]
