"""Image references as clients write them, and what the registry's cache rules make of them.

A reference is normalised the way Docker does it (distribution/reference `ParseNormalizedNamed`):
no host means Docker Hub (`docker.io`), a Docker Hub repository without a namespace is an official
image (`library/`), the first part is a host only when it has a `.` or a `:` or is `localhost`, a tag
or a digest is kept, and a reference with neither pulls `latest`.

Cache rules map a target repository in the registry to a source repository upstream (ACR's
"Wildcard support for artifact cache", MicrosoftDocs/azure-docs articles/container-registry/
wildcards-artifact-cache.md): a static rule maps one repository, a wildcard rule (`<prefix>/*`, or
`*` for the whole registry) every repository below its prefix; wildcard rules never overlap one
another, and a static rule may sit inside a wildcard rule's target, where it is the rule ACR applies
to that exact repository. A client going the other way, from an upstream reference to the cache,
takes the static rule for its repository if there is one, else the wildcard rule with the longest
source prefix, and checks that ACR resolves the resulting repository back to that rule (a static
rule on the same target path with another source shadows it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from acr_cache.redaction import shown
from acr_cache.upstreams import DOCKER_HUB, is_wildcard, wildcard_prefix

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_HOST = re.compile(
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\d+)?"
)
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}")
_SHA256 = re.compile(r"sha256:[a-f0-9]{64}")
# Hosts people write for Docker Hub; Docker itself reads `index.docker.io` as `docker.io`.
_DOCKER_HUB_HOSTS = frozenset(
    {DOCKER_HUB, "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
)
MAX_NAME = 255
"""The longest repository name with its host (distribution/reference `NameTotalLengthMax`)."""


class ReferenceError(ValueError):
    """A reference that no client would pull: what is wrong and how it is written."""


@dataclass(frozen=True)
class ImageRef:
    """A normalised image reference."""

    host: str
    repository: str
    tag: str | None
    digest: str | None

    def at(self, host: str, repository: str) -> str:
        """The same tag or digest under another host and repository (`latest` when neither was given)."""
        tag = f":{self.tag}" if self.tag else ("" if self.digest else ":latest")
        digest = f"@{self.digest}" if self.digest else ""
        return f"{host}/{repository}{tag}{digest}"

    def __str__(self) -> str:
        return self.at(self.host, self.repository)


def parse_reference(text: str) -> ImageRef:
    """An image reference as Docker reads it, or ReferenceError saying what is wrong."""
    written = text.strip()
    if not written:
        raise ReferenceError("an empty reference: write an image such as `nginx:1.27`")
    if any(c.isspace() for c in written):
        raise ReferenceError(
            f"'{shown(written)}' contains a space: a reference is one word, e.g. `nginx:1.27`"
        )
    rest, _, digest = written.partition("@")
    if digest and not _DIGEST.fullmatch(digest):
        raise ReferenceError(
            f"'{shown(written)}': '{shown(digest)}' is not a digest: write `@sha256:` and 64 hex digits"
        )
    if digest.startswith("sha256:") and not _SHA256.fullmatch(digest):
        raise ReferenceError(f"'{shown(written)}': a sha256 digest is 64 lowercase hex digits")
    host, slash, remainder = rest.partition("/")
    if not slash or not (any(c in host for c in ".:") or host == "localhost" or host != host.lower()):
        host, remainder = DOCKER_HUB, rest
    elif not _HOST.fullmatch(host):
        raise ReferenceError(f"'{shown(written)}': '{shown(host)}' is not a registry host")
    repository, colon, tag = (
        remainder.rpartition(":") if ":" in remainder.rpartition("/")[2] else (remainder, "", "")
    )
    if colon and not _TAG.fullmatch(tag):
        raise ReferenceError(
            f"'{shown(written)}': '{shown(tag)}' is not a tag: up to 128 letters, digits, `_`, `.` and `-`, "
            "not starting with `.` or `-`"
        )
    if repository != repository.lower():
        raise ReferenceError(
            f"'{shown(written)}': repository names are lowercase: write '{shown(repository.lower())}'"
        )
    if not _PATH.fullmatch(repository):
        raise ReferenceError(
            f"'{shown(written)}': '{shown(repository)}' is not a repository name: lowercase letters and digits, "
            "separated by `/`, `.`, `_`, `__` or `-`"
        )
    if host in _DOCKER_HUB_HOSTS:
        host = DOCKER_HUB
        if "/" not in repository:
            repository = f"library/{repository}"
    if len(f"{host}/{repository}") > MAX_NAME:
        raise ReferenceError(f"'{shown(written)}': a name is at most {MAX_NAME} characters with its host")
    return ImageRef(host, repository, tag or None, digest or None)


@dataclass(frozen=True)
class Mapping:
    """One cache rule as a client sees it: the upstream repositories it serves and where they land."""

    rule: str
    host: str
    source: str
    """The source path below the host (`library/*`, `library/nginx`, `*`)."""
    target: str

    @property
    def wildcard(self) -> bool:
        return is_wildcard(self.source)

    @property
    def source_path(self) -> str:
        """The repository a static rule serves, or a wildcard rule's prefix (`library`, `` for `*`)."""
        return wildcard_prefix(self.source) if self.wildcard else self.source

    @property
    def target_path(self) -> str:
        """The same for the target in the registry."""
        return wildcard_prefix(self.target) if self.wildcard else self.target

    @property
    def source_prefix(self) -> str:
        """`docker.io/library/` for a wildcard rule, the whole `host/repository` for a static one."""
        return _prefix(self.host, self.source_path, self.wildcard)

    def cache_prefix(self, login_server: str) -> str:
        """Where `source_prefix` lands in the registry."""
        return _prefix(login_server, self.target_path, self.wildcard)

    def serves(self, ref: ImageRef) -> str | None:
        """The repository in the registry this rule serves the reference from, or None."""
        if ref.host != self.host:
            return None
        if not self.wildcard:
            return self.target if ref.repository == self.source else None
        prefix = self.source_path
        if prefix and not ref.repository.startswith(f"{prefix}/"):
            return None
        rest = ref.repository[len(prefix) + 1 :] if prefix else ref.repository
        return f"{self.target_path}/{rest}" if self.target_path else rest


