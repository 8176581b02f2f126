"""`acr-cache clients`: references resolved as Docker and ACR read them, the Kyverno policy applied
to sample pods as Kyverno would, containerd's hosts.toml and Docker's daemon.json as their parsers
read them, and the stack's `pullRewrites` output."""

from __future__ import annotations

import fnmatch
import io
import json
import re
import tomllib
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
import yaml
from acr_cache.cli import main
from acr_cache.clients import (
    Cache,
    ClientsError,
    as_json,
    containerd_hosts,
    docker_daemon,
    kyverno_policy,
    kyverno_yaml,
    table,
)
from acr_cache.config import offline_placeholders, parse_stack_config
from acr_cache.plan.stackfile import load_stack_files
from acr_cache.references import ReferenceError, mappings, parse_reference, resolve

from tests.conftest import HUB_SET_FROM_CONFIG, ROOT, as_pulumi_config, reviewed_snapshot, sections

DIGEST = "sha256:" + "0123456789abcdef" * 4


def shipped(stack: str) -> Cache:
    files = load_stack_files(stack, None, ROOT)
    with offline_placeholders():
        return Cache.of(stack, parse_stack_config(files.config, files.secret_keys))


def cache_of(**changes: Any) -> Cache:
    document = sections(
        keyVault={"name": "kv-acrtest01"}, credentialSets={"dockerhub": HUB_SET_FROM_CONFIG}, **changes
    )
    with offline_placeholders():
        return Cache.of("test", parse_stack_config(as_pulumi_config(document)))


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


# --- References as Docker normalises them ----------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "host", "repository", "tag", "digest"),
    [
        ("nginx", "docker.io", "library/nginx", None, None),
        ("nginx:1.27", "docker.io", "library/nginx", "1.27", None),
        ("library/nginx:1.27-alpine", "docker.io", "library/nginx", "1.27-alpine", None),
        ("bitnami/redis", "docker.io", "bitnami/redis", None, None),
        ("docker.io/nginx", "docker.io", "library/nginx", None, None),
        ("index.docker.io/library/nginx:1", "docker.io", "library/nginx", "1", None),
        # Docker Hub's other names: the registry API host and the old hub host.
        ("registry-1.docker.io/nginx", "docker.io", "library/nginx", None, None),
        ("registry.hub.docker.com/bitnami/redis:7", "docker.io", "bitnami/redis", "7", None),
        (f"nginx@{DIGEST}", "docker.io", "library/nginx", None, DIGEST),
        (f"nginx:1.27@{DIGEST}", "docker.io", "library/nginx", "1.27", DIGEST),
        ("ghcr.io/org/app:v1", "ghcr.io", "org/app", "v1", None),
        ("localhost:5000/app:1", "localhost:5000", "app", "1", None),
        ("localhost/app", "localhost", "app", None, None),
        (
            "registry.k8s.io/ingress-nginx/controller:v1.11.2",
            "registry.k8s.io",
            "ingress-nginx/controller",
            "v1.11.2",
            None,
        ),
        (
            "myregistry.example.com:8443/team/app_x__y.z-1",
            "myregistry.example.com:8443",
            "team/app_x__y.z-1",
            None,
            None,
        ),
    ],
)
def test_references_normalise_as_docker_does(
    written: str, host: str, repository: str, tag: str | None, digest: str | None
) -> None:
    ref = parse_reference(written)
    assert (ref.host, ref.repository, ref.tag, ref.digest) == (host, repository, tag, digest)


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("", "an empty reference"),
        ("nginx 1.27", "contains a space"),
        ("Nginx:1.27", "repository names are lowercase: write 'nginx'"),
        ("ghcr.io/Org/app", "repository names are lowercase"),
        ("nginx:-bad", "is not a tag"),
        ("nginx@sha256:abc", "is not a digest"),
        ("nginx@sha256:" + "A" * 64, "64 lowercase hex digits"),
        ("ghcr.io//app", "is not a repository name"),
        ("my_registry.example.com/app", "'my_registry.example.com' is not a registry host"),
        # A colon in a path segment before the last is no tag separator: the path is what is wrong.
        ("example.com/a:b/c", "'a:b/c' is not a repository name"),
        ("ghcr.io/app/", "is not a repository name"),
        ("a" * 300, "at most 255 characters"),
    ],
)
def test_malformed_references_are_refused_with_the_fix(written: str, said: str) -> None:
    with pytest.raises(ReferenceError, match=re.escape(said)):
        parse_reference(written)


