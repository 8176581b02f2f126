"""The login of the code that calls Azure itself (dynamic providers, `acr-cache health`): the same
settings, precedence and order as azure-native (pulumi-azure-native provider/pkg/provider/
auth_azidentity.go), read from what the engine hands a dynamic provider and from the environment."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from acr_cache.azure_login import SETTINGS, LoginError, LoginSettings, github_oidc_token

TENANT = "11111111-1111-1111-1111-111111111111"
CLIENT = "22222222-2222-2222-2222-222222222222"
SUB = "33333333-3333-3333-3333-333333333333"


@pytest.fixture(autouse=True)
def _no_login_here(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in [*SETTINGS.values(), "AZURE_ENVIRONMENT"]:
        monkeypatch.delenv(variable, raising=False)


BASE = {"ARM_TENANT_ID": TENANT, "ARM_CLIENT_ID": CLIENT, "ARM_SUBSCRIPTION_ID": SUB}


@pytest.mark.parametrize(
    ("env", "kind"),
    [
        ({**BASE, "ARM_CLIENT_SECRET": "s"}, "ClientSecretCredential"),
        ({**BASE, "ARM_USE_OIDC": "true", "ARM_OIDC_TOKEN": "jwt"}, "ClientAssertionCredential"),
        ({**BASE, "ARM_USE_MSI": "true"}, "ManagedIdentityCredential"),
        ({"ARM_USE_MSI": "true", "ARM_SUBSCRIPTION_ID": SUB}, "ManagedIdentityCredential"),
        # azure-native compares with "true" exactly: anything else is not the flag.
        ({**BASE, "ARM_USE_MSI": "TRUE"}, "AzureCliCredential"),
        ({**BASE, "ARM_USE_DEFAULT_AZURE_CREDENTIAL": "true"}, "DefaultAzureCredential"),
        # Without a secret, OIDC or MSI (a client id alone): the Azure CLI's login.
        (BASE, "AzureCliCredential"),
        ({}, "AzureCliCredential"),
    ],
    ids=["secret", "oidc-token", "msi-client", "msi", "msi-uppercase", "default", "cli-ids", "cli"],
)
def test_the_method_follows_azure_natives_settings(
    env: dict[str, str], kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert type(LoginSettings.read().credential()).__name__ == kind


def test_the_order_is_azure_natives_when_several_are_set() -> None:
    every = {
        "azure-native:useDefaultAzureCredential": "true",
        "azure-native:clientCertificatePath": "/c.pfx",
        "azure-native:clientSecret": "s",
        "azure-native:useOidc": "true",
        "azure-native:useMsi": "true",
    }
    order = []
    for key in every:
        order.append(LoginSettings.read(every).method)
        every = {k: v for k, v in every.items() if k != key}
    order.append(LoginSettings.read(every).method)
    assert order == ["default", "certificate", "secret", "oidc", "msi", "cli"]


def test_config_wins_over_the_environment_even_when_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARM_CLIENT_ID", "from-env")
    monkeypatch.setenv("ARM_CLIENT_SECRET", "env-secret")
    settings = LoginSettings.read({"azure-native:clientId": CLIENT, "azure-native:clientSecret": ""})
    assert settings.get("clientId") == CLIENT and settings.sources["clientId"] == "azure-native:clientId"
    # A key present in the config is azure-native's value, even an empty one: no secret, no method.
    assert settings.method == "cli"


def test_what_a_dynamic_provider_is_configured_with(monkeypatch: pytest.MonkeyPatch) -> None:
    from acr_cache.image_import import ImageImportProvider
    from pulumi.dynamic import Config, ConfigureRequest

    # The engine sends the whole stack config with namespaced keys (target.go GetPackageConfig).
    provider = ImageImportProvider()
    provider.configure(
        ConfigureRequest(
            Config(
                {
                    "azure-native:clientId": CLIENT,
                    "azure-native:tenantId": TENANT,
                    "azure-native:subscriptionId": SUB,
                    "azure-native:useOidc": "true",
                    "azure-native:oidcToken": "jwt",
                    "azure-native:environment": "usgovernment",
                    "acr-cache:registry": '{"name": "x"}',
                },
                "acr-cache",
            )
        )
    )
    login = provider.login()
    assert login.method == "oidc"
    assert dict(login.values) == {
        "clientId": CLIENT,
        "tenantId": TENANT,
        "subscriptionId": SUB,
        "useOidc": "true",
        "oidcToken": "jwt",
        "environment": "usgovernment",
    }
    assert provider.arm_endpoint({}) == "https://management.usgovcloudapi.net"
    assert provider.arm_scope() == "https://management.usgovcloudapi.net/.default"
    assert type(provider.credential()).__name__ == "ClientAssertionCredential"
    assert provider.credential() is provider.credential()  # one token cache for the whole run


@pytest.mark.parametrize(
    ("name", "arm"),
    [
        ("", "https://management.azure.com"),
        ("public", "https://management.azure.com"),
        ("AzureCloud", "https://management.azure.com"),
        ("china", "https://management.chinacloudapi.cn"),
        ("usgov", "https://management.usgovcloudapi.net"),
        ("AzureUSGovernment", "https://management.usgovcloudapi.net"),
    ],
)
def test_clouds_by_the_names_azure_native_takes(name: str, arm: str) -> None:
    assert LoginSettings.read({"azure-native:environment": name}).arm_endpoint == arm


# pulumi-azure-native provider/pkg/provider/auth_azidentity.go `readAuthConfig`: each setting and the
# variable it falls back to, written out here so a name changed in the module is caught.
AZURE_NATIVE_SETTINGS = [
    ("clientId", "ARM_CLIENT_ID"),
    ("tenantId", "ARM_TENANT_ID"),
    ("subscriptionId", "ARM_SUBSCRIPTION_ID"),
    ("auxiliaryTenantIds", "ARM_AUXILIARY_TENANT_IDS"),
    ("clientSecret", "ARM_CLIENT_SECRET"),
    ("clientCertificatePath", "ARM_CLIENT_CERTIFICATE_PATH"),
    ("clientCertificatePassword", "ARM_CLIENT_CERTIFICATE_PASSWORD"),
    ("useMsi", "ARM_USE_MSI"),
    ("useOidc", "ARM_USE_OIDC"),
    ("oidcAudience", "ARM_OIDC_AUDIENCE"),
    ("oidcToken", "ARM_OIDC_TOKEN"),
    ("oidcTokenFilePath", "ARM_OIDC_TOKEN_FILE_PATH"),
    ("oidcRequestToken", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
    ("oidcRequestUrl", "ACTIONS_ID_TOKEN_REQUEST_URL"),
    ("useDefaultAzureCredential", "ARM_USE_DEFAULT_AZURE_CREDENTIAL"),
    ("environment", "ARM_ENVIRONMENT"),
]


@pytest.mark.parametrize(
    ("name", "variable"), AZURE_NATIVE_SETTINGS, ids=[n for n, _ in AZURE_NATIVE_SETTINGS]
)
def test_each_setting_is_read_from_azure_natives_key_and_variable(name: str, variable: str) -> None:
    from_env = LoginSettings.read({}, {variable: "v"})
    assert (from_env.values, from_env.sources) == ({name: "v"}, {name: variable})
    from_config = LoginSettings.read({f"azure-native:{name}": "c"}, {variable: "v"})
    assert (from_config.values, from_config.sources) == ({name: "c"}, {name: f"azure-native:{name}"})
    assert len(SETTINGS) == len(AZURE_NATIVE_SETTINGS)


# cloud.go `FromName` (case-insensitive): every name, the cloud, its Entra authority and its ARM.
PUBLIC = ("AzureCloud", "login.microsoftonline.com", "https://management.azure.com")
CHINA = ("AzureChinaCloud", "login.chinacloudapi.cn", "https://management.chinacloudapi.cn")
USGOV = ("AzureUSGovernment", "login.microsoftonline.us", "https://management.usgovcloudapi.net")
CLOUD_NAMES = {
    "": PUBLIC,
    "public": PUBLIC,
    "AzureCloud": PUBLIC,
    "china": CHINA,
    "AzureChinaCloud": CHINA,
    "usgov": USGOV,
    "usgovernment": USGOV,
    "AzureUSGovernment": USGOV,
    "AzureUSGovernmentCloud": USGOV,
    "usgovernmentl4": USGOV,
}


@pytest.mark.parametrize("name", list(CLOUD_NAMES))
def test_every_cloud_name_azure_native_takes_and_where_it_signs_in(name: str) -> None:
    settings = LoginSettings.read({"azure-native:environment": name})
    assert tuple(settings.cloud) == CLOUD_NAMES[name]
    if name:
        # The credential asks that cloud's Entra ID, not the public one.
        credential = settings.credential()
        assert type(credential).__name__ == "AzureCliCredential"
        secret = LoginSettings.read(
            {
                "azure-native:environment": name,
                "azure-native:clientSecret": "s",
                "azure-native:clientId": CLIENT,
                "azure-native:tenantId": TENANT,
                "azure-native:subscriptionId": SUB,
            }
        ).credential()
        assert secret._authority == f"https://{CLOUD_NAMES[name][1]}"


def test_login_settings_cannot_be_changed_once_read() -> None:
    # One LoginSettings serves every resource of a provider process (SignedInProvider): a caller
    # that could change it would change the sign-in of all the others.
    import dataclasses

    settings = LoginSettings.read({"azure-native:clientId": CLIENT})
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.values = {}  # type: ignore[misc]


def test_an_unknown_cloud_is_named() -> None:
    with pytest.raises(LoginError) as caught:
        _ = LoginSettings.read({"azure-native:environment": "mars"}).arm_endpoint
    assert str(caught.value) == (
        "azure-native:environment names an unknown cloud: use public, usgovernment or china, as azure-native does"
    )


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"azure-native:clientSecret": "s"},
            "signing in with a client secret needs azure-native:subscriptionId or ARM_SUBSCRIPTION_ID; "
            "azure-native:tenantId or ARM_TENANT_ID; azure-native:clientId or ARM_CLIENT_ID",
        ),
        (
            {"azure-native:useMsi": "true"},
            "signing in with a managed identity needs azure-native:subscriptionId or ARM_SUBSCRIPTION_ID",
        ),
        (
            {
                "azure-native:useOidc": "true",
                "azure-native:clientId": CLIENT,
                "azure-native:tenantId": TENANT,
                "azure-native:subscriptionId": SUB,
            },
            "signing in with OIDC needs a token: azure-native:oidcToken or ARM_OIDC_TOKEN; or "
            "azure-native:oidcTokenFilePath or ARM_OIDC_TOKEN_FILE_PATH; or, in GitHub Actions, `permissions: "
            "id-token: write` (ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN)",
        ),
        (
            {"azure-native:auxiliaryTenantIds": "t1,t2"},
            "azure-native:auxiliaryTenantIds must be a JSON list of tenant ids, e.g. '[\"<guid>\"]'",
        ),
        (
            {"azure-native:useDefaultAzureCredential": "true"},
            "signing in with the default Azure credential needs azure-native:subscriptionId or ARM_SUBSCRIPTION_ID",
        ),
        (
            {"azure-native:clientCertificatePath": "/c.pfx", "azure-native:clientId": CLIENT},
            "signing in with a client certificate needs azure-native:subscriptionId or ARM_SUBSCRIPTION_ID; "
            "azure-native:tenantId or ARM_TENANT_ID",
        ),
    ],
    ids=["secret", "msi", "oidc-no-token", "aux-tenants", "default", "certificate"],
)
def test_what_is_missing_is_named_and_no_value_is_shown(config: dict[str, str], message: str) -> None:
    with pytest.raises(LoginError) as caught:
        LoginSettings.read(config).credential()
    assert str(caught.value) == message


def test_a_token_file_is_read_at_each_exchange(tmp_path: Path) -> None:
    token = tmp_path / "token"
    settings = LoginSettings.read(
        {
            "azure-native:useOidc": "true",
            "azure-native:clientId": CLIENT,
            "azure-native:tenantId": TENANT,
            "azure-native:subscriptionId": SUB,
            "azure-native:oidcTokenFilePath": str(token),
        }
    )
    assertion = settings._assertion()
    token.write_text("first\n")
    assert assertion() == "first"
    token.write_text("renewed")  # a workload identity's file is rewritten before it expires
    assert assertion() == "renewed"


class _GitHubTokens(BaseHTTPRequestHandler):
    """GitHub Actions' ID token endpoint: a bearer request, `{"value": <jwt>}` back."""

    seen: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, *_: Any) -> None:
        return

    def do_GET(self) -> None:
        self.seen.append({"path": self.path, "authorization": self.headers.get("Authorization")})
        body = json.dumps({"value": f"github-jwt-{len(self.seen)}"}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_github_oidc_asks_for_a_fresh_token_with_azures_audience(monkeypatch: pytest.MonkeyPatch) -> None:
    server = HTTPServer(("127.0.0.1", 0), _GitHubTokens)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/token?api-version=2.0"
        monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", url)
        monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "job-bearer")
        for key, value in {**BASE, "ARM_USE_OIDC": "true"}.items():
            monkeypatch.setenv(key, value)
        assertion = LoginSettings.read()._assertion()
        assert [assertion(), assertion()] == ["github-jwt-1", "github-jwt-2"]
    finally:
        server.shutdown()
    assert _GitHubTokens.seen[0] == {
        "path": "/token?api-version=2.0&audience=api%3A%2F%2FAzureADTokenExchange",
        "authorization": "Bearer job-bearer",
    }


