"""The image import provider, run with the real Azure SDK against a loopback ARM server."""

from __future__ import annotations

import time
from typing import Any

import pytest
from acr_cache.image_import import ImageImportProvider, ImportFailed, import_id
from azure.core.credentials import AccessToken

from tests.arm_server import VALID_TOKEN, ArmServer, Scenario

SUB = "00000000-0000-0000-0000-000000000000"
DIGEST = "sha256:" + "a" * 64
UPSTREAM_TOKEN = "dckr_pat_UPSTREAM-SECRET"


class StaticCredential:
    """A TokenCredential that hands out a fixed token (what `az login` would give)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        return AccessToken(self.token, int(time.time()) + 3600)


class FailingCredential:
    def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        from azure.identity import CredentialUnavailableError

        raise CredentialUnavailableError("DefaultAzureCredential failed to retrieve a token")


def props(server: ArmServer, **changes: Any) -> dict[str, Any]:
    return {
        "subscriptionId": SUB,
        "resourceGroupName": "rg-acr",
        "registryName": "acrtest01",
        "target": "base/alpine:3.20",
        "source": "docker.io/library/alpine:3.20",
        "force": False,
        "armEndpoint": server.endpoint,
        "timeoutSeconds": 30,
        "username": None,
        "password": None,
        **changes,
    }


def provider(server: ArmServer, credential: Any = None) -> ImageImportProvider:
    return ImageImportProvider(
        credential_factory=lambda: credential or StaticCredential(VALID_TOKEN),
        client_options={"connection_verify": str(server.cert_path)},
        polling_interval=0.01,
    )


def test_create_posts_import_image_and_polls_to_success() -> None:
    scenario = Scenario(polls_before_done=2)
    with ArmServer(scenario) as server:
        result = provider(server).create(props(server, username="octocat", password=UPSTREAM_TOKEN))
    post, *polls = scenario.requests
    assert post["method"] == "POST"
    assert post["path"] == (
        f"/subscriptions/{SUB}/resourceGroups/rg-acr/providers/Microsoft.ContainerRegistry/registries/acrtest01/importImage"
    )
    assert "api-version=" in post["query"]
    assert post["headers"]["Authorization"] == f"Bearer {VALID_TOKEN}"
    assert post["body"] == {
        "source": {
            "registryUri": "docker.io",
            "sourceImage": "library/alpine:3.20",
            "credentials": {"username": "octocat", "password": UPSTREAM_TOKEN},
        },
        "targetTags": ["base/alpine:3.20"],
        "mode": "NoForce",
    }
    assert [p["method"] for p in polls] == ["GET", "GET", "GET"]  # 202, 202, then 200
    assert all(p["path"] == "/operations/import-1" for p in polls)
    assert result.id == import_id(props(server))
    assert "password" not in result.outs and "username" not in result.outs
    assert result.outs["source"] == "docker.io/library/alpine:3.20"


def test_digest_source_and_force_mode() -> None:
    scenario = Scenario(polls_before_done=0)
    with ArmServer(scenario) as server:
        provider(server).create(
            props(
                server,
                source=f"mcr.microsoft.com/dotnet/runtime@{DIGEST}",
                force=True,
                target="base/dotnet:8.0",
            )
        )
    body = scenario.requests[0]["body"]
    assert body == {
        "source": {"registryUri": "mcr.microsoft.com", "sourceImage": f"dotnet/runtime@{DIGEST}"},
        "targetTags": ["base/dotnet:8.0"],
        "mode": "Force",
    }


def test_failed_operation_surfaces_the_arm_error() -> None:
    scenario = Scenario(
        polls_before_done=1, fail_with=(400, "ImportSourceNotFound", "library/alpine:3.99 not found")
    )
    with ArmServer(scenario) as server, pytest.raises(ImportFailed) as caught:
        provider(server).create(props(server, password=UPSTREAM_TOKEN, username="octocat"))
    message = str(caught.value)
    assert "importing docker.io/library/alpine:3.20 into acrtest01/base/alpine:3.20 failed" in message
    assert "ImportSourceNotFound: library/alpine:3.99 not found" in message
    assert UPSTREAM_TOKEN not in message


def test_an_identity_without_the_import_permission_is_told_which_one_it_needs() -> None:
    scenario = Scenario(
        refuse_with=(
            403,
            "AuthorizationFailed",
            "The client does not have authorization to perform action "
            "'Microsoft.ContainerRegistry/registries/importImage/action'",
        )
    )
    with ArmServer(scenario) as server, pytest.raises(ImportFailed) as caught:
        provider(server).create(props(server))
    message = str(caught.value)
    assert message.startswith(
        "importing docker.io/library/alpine:3.20 into acrtest01/base/alpine:3.20: not allowed ("
    )
    assert (
        "the identity azure-native signs in as needs `Microsoft.ContainerRegistry/registries/importImage/action` "
        "on the registry (Contributor, or Container Registry Data Importer and Data Reader)"
    ) in message


@pytest.mark.parametrize(
    "text", ["Invalid credentials for docker.io", "UNAUTHORIZED: authentication required"]
)
def test_an_upstream_that_refuses_the_pull_points_at_the_import_credentials(text: str) -> None:
    scenario = Scenario(polls_before_done=1, fail_with=(400, "InvalidParameters", text))
    with ArmServer(scenario) as server, pytest.raises(ImportFailed) as caught:
        provider(server).create(props(server, password=UPSTREAM_TOKEN, username="octocat"))
    message = str(caught.value)
    assert (
        "importing docker.io/library/alpine:3.20 into acrtest01/base/alpine:3.20: the upstream registry refused the pull ("
        in message
    )
    assert "check the values of the import's `usernameConfigKey` and `passwordConfigKey`" in message
    assert UPSTREAM_TOKEN not in message


def test_an_operation_that_never_finishes_times_out() -> None:
    scenario = Scenario(polls_before_done=-1)
    with ArmServer(scenario) as server, pytest.raises(ImportFailed) as caught:
        provider(server).create(props(server, timeoutSeconds=1))
    assert "did not finish within 1 s" in str(caught.value)
    assert "pulumi refresh" in str(caught.value)
    assert len(scenario.requests) > 2  # it really polled


def test_bad_credentials_are_reported_as_a_sign_in_problem() -> None:
    scenario = Scenario()
    with ArmServer(scenario) as server, pytest.raises(ImportFailed) as caught:
        provider(server, StaticCredential("expired-token")).create(props(server))
    assert "Azure refused the sign-in (InvalidAuthenticationToken: The access token is invalid.)" in str(
        caught.value
    )
    assert "az login" in str(caught.value)


def test_no_login_at_all_is_reported_before_any_request() -> None:
    scenario = Scenario()
    with ArmServer(scenario) as server, pytest.raises(ImportFailed) as caught:
        provider(server, FailingCredential()).create(props(server))
    assert "Azure refused the sign-in" in str(caught.value) and "az login" in str(caught.value)
    assert scenario.requests == []


def test_a_changed_source_imports_again_with_force() -> None:
    scenario = Scenario(polls_before_done=0)
    with ArmServer(scenario) as server:
        old, new = props(server), props(server, source="docker.io/library/alpine:3.21")
        implementation = provider(server)
        diff = implementation.diff("id", old, new)
        assert diff.changes is True and diff.replaces == []
        implementation.update("id", old, new)
    assert scenario.requests[0]["body"]["mode"] == "Force"
    assert scenario.requests[0]["body"]["source"]["sourceImage"] == "library/alpine:3.21"


def test_diff_and_delete_never_call_azure() -> None:
    scenario = Scenario()
    with ArmServer(scenario) as server:
        implementation = provider(server)
        same = implementation.diff("id", props(server), props(server))
        moved = implementation.diff("id", props(server), props(server, target="base/alpine:latest-vetted"))
        implementation.delete("id", props(server))
        rotated = implementation.diff("id", props(server), props(server, password="new-token"))
    assert same.changes is False
    assert moved.changes is True and moved.replaces == ["target"]
    assert rotated.changes is False  # a rotated upstream token does not import again
    assert scenario.requests == []


def test_the_provider_pickles_by_reference() -> None:
    import dill

    blob = dill.dumps(ImageImportProvider(), protocol=pytest.importorskip("pickle").DEFAULT_PROTOCOL)
    assert b"acr_cache.image_import" in blob and len(blob) < 300


# --- Issue #12: azure-native's login, idempotent create ----------------------------------------

from acr_cache.image_import import LOGIN_HINT  # noqa: E402

from tests.arm_server import CLIENT_SECRET  # noqa: E402

OTHER = "sha256:" + "b" * 64


TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT = "66666666-7777-8888-9999-000000000000"


def stack_config(**overrides: str) -> dict[str, str]:
    """azure-native's login as stack config, with keys as the engine sends a dynamic provider."""
    config = {
        "azure-native:clientId": CLIENT,
        "azure-native:tenantId": TENANT,
        "azure-native:clientSecret": CLIENT_SECRET,
        "azure-native:subscriptionId": SUB,
        "acr-cache:registry": "{}",  # the rest of the stack's config comes along, unread
    }
    config.update(overrides)
    return {key: value for key, value in config.items() if value}


