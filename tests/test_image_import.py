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

from tests.arm_server import REGISTRY_TOKEN  # noqa: E402

OTHER = "sha256:" + "b" * 64


def native(server: ArmServer) -> ImageImportProvider:
    """The provider as the engine runs it: no credential factory, tokens come in the inputs."""
    return ImageImportProvider(
        client_options={"connection_verify": str(server.cert_path)},
        polling_interval=0.01,
        registry_base_url=server.endpoint,
        upstream_base_url=server.endpoint,
    )


def native_props(server: ArmServer, **changes: Any) -> dict[str, Any]:
    return props(server, **{"accessToken": VALID_TOKEN, "registryAccessToken": REGISTRY_TOKEN, **changes})


def _jwt(exp: float) -> str:
    import base64
    import json

    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part({'exp': exp, 'aud': 'https://management.azure.com/'})}.sig"


def test_the_import_signs_in_with_the_token_azure_native_handed_over(monkeypatch: pytest.MonkeyPatch) -> None:
    # What DefaultAzureCredential would read is gone; azure-native's token is all there is.
    for key in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID"):
        monkeypatch.delenv(key, raising=False)
    scenario = Scenario(polls_before_done=0)
    with ArmServer(scenario) as server:
        result = native(server).create(native_props(server))
    assert [r["headers"]["Authorization"] for r in scenario.requests] == [f"Bearer {VALID_TOKEN}"] * 2
    assert "accessToken" not in result.outs and "registryAccessToken" not in result.outs


def test_without_a_token_the_error_names_what_to_set() -> None:
    scenario = Scenario()
    with ArmServer(scenario) as server, pytest.raises(ImportFailed) as caught:
        native(server).create(props(server))
    message = str(caught.value)
    assert "no access token from azure-native's login" in message
    assert "az login" in message and "ARM_CLIENT_ID" in message and "ARM_USE_OIDC=true" in message
    assert scenario.requests == []


def test_an_expired_token_fails_before_any_request_and_says_to_run_again() -> None:
    scenario = Scenario()
    with ArmServer(scenario) as server, pytest.raises(ImportFailed) as caught:
        native(server).create(native_props(server, accessToken=_jwt(time.time() - 10)))
    assert "expired before the import ran" in str(caught.value) and "run `pulumi up` again" in str(
        caught.value
    )
    assert scenario.requests == []


def test_a_refused_token_names_azure_native_login() -> None:
    scenario = Scenario()
    with ArmServer(scenario) as server, pytest.raises(ImportFailed) as caught:
        native(server).create(native_props(server, accessToken=_jwt(time.time() + 3600)))
    assert "Azure refused the sign-in (InvalidAuthenticationToken" in str(caught.value)
    assert "ARM_TENANT_ID" in str(caught.value)


def test_new_tokens_never_cause_a_diff() -> None:
    scenario = Scenario()
    with ArmServer(scenario) as server:
        old = native_props(server)
        new = native_props(server, accessToken="another-run", registryAccessToken="another-run-acr")
        assert native(server).diff("id", old, new).changes is False
    assert scenario.requests == []


def test_a_rerun_finds_the_same_digest_and_succeeds() -> None:
    scenario = Scenario(polls_before_done=0, existing_tags={"base/alpine:3.20": DIGEST})
    with ArmServer(scenario) as server:
        result = native(server).create(native_props(server, source=f"docker.io/library/alpine@{DIGEST}"))
    assert result.id == import_id(native_props(server))
    paths = [(r["method"], r["path"]) for r in scenario.requests]
    assert paths[1:] == [
        ("POST", "/oauth2/exchange"),
        ("POST", "/oauth2/token"),
        ("HEAD", "/v2/base/alpine/manifests/3.20"),
    ]
    assert scenario.requests[1]["body"]["access_token"] == REGISTRY_TOKEN


def test_a_different_digest_without_force_is_an_error_that_says_so() -> None:
    scenario = Scenario(polls_before_done=0, existing_tags={"base/alpine:3.20": OTHER})
    with ArmServer(scenario) as server, pytest.raises(ImportFailed) as caught:
        native(server).create(native_props(server, source=f"docker.io/library/alpine@{DIGEST}"))
    assert str(caught.value) == (
        f"acrtest01/base/alpine:3.20 exists already and holds {OTHER}, but docker.io/library/alpine@{DIGEST} "
        f"is {DIGEST}: set `force: true` on the import to overwrite the tag, or import into another target"
    )


def test_a_tag_source_is_compared_with_the_upstream_digest_now() -> None:
    scenario = Scenario(
        polls_before_done=0,
        existing_tags={"base/alpine:3.20": DIGEST},
        upstream_tags={"library/alpine:3.20": DIGEST},
    )
    with ArmServer(scenario) as server:
        native(server).create(native_props(server, username="hubuser", password=UPSTREAM_TOKEN))
    token_request = next(r for r in scenario.requests if r["path"] == "/token")
    assert token_request["headers"]["Authorization"].startswith("Basic ")
    assert "scope=repository%3Alibrary%2Falpine%3Apull" in token_request["query"]


def test_force_overwrites_without_comparing() -> None:
    scenario = Scenario(polls_before_done=0, existing_tags={"base/alpine:3.20": OTHER})
    with ArmServer(scenario) as server:
        native(server).create(native_props(server, force=True))
    assert scenario.requests[0]["body"]["mode"] == "Force"
    assert not [r for r in scenario.requests if r["path"].startswith("/oauth2")]


def test_an_unreadable_registry_says_what_to_do_and_never_shows_a_token() -> None:
    scenario = Scenario(polls_before_done=0, existing_tags={"base/alpine:3.20": DIGEST})
    with ArmServer(scenario) as server, pytest.raises(ImportFailed) as caught:
        native(server).create(
            native_props(server, registryAccessToken="refused", source=f"docker.io/library/alpine@{DIGEST}")
        )
    message = str(caught.value)
    assert "exists already (Conflict: Tag base/alpine:3.20 already exists.)" in message
    assert "AcrPull" in message and "pulumi import" in message and "force: true" in message
    assert "refused" not in message.replace("refused azure-native", "")
