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
