"""The upstream table against ACR's documentation, entry by entry: which hosts a rule or a credential
set may name, and which take credentials (learn.microsoft.com, "Artifact cache in Azure Container
Registry", Upstream support). Expected values are written out here, never read from the code."""

from __future__ import annotations

import pytest
from acr_cache.artifact_cache import CacheRuleConfig, CredentialSetConfig
from pydantic import ValidationError

# host -> (its title in messages, what it takes: `required` credentials, `optional` or `none`).
DOCUMENTED = {
    "docker.io": ("Docker Hub", "required"),
    "dhi.io": ("Docker Hardened Images", "required"),
    "mcr.microsoft.com": ("Microsoft Artifact Registry", "none"),
    "public.ecr.aws": ("AWS ECR Public Gallery", "none"),
    "ghcr.io": ("GitHub Container Registry", "optional"),
    "quay.io": ("Quay", "optional"),
    "registry.k8s.io": ("Kubernetes registry", "optional"),
    "gcr.io": ("Google Container Registry", "optional"),
    "nvcr.io": ("NVIDIA NGC", "optional"),
    "registry.redhat.io": ("Red Hat Registry", "required"),
    "registry.access.redhat.com": ("Red Hat Public Registry", "none"),
    "europe-docker.pkg.dev": ("Google Artifact Registry", "required"),
    "us-central1-docker.pkg.dev": ("Google Artifact Registry", "required"),
    "contoso.azurecr.io": ("Azure Container Registry", "required"),
}
SUPPORTED = (
    "docker.io, dhi.io, mcr.microsoft.com, public.ecr.aws, ghcr.io, quay.io, registry.k8s.io, gcr.io, "
    "nvcr.io, registry.redhat.io, registry.access.redhat.com, *.pkg.dev, *.azurecr.io"
)


def refusal(model: type[CacheRuleConfig] | type[CredentialSetConfig], data: dict[str, object]) -> str | None:
    try:
        model.model_validate(data)
    except ValidationError as exc:
        return " ".join(str(error["msg"]) for error in exc.errors())
    return None


def rule(host: str, credential_set: str | None) -> dict[str, object]:
    # A path below every host: `library/` keeps Docker Hub's official-image rule out of the way.
    return {"source": f"{host}/library/app", "target": "app", "credentialSet": credential_set}


@pytest.mark.parametrize("host", DOCUMENTED)
def test_a_rule_without_a_credential_set(host: str) -> None:
    title, auth = DOCUMENTED[host]
    found = refusal(CacheRuleConfig, rule(host, None))
    if auth == "required":
        assert found is not None and f"{title} only serves authenticated pulls to the cache" in found
        assert f"naming a set whose loginServer is {host}" in found
    else:
        assert found is None


@pytest.mark.parametrize("host", DOCUMENTED)
def test_a_rule_with_a_credential_set(host: str) -> None:
    title, auth = DOCUMENTED[host]
    found = refusal(CacheRuleConfig, rule(host, "upstream"))
    if auth == "none":
        assert found is not None and f"{title} only serves anonymous pulls: remove `credentialSet`" in found
    else:
        assert found is None


@pytest.mark.parametrize("host", DOCUMENTED)
def test_a_credential_set_for_the_host(host: str) -> None:
    title, auth = DOCUMENTED[host]
    found = refusal(
        CredentialSetConfig,
        {"loginServer": host, "username": {"secretName": "u"}, "password": {"secretName": "p"}},
    )
    if auth == "none":
        assert found is not None
        assert f"{title} ({host}) only serves anonymous pulls, so it takes no credential set" in found
    else:
        assert found is None


def test_docker_hub_rules_say_which_error_azure_would_give() -> None:
    found = refusal(CacheRuleConfig, rule("docker.io", None))
    assert (
        found is not None
        and "Docker Hub only serves authenticated pulls to the cache (Azure refuses it: "
        "EnforceDockerAuthentication)"
        in found
    )
    other = refusal(CacheRuleConfig, rule("registry.redhat.io", None))
    assert other is not None and "EnforceDockerAuthentication" not in other