# --- Resolution through every shipped stack -------------------------------------------------------

REAL_WORLD = [
    # (stack, image as written, cache reference or None, rule)
    ("dev", "nginx", "acrcachedev01.azurecr.io/library/nginx:latest", "dockerhub-library"),
    ("dev", "nginx:1.27", "acrcachedev01.azurecr.io/library/nginx:1.27", "dockerhub-library"),
    (
        "dev",
        f"docker.io/library/postgres@{DIGEST}",
        f"acrcachedev01.azurecr.io/library/postgres@{DIGEST}",
        "dockerhub-library",
    ),
    ("dev", "bitnami/redis:7.4", "acrcachedev01.azurecr.io/bitnami/redis:7.4", "dockerhub-bitnami-redis"),
    ("dev", "bitnami/postgresql:16", None, None),
    (
        "dev",
        "mcr.microsoft.com/dotnet/aspnet:8.0",
        "acrcachedev01.azurecr.io/dotnet/aspnet:8.0",
        "mcr-dotnet",
    ),
    ("dev", "mcr.microsoft.com/azure-cli:2.66.0", None, None),
    ("dev", "localhost:5000/app:1", None, None),
    ("prod", "python:3.12-slim", "acrcacheprod01.azurecr.io/library/python:3.12-slim", "dockerhub-library"),
    (
        "prod",
        "ghcr.io/fluxcd/source-controller:v1.4.1",
        "acrcacheprod01.azurecr.io/fluxcd/source-controller:v1.4.1",
        "ghcr-fluxcd",
    ),
    ("prod", "ghcr.io/open-telemetry/opentelemetry-collector:0.110.0", None, None),
    (
        "prod",
        "registry.k8s.io/ingress-nginx/controller:v1.11.2",
        "acrcacheprod01.azurecr.io/k8s/ingress-nginx/controller:v1.11.2",
        "k8s-ingress-nginx",
    ),
    ("prod", "registry.k8s.io/pause:3.10", None, None),
    ("prod", "quay.io/prometheus/node-exporter:v1.8.2", None, None),
    (
        "prod",
        "mcr.microsoft.com/dotnet/runtime:8.0",
        "acrcacheprod01.azurecr.io/dotnet/runtime:8.0",
        "mcr-dotnet",
    ),
    ("corp", "alpine:3.20", "acrcachecorp01.azurecr.io/library/alpine:3.20", "dockerhub-library"),
    ("corp", "mcr.microsoft.com/dotnet/sdk:8.0", "acrcachecorp01.azurecr.io/dotnet/sdk:8.0", "mcr-dotnet"),
    ("corp", "ghcr.io/fluxcd/helm-controller:v1.1.0", None, None),
]


@pytest.mark.parametrize(("stack", "image", "expected", "rule"), REAL_WORLD)
def test_real_world_references_resolve_through_each_shipped_stack(
    stack: str, image: str, expected: str | None, rule: str | None
) -> None:
    [found] = shipped(stack).resolve([image])
    assert (found.image, found.cache, found.rule) == (image, expected, rule)


def test_a_static_rule_wins_over_the_wildcard_and_the_longest_wildcard_over_shorter() -> None:
    rules = mappings(
        [
            ("hub-all", "docker.io/*", "hub/*"),
            ("hub-library", "docker.io/library/*", "library/*"),
            ("hub-nginx", "docker.io/library/nginx", "pinned/nginx"),
        ]
    )
    login = "acr.azurecr.io"
    assert resolve(parse_reference("nginx:1"), rules, login).cache == "acr.azurecr.io/pinned/nginx:1"
    assert resolve(parse_reference("redis:7"), rules, login).rule == "hub-library"
    assert (
        resolve(parse_reference("grafana/grafana:11"), rules, login).cache
        == "acr.azurecr.io/hub/grafana/grafana:11"
    )


