"""How the code that calls Azure itself (the dynamic providers, `acr-cache health`) signs in and
reads Azure's errors: the same login settings azure-native reads, and one wording for what ARM says.
"""

from __future__ import annotations

import base64
import json
import os
import time
from typing import Any

PUBLIC_ARM_ENDPOINT = "https://management.azure.com"
"""Azure Resource Manager of the public cloud."""


def azure_native_credential() -> Any:
    """A TokenCredential for azure-native's login, from the same settings azure-native reads:
    ARM_CLIENT_ID with ARM_CLIENT_SECRET, ARM_USE_OIDC or ARM_USE_MSI, else the Azure CLI's login."""
    from azure import identity

    env = os.environ
    tenant, client = env.get("ARM_TENANT_ID"), env.get("ARM_CLIENT_ID")
    if client and tenant and env.get("ARM_CLIENT_SECRET"):
        return identity.ClientSecretCredential(tenant, client, env["ARM_CLIENT_SECRET"])
    if env.get("ARM_USE_OIDC", "").lower() == "true" and client and tenant:
        token_file = env.get("ARM_OIDC_TOKEN_FILE_PATH") or env.get("AZURE_FEDERATED_TOKEN_FILE")
        if token_file:
            return identity.WorkloadIdentityCredential(
                tenant_id=tenant, client_id=client, token_file_path=token_file
            )
        token = env.get("ARM_OIDC_TOKEN", "")
        return identity.ClientAssertionCredential(tenant, client, lambda: token)
    if env.get("ARM_USE_MSI", "").lower() == "true":
        return (
            identity.ManagedIdentityCredential(client_id=client)
            if client
            else identity.ManagedIdentityCredential()
        )
    return identity.AzureCliCredential(tenant_id=tenant) if tenant else identity.AzureCliCredential()


class TokenCredential:
    """An azure-core TokenCredential over the token azure-native handed the program."""

    def __init__(self, token: str) -> None:
        self._token = token

    def get_token(self, *_scopes: str, **_kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken
        from azure.core.exceptions import ClientAuthenticationError

        expires = token_expiry(self._token)
        if expires is not None and expires < time.time() + 60:
            raise ClientAuthenticationError(
                "the access token from azure-native's login expired before the import ran (tokens "
                "last about an hour and are taken when the program starts): run `pulumi up` again"
            )
        return AccessToken(self._token, int(expires or time.time() + 3600))


def token_expiry(token: str) -> float | None:
    """`exp` of a JWT, read without verifying (only to fail early with a clear message)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (IndexError, ValueError, KeyError, TypeError):
        return None


def error_text(exc: Exception) -> str:
    error = getattr(exc, "error", None)
    parts = [part for part in (getattr(error, "code", None), getattr(error, "message", None)) if part]
    if parts:
        return ": ".join(parts)
    # No ARM error body (a proxy's page, a bare status): the first line of what the SDK says.
    return (str(getattr(exc, "message", "") or exc).splitlines() or [type(exc).__name__])[0]