def native(server: ArmServer, config: dict[str, str] | None = None) -> ImageImportProvider:
    """The provider as the engine runs it: no credential factory; the engine's Configure hands it
    the stack config, and it signs in itself."""
    from pulumi.dynamic import Config, ConfigureRequest

    implementation = ImageImportProvider(
        client_options={"connection_verify": str(server.cert_path)},
        polling_interval=0.01,
        registry_base_url=server.endpoint,
        upstream_base_url=server.endpoint,
        identity_options={"disable_instance_discovery": True},
    )
    implementation.configure(
        ConfigureRequest(Config(stack_config() if config is None else config, "acr-cache"))
    )
    return implementation


def native_props(server: ArmServer, **changes: Any) -> dict[str, Any]:
    return props(server, **changes)


def test_the_import_signs_in_itself_with_the_login_the_engine_configured(loopback_entra: Any) -> None:
    scenario = Scenario(polls_before_done=1)
    with ArmServer(scenario) as server:
        loopback_entra(server)
        result = native(server).create(native_props(server))
    token_requests = [s for s in scenario.sign_ins if s["method"] == "POST"]
    assert token_requests[0]["path"] == f"/{TENANT}/oauth2/v2.0/token"
    assert token_requests[0]["form"]["client_id"] == CLIENT
    assert token_requests[0]["form"]["scope"] == "https://management.azure.com/.default"
    assert all(s["granted"] for s in token_requests)
    assert set(scenario.used_tokens) <= set(scenario.issued)  # only tokens Entra issued to it
    assert not any(str(v) in scenario.issued or v == CLIENT_SECRET for v in result.outs.values())