def _prefix(host: str, path: str, wildcard: bool) -> str:
    if not wildcard:
        return f"{host}/{path}"
    return f"{host}/{path}/" if path else f"{host}/"


def mappings(rules: Iterable[tuple[str, str, str]]) -> list[Mapping]:
    """(rule name, source, target) of a stack's rules, as mappings."""
    found = []
    for name, source, target in rules:
        host, _, path = source.partition("/")
        found.append(Mapping(name, host, path, target))
    return found


@dataclass(frozen=True)
class Resolution:
    image: str
    """The reference as written."""
    cache: str | None
    """What to pull through the registry, or None when no rule serves it."""
    rule: str | None
    note: str = ""


def resolve(ref: ImageRef, rules: list[Mapping], login_server: str, written: str = "") -> Resolution:
    """The reference to pull through the registry, and the rule that serves it."""
    written = written or str(ref)
    static = [m for m in rules if not m.wildcard and m.serves(ref) is not None]
    wildcards = sorted(
        (m for m in rules if m.wildcard and m.serves(ref) is not None),
        key=lambda m: len(m.source_path),
        reverse=True,
    )
    for rule in [*static, *wildcards]:
        target = rule.serves(ref)
        assert target is not None
        # ACR resolves the target path: a static rule on it wins over the wildcard that covers it.
        shadow = next((m for m in rules if not m.wildcard and m.target == target and m is not rule), None)
        if shadow is not None and rule.wildcard:
            return Resolution(
                written,
                None,
                None,
                f"rule {rule.rule} would serve it as {target}, but rule {shadow.rule} holds that repository "
                f"for {shadow.host}/{shadow.source}",
            )
        return Resolution(written, ref.at(login_server, target), rule.rule)
    return Resolution(written, None, None, "no cache rule serves it: pull it as it is")


def rewrite_map(rules: list[Mapping], login_server: str) -> dict[str, str]:
    """Each rule's source prefix -> its cache prefix: what a client replaces at the start of a
    normalised reference (`docker.io/library/` -> `<registry>.azurecr.io/library/`)."""
    return {rule.source_prefix: rule.cache_prefix(login_server) for rule in rules}
