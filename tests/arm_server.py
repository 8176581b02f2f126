"""A loopback HTTPS server that speaks ARM's long-running-operation protocol for `importImage`, and
lists a registry's credential sets and cache rules (for `acr-cache health`).

POST .../registries/{name}/importImage answers 202 with a Location header; GETs on that location
answer 202 while the operation runs, then 200 (success) or an ARM error status and body (failure).
It is Entra ID too, as MSAL calls it (`/<tenant>/v2.0/.well-known/openid-configuration`, then
`/<tenant>/oauth2/v2.0/token` with a client secret or a client assertion): the tokens it issues
expire after `token_lifetime` seconds, and ARM requests with an expired one are refused, as Azure
does. A certificate made at start-up is the server's, and tests trust it, because azure-core refuses
to send bearer tokens over plain HTTP.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

VALID_TOKEN = "test-token"
CLIENT_SECRET = "test-client-secret-VALUE"
"""The app registration's secret the loopback Entra ID accepts."""
FEDERATED_TOKEN = "test-federated-OIDC-token"
"""The OIDC token (GitHub's, in a workflow) the loopback Entra ID accepts as a client assertion."""
REGISTRY_TOKEN = "test-registry-token"
"""The Entra token for the registry's data plane the tests hand the provider."""


@dataclass
class Scenario:
    """How the server behaves for one test."""

    polls_before_done: int = 1
    """How many polls answer 202 before the outcome (-1: never finishes)."""
    fail_with: tuple[int, str, str] | None = None
    """(status, ARM error code, message) of a failed operation."""
    refuse_with: tuple[int, str, str] | None = None
    """(status, ARM error code, message) with which the import request itself is answered."""
    requests: list[dict[str, Any]] = field(default_factory=list)
    """Every request received: method, path, query, headers, body."""
    existing_tags: dict[str, str] = field(default_factory=dict)
    """Tags already in the registry (`repository:tag` -> digest): a NoForce import into one answers
    409, and the registry's data plane serves their digests."""
    upstream_tags: dict[str, str] = field(default_factory=dict)
    """Tags the same server serves as an upstream registry, behind a bearer-token challenge."""
    credential_sets: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The registry's credential sets as ARM returns them (`properties` of each), by name."""
    cache_rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The registry's cache rules as ARM returns them (`properties` of each), by name."""
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The registry's tokens as ARM returns them (`properties` of each), by name."""
    registry_exists: bool = True
    """False: the registry's child listings answer 404 ResourceNotFound, as ARM does."""
    generated_password: str = "GENERATED-password-value"
    """What `generateCredentials` answers as password1 (a value only Azure and the vault should hold)."""
    generate_nothing: bool = False
    """`generateCredentials` answers without any password."""
    secrets: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Key Vault secrets written through ARM (`PUT .../vaults/<v>/secrets/<name>`), by path."""
    refuse_secret_with: tuple[int, str, str] | None = None
    """(status, ARM error code, message) with which a secret write is refused (a vault the deployer
    may not write)."""
    token_lifetime: float = 3600
    """Seconds an access token this server issues as Entra ID stays valid."""
    client_secret: str = CLIENT_SECRET
    """The secret of the app registration that signs in with a client secret."""
    client_assertion: str = FEDERATED_TOKEN
    """The OIDC token Entra accepts as the client assertion (GitHub's, in a workflow)."""
    github_bearer: str = ""
    """The job's bearer token GitHub Actions' ID token endpoint (`/github/token`) accepts."""
    github_requests: list[str] = field(default_factory=list)
    """The query of every request to GitHub's ID token endpoint."""
    identity_header: str = ""
    """The secret a managed identity endpoint (`IDENTITY_ENDPOINT`, as App Service and Azure Arc give
    it) expects in `X-IDENTITY-HEADER`; empty: no such endpoint."""
    identity_requests: list[dict[str, str]] = field(default_factory=list)
    """The query of every request to the managed identity endpoint (`/msi/token`)."""
    sign_ins: list[dict[str, Any]] = field(default_factory=list)
    """Every request to the Entra endpoints (token requests with their form, minus secrets)."""
    issued: dict[str, float] = field(default_factory=dict)
    """Access tokens issued as Entra ID, with the time each expires."""
    issued_scopes: dict[str, str] = field(default_factory=dict)
    """The scope each issued token was asked for."""
    refuse_registry_tokens: bool = False
    """The registry's data plane refuses every Entra token (a token exchange answers 401)."""
    used_tokens: list[str] = field(default_factory=list)
    """The bearer token of every ARM request, in order."""


class ArmServer:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self._dir = tempfile.TemporaryDirectory()
        self.cert_path = Path(self._dir.name) / "cert.pem"
        key_path = Path(self._dir.name) / "key.pem"
        _self_signed(self.cert_path, key_path)
        handler = _handler(scenario)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_path, key_path)
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"https://127.0.0.1:{self._httpd.server_address[1]}"

    def __enter__(self) -> ArmServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
        self._dir.cleanup()