@pytest.mark.parametrize(
    "host",
    [
        "docker.com",
        "pkg.dev",  # the pattern is `*.pkg.dev`: a host below it, not the domain itself
        "azurecr.io",
        "evil.pkg.dev.example.com",
        "a..pkg.dev",
        "-a.pkg.dev",
        "mcr.microsoft.com.example.com",
    ],
)
def test_other_hosts_are_not_upstreams_and_the_message_lists_the_supported_ones(host: str) -> None:
    for found in (
        refusal(CacheRuleConfig, {"source": f"{host}/app", "target": "app"}),
        refusal(
            CredentialSetConfig,
            {"loginServer": host, "username": {"secretName": "u"}, "password": {"secretName": "p"}},
        ),
    ):
        assert found is not None and "is not an upstream the artifact cache supports" in found
        assert f"supported: {SUPPORTED}" in found
    assert refusal(CacheRuleConfig, {"source": f"{host}/app", "target": "app"}) == (
        f"'{host}' in '{host}/app' is not an upstream the artifact cache supports; supported: {SUPPORTED}"
    )


@pytest.mark.parametrize(
    "alias", ["index.docker.io", "registry-1.docker.io", "hub.docker.com", "registry.hub.docker.com"]
)
def test_the_other_names_of_docker_hub_are_refused_with_the_name_acr_takes(alias: str) -> None:
    found = refusal(CacheRuleConfig, {"source": f"{alias}/library/nginx", "credentialSet": "hub"})
    assert (
        found is not None
        and f"'{alias}' is not how ACR names Docker Hub: write 'docker.io/library/nginx'" in found
    )
    found = refusal(
        CredentialSetConfig,
        {"loginServer": alias, "username": {"secretName": "u"}, "password": {"secretName": "p"}},
    )
    assert found is not None and f"'{alias}' is not how ACR names Docker Hub: write 'docker.io'" in found


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            {"source": f"docker.io/library/nginx@sha256:{'a' * 64}", "target": "nginx"},
            f"'docker.io/library/nginx@sha256:{'a' * 64}' holds a digest; a rule caches a whole repository: "
            "write 'docker.io/library/nginx' and pull the digest from the registry",
        ),
        (
            {"source": "mcr.microsoft.com/dotnet/runtime:8.0:x", "target": "dotnet"},
            "'mcr.microsoft.com/dotnet/runtime:8.0:x' holds a tag; a rule caches a whole repository: write "
            "'mcr.microsoft.com/dotnet/runtime' and pull the tag from the registry",
        ),
        (
            {"source": "mcr.microsoft.com/dotnet/run--", "target": "dotnet"},
            "'run--' in 'mcr.microsoft.com/dotnet/run--' is not a valid repository path component: use "
            "lowercase letters and digits, separated by `.`, `_`, `__` or `-`",
        ),
        (
            {"source": "mcr.microsoft.com/dotnet", "target": "team.azurecr.io/dotnet"},
            "'team.azurecr.io/dotnet' names the registry itself; a target is the path inside it: write 'dotnet'",
        ),
        (
            {"source": "mcr.microsoft.com/dotnet", "target": "team.azurecr.io"},
            "'team.azurecr.io' names the registry itself; a target is the path inside it: write '<repository>'",
        ),
    ],
)
def test_a_refused_source_or_target_says_what_to_write(rule: dict[str, object], message: str) -> None:
    assert refusal(CacheRuleConfig, rule) == message


@pytest.mark.parametrize(
    ("source", "target"), [("mcr.microsoft.com/*", "*"), ("mcr.microsoft.com/dotnet/*", "team/*")]
)
def test_a_trailing_wildcard_at_the_root_or_below_is_accepted(source: str, target: str) -> None:
    assert refusal(CacheRuleConfig, {"source": source, "target": target}) is None


def test_a_path_longer_than_acr_takes_is_refused_and_shown_cut() -> None:
    found = refusal(CacheRuleConfig, {"source": "mcr.microsoft.com/" + "a" * 257, "target": "dotnet"})
    assert found is not None and found.startswith("'mcr.microsoft.com/aaaa")
    assert found.endswith("… (275 characters)' is longer than 256 characters")
    assert refusal(CacheRuleConfig, {"source": "mcr.microsoft.com/" + "a" * 256, "target": "dotnet"}) is None
