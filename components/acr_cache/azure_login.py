"""How the code that calls Azure itself (the dynamic providers, `acr-cache health`) signs in and
reads Azure's errors: azure-native's own login settings and order, and one wording for what ARM says.

azure-native reads each setting from its stack config (`azure-native:clientId`) when the key is set,
else from an environment variable (`ARM_CLIENT_ID`), and takes the first method that is configured:
the default credential chain, a client certificate, a client secret, OIDC, managed identity, then
the Azure CLI (pulumi-azure-native provider/pkg/provider/auth_azidentity.go `readAuthConfig` and
`newSingleMethodAuthCredential`). `LoginSettings` reads the same keys and `credential()` keeps that
order, so the dynamic providers sign in as the identity that deploys everything else.

A dynamic provider gets the stack config from the engine's Configure call: the engine sends a
dynamic provider (`pulumi-python`) the whole stack config with namespaced keys, secrets decrypted
(pulumi pkg/resource/deploy/target.go `GetPackageConfig`, `isDynamicProvider`), and the SDK hands it
to `ResourceProvider.configure` as `ConfigureRequest.config` (pulumi/dynamic/__main__.py
`get_provider`). The provider process inherits the CLI's environment, so the `ARM_*` variables and
GitHub's `ACTIONS_ID_TOKEN_REQUEST_*` reach it too. Tokens are fetched in that process when a call
needs one and renewed by azure-core before they expire: none is ever a resource input or output.
"""

from __future__ import annotations

import json
import os
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # mutation: equivalent (for annotations only; the import also works at run time)
    from pulumi.dynamic import ConfigureRequest

PUBLIC_ARM_ENDPOINT = "https://management.azure.com"
"""Azure Resource Manager of the public cloud."""
REGISTRY_SCOPE = "https://containerregistry.azure.net/.default"
"""Scope of an Entra token for a registry's data plane (ARM-audience tokens are refused there)."""
GITHUB_OIDC_AUDIENCE = "api://AzureADTokenExchange"
"""The audience azure-native asks GitHub's OIDC token for, unless `oidcAudience` says another."""

# azure-native's setting name -> the variable it falls back to (auth_azidentity.go `readAuthConfig`).
SETTINGS: dict[str, str] = {
    "clientId": "ARM_CLIENT_ID",
    "tenantId": "ARM_TENANT_ID",
    "subscriptionId": "ARM_SUBSCRIPTION_ID",
    "auxiliaryTenantIds": "ARM_AUXILIARY_TENANT_IDS",
    "clientSecret": "ARM_CLIENT_SECRET",
    "clientCertificatePath": "ARM_CLIENT_CERTIFICATE_PATH",
    "clientCertificatePassword": "ARM_CLIENT_CERTIFICATE_PASSWORD",
    "useMsi": "ARM_USE_MSI",
    "useOidc": "ARM_USE_OIDC",
    "oidcAudience": "ARM_OIDC_AUDIENCE",
    "oidcToken": "ARM_OIDC_TOKEN",
    "oidcTokenFilePath": "ARM_OIDC_TOKEN_FILE_PATH",
    "oidcRequestToken": "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "oidcRequestUrl": "ACTIONS_ID_TOKEN_REQUEST_URL",
    "useDefaultAzureCredential": "ARM_USE_DEFAULT_AZURE_CREDENTIAL",
    "environment": "ARM_ENVIRONMENT",
}


class Cloud(NamedTuple):
    name: str
    authority_host: str
    arm_endpoint: str


# pulumi-azure-native provider/pkg/azure/cloud/cloud.go `FromName`: the names azure-native accepts.
_PUBLIC = Cloud("AzureCloud", "login.microsoftonline.com", PUBLIC_ARM_ENDPOINT)
_CLOUDS = {
    **dict.fromkeys(("", "public", "azurecloud"), _PUBLIC),
    **dict.fromkeys(
        ("china", "azurechinacloud"),
        Cloud("AzureChinaCloud", "login.chinacloudapi.cn", "https://management.chinacloudapi.cn"),
    ),
    **dict.fromkeys(
        ("usgov", "usgovernment", "azureusgovernment", "azureusgovernmentcloud", "usgovernmentl4"),
        Cloud("AzureUSGovernment", "login.microsoftonline.us", "https://management.usgovcloudapi.net"),
    ),
}


class LoginError(Exception):
    """The login settings name a method without what it needs; the message never holds a value."""