def test_a_wildcard_target_a_static_rule_holds_is_not_served_by_the_wildcard() -> None:
    # ACR serves library/nginx by the static rule (bitnami's image): library/* cannot give docker's nginx.
    rules = mappings(
        [
            ("hub-library", "docker.io/library/*", "library/*"),
            ("odd", "docker.io/bitnami/nginx", "library/nginx"),
        ]
    )
    found = resolve(parse_reference("nginx"), rules, "acr.azurecr.io")
    assert (found.cache, found.rule) == (None, None)
    assert found.note == (
        "rule hub-library would serve it as library/nginx, but rule odd holds that repository for "
        "docker.io/bitnami/nginx"
    )
    unserved = resolve(parse_reference("quay.io/x/y"), rules, "acr.azurecr.io")
    assert (unserved.cache, unserved.rule, unserved.note) == (
        None,
        None,
        "no cache rule serves it: pull it as it is",
    )
    assert (
        resolve(parse_reference("bitnami/nginx:1"), rules, "acr.azurecr.io").cache
        == "acr.azurecr.io/library/nginx:1"
    )


def test_resolve_through_the_cli_as_table_and_json() -> None:
    code, out, err = cli(
        "clients", "prod", "--cwd", str(ROOT), "--resolve", "nginx:1.27", "quay.io/x/y", "--format", "json"
    )
    assert code == 0, err
    assert json.loads(out) == [
        {
            "image": "nginx:1.27",
            "cache": "acrcacheprod01.azurecr.io/library/nginx:1.27",
            "rule": "dockerhub-library",
        },
        {"image": "quay.io/x/y", "cache": None, "rule": None},
    ]
    code, out, _ = cli("clients", "prod", "--cwd", str(ROOT), "--resolve", "nginx:1.27")
    assert code == 0 and out.splitlines()[0].split() == ["IMAGE", "CACHE", "RULE"]
    assert "acrcacheprod01.azurecr.io/library/nginx:1.27" in out
    code, out, err = cli("clients", "prod", "--cwd", str(ROOT), "--resolve", "Nginx")
    assert code == 2 and out == "" and "repository names are lowercase" in err and "Traceback" not in err


# --- Kyverno, applied to sample pods as Kyverno applies it -----------------------------------------


def image_info(image: str) -> dict[str, str]:
    """kyverno/kyverno pkg/utils/image/infos.go `GetImageInfo`, with the default registry docker.io
    and registry mutation on (Kyverno's defaults)."""
    first, slash, _ = image.partition("/")
    if not slash or (not any(c in first for c in ".:") and first != "localhost" and first.lower() == first):
        image = f"docker.io/{image}"
    rest, _, digest = image.partition("@")
    registry, _, remainder = rest.partition("/")
    path, tag = remainder, ""
    if ":" in remainder.rsplit("/", 1)[-1]:
        path, _, tag = remainder.rpartition(":")
    if not tag and not digest:
        tag = "latest"
    if "/" not in path:
        path = f"library/{path}"
    return {"registry": registry, "path": path, "tag": tag, "digest": digest}


def render(template: str, kind: str, element: dict[str, Any], index: int) -> str:
    """The expressions the generated policy uses, evaluated as Kyverno's JMESPath does."""
    info = image_info(element["image"])
    text = template.replace("{{element.name}}", element["name"]).replace("{{elementIndex}}", str(index))

    def expression(found: re.Match[str]) -> str:
        body = found.group(1).strip()
        field = re.escape(f'images.{kind}."{element["name"]}".')
        if (m := re.fullmatch(rf"{field}(\w+)", body)) is not None:
            return info[m.group(1)]
        if (m := re.fullmatch(rf"{field}(\w+) \|\| ''", body)) is not None:
            return info[m.group(1)] or ""
        if (m := re.fullmatch(rf"trim_prefix\({field}(\w+), '([^']*)'\)", body)) is not None:
            return info[m.group(1)].removeprefix(m.group(2))
        raise AssertionError(f"an expression the test does not know: {body}")

    return re.sub(r"\{\{(.*?)\}\}", expression, text)


