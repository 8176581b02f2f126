"""Manifest digests read from registries' data planes (the OCI distribution API).

The image import needs them to tell a re-run from a conflict: after a timeout or a crash nothing
is in Pulumi's state, the target tag may already exist, and only its digest says whether it is
the image the config asks for. ARM has no API that reads a tag's digest.

- ACR: an Entra token for `https://containerregistry.azure.net` (from azure-native's own login) is
  exchanged at `/oauth2/exchange` for a refresh token, that at `/oauth2/token` for a repository
  token, then `HEAD /v2/<repository>/manifests/<tag>` answers `Docker-Content-Digest` (ACR's
  "Azure Container Registry authentication" REST docs; `az acr login --expose-token` does the same).
- Other registries: the anonymous or basic-auth token flow the `WWW-Authenticate: Bearer` challenge
  describes (the distribution spec's token authentication).
"""

from __future__ import annotations

import base64
import json
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from email.message import Message

MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
# Docker Hub's registry API is not served at docker.io itself.
_API_HOSTS = {"docker.io": "registry-1.docker.io"}
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')
_TIMEOUT = 60


class DigestUnavailable(Exception):
    """The digest could not be read; the message says why (never a credential)."""


def _context(verify: str | bool) -> ssl.SSLContext:
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return ssl.create_default_context()


def _request(
    url: str, *, method: str, context: ssl.SSLContext, headers: Mapping[str, str], data: bytes | None = None
) -> tuple[int, Message, bytes]:
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers))
    try:
        with urllib.request.urlopen(request, context=context, timeout=_TIMEOUT) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DigestUnavailable(f"{urllib.parse.urlsplit(url).netloc} did not answer ({reason})") from None


def _post_form(url: str, fields: Mapping[str, str], context: ssl.SSLContext) -> tuple[int, dict[str, str]]:
    """POST a form to one of ACR's token endpoints: the status and, on 200, the JSON answer."""
    status, _, body = _request(
        url,
        method="POST",
        context=context,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        data=urllib.parse.urlencode(fields).encode(),
    )
    return status, json.loads(body) if status == 200 else {}


def _manifest_digest(
    base: str, repository: str, tag: str, token: str | None, context: ssl.SSLContext
) -> tuple[int, Message, str | None]:
    headers = {"Accept": MANIFEST_TYPES}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    status, response_headers, _ = _request(
        f"{base}/v2/{repository}/manifests/{tag}", method="HEAD", context=context, headers=headers
    )
    return status, response_headers, response_headers.get("Docker-Content-Digest")


def acr_tag_digest(
    login_server: str,
    repository: str,
    tag: str,
    entra_token: str,
    *,
    base_url: str | None = None,
    verify: str | bool = True,
) -> str | None:
    """The digest `repository:tag` has in an ACR registry, or None when the tag does not exist."""
    context = _context(verify)
    base = base_url or f"https://{login_server}"
    status, answer = _post_form(
        f"{base}/oauth2/exchange",
        {"grant_type": "access_token", "service": login_server, "access_token": entra_token},
        context,
    )
    if status != 200:
        raise DigestUnavailable(
            f"{login_server} refused azure-native's sign-in for its data plane (HTTP {status}): the "
            "deploying identity needs AcrPull (or a role with pull) on the registry, and the registry "
            "must be reachable from where `pulumi up` runs"
        )
    status, answer = _post_form(
        f"{base}/oauth2/token",
        {
            "grant_type": "refresh_token",
            "service": login_server,
            "scope": f"repository:{repository}:pull",
            "refresh_token": answer.get("refresh_token", ""),
        },
        context,
    )
    if status != 200:
        raise DigestUnavailable(f"{login_server} refused a pull token for {repository} (HTTP {status})")
    token = answer.get("access_token", "")
    status, _, digest = _manifest_digest(base, repository, tag, token, context)
    if status == 404:
        return None
    if status != 200 or not digest:
        raise DigestUnavailable(
            f"{login_server} did not give the digest of {repository}:{tag} (HTTP {status})"
        )
    return digest


def upstream_tag_digest(
    host: str,
    repository: str,
    tag: str,
    username: str | None = None,
    password: str | None = None,
    *,
    base_url: str | None = None,
    verify: str | bool = True,
) -> str:
    """The digest `repository:tag` has upstream now (anonymous, or with the import's credentials)."""
    context = _context(verify)
    base = base_url or f"https://{_API_HOSTS.get(host, host)}"
    status, headers, digest = _manifest_digest(base, repository, tag, None, context)
    if status == 401:
        challenge = dict(_CHALLENGE.findall(headers.get("WWW-Authenticate", "")))
        realm = challenge.pop("realm", "")
        if not realm.startswith("https://"):
            raise DigestUnavailable(f"{host} asked for an unsupported sign-in")
        auth: dict[str, str] = {}
        if username and password:
            auth["Authorization"] = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        query = urllib.parse.urlencode(challenge)
        token_status, _, body = _request(f"{realm}?{query}", method="GET", context=context, headers=auth)
        if token_status != 200:
            raise DigestUnavailable(f"{host} refused a pull token for {repository} (HTTP {token_status})")
        document = json.loads(body)
        token = document.get("token") or document.get("access_token") or ""
        status, headers, digest = _manifest_digest(base, repository, tag, token, context)
    if status != 200 or not digest:
        raise DigestUnavailable(f"{host} did not give the digest of {repository}:{tag} (HTTP {status})")
    return digest
