"""Upstream registries the ACR artifact cache supports, and the rules for repository paths.

Pure functions without Pulumi, so the config model and property-based tests share them.
"""

from __future__ import annotations

import functools
import hashlib
import re
from enum import Enum, auto
from typing import NamedTuple

from acr_cache.redaction import shown


class Auth(Enum):
    """What an upstream accepts from a cache rule."""

    REQUIRED = auto()
    OPTIONAL = auto()
    NONE = auto()


class Upstream(NamedTuple):
    pattern: str
    """Login server, or a `*.domain` pattern."""
    title: str
    auth: Auth

    def matches(self, host: str) -> bool:
        if self.pattern.startswith("*."):
            suffix = self.pattern[1:]
            return host.endswith(suffix) and _HOST_LABELS.fullmatch(host[: -len(suffix)]) is not None
        return host == self.pattern


# ACR "Upstream support" table (artifact-cache-overview): which upstreams take credentials.
UPSTREAMS: tuple[Upstream, ...] = (
    Upstream("docker.io", "Docker Hub", Auth.REQUIRED),
    Upstream("dhi.io", "Docker Hardened Images", Auth.REQUIRED),
    Upstream("mcr.microsoft.com", "Microsoft Artifact Registry", Auth.NONE),
    Upstream("public.ecr.aws", "AWS ECR Public Gallery", Auth.NONE),
    Upstream("ghcr.io", "GitHub Container Registry", Auth.OPTIONAL),
    Upstream("quay.io", "Quay", Auth.OPTIONAL),
    Upstream("registry.k8s.io", "Kubernetes registry", Auth.OPTIONAL),
    Upstream("gcr.io", "Google Container Registry", Auth.OPTIONAL),
    Upstream("nvcr.io", "NVIDIA NGC", Auth.OPTIONAL),
    Upstream("registry.redhat.io", "Red Hat Registry", Auth.REQUIRED),
    Upstream("registry.access.redhat.com", "Red Hat Public Registry", Auth.NONE),
    Upstream("*.pkg.dev", "Google Artifact Registry", Auth.REQUIRED),
    Upstream("*.azurecr.io", "Azure Container Registry", Auth.REQUIRED),
)
DOCKER_HUB = "docker.io"
# Hosts people write for Docker Hub that ACR does not take as a login server.
DOCKER_HUB_ALIASES = ("index.docker.io", "registry-1.docker.io", "hub.docker.com", "registry.hub.docker.com")
_HOST_LABELS = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")
# OCI distribution spec: path components of lowercase alphanumerics joined by `.`, `_`, `__` or `-`s.
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*")
# A whole valid path: components joined by `/`, the last one possibly `*`.
_PATH = re.compile(rf"(?:{_COMPONENT.pattern}/)*(?:{_COMPONENT.pattern}|\*)")
MAX_REPOSITORY_LENGTH = 256
MAX_CACHE_RULES = 1000
"""ACR limit: "Artifact cache supports a maximum of 1,000 cache rules"."""


def supported_hosts() -> str:
    return ", ".join(u.pattern for u in UPSTREAMS)


@functools.lru_cache(maxsize=1024)  # mutation: equivalent (a cache of a pure function: speed and memory only)
def find_upstream(host: str) -> Upstream | None:
    # Cached: a stack names a handful of hosts, each asked about by every rule and its checks.
    return next((u for u in UPSTREAMS if u.matches(host)), None)


def check_login_server(host: str) -> str:
    """A credential set's login server; raises ValueError with the fix."""
    if host != host.lower():
        raise ValueError(f"'{shown(host)}' must be lowercase: write '{shown(host.lower())}'")
    check_docker_hub_alias(host, "")
    upstream = find_upstream(host)
    if upstream is None:
        raise ValueError(
            f"'{shown(host)}' is not an upstream the artifact cache supports; supported: {supported_hosts()}"
        )
    if upstream.auth is Auth.NONE:
        raise ValueError(
            f"{upstream.title} ({host}) only serves anonymous pulls, so it takes no credential set: "
            "remove the set and use rules without `credentialSet`"
        )
    return host


class Source(NamedTuple):
    host: str
    path: str
    """Repository path below the host; ends with `/*` (or is `*`) for a wildcard rule."""

    @property
    def wildcard(self) -> bool:
        return self.path == "*" or self.path.endswith("/*")

    @property
    def upstream(self) -> Upstream:
        found = find_upstream(self.host)
        assert found is not None
        return found