def holds(condition: dict[str, Any], kind: str, element: dict[str, Any], index: int) -> bool:
    key = render(condition["key"], kind, element, index)
    value = condition["value"]
    if condition["operator"] == "AnyIn":
        return key in value
    # Kyverno compares strings with wildcards (`*`, `?`) in the value.
    matches = fnmatch.fnmatchcase(key, value)
    return matches if condition["operator"] == "Equals" else not matches


def mutate(policy: dict[str, Any], pod: dict[str, Any]) -> dict[str, Any]:
    pod = json.loads(json.dumps(pod))
    for rule in policy["spec"]["rules"]:
        for entry in rule["mutate"]["foreach"]:
            kind = entry["list"].rsplit(".", 1)[-1]
            for index, element in enumerate(json.loads(json.dumps(pod["spec"].get(kind) or []))):
                if all(holds(c, kind, element, index) for c in entry["preconditions"]["all"]):
                    [patch] = yaml.safe_load(entry["patchesJson6902"])
                    assert patch["op"] == "replace"
                    assert render(patch["path"], kind, element, index) == f"/spec/{kind}/{index}/image"
                    pod["spec"][kind][index]["image"] = render(patch["value"], kind, element, index)
    return pod


SAMPLE_IMAGES = [
    "nginx",
    "nginx:1.27",
    "library/redis:7",
    "docker.io/library/postgres:16",
    "index.docker.io/library/busybox:1.36",
    f"python@{DIGEST}",
    "ghcr.io/fluxcd/source-controller:v1.4.1",
    f"ghcr.io/fluxcd/kustomize-controller@{DIGEST}",
    "registry.k8s.io/ingress-nginx/controller:v1.11.2",
    "registry.k8s.io/pause:3.10",
    "mcr.microsoft.com/dotnet/runtime:8.0",
    "quay.io/prometheus/node-exporter:v1.8.2",
    "acrcacheprod01.azurecr.io/library/nginx:1.27",
    "bitnami/redis:7.4",
]


@pytest.mark.parametrize("stack", ["dev", "prod", "corp"])
def test_the_kyverno_policy_rewrites_pods_as_resolve_does(stack: str) -> None:
    cache = shipped(stack)
    policy = yaml.safe_load(kyverno_yaml(cache))
    assert policy == kyverno_policy(cache)
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "spec": {
            "initContainers": [{"name": f"init{i}", "image": image} for i, image in enumerate(SAMPLE_IMAGES)],
            "containers": [{"name": f"c{i}", "image": image} for i, image in enumerate(SAMPLE_IMAGES)],
            "ephemeralContainers": [{"name": "debug", "image": "busybox:1.36"}],
        },
    }
    mutated = mutate(policy, pod)
    for kind in ("containers", "initContainers"):
        for written, container in zip(SAMPLE_IMAGES, mutated["spec"][kind], strict=True):
            [expected] = cache.resolve([written])
            assert container["image"] == (expected.cache or written), (kind, written)
    [debug] = cache.resolve(["busybox:1.36"])
    assert mutated["spec"]["ephemeralContainers"][0]["image"] == debug.cache


def test_the_kyverno_policy_covers_every_container_list() -> None:
    policy = kyverno_policy(shipped("prod"))
    assert (policy["apiVersion"], policy["kind"]) == ("kyverno.io/v1", "ClusterPolicy")
    assert policy["spec"]["background"] is False
    rules = {rule["name"]: rule for rule in policy["spec"]["rules"]}
    assert set(rules) == {
        "pull-through-cache-containers",
        "pull-through-cache-initcontainers",
        "pull-through-cache-ephemeralcontainers",
    }
    assert rules["pull-through-cache-ephemeralcontainers"]["match"]["any"][0]["resources"]["kinds"] == [
        "Pod/ephemeralcontainers"
    ]
    assert "preconditions" not in rules["pull-through-cache-containers"]
    for rule in rules.values():
        # Two entries per cache rule: pinned by digest, and by tag.
        assert len(rule["mutate"]["foreach"]) == 2 * len(shipped("prod").rules)
    assert "AcrPull" in policy["metadata"]["annotations"]["policies.kyverno.io/description"]