def test_an_import_that_outlives_its_first_token_is_polled_with_a_fresh_one(loopback_entra: Any) -> None:
    # Each token lasts one second and ARM refuses an expired one; the operation runs about two.
    scenario = Scenario(polls_before_done=4, token_lifetime=1)
    with ArmServer(scenario) as server:
        loopback_entra(server)
        implementation = native(server)
        implementation._polling_interval = 0.5
        started = time.time()
        implementation.create(native_props(server))
    assert time.time() - started > 1.5
    first = scenario.used_tokens[0]
    assert scenario.used_tokens.count(first) < len(scenario.used_tokens)
    assert len(set(scenario.used_tokens)) >= 2
    assert [r["method"] for r in scenario.requests] == ["POST", "GET", "GET", "GET", "GET", "GET"]


def test_a_missing_login_setting_is_named_before_any_request(loopback_entra: Any) -> None:
    scenario = Scenario()
    with ArmServer(scenario) as server, pytest.raises(ImportFailed) as caught:
        loopback_entra(server)
        native(server, stack_config(**{"azure-native:tenantId": ""})).create(props(server))
    assert str(caught.value) == (
        "importing docker.io/library/alpine:3.20 into acrtest01/base/alpine:3.20: signing in with a client "
        "secret needs azure-native:tenantId or ARM_TENANT_ID; " + LOGIN_HINT
    )
    assert scenario.requests == [] and scenario.sign_ins == []