@dataclass(frozen=True)
class LoginSettings:
    """azure-native's login settings, resolved: config first, then the environment."""

    values: Mapping[str, str]
    """By azure-native's setting name; only those that are set."""
    sources: Mapping[str, str]
    """Where each came from: `azure-native:clientId` or `ARM_CLIENT_ID` (for messages)."""

    @classmethod
    def read(
        cls, config: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
    ) -> LoginSettings:
        """From a stack config (keys as the engine sends them, `azure-native:clientId`) and the
        environment. A key present in the config wins even when empty, as in azure-native."""
        config = config or {}
        env = os.environ if environ is None else environ
        values, sources = {}, {}
        for name, variable in SETTINGS.items():
            key = f"azure-native:{name}"
            if key in config and config[key] is not None:
                value, source = str(config[key]), key
            else:
                value, source = env.get(variable, ""), variable
                if not value and name == "environment":
                    value, source = env.get("AZURE_ENVIRONMENT", ""), "AZURE_ENVIRONMENT"
            if value:
                values[name], sources[name] = value, source
        return cls(values, sources)

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def flag(self, name: str) -> bool:
        # azure-native compares with "true" exactly; config values arrive as strings.
        return self.get(name) == "true"

    def where(self, name: str) -> str:
        """How a message names a setting: `azure-native:tenantId or ARM_TENANT_ID`."""
        return f"azure-native:{name} or {SETTINGS[name]}"

    @property
    def cloud(self) -> Cloud:
        name = self.get("environment")
        cloud = _CLOUDS.get(name.lower())
        if cloud is None:
            raise LoginError(
                f"{self.sources['environment']} names an unknown cloud: use public, "
                "usgovernment or china, as azure-native does"
            )
        return cloud

    @property
    def arm_endpoint(self) -> str:
        return self.cloud.arm_endpoint

    @property
    def method(self) -> str:
        """Which method azure-native would take, in its order."""
        if self.flag("useDefaultAzureCredential"):
            return "default"
        if self.get("clientCertificatePath"):
            return "certificate"
        if self.get("clientSecret"):
            return "secret"
        if self.flag("useOidc"):
            return "oidc"
        if self.flag("useMsi"):
            return "msi"
        return "cli"

    def credential(self, **client_options: Any) -> Any:
        """An azure-identity TokenCredential for the first configured method (tokens are fetched
        when a request needs one, cached and renewed before they expire). `client_options` go to
        the credentials that sign in with Entra ID directly (tests: a loopback authority)."""
        from azure import identity

        method = self.method
        tenant, client = self.get("tenantId"), self.get("clientId")
        options: dict[str, Any] = dict(client_options)
        if self.get("environment"):
            # Otherwise azure-identity's default (the public cloud, or AZURE_AUTHORITY_HOST).
            options["authority"] = self.cloud.authority_host
        allowed = self._auxiliary_tenants()
        if method == "default":
            self._require(method, "subscriptionId")
            return identity.DefaultAzureCredential(
                additionally_allowed_tenants=allowed, **{k: v for k, v in options.items() if k == "authority"}
            )
        if method == "certificate":
            self._require(method, "subscriptionId", "tenantId", "clientId")
            password = self.get("clientCertificatePassword") or None
            return identity.CertificateCredential(
                tenant,
                client,
                certificate_path=self.get("clientCertificatePath"),
                password=password,
                additionally_allowed_tenants=allowed,
                **options,
            )
        if method == "secret":
            self._require(method, "subscriptionId", "tenantId", "clientId")
            return identity.ClientSecretCredential(
                tenant, client, self.get("clientSecret"), additionally_allowed_tenants=allowed, **options
            )
        if method == "oidc":
            self._require(method, "subscriptionId", "tenantId", "clientId")
            return identity.ClientAssertionCredential(tenant, client, self._assertion(), **options)
        if method == "msi":
            self._require(method, "subscriptionId")
            return (
                identity.ManagedIdentityCredential(client_id=client)
                if client
                else identity.ManagedIdentityCredential()
            )
        return identity.AzureCliCredential(
            tenant_id=tenant,
            subscription=self.get("subscriptionId") or None,
            additionally_allowed_tenants=allowed,
        )

    def _auxiliary_tenants(self) -> list[str]:
        try:
            tenants = json.loads(self.get("auxiliaryTenantIds") or "[]")
        except ValueError:
            tenants = None
        if not isinstance(tenants, list) or not all(isinstance(t, str) for t in tenants):
            raise LoginError(
                f"{self.sources['auxiliaryTenantIds']} must be a JSON list of tenant ids, e.g. '[\"<guid>\"]'"
            )
        return tenants

    def _require(self, method: str, *names: str) -> None:
        missing = [self.where(name) for name in names if not self.get(name)]
        if missing:
            raise LoginError(f"signing in with {_METHODS[method]} needs " + "; ".join(missing))

    def _assertion(self) -> Callable[[], str]:
        """The OIDC token Entra exchanges, from where azure-native takes it: the token itself, a
        file, or GitHub's token endpoint (asked again for each exchange, so it never goes stale)."""
        if self.get("oidcToken"):
            token = self.get("oidcToken")
            return lambda: token
        if self.get("oidcTokenFilePath"):
            path = self.get("oidcTokenFilePath")

            def from_file() -> str:
                with open(path, encoding="utf-8") as handle:
                    return handle.read().strip()

            return from_file
        if self.get("oidcRequestUrl") and self.get("oidcRequestToken"):
            return github_oidc_token(
                self.get("oidcRequestUrl"),
                self.get("oidcRequestToken"),
                self.get("oidcAudience") or GITHUB_OIDC_AUDIENCE,
            )
        raise LoginError(
            "signing in with OIDC needs a token: "
            + "; or ".join(self.where(name) for name in ("oidcToken", "oidcTokenFilePath"))
            + "; or, in GitHub Actions, `permissions: id-token: write` (ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN)"
        )