def test_a_shadowed_or_nested_wildcard_never_rewrites_twice() -> None:
    cache = Cache(
        "t",
        "acr.azurecr.io",
        mappings(
            [
                ("hub-all", "docker.io/*", "hub/*"),
                ("hub-library", "docker.io/library/*", "library/*"),
                ("odd", "docker.io/bitnami/nginx", "library/nginx"),
            ]
        ),
        False,
    )
    images = ["nginx:1", "redis:7", "bitnami/nginx:1", "grafana/grafana:11", "library/nginx@" + DIGEST]
    pod = {"spec": {"containers": [{"name": f"c{i}", "image": image} for i, image in enumerate(images)]}}
    mutated = mutate(kyverno_policy(cache), pod)
    for written, container in zip(images, mutated["spec"]["containers"], strict=True):
        [expected] = cache.resolve([written])
        assert container["image"] == (expected.cache or written), written


# --- Node-level mirrors ----------------------------------------------------------------------------

MIRROR = {
    "enabled": True,
    "reason": "CI agents use Docker daemon registry-mirrors, which cannot sign in",
    "credentialSet": "dockerhub",
}


def test_containerd_hosts_parse_as_toml_and_map_each_prefix() -> None:
    cache = cache_of(
        cacheRules={
            "hub-nginx": {
                "source": "docker.io/library/nginx",
                "target": "library/nginx",
                "credentialSet": "dockerhub",
            },
            "ghcr-all": {"source": "ghcr.io/*", "target": "ghcr/*"},
            "mcr-dotnet": {"source": "mcr.microsoft.com/dotnet/*", "target": "dotnet/*"},
            "mcr-renamed": {"source": "mcr.microsoft.com/azure-cli", "target": "tools/az"},
        },
        tokens={"mirror-pull": {"repositories": {"library/nginx": ["read"], "ghcr/*": ["read"]}}},
    )
    files = {f.path: f for f in containerd_hosts(cache, "mirror-pull")}
    assert set(files) == {
        "/etc/containerd/certs.d/docker.io/hosts.toml",
        "/etc/containerd/certs.d/ghcr.io/hosts.toml",
        "/etc/containerd/certs.d/mcr.microsoft.com/hosts.toml",
    }
    hub = tomllib.loads(files["/etc/containerd/certs.d/docker.io/hosts.toml"].text)
    assert hub["server"] == "https://registry-1.docker.io"
    assert hub["host"]["https://acrcachetest01.azurecr.io"]["capabilities"] == ["pull", "resolve"]
    assert hub["host"]["https://acrcachetest01.azurecr.io"]["header"]["authorization"].startswith("Basic ")
    ghcr = tomllib.loads(files["/etc/containerd/certs.d/ghcr.io/hosts.toml"].text)
    assert ghcr["server"] == "https://ghcr.io"
    assert ghcr["host"]["https://acrcachetest01.azurecr.io/v2/ghcr"]["override_path"] is True
    mcr = files["/etc/containerd/certs.d/mcr.microsoft.com/hosts.toml"]
    assert mcr.unserved == ["mcr-renamed"] and "mcr-renamed" in mcr.text
    assert "az keyvault secret show --vault-name kv-acrtest01 --name acr-token-mirror-pull" in mcr.text


def test_containerd_with_anonymous_pull_needs_no_sign_in() -> None:
    cache = cache_of(dockerMirror=MIRROR, cacheRules={})
    [hub] = containerd_hosts(cache)
    parsed = tomllib.loads(hub.text)
    assert "header" not in parsed["host"]["https://acrcachetest01.azurecr.io"]
    assert "anonymous pulls" in hub.text


def test_a_mirror_the_stack_cannot_serve_is_refused() -> None:
    cache = shipped("prod")
    with pytest.raises(ClientsError, match="serves pulls only to signed-in clients"):
        containerd_hosts(cache)
    with pytest.raises(ClientsError, match="no token 'ci' in acr-cache:tokens"):
        containerd_hosts(cache, "ci")
    with pytest.raises(ClientsError, match=r"cannot sign in \(moby#30880\)"):
        docker_daemon(cache)
    code, out, err = cli("clients", "prod", "--cwd", str(ROOT), "--format", "docker")
    assert code == 2 and out == "" and "acr-cache:dockerMirror" in err