def test_config_wins_over_the_environment_as_in_azure_native(
    loopback_entra: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARM_CLIENT_ID", "from-the-environment")
    monkeypatch.setenv("ARM_CLIENT_SECRET", "another-secret")
    scenario = Scenario(polls_before_done=0)
    with ArmServer(scenario) as server:
        loopback_entra(server)
        native(server).create(native_props(server))
    assert {s["form"]["client_id"] for s in scenario.sign_ins if s["method"] == "POST"} == {CLIENT}


def test_a_refused_sign_in_names_azure_native_login_and_never_the_secret(loopback_entra: Any) -> None:
    scenario = Scenario(client_secret="the-right-one")
    with ArmServer(scenario) as server, pytest.raises(ImportFailed) as caught:
        loopback_entra(server)
        native(server).create(native_props(server))
    message = str(caught.value)
    assert "Azure refused the sign-in (" in message and "ARM_TENANT_ID" in message
    assert CLIENT_SECRET not in message
    assert scenario.requests == []


def test_tokens_left_in_old_state_never_cause_a_diff() -> None:
    # Stacks deployed before the provider signed in itself hold tokens in their state's inputs.
    old = {**props(_NoServer()), "accessToken": "old-run", "registryAccessToken": "old-run-acr"}
    assert ImageImportProvider().diff("id", old, props(_NoServer())).changes is False
    # Nor reach the outputs: an update of such a resource (nothing to import) writes none of them.
    outs = ImageImportProvider().update("id", old, {**old, "force": True}).outs
    assert not {"accessToken", "registryAccessToken", "username", "password"} & set(outs)
    assert "old-run" not in repr(outs)


def test_a_sign_in_that_fails_for_the_registry_alone_says_so_with_the_hint() -> None:
    # A tag already there is compared by digest with a registry-scoped token; with OIDC each exchange
    # asks GitHub again, so that sign-in can fail after the import's own succeeded.
    from acr_cache.azure_login import REGISTRY_SCOPE, LoginError

    class ArmOnly(StaticCredential):
        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            if REGISTRY_SCOPE in scopes:
                raise LoginError("GitHub's OIDC token endpoint answered without a token")
            return super().get_token(*scopes, **kwargs)

    scenario = Scenario(polls_before_done=0, existing_tags={"base/alpine:3.20": DIGEST})
    with ArmServer(scenario) as server, pytest.raises(ImportFailed) as caught:
        provider(server, ArmOnly(VALID_TOKEN)).create(
            props(server, source=f"docker.io/library/alpine@{DIGEST}")
        )
    assert str(caught.value) == (
        "acrtest01/base/alpine:3.20: GitHub's OIDC token endpoint answered without a token; " + LOGIN_HINT
    )


class _NoServer:
    endpoint = "https://127.0.0.1:9"


def test_a_rerun_finds_the_same_digest_and_succeeds(loopback_entra: Any) -> None:
    scenario = Scenario(polls_before_done=0, existing_tags={"base/alpine:3.20": DIGEST})
    with ArmServer(scenario) as server:
        loopback_entra(server)
        result = native(server).create(native_props(server, source=f"docker.io/library/alpine@{DIGEST}"))
    assert result.id == import_id(native_props(server))
    paths = [(r["method"], r["path"]) for r in scenario.requests]
    assert paths[1:] == [
        ("POST", "/oauth2/exchange"),
        ("POST", "/oauth2/token"),
        ("HEAD", "/v2/base/alpine/manifests/3.20"),
    ]
    # The registry's data plane takes only an Entra token for its own audience.
    registry_token = scenario.requests[1]["body"]["access_token"]
    assert scenario.issued_scopes[registry_token] == "https://containerregistry.azure.net/.default"


def test_a_different_digest_without_force_is_an_error_that_says_so(loopback_entra: Any) -> None:
    scenario = Scenario(polls_before_done=0, existing_tags={"base/alpine:3.20": OTHER})
    with ArmServer(scenario) as server, pytest.raises(ImportFailed) as caught:
        loopback_entra(server)
        native(server).create(native_props(server, source=f"docker.io/library/alpine@{DIGEST}"))
    assert str(caught.value) == (
        f"acrtest01/base/alpine:3.20 exists already and holds {OTHER}, but docker.io/library/alpine@{DIGEST} "
        f"is {DIGEST}: set `force: true` on the import to overwrite the tag, or import into another target"
    )


def test_a_tag_source_is_compared_with_the_upstream_digest_now(loopback_entra: Any) -> None:
    scenario = Scenario(
        polls_before_done=0,
        existing_tags={"base/alpine:3.20": DIGEST},
        upstream_tags={"library/alpine:3.20": DIGEST},
    )
    with ArmServer(scenario) as server:
        loopback_entra(server)
        native(server).create(native_props(server, username="hubuser", password=UPSTREAM_TOKEN))
    token_request = next(r for r in scenario.requests if r["path"] == "/token")
    assert token_request["headers"]["Authorization"].startswith("Basic ")
    assert "scope=repository%3Alibrary%2Falpine%3Apull" in token_request["query"]


def test_force_overwrites_without_comparing(loopback_entra: Any) -> None:
    scenario = Scenario(polls_before_done=0, existing_tags={"base/alpine:3.20": OTHER})
    with ArmServer(scenario) as server:
        loopback_entra(server)
        native(server).create(native_props(server, force=True))
    assert scenario.requests[0]["body"]["mode"] == "Force"
    assert not [r for r in scenario.requests if r["path"].startswith("/oauth2")]


def test_an_unreadable_registry_says_what_to_do_and_never_shows_a_token(loopback_entra: Any) -> None:
    scenario = Scenario(
        polls_before_done=0, existing_tags={"base/alpine:3.20": DIGEST}, refuse_registry_tokens=True
    )
    with ArmServer(scenario) as server, pytest.raises(ImportFailed) as caught:
        loopback_entra(server)
        native(server).create(native_props(server, source=f"docker.io/library/alpine@{DIGEST}"))
    message = str(caught.value)
    assert "exists already (Conflict: Tag base/alpine:3.20 already exists.)" in message
    assert "AcrPull" in message and "pulumi import" in message and "force: true" in message
    assert not any(token in message for token in scenario.issued)


# --- Issue #15: every refusal, the wire inputs and the provider's answers as literals ------------

from acr_cache.azure_login import error_text  # noqa: E402
from acr_cache.image_import import (  # noqa: E402
    ImageImport,
    ImageImports,
    check_import_target,
    parse_image_source,
)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("docker.io/library/alpine:3.20", ("docker.io", "library/alpine:3.20")),
        (f"mcr.microsoft.com/dotnet/runtime@{DIGEST}", ("mcr.microsoft.com", f"dotnet/runtime@{DIGEST}")),
        # A port belongs to the host; the tag is after the last `:` of the last path segment.
        ("registry.example.com:5000/team/app:1.0", ("registry.example.com:5000", "team/app:1.0")),
    ],
)
def test_a_pinned_source_splits_into_host_and_image(source: str, expected: tuple[str, str]) -> None:
    assert parse_image_source(source) == expected


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "docker.io",
            "'docker.io' needs the registry host first, e.g. 'docker.io/library/alpine:3.20' or "
            "'mcr.microsoft.com/dotnet/runtime:8.0'",
        ),
        (
            "library/alpine:3.20",
            "'library/alpine:3.20' needs the registry host first, e.g. 'docker.io/library/alpine:3.20' or "
            "'mcr.microsoft.com/dotnet/runtime:8.0'",
        ),
        (
            "Docker.io/library/alpine:3.20",
            "'Docker.io/library/alpine:3.20' must have a lowercase registry host: write "
            "'docker.io/library/alpine:3.20'",
        ),
        (
            f"docker.io/Library/alpine@{DIGEST}",
            f"'docker.io/Library/alpine@{DIGEST}' must have a lowercase repository: write "
            f"'docker.io/library/alpine@{DIGEST}'",
        ),
        (
            "docker.io/library/alpine",
            "'docker.io/library/alpine' has no tag or digest, so it would import whatever `latest` is that "
            "day: pin it, e.g. 'docker.io/library/alpine:<tag>' or 'docker.io/library/alpine@sha256:<digest>'",
        ),
        (
            "docker.io/library/alpine@sha256:abc",
            "'sha256:abc' in 'docker.io/library/alpine@sha256:abc' is not a digest: expected sha256: and 64 "
            "lowercase hex digits",
        ),
        (
            f"docker.io/library/alpine@{DIGEST}@{DIGEST}",
            f"'{DIGEST}@{DIGEST}' in 'docker.io/library/alpine@{DIGEST}@{DIGEST}' is not a digest: expected "
            "sha256: and 64 lowercase hex digits",
        ),
        ("docker.io/library/alpine:-rc", "'-rc' in 'docker.io/library/alpine:-rc' is not a valid tag"),
        (
            "docker.io/library/alpine:3:20",
            "'library/alpine:3' in 'docker.io/library/alpine:3:20' is not a valid repository path "
            "(lowercase, `/`-separated)",
        ),
    ],
)
def test_a_source_is_refused_with_the_fix(source: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_image_source(source)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("base/alpine", "'base/alpine' must be `repository:tag`, e.g. 'base/alpine:3.20'"),
        ("base:3.20/alpine", "'base:3.20/alpine' must be `repository:tag`, e.g. 'base/alpine:3.20'"),
        (
            "Base/alpine:3.20",
            "'Base/alpine' in 'Base/alpine:3.20' is not a valid repository path (lowercase, `/`-separated)",
        ),
        ("base/alpine:.20", "'.20' in 'base/alpine:.20' is not a valid tag"),
    ],
)
def test_a_target_is_refused_with_the_fix(target: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        check_import_target(target)
    assert str(caught.value) == message
    check_import_target("base/alpine:3.20")  # and a good one passes


def test_the_import_id_names_the_target_under_the_registry() -> None:
    assert import_id(
        {
            "subscriptionId": SUB,
            "resourceGroupName": "rg-acr",
            "registryName": "acrtest01",
            "target": "base/alpine:3.20",
        }
    ) == (
        f"/subscriptions/{SUB}/resourceGroups/rg-acr/providers/Microsoft.ContainerRegistry/registries/acrtest01"
        "/importedImages/base/alpine:3.20"
    )


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("subscriptionId", "11111111-1111-1111-1111-111111111111"),
        ("resourceGroupName", "rg-other"),
        ("registryName", "acrother01"),
        ("target", "base/alpine:3.21"),
    ],
)
def test_another_place_is_a_new_import_created_before_the_old_one_goes(key: str, value: str) -> None:
    old = {
        "subscriptionId": SUB,
        "resourceGroupName": "rg-acr",
        "registryName": "acrtest01",
        "target": "base/alpine:3.20",
        "source": "docker.io/library/alpine:3.20",
        "force": False,
    }
    diff = ImageImportProvider().diff("id", old, {**old, key: value})
    assert (diff.changes, diff.replaces, diff.delete_before_replace) == (True, [key], False)