def test_an_unreachable_github_endpoint_says_so_without_the_bearer() -> None:
    fetch = github_oidc_token(
        "http://127.0.0.1:9/token", "job-bearer-SECRET", "api://AzureADTokenExchange", 2
    )
    with pytest.raises(LoginError) as caught:
        fetch()
    assert "GitHub's OIDC token could not be had" in str(caught.value)
    assert "SECRET" not in str(caught.value)


class _Recorded:
    """Stands in for an azure-identity credential class: what azure_login hands it."""

    def __init__(self, kind: str, calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]]) -> None:
        self.kind, self.calls = kind, calls

    def __call__(self, *args: Any, **kwargs: Any) -> str:
        self.calls.append((self.kind, args, kwargs))
        return self.kind


@pytest.fixture
def handed(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    from azure import identity

    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
    for kind in (
        "DefaultAzureCredential",
        "CertificateCredential",
        "ClientSecretCredential",
        "ClientAssertionCredential",
        "ManagedIdentityCredential",
        "AzureCliCredential",
    ):
        monkeypatch.setattr(identity, kind, _Recorded(kind, calls))
    return calls


IDS = {"azure-native:clientId": CLIENT, "azure-native:tenantId": TENANT, "azure-native:subscriptionId": SUB}


def test_what_each_credential_is_given(handed: list[tuple[str, tuple[Any, ...], dict[str, Any]]]) -> None:
    aux = {"azure-native:auxiliaryTenantIds": '["t1", "t2"]'}
    china = {"azure-native:environment": "china"}
    LoginSettings.read({**IDS, **aux, **china, "azure-native:useDefaultAzureCredential": "true"}).credential(
        disable_instance_discovery=True
    )
    # The default chain takes the cloud's authority, and no option meant for one credential.
    assert handed[-1] == (
        "DefaultAzureCredential",
        (),
        {"additionally_allowed_tenants": ["t1", "t2"], "authority": "login.chinacloudapi.cn"},
    )
    certificate = {
        "azure-native:clientCertificatePath": "/c.pem",
        "azure-native:clientCertificatePassword": "pw",
    }
    LoginSettings.read({**IDS, **certificate}).credential()
    assert handed[-1] == (
        "CertificateCredential",
        (TENANT, CLIENT),
        {"certificate_path": "/c.pem", "password": "pw", "additionally_allowed_tenants": []},
    )
    LoginSettings.read({**IDS, "azure-native:clientCertificatePath": "/c.pem"}).credential()
    assert handed[-1][2]["password"] is None
    LoginSettings.read({**IDS, "azure-native:useMsi": "true"}).credential()
    assert handed[-1] == ("ManagedIdentityCredential", (), {"client_id": CLIENT})
    LoginSettings.read({**IDS, **aux}).credential()
    assert handed[-1] == (
        "AzureCliCredential",
        (),
        {"tenant_id": TENANT, "subscription": SUB, "additionally_allowed_tenants": ["t1", "t2"]},
    )
    LoginSettings.read({}).credential()
    assert handed[-1] == (
        "AzureCliCredential",
        (),
        {"tenant_id": "", "subscription": None, "additionally_allowed_tenants": []},
    )
    LoginSettings.read({**IDS, "azure-native:useOidc": "true", "azure-native:oidcToken": "jwt"}).credential()
    kind, args, _ = handed[-1]
    assert kind == "ClientAssertionCredential" and args[:2] == (TENANT, CLIENT) and args[2]() == "jwt"


def test_azure_environment_names_the_cloud_when_arm_environment_does_not() -> None:
    settings = LoginSettings.read({}, {"AZURE_ENVIRONMENT": "china"})
    assert (settings.values, settings.sources) == (
        {"environment": "china"},
        {"environment": "AZURE_ENVIRONMENT"},
    )
    assert settings.arm_endpoint == "https://management.chinacloudapi.cn"
    both = LoginSettings.read({}, {"AZURE_ENVIRONMENT": "china", "ARM_ENVIRONMENT": "usgov"})
    assert both.sources == {"environment": "ARM_ENVIRONMENT"}
    with pytest.raises(LoginError, match=r"^AZURE_ENVIRONMENT names an unknown cloud"):
        _ = LoginSettings.read({}, {"AZURE_ENVIRONMENT": "mars"}).cloud


class _GitHubAnswers(BaseHTTPRequestHandler):
    """GitHub's token endpoint answering with `body`, recording each request's headers."""

    body: ClassVar[bytes] = b"{}"
    seen: ClassVar[list[dict[str, str]]] = []

    def log_message(self, *_: Any) -> None:
        return

    def do_GET(self) -> None:
        self.seen.append({"path": self.path, **dict(self.headers.items())})
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)