def test_docker_daemon_json_for_mirror_mode() -> None:
    text = docker_daemon(cache_of(dockerMirror=MIRROR, cacheRules={}))
    assert json.loads(text) == {"registry-mirrors": ["https://acrcachetest01.azurecr.io"]}


def test_containerd_files_are_written_where_containerd_reads_them(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.mirror.yaml"
    document = {
        "config": {
            **{
                k: json.loads(v)
                for k, v in as_pulumi_config(
                    sections(
                        keyVault={"name": "kv-acrtest01"},
                        credentialSets={
                            "dockerhub": {
                                "loginServer": "docker.io",
                                "username": {"secretName": "u"},
                                "password": {"secretName": "p"},
                            }
                        },
                        dockerMirror=MIRROR,
                    )
                ).items()
            }
        }
    }
    stack.write_text(yaml.safe_dump(document), encoding="utf-8")
    code, _, err = cli(
        "clients",
        "--config",
        str(stack),
        "--cwd",
        str(ROOT),
        "--format",
        "containerd",
        "--output",
        str(tmp_path / "certs.d"),
    )
    assert code == 0, err
    assert tomllib.loads((tmp_path / "certs.d" / "docker.io" / "hosts.toml").read_text(encoding="utf-8"))[
        "server"
    ]


# --- The stack output ------------------------------------------------------------------------------


def test_the_stack_exports_the_rewrite_map_clients_use() -> None:
    from tests.conftest import stack_plan

    plan = stack_plan("prod")
    rewrites = plan["outputs"]["pullRewrites"]
    code, out, _ = cli("clients", "prod", "--cwd", str(ROOT), "--format", "json")
    assert code == 0 and json.loads(out) == rewrites
    assert rewrites["docker.io/library/"] == "acrcacheprod01.azurecr.io/library/"
    assert rewrites["registry.k8s.io/ingress-nginx/"] == "acrcacheprod01.azurecr.io/k8s/ingress-nginx/"
    # A consumer replaces the longest matching prefix of a normalised reference.
    ref = str(parse_reference("registry.k8s.io/ingress-nginx/controller:v1.11.2"))
    prefix = max((p for p in rewrites if ref.startswith(p)), key=len)
    assert rewrites[prefix] + ref[len(prefix) :] == shipped("prod").resolve([ref])[0].cache


def test_corp_mirrors_sign_in_with_its_token_and_say_what_it_cannot_read() -> None:
    files = containerd_hosts(shipped("corp"), "factory-floor")
    assert [f.path for f in files] == [
        "/etc/containerd/certs.d/docker.io/hosts.toml",
        "/etc/containerd/certs.d/mcr.microsoft.com/hosts.toml",
    ]
    for mirror in files:
        parsed = tomllib.loads(mirror.text)
        assert parsed["host"]["https://acrcachecorp01.azurecr.io"]["header"]["authorization"].startswith(
            "Basic "
        )
        # The token reads library/nginx and dotnet/runtime only, not every repository of library/* and dotnet/*.
        assert mirror.unreadable == ["dockerhub-library"] if "docker.io" in mirror.path else ["mcr-dotnet"]
    code, _, err = cli(
        "clients", "corp", "--cwd", str(ROOT), "--format", "containerd", "--token", "factory-floor"
    )
    assert code == 0 and "token factory-floor does not read everything rules dockerhub-library cache" in err


def test_a_token_reading_the_whole_target_covers_the_rule() -> None:
    cache = cache_of(
        cacheRules={"ghcr-all": {"source": "ghcr.io/*", "target": "ghcr/*"}},
        tokens={"mirror-pull": {"repositories": {"ghcr/*": ["read"]}}},
    )
    [ghcr] = containerd_hosts(cache, "mirror-pull")
    assert ghcr.unreadable == [] and "does not read" not in ghcr.text


def test_references_rules_and_resolutions_are_values() -> None:
    # Callers keep them in sets and as dict keys (one resolution per image, rules by prefix).
    ref = parse_reference("nginx:1.27")
    (rule,) = mappings([("hub", "docker.io/library/*", "library/*")])
    found = resolve(ref, [rule], "acr.azurecr.io")
    assert len({ref, parse_reference("docker.io/library/nginx:1.27")}) == 1
    assert len({rule, *mappings([("hub", "docker.io/library/*", "library/*")])}) == 1
    assert {found: 1}[resolve(ref, [rule], "acr.azurecr.io")] == 1
    for value, field in ((ref, "tag"), (rule, "target"), (found, "cache")):
        with pytest.raises(AttributeError):
            setattr(value, field, "changed")


def test_a_cache_and_its_mirror_files_cannot_be_changed() -> None:
    # One Cache feeds every renderer of a command (hosts.toml, daemon.json, Kyverno): a renderer that
    # changed it would change what the next one writes.
    import dataclasses

    cache = cache_of(dockerMirror=MIRROR, cacheRules={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        cache.login_server = "other.azurecr.io"  # type: ignore[misc]
    [mirror] = containerd_hosts(cache)
    with pytest.raises(dataclasses.FrozenInstanceError):
        mirror.text = ""  # type: ignore[misc]


# --- The whole generated text, pinned ----------------------------------------------------------------

RICH_RULES = {
    "hub-nginx": {
        "source": "docker.io/library/nginx",
        "target": "library/nginx",
        "credentialSet": "dockerhub",
    },
    "hub-library": {"source": "docker.io/library/*", "target": "hub/library/*", "credentialSet": "dockerhub"},
    "ghcr-all": {"source": "ghcr.io/*", "target": "ghcr/*"},
    "mcr-dotnet": {"source": "mcr.microsoft.com/dotnet/*", "target": "dotnet/*"},
    "mcr-renamed": {"source": "mcr.microsoft.com/azure-cli", "target": "tools/az"},
    "mcr-renamed-too": {"source": "mcr.microsoft.com/powershell", "target": "tools/pwsh"},
    "quay-same": {"source": "quay.io/prometheus/*", "target": "prometheus/*"},
}
RICH_TOKENS = {"mirror-pull": {"repositories": {"library/nginx": ["read"], "ghcr/*": ["read"]}}}
IMAGES = [
    "nginx:1.27",
    "docker.io/library/redis@" + DIGEST,
    "ghcr.io/org/app:v1",
    "quay.io/other/x:1",
    "mcr.microsoft.com/azure-cli",
]


def _every_output() -> str:
    """What `acr-cache clients` writes for a stack with every kind of rule, a token and, apart,
    anonymous pull: each format, as a user pastes it into a cluster or a node."""
    signed = cache_of(cacheRules=RICH_RULES, tokens=RICH_TOKENS)
    # With anonymous pull the registry-wide Docker Hub rule (`*`) leaves room for static rules only.
    anonymous = cache_of(
        dockerMirror=MIRROR,
        cacheRules={k: v for k, v in RICH_RULES.items() if k in ("hub-nginx", "mcr-renamed")},
    )
    parts = {
        "kyverno": kyverno_yaml(signed),
        "containerd --token mirror-pull": "".join(
            f"## {f.path} (unserved: {f.unserved}; unreadable: {f.unreadable})\n{f.text}"
            for f in containerd_hosts(signed, "mirror-pull")
        ),
        "containerd, anonymous pull": "".join(f"## {f.path}\n{f.text}" for f in containerd_hosts(anonymous)),
        "docker": docker_daemon(anonymous),
        "resolve, table": table(signed.resolve(IMAGES)),
        "resolve, json": as_json(signed.resolve(IMAGES)),
    }
    return "".join(f"### {name}\n{text}\n" for name, text in parts.items())


def test_the_generated_client_configuration_is_exactly_as_reviewed() -> None:
    # The parsing tests above check what each format means; this one holds every character of it
    # (a Kyverno precondition's operator, a hosts.toml comment a user follows), so a change to the
    # text is a reviewed change of tests/snapshots/clients.txt. ACR_CACHE_UPDATE_SNAPSHOTS=1 rewrites it.
    text = _every_output()
    assert text == reviewed_snapshot(text, "clients.txt")


def test_what_a_token_reads_and_the_mirror_files_of_the_hosts_it_can_serve() -> None:
    import dataclasses

    rules = {
        # ghcr.io's only rule renames its repository: no file for ghcr.io, and the hosts after it
        # (sorted) still get theirs.
        "ghcr-renamed": {"source": "ghcr.io/org/app", "target": "apps/app"},
        "quay-all": {"source": "quay.io/*", "target": "quay/*"},
        "hub-library": {
            "source": "docker.io/library/*",
            "target": "hub/library/*",
            "credentialSet": "dockerhub",
        },
    }

    def unreadable(repositories: dict[str, list[str]]) -> dict[str, list[str]]:
        cache = cache_of(cacheRules=rules, tokens={"node-pull": {"repositories": repositories}})
        return {f.path.split("/")[-2]: f.unreadable for f in containerd_hosts(cache, "node-pull")}

    # The target's own prefix or a parent prefix reads it; a static repository named like a prefix
    # reads only itself, never what lies below it.
    assert unreadable({"quay/*": ["read"], "hub/library/*": ["read"]}) == {"docker.io": [], "quay.io": []}
    assert unreadable({"quay/*": ["read"], "hub/*": ["read"]}) == {"docker.io": [], "quay.io": []}
    assert unreadable({"quay": ["read"], "hub": ["read"]}) == {
        "docker.io": ["hub-library"],
        "quay.io": ["quay-all"],
    }
    only_renamed = cache_of(
        cacheRules={"ghcr-renamed": rules["ghcr-renamed"]},
        tokens={"node-pull": {"repositories": {"apps/*": ["read"]}}},
    )
    with pytest.raises(ClientsError) as caught:
        containerd_hosts(only_renamed, "node-pull")
    assert str(caught.value) == "no cache rule of this stack can be served through a node-level mirror"
    # A Cache made directly, without a vault: the sign-in comment says where the vault's name goes.
    hub = containerd_hosts(
        dataclasses.replace(only_renamed, rules=cache_of(cacheRules=rules).rules, vault=None), "node-pull"
    )[0]
    assert "az keyvault secret show --vault-name <vault> --name acr-token-node-pull" in hub.text


def test_an_unknown_token_is_named_with_those_there_are() -> None:
    none = cache_of(cacheRules={"quay-all": {"source": "quay.io/*", "target": "quay/*"}})
    with pytest.raises(ClientsError, match=r"^no token 'pull' in acr-cache:tokens \(defined: none\)"):
        containerd_hosts(none, "pull")
    two = cache_of(
        cacheRules={"quay-all": {"source": "quay.io/*", "target": "quay/*"}},
        tokens={
            "zulu-pull": {"repositories": {"quay/*": ["read"]}},
            "alpha-pull": {"repositories": {"quay/*": ["read"]}},
        },
    )
    with pytest.raises(
        ClientsError, match=r"^no token 'pull' in acr-cache:tokens \(defined: alpha-pull, zulu-pull\)"
    ):
        containerd_hosts(two, "pull")


def test_docker_engine_needs_the_registry_wide_hub_rule_and_anonymous_pull_both() -> None:
    import dataclasses

    hub_all = {"hub-all": {"source": "docker.io/*", "target": "*", "credentialSet": "dockerhub"}}
    signed_in_only = cache_of(cacheRules=hub_all)
    with pytest.raises(ClientsError, match=r"^Docker Engine's registry-mirrors"):
        docker_daemon(signed_in_only)
    # Anonymous pull with Docker Hub rules that are not registry-wide: Docker Engine's mirror sends
    # `library/nginx` as is, which only a `docker.io/*` -> `*` rule serves.
    for rules in (
        {
            "hub-library": {
                "source": "docker.io/library/*",
                "target": "hub/library/*",
                "credentialSet": "dockerhub",
            }
        },
        {
            "hub-nginx": {
                "source": "docker.io/library/nginx",
                "target": "library/nginx",
                "credentialSet": "dockerhub",
            }
        },
        {"quay-all": {"source": "quay.io/*", "target": "*"}},
    ):
        anonymous = dataclasses.replace(cache_of(cacheRules=rules), anonymous_pull=True)
        with pytest.raises(ClientsError, match=r"^Docker Engine's registry-mirrors"):
            docker_daemon(anonymous)
    assert docker_daemon(dataclasses.replace(signed_in_only, anonymous_pull=True)).startswith(
        '{\n  "registry-mirrors"'
    )