def test_force_alone_updates_in_place_and_imports_nothing() -> None:
    scenario = Scenario(polls_before_done=0)
    with ArmServer(scenario) as server:
        old = native_props(server)
        new = native_props(server, force=True)
        implementation = native(server)
        diff = implementation.diff("id", old, new)
        result = implementation.update("id", old, new)
    assert (diff.changes, diff.replaces) == (True, [])
    assert scenario.requests == []
    assert result.outs == {
        "subscriptionId": SUB,
        "resourceGroupName": "rg-acr",
        "registryName": "acrtest01",
        "target": "base/alpine:3.20",
        "source": "docker.io/library/alpine:3.20",
        "force": True,
        "armEndpoint": server.endpoint,
        "timeoutSeconds": 30,
    }


def test_a_user_name_without_a_password_sends_no_credentials() -> None:
    scenario = Scenario(polls_before_done=0)
    with ArmServer(scenario) as server:
        provider(server).create(props(server, username="octocat"))
    assert "credentials" not in scenario.requests[0]["body"]["source"]


def test_a_timeout_and_a_refused_sign_in_the_whole_messages() -> None:
    with ArmServer(Scenario(polls_before_done=-1)) as server, pytest.raises(ImportFailed) as caught:
        provider(server).create(props(server, timeoutSeconds=0.5))
    assert str(caught.value) == (
        "importing docker.io/library/alpine:3.20 into acrtest01/base/alpine:3.20 did not finish within 0.5 s; "
        "it may still complete in Azure: run `pulumi refresh`, then `pulumi up` again"
    )
    with ArmServer(Scenario()) as server, pytest.raises(ImportFailed) as caught:
        provider(server, StaticCredential("expired-token")).create(props(server))
    assert str(caught.value).startswith(
        "importing docker.io/library/alpine:3.20 into acrtest01/base/alpine:3.20: Azure refused the sign-in "
        "(InvalidAuthenticationToken: The access token is invalid.); the import signs in as azure-native does: "
        "run `az login`"
    )