def _github(body: bytes) -> tuple[HTTPServer, str]:
    _GitHubAnswers.body, _GitHubAnswers.seen = body, []
    server = HTTPServer(("127.0.0.1", 0), _GitHubAnswers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/token"


def test_github_oidc_with_another_audience_and_an_answer_without_a_token() -> None:
    server, url = _github(b'{"value": "jwt-1"}')
    try:
        settings = LoginSettings.read(
            {
                **IDS,
                "azure-native:useOidc": "true",
                "azure-native:oidcRequestUrl": url,
                "azure-native:oidcRequestToken": "job-bearer",
                "azure-native:oidcAudience": "api://custom",
            }
        )
        assert settings._assertion()() == "jwt-1"
        _GitHubAnswers.body = b"{}"
        with pytest.raises(LoginError) as caught:
            settings._assertion()()
        assert str(caught.value) == "GitHub's OIDC token endpoint answered without a token"
    finally:
        server.shutdown()
    first = _GitHubAnswers.seen[0]
    assert first["path"] == "/token?audience=api%3A%2F%2Fcustom"
    assert (first["Authorization"], first["Accept"]) == ("Bearer job-bearer", "application/json")


def test_github_oidc_needs_both_its_url_and_its_token() -> None:
    for half in (
        {"azure-native:oidcRequestUrl": "http://127.0.0.1:9/t"},
        {"azure-native:oidcRequestToken": "b"},
    ):
        settings = LoginSettings.read({**IDS, "azure-native:useOidc": "true", **half})
        with pytest.raises(LoginError, match=r"^signing in with OIDC needs a token"):
            settings.credential()