def _handler(scenario: Scenario) -> type[BaseHTTPRequestHandler]:
    polls = {"count": 0}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:  # keep test output quiet
            return

        def _record(self, body: Any) -> None:
            path, _, query = self.path.partition("?")
            scenario.requests.append(
                {
                    "method": self.command,
                    "path": path,
                    "query": query,
                    "headers": dict(self.headers),
                    "body": body,
                    # As sent: http.server folds a leading `//` in `path` (CPython gh-87389), ARM may not.
                    "target": self.requestline.split(" ")[1] if " " in self.requestline else "",
                }
            )

        def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
            payload = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

        def _authorised(self) -> bool:
            header = self.headers.get("Authorization", "")
            token = header.removeprefix("Bearer ")
            scenario.used_tokens.append(token)
            if header == f"Bearer {VALID_TOKEN}":
                return True
            if token in scenario.issued:
                if scenario.issued[token] > time.time():
                    return True
                self._send(
                    401,
                    {"error": {"code": "ExpiredAuthenticationToken", "message": "The access token expired."}},
                )
                return False
            self._send(
                401,
                {"error": {"code": "InvalidAuthenticationToken", "message": "The access token is invalid."}},
            )
            return False

        def _entra(self, raw: bytes) -> bool:
            """Entra ID's OpenID metadata and token endpoints under /<tenant>/, as MSAL uses them."""
            path = self.path.split("?")[0]
            parts = path.strip("/").split("/")
            host = f"https://{self.headers['Host']}"
            if self.command == "GET" and path.endswith("/v2.0/.well-known/openid-configuration"):
                tenant = parts[0]
                scenario.sign_ins.append({"method": "GET", "path": path})
                self._send(
                    200,
                    {
                        "token_endpoint": f"{host}/{tenant}/oauth2/v2.0/token",
                        "authorization_endpoint": f"{host}/{tenant}/oauth2/v2.0/authorize",
                        "issuer": f"{host}/{tenant}/v2.0",
                    },
                )
                return True
            if self.command == "POST" and path.endswith("/oauth2/v2.0/token"):
                form = dict(urllib.parse.parse_qsl(raw.decode()))
                good = (
                    form.get("client_secret") == scenario.client_secret
                    or form.get("client_assertion") == scenario.client_assertion
                )
                shown = {k: v for k, v in form.items() if k not in ("client_secret", "client_assertion")}
                scenario.sign_ins.append({"method": "POST", "path": path, "form": shown, "granted": good})
                if not good:
                    self._send(
                        401,
                        {
                            "error": "invalid_client",
                            "error_description": "AADSTS7000215: Invalid client secret.",
                        },
                    )
                    return True
                token = f"entra-{len(scenario.issued) + 1}"
                scenario.issued[token] = time.time() + scenario.token_lifetime
                scenario.issued_scopes[token] = form.get("scope", "")
                self._send(
                    200,
                    {
                        "token_type": "Bearer",
                        "expires_in": max(1, int(scenario.token_lifetime)),
                        "access_token": token,
                    },
                )
                return True
            return False

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            path = self.path.split("?")[0]
            if self._entra(raw):
                return
            if path.startswith("/oauth2/"):
                form = dict(urllib.parse.parse_qsl(raw.decode()))
                self._record(form)
                entra = form.get("access_token", "")
                registry_token = entra == REGISTRY_TOKEN or (
                    scenario.issued.get(entra, 0) > time.time()
                    and scenario.issued_scopes.get(entra, "").startswith(
                        "https://containerregistry.azure.net"
                    )
                )
                if scenario.refuse_registry_tokens:
                    registry_token = False
                if path == "/oauth2/exchange" and registry_token:
                    self._send(200, {"refresh_token": "acr-refresh"})
                elif path == "/oauth2/token" and form.get("refresh_token") == "acr-refresh":
                    self._send(200, {"access_token": "acr-pull"})
                else:
                    self._send(401, {"errors": [{"code": "UNAUTHORIZED"}]})
                return
            body = json.loads(raw or b"null")
            self._record(body)
            if not self._authorised():
                return
            if scenario.refuse_with is not None:
                status, code, message = scenario.refuse_with
                self._send(status, {"error": {"code": code, "message": message}})
                return
            if self.path.split("?")[0].endswith("/generateCredentials"):
                username = str((body or {}).get("tokenId", "")).rsplit("/", 1)[-1]
                password = {
                    "name": (body or {}).get("name") or "password1",
                    "value": scenario.generated_password,
                    "expiry": body.get("expiry"),
                }
                # An answer without the password asked for (Azure's own bug, or another slot).
                passwords = [] if scenario.generate_nothing else [password]
                self._send(200, {"username": username, "passwords": passwords})
                return
            target = (body or {}).get("targetTags", [""])[0]
            if (body or {}).get("mode") == "NoForce" and target in scenario.existing_tags:
                self._send(409, {"error": {"code": "Conflict", "message": f"Tag {target} already exists."}})
                return
            if not self.path.split("?")[0].endswith("/importImage"):
                self._send(404, {"error": {"code": "NotFound", "message": self.path}})
                return
            location = f"https://{self.headers['Host']}/operations/import-1?api-version=test"
            self._send(202, None, {"Location": location, "Retry-After": "0"})

        def do_PUT(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null")
            self._record(body)
            if not self._authorised():
                return
            path = self.path.split("?")[0]
            if "/providers/Microsoft.KeyVault/vaults/" in path and "/secrets/" in path:
                if scenario.refuse_secret_with is not None:
                    status, code, message = scenario.refuse_secret_with
                    self._send(status, {"error": {"code": code, "message": message}})
                    return
                scenario.secrets[path] = body
                self._send(
                    200,
                    {
                        "id": path,
                        "properties": {"attributes": (body or {}).get("properties", {}).get("attributes")},
                    },
                )
                return
            self._send(404, {"error": {"code": "NotFound", "message": path}})

        def do_HEAD(self) -> None:
            self._record(None)
            repository, _, tag = self.path.removeprefix("/v2/").partition("/manifests/")
            auth = self.headers.get("Authorization", "")
            tags = {"Bearer acr-pull": scenario.existing_tags, "Bearer up-token": scenario.upstream_tags}
            if auth not in tags:
                realm = f"https://{self.headers['Host']}/token"
                challenge = f'Bearer realm="{realm}",service="upstream",scope="repository:{repository}:pull"'
                self._send(401, None, {"WWW-Authenticate": challenge})
                return
            digest = tags[auth].get(f"{repository}:{tag}")
            self._send(200 if digest else 404, None, {"Docker-Content-Digest": digest} if digest else {})

        def do_GET(self) -> None:
            if self._entra(b""):
                return
            if self.path.startswith("/msi/token") and scenario.identity_header:
                # A managed identity endpoint: the identity (`client_id`, or the system one) asks for
                # a token for `resource` with the host's secret header.
                query = dict(urllib.parse.parse_qsl(self.path.partition("?")[2]))
                scenario.identity_requests.append(query)
                if self.headers.get("X-IDENTITY-HEADER") != scenario.identity_header:
                    self._send(401, {"error": "invalid_request"})
                    return
                token = f"msi-{len(scenario.issued) + 1}"
                scenario.issued[token] = time.time() + scenario.token_lifetime
                scenario.issued_scopes[token] = query.get("resource", "")
                expires = int(time.time() + scenario.token_lifetime)
                self._send(
                    200,
                    {
                        "access_token": token,
                        "expires_on": str(expires),
                        "resource": query.get("resource", ""),
                        "token_type": "Bearer",
                    },
                )
                return
            if self.path.startswith("/github/token"):
                # GitHub Actions' ACTIONS_ID_TOKEN_REQUEST_URL: the job's bearer token in, an OIDC token out.
                scenario.github_requests.append(self.path.partition("?")[2])
                if (
                    scenario.github_bearer
                    and self.headers.get("Authorization") == f"Bearer {scenario.github_bearer}"
                ):
                    self._send(200, {"value": scenario.client_assertion})
                else:
                    self._send(403, {"message": "bad bearer"})
                return
            self._record(None)
            if self.path.startswith("/token?"):
                self._send(200, {"token": "up-token"})
                return
            if not self._authorised():
                return
            path = self.path.split("?")[0]
            children = {
                "/credentialSets": scenario.credential_sets,
                "/cacheRules": scenario.cache_rules,
                "/tokens": scenario.tokens,
            }
            for suffix, items in children.items():
                if path.endswith(suffix):
                    if not scenario.registry_exists:
                        registry = path.removesuffix(suffix).rsplit("/", 1)[-1]
                        message = (
                            f"The Resource 'Microsoft.ContainerRegistry/registries/{registry}' was not found."
                        )
                        self._send(404, {"error": {"code": "ResourceNotFound", "message": message}})
                        return
                    kind = f"Microsoft.ContainerRegistry/registries{suffix.lower()}"
                    value = [
                        {"id": f"{path}/{name}", "name": name, "type": kind, "properties": properties}
                        for name, properties in items.items()
                    ]
                    self._send(200, {"value": value})
                    return
            polls["count"] += 1
            if scenario.polls_before_done < 0 or polls["count"] <= scenario.polls_before_done:
                self._send(202, None, {"Location": self.path, "Retry-After": "0"})
                return
            if scenario.fail_with is not None:
                status, code, message = scenario.fail_with
                self._send(status, {"error": {"code": code, "message": message}})
                return
            self._send(200, {})

    return Handler


def _self_signed(cert_path: Path, key_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