@pytest.mark.parametrize(
    "refusal",
    [
        (409, "Blocked", "Another operation on the registry is in progress."),  # the status alone
        (400, "TagAlreadyExists", "The tag base/alpine:3.20 exists in the target."),  # the words alone
    ],
)
def test_either_a_409_or_exists_words_mean_the_tag_is_there(
    refusal: tuple[int, str, str], loopback_entra: Any
) -> None:
    scenario = Scenario(polls_before_done=0, refuse_with=refusal, existing_tags={"base/alpine:3.20": DIGEST})
    with ArmServer(scenario) as server:
        loopback_entra(server)
        result = native(server).create(native_props(server, source=f"docker.io/library/alpine@{DIGEST}"))
    assert result.id.endswith("/importedImages/base/alpine:3.20")
    assert [r["path"] for r in scenario.requests][-1] == "/v2/base/alpine/manifests/3.20"


@pytest.mark.parametrize(
    "refusal",
    [
        (403, "Forbidden", "Access denied by the registry's network rules."),  # the status alone
        (400, "AuthorizationFailed", "The client has no authorization."),  # the code alone
    ],
)
def test_either_a_403_or_authorization_failed_means_not_allowed(refusal: tuple[int, str, str]) -> None:
    scenario = Scenario(refuse_with=refusal)
    with ArmServer(scenario) as server, pytest.raises(ImportFailed) as caught:
        provider(server).create(props(server))
    assert str(caught.value).startswith(
        "importing docker.io/library/alpine:3.20 into acrtest01/base/alpine:3.20: not allowed "
        f"({refusal[1]}: {refusal[2]}); the identity azure-native signs in as needs"
    )