def parse_source(source: str) -> Source:
    """Check a cache rule's source repository (`<upstream host>/<path>`); raise ValueError with the fix."""
    if source != source.lower():
        raise ValueError(
            f"'{shown(source)}' must be lowercase (upstream repositories are): write '{shown(source.lower())}'"
        )
    if "@" in source:
        raise ValueError(
            f"'{shown(source)}' holds a digest; a rule caches a whole repository: write '{shown(source.partition('@')[0])}' "
            "and pull the digest from the registry"
        )
    host, _, path = source.partition("/")
    if ":" in path:
        bare = f"{host}/{path.partition(':')[0]}"
        raise ValueError(
            f"'{shown(source)}' holds a tag; a rule caches a whole repository: write '{shown(bare)}' and pull the tag "
            "from the registry"
        )
    if not path:
        raise ValueError(
            f"'{shown(source)}' has no repository path: write '<upstream host>/<repository>', e.g. "
            "'docker.io/library/nginx' or 'mcr.microsoft.com/dotnet/*'"
        )
    check_docker_hub_alias(host, path)
    if find_upstream(host) is None:
        raise ValueError(
            f"'{shown(host)}' in '{shown(source)}' is not an upstream the artifact cache supports; supported: {supported_hosts()}"
        )
    _check_path(path, source)
    if path != "*":
        check_official_image(source, host, path, path)
    return Source(host, path)


def check_docker_hub_alias(host: str, rest: str) -> None:
    """Refuse the other names of Docker Hub; `rest` is what follows the host in the reference."""
    if host in DOCKER_HUB_ALIASES:
        written = f"{DOCKER_HUB}/{rest}" if rest else DOCKER_HUB
        raise ValueError(f"'{shown(host)}' is not how ACR names Docker Hub: write '{shown(written)}'")


def check_official_image(source: str, host: str, repository: str, rest: str) -> None:
    """Refuse an official Docker Hub image written without its `library/` namespace."""
    if host == DOCKER_HUB and "/" not in repository:
        raise ValueError(
            f"'{shown(source)}' is an official Docker Hub image, which lives under library/: write "
            f"'{DOCKER_HUB}/library/{rest}'"
        )


def check_target(target: str) -> None:
    """Check a cache rule's target repository inside the registry; raise ValueError with the fix."""
    if target != target.lower():
        raise ValueError(f"'{shown(target)}' must be lowercase: write '{shown(target.lower())}'")
    if ":" in target or "@" in target:
        raise ValueError(
            f"'{shown(target)}' holds a tag or digest; a target is a repository path, e.g. 'library/nginx'"
        )
    if target.endswith(".azurecr.io") or ".azurecr.io/" in target:
        raise ValueError(
            f"'{shown(target)}' names the registry itself; a target is the path inside it: write "
            f"'{shown(target.partition('.azurecr.io/')[2] or '<repository>')}'"
        )
    _check_path(target, target)


def _check_path(path: str, whole: str) -> None:
    if len(path) > MAX_REPOSITORY_LENGTH:
        raise ValueError(f"'{shown(whole)}' is longer than {MAX_REPOSITORY_LENGTH} characters")
    if _PATH.fullmatch(path):
        return
    # Not a valid path: the walk names the first component that is wrong (a `*` that ends the path
    # after valid components would have made it valid).
    for component in path.split("/"):
        if "*" in component:
            raise ValueError(
                f"'{shown(whole)}' has a `*` that is not a trailing `/*`: a wildcard rule ends in `/*` "
                "(or is `*`), e.g. 'library/*'"
            )
        if not _COMPONENT.fullmatch(component):
            raise ValueError(
                f"'{shown(component)}' in '{shown(whole)}' is not a valid repository path component: use lowercase "
                "letters and digits, separated by `.`, `_`, `__` or `-`"
            )


def is_wildcard(path: str) -> bool:
    return path == "*" or path.endswith("/*")


def wildcard_prefix(path: str) -> str:
    """`*` -> ``, `library/*` -> `library`."""
    return path.removesuffix("*").removesuffix("/")


def wildcards_overlap(a: str, b: str) -> bool:
    """Whether two wildcard targets are equal or nested, which ACR refuses."""
    pa, pb = wildcard_prefix(a), wildcard_prefix(b)
    if pa == "" or pb == "" or pa == pb:
        return True
    return pa.startswith(pb + "/") or pb.startswith(pa + "/")


def derive_rule_name(target: str) -> str:
    """A stable, valid cache rule name (5-50 of [a-zA-Z0-9-]) derived from a target repository."""
    text = target.replace("*", "all")
    # Runs of anything else become one hyphen. A checked target starts and ends with a letter or
    # digit (or `/*`, now `-all`), so no hyphen leads or trails.
    text = re.sub(r"[^a-z0-9]+", "-", text.lower())
    if len(text) < 5:
        text = f"{text}-cache"
    if len(text) > 50:
        digest = hashlib.sha256(target.encode()).hexdigest()[:8]
        text = f"{text[:41].rstrip('-')}-{digest}"
    return text