_METHODS = {
    "default": "the default Azure credential",
    "certificate": "a client certificate",
    "secret": "a client secret",
    "oidc": "OIDC",
    "msi": "a managed identity",
}


# Seconds to wait for GitHub's OIDC endpoint.
GITHUB_TIMEOUT = 30  # mutation: equivalent (a second more or less shows only on a stalled endpoint)


def github_oidc_token(
    url: str, bearer: str, audience: str, timeout: float = GITHUB_TIMEOUT
) -> Callable[[], str]:
    """A function that asks GitHub Actions for a fresh OIDC token with the audience (GitHub's
    `ACTIONS_ID_TOKEN_REQUEST_URL` answers `{"value": <jwt>}` to the job's bearer token)."""
    parts = urllib.parse.urlsplit(url)
    query = [*urllib.parse.parse_qsl(parts.query), ("audience", audience)]
    request_url = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))

    def fetch() -> str:
        request = urllib.request.Request(
            request_url, headers={"Authorization": f"Bearer {bearer}", "Accept": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                value = json.loads(response.read() or b"{}").get("value")
        except (OSError, ValueError) as exc:
            raise LoginError(f"GitHub's OIDC token could not be had ({type(exc).__name__})") from None
        if not value:
            raise LoginError("GitHub's OIDC token endpoint answered without a token")
        return str(value)

    return fetch


class SignedInProvider:
    """What the dynamic providers share: the login the engine configures them with, and one
    credential per provider process (its token cache serves every resource of the deployment)."""

    _credential_factory: Callable[[], Any] | None = None
    """Tests: a credential in place of the login."""
    _identity_options: Mapping[str, Any] | None = None
    """Tests: options of the login's credential (a loopback Entra ID: `disable_instance_discovery`)."""
    _login: LoginSettings | None = None
    _credential: Any = None

    def configure(self, req: ConfigureRequest) -> None:
        # The engine's Configure carries the whole stack config (namespaced keys); only
        # azure-native's login settings are kept.
        keys = (f"azure-native:{name}" for name in SETTINGS)
        self._login = LoginSettings.read({key: req.config.get(key) for key in keys})

    def login(self) -> LoginSettings:
        """The configured login, or (no Configure: a direct call) the environment's."""
        if self._login is None:
            self._login = LoginSettings.read()
        return self._login

    def credential(self) -> Any:
        if self._credential_factory is not None:
            return self._credential_factory()
        if self._credential is None:
            self._credential = self.login().credential(**dict(self._identity_options or {}))
        return self._credential

    def arm_endpoint(self, props: Mapping[str, Any]) -> str:
        """Where ARM is: the resource's `armEndpoint` when set (tests), else the login's cloud."""
        return str(props.get("armEndpoint") or self.login().arm_endpoint)

    def arm_scope(self) -> str:
        """The scope of ARM tokens: the audience of the login's cloud's Resource Manager."""
        return f"{self.login().arm_endpoint}/.default"


def error_text(exc: Exception) -> str:
    error = getattr(exc, "error", None)
    parts = [part for part in (getattr(error, "code", None), getattr(error, "message", None)) if part]
    if parts:
        return ": ".join(parts)
    # No ARM error body (a proxy's page, a bare status): the first line of what the SDK says.
    return (str(getattr(exc, "message", "") or exc).splitlines() or [type(exc).__name__])[0]