class _Error:
    def __init__(self, code: str | None, message: str | None) -> None:
        self.code, self.message = code, message


class _Refused(Exception):
    def __init__(self, text: str, error: _Error | None = None, message: str = "") -> None:
        super().__init__(text)
        self.error, self.message = error, message


@pytest.mark.parametrize(
    ("exc", "text"),
    [
        (_Refused("x", _Error("Conflict", "Tag exists.")), "Conflict: Tag exists."),
        (_Refused("x", _Error("Conflict", None)), "Conflict"),
        (_Refused("x", _Error(None, "Tag exists.")), "Tag exists."),
        # No ARM error body: the SDK's message, first line only.
        (
            _Refused("x", None, "Operation returned an invalid status 'Bad Gateway'\nContent: <html>"),
            "Operation returned an invalid status 'Bad Gateway'",
        ),
        (_Refused("the exception's own text\nmore", None, ""), "the exception's own text"),
        (_Refused("", None, ""), "_Refused"),
    ],
)
def test_the_error_text_is_the_arm_code_and_message_or_the_first_line(exc: Exception, text: str) -> None:
    assert error_text(exc) == text


def test_an_existing_tag_is_read_from_the_registry_over_verified_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    from acr_cache import digests

    calls: list[tuple[Any, ...]] = []

    def tag_digest(host: str, repository: str, tag: str, token: str, **kwargs: Any) -> str:
        calls.append((host, repository, tag, token, kwargs))
        return DIGEST

    monkeypatch.setattr(digests, "acr_tag_digest", tag_digest)
    checked = {
        "registryName": "AcrTest01",
        "target": "base/alpine:3.20",
        "source": f"docker.io/library/alpine@{DIGEST}",
    }
    scopes: list[str] = []

    class Registry(StaticCredential):
        def get_token(self, *wanted: str, **kwargs: Any) -> AccessToken:
            scopes.extend(wanted)
            return super().get_token(*wanted, **kwargs)

    signed_in = ImageImportProvider(credential_factory=lambda: Registry("acr-token"))
    signed_in._check_existing(checked, "Conflict")
    signed_in._check_existing({**checked, "loginServer": "acrtest01-weu.azurecr.io"}, "Conflict")
    assert calls == [
        ("acrtest01.azurecr.io", "base/alpine", "3.20", "acr-token", {"base_url": None, "verify": True}),
        ("acrtest01-weu.azurecr.io", "base/alpine", "3.20", "acr-token", {"base_url": None, "verify": True}),
    ]
    assert scopes == ["https://containerregistry.azure.net/.default"] * 2


def test_an_import_used_directly_has_safe_defaults_and_no_token_input() -> None:
    from acr_cache.plan.runner import run_program

    def program() -> None:
        ImageImport(
            "alpine",
            subscription_id=SUB,
            resource_group_name="rg-acr",
            registry_name="acrtest01",
            target="base/alpine:3.20",
            source="docker.io/library/alpine:3.20",
            login_server="acrtest01.azurecr.io",
        )

    run = run_program(program, project="p", stack="s", config={}, preview=False)
    (record,) = run.resources
    inputs = {key: value for key, value in record.inputs.items() if key != "__provider"}
    assert inputs == {
        "loginServer": "acrtest01.azurecr.io",
        "subscriptionId": SUB,
        "resourceGroupName": "rg-acr",
        "registryName": "acrtest01",
        "target": "base/alpine:3.20",
        "source": "docker.io/library/alpine:3.20",
        "force": False,
        "timeoutSeconds": 1800,
    }


@pytest.mark.parametrize(
    ("images", "secrets", "message"),
    [
        (
            {"base/alpine": {"source": "docker.io/library/alpine:3.20"}},
            {},
            "ImageImports('i').args.images[\"base/alpine\"]: 'base/alpine' must be `repository:tag`, e.g. "
            "'base/alpine:3.20'",
        ),
        (
            {
                "x/y:1": {
                    "source": "ghcr.io/org/y:1",
                    "username_config_key": "ghcr-user",
                    "password_config_key": "ghcr-token",
                }
            },
            {"ghcr-token": "tok"},
            "ImageImports('i').args.images[\"x/y:1\"].username_config_key: no value 'ghcr-user' in args.secrets",
        ),
    ],
)
def test_the_component_names_the_argument_at_fault(
    images: dict[str, Any], secrets: dict[str, str], message: str
) -> None:
    from acr_cache.plan.runner import ProgramFailed, run_program

    registry_id = f"/subscriptions/{SUB}/resourceGroups/rg-acr/providers/Microsoft.ContainerRegistry/registries/acrtest01"
    with pytest.raises(ProgramFailed) as caught:
        run_program(
            lambda: ImageImports("i", {"registry_id": registry_id, "images": images, "secrets": secrets}),
            project="p",
            stack="s",
            config={},
            preview=False,
        )
    assert message in str(caught.value)
