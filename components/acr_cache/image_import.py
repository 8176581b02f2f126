"""Import of pinned public images into the registry, as a Pulumi resource.

azure-native has no resource for the registry's `importImage` action, so a dynamic provider calls it
through the Azure SDK for Python with `DefaultAzureCredential`, the same login (`az login`, a
managed identity, or the ARM_* / AZURE_* environment) as the azure-native provider.

Lifecycle: create imports; a changed source imports again over the same target tag (mode Force);
a changed target or registry imports into the new place; delete leaves the image in the registry
(an import is a copy: removing it from the config must never delete images teams already pull).
Preview only runs `check` and `diff`, so it never calls Azure.

This module is pickled by reference into the state (`acr_cache.image_import.ImageImportProvider`):
keep its path and class name stable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult
from pydantic import Field, model_validator

from acr_cache.model import ConfigModel, field_error
from acr_cache.upstreams import check_docker_hub_alias, check_official_image

PUBLIC_ARM_ENDPOINT = "https://management.azure.com"
DEFAULT_TIMEOUT_SECONDS = 1800
_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_REPOSITORY = re.compile(
    r"^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$"
)
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+(:[0-9]{1,5})?$")
# Keys whose change means a different image in a different place: a new import, the old one kept.
_REPLACE_KEYS = ("subscriptionId", "resourceGroupName", "registryName", "target")


class ImportConfig(ConfigModel):
    """One image to import. Its key in `acr-cache:imports` is the target, `repository:tag`."""

    source: str = Field(
        description="The image to copy, with its registry host and a tag or a digest: "
        "`docker.io/library/alpine:3.20` or `mcr.microsoft.com/dotnet/runtime@sha256:<64 hex>`. A digest "
        "pins the exact content; a tag is copied as it is at import time.",
    )
    username_config_key: str | None = Field(
        default=None,
        description="Config key (in the `acr-cache` namespace) holding the upstream username, for "
        "registries that need one (Docker Hub: avoids its anonymous rate limit).",
    )
    password_config_key: str | None = Field(
        default=None,
        description="Secret config key holding the upstream password or token "
        "(`pulumi config set --secret <key> <value>`). Give it together with `usernameConfigKey`.",
    )
    force: bool = Field(
        default=False,
        description="Overwrite the target tag if it already exists in the registry (mode Force). "
        "Without it the first import fails on an existing tag instead of replacing it.",
    )

    @model_validator(mode="after")
    def _source(self) -> ImportConfig:
        try:
            parse_image_source(self.source)
        except ValueError as exc:
            raise field_error("source", str(exc)) from None
        if (self.username_config_key is None) != (self.password_config_key is None):
            raise field_error(
                "passwordConfigKey",
                "give both `usernameConfigKey` and `passwordConfigKey` for an authenticated import, or neither",
            )
        return self


def parse_image_source(source: str) -> tuple[str, str]:
    """(registry host, image reference below it); raises ValueError with the fix."""
    host, _, image = source.partition("/")
    if image and _HOST.match(host.lower()) and host != host.lower():
        raise ValueError(f"'{source}' must have a lowercase registry host: write '{host.lower()}/{image}'")
    if not image or not _HOST.match(host):
        raise ValueError(
            f"'{source}' needs the registry host first, e.g. 'docker.io/library/alpine:3.20' or "
            "'mcr.microsoft.com/dotnet/runtime:8.0'"
        )
    repository, digest = image.split("@", 1) if "@" in image else (image, "")
    tag = ""
    if ":" in repository.rsplit("/", 1)[-1]:
        repository, tag = repository.rsplit(":", 1)
    if host != host.lower() or repository != repository.lower():
        raise ValueError(
            f"'{source}' must have a lowercase registry and repository: write "
            f"'{host.lower()}/{repository.lower()}{':' + tag if tag else ''}{'@' + digest if digest else ''}'"
        )
    if tag and digest:
        raise ValueError(
            f"'{source}' has both a tag ({tag}) and a digest, which ACR cannot check agree: keep "
            f"'{host}/{repository}@{digest}' to pin the content (the target key keeps the tag)"
        )
    if not tag and not digest:
        raise ValueError(
            f"'{source}' has no tag or digest, so it would import whatever `latest` is that day: pin it, "
            f"e.g. '{source}:<tag>' or '{source}@sha256:<digest>'"
        )
    if digest and not _DIGEST.match(digest):
        raise ValueError(
            f"'{digest}' in '{source}' is not a digest: expected sha256: and 64 lowercase hex digits"
        )
    if tag and not _TAG.match(tag):
        raise ValueError(f"'{tag}' in '{source}' is not a valid tag")
    if not _REPOSITORY.match(repository):
        raise ValueError(
            f"'{repository}' in '{source}' is not a valid repository path (lowercase, `/`-separated)"
        )
    check_docker_hub_alias(host, image)
    check_official_image(source, host, repository, image)
    return host, image


def check_import_target(target: str) -> str:
    """A target `repository:tag` inside the registry; raises ValueError with the fix."""
    repository, _, tag = target.rpartition(":")
    if not repository or "/" in tag:
        raise ValueError(f"'{target}' must be `repository:tag`, e.g. 'base/alpine:3.20'")
    if not _REPOSITORY.match(repository):
        raise ValueError(
            f"'{repository}' in '{target}' is not a valid repository path (lowercase, `/`-separated)"
        )
    if not _TAG.match(tag):
        raise ValueError(f"'{tag}' in '{target}' is not a valid tag")
    return target


def import_resource_suffix(target: str) -> str:
    """The part of an import's resource name that comes from its target (`/` and `:` become `-`),
    so two targets can share it: `base/alpine:3.20` and `base-alpine:3.20`. The config refuses such
    pairs, since the engine refuses two resources with one URN."""
    return target.replace("/", "-").replace(":", "-")


CredentialFactory = Callable[[], Any]


def _default_credential() -> Any:
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


class ImportFailed(Exception):
    """The import did not complete; the message says why and never holds a credential."""


class ImageImportProvider(ResourceProvider):
    """Calls `registries/importImage` and waits for its long-running operation."""

    def __init__(
        self,
        credential_factory: CredentialFactory | None = None,
        client_options: Mapping[str, Any] | None = None,
        polling_interval: float | None = None,
    ) -> None:
        # The engine pickles this object into the state; clients (sockets) are created per call.
        self._credential_factory = credential_factory
        self._client_options = dict(client_options or {})
        self._polling_interval = polling_interval

    def create(self, props: dict[str, Any]) -> CreateResult:
        self._import(props, force=bool(props.get("force")))
        return CreateResult(id_=import_id(props), outs=_public(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [key for key in _REPLACE_KEYS if olds.get(key) != news.get(key)]
        changes = replaces + [key for key in ("source", "force") if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(changes), replaces=replaces, delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if olds.get("source") != news.get("source"):
            # A new source for the same tag: the tag exists already, so only Force can move it.
            self._import(news, force=True)
        return UpdateResult(outs=_public(news))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        # Deliberately nothing: the image stays in the registry (documented in docs/protection.md).
        return None

    def _import(self, props: Mapping[str, Any], *, force: bool) -> None:
        from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
        from azure.mgmt.containerregistry import ContainerRegistryManagementClient
        from azure.mgmt.containerregistry.models import (
            ImportImageParameters,
            ImportMode,
            ImportSource,
            ImportSourceCredentials,
        )

        host, image = parse_image_source(str(props["source"]))
        where = f"{props['registryName']}/{props['target']}"
        credentials = None
        if props.get("username") and props.get("password"):
            credentials = ImportSourceCredentials(username=props["username"], password=props["password"])
        parameters = ImportImageParameters(
            source=ImportSource(registry_uri=host, source_image=image, credentials=credentials),
            target_tags=[props["target"]],
            mode=ImportMode.FORCE if force else ImportMode.NO_FORCE,
        )
        timeout = float(props.get("timeoutSeconds") or DEFAULT_TIMEOUT_SECONDS)
        try:
            credential = (self._credential_factory or _default_credential)()
            client = ContainerRegistryManagementClient(
                credential,
                str(props["subscriptionId"]),
                base_url=str(props.get("armEndpoint") or PUBLIC_ARM_ENDPOINT),
                **self._client_options,
            )
            extra: dict[str, Any] = (
                {"polling_interval": self._polling_interval} if self._polling_interval is not None else {}
            )
            with client:
                poller = client.registries.begin_import_image(
                    str(props["resourceGroupName"]), str(props["registryName"]), parameters, **extra
                )
                poller.wait(timeout=timeout)
                if not poller.done():
                    raise ImportFailed(
                        f"importing {props['source']} into {where} did not finish within {timeout:g} s; "
                        "it may still complete in Azure: run `pulumi refresh`, then `pulumi up` again"
                    )
                poller.result()
        except ClientAuthenticationError as exc:
            raise ImportFailed(
                f"importing {props['source']} into {where}: Azure refused the sign-in "
                f"({_error_text(exc)}); sign in with `az login` or set the ARM_* credentials"
            ) from None
        except HttpResponseError as exc:
            raise ImportFailed(
                f"importing {props['source']} into {where} failed: {_error_text(exc)}"
            ) from None


def _error_text(exc: Exception) -> str:
    error = getattr(exc, "error", None)
    code, message = getattr(error, "code", None), getattr(error, "message", None)
    if code or message:
        return f"{code}: {message}"
    return str(getattr(exc, "message", "") or exc).splitlines()[0]


def import_id(props: Mapping[str, Any]) -> str:
    """A stable id for an import (ARM has none: the image itself is the result)."""
    return (
        f"/subscriptions/{props['subscriptionId']}/resourceGroups/{props['resourceGroupName']}/providers/"
        f"Microsoft.ContainerRegistry/registries/{props['registryName']}/importedImages/{props['target']}"
    )


def _public(props: Mapping[str, Any]) -> dict[str, Any]:
    # Upstream credentials stay out of the outputs (and so out of later diffs: rotating a token
    # does not import again).
    return {k: v for k, v in props.items() if k not in ("username", "password")}


class ImageImport(pulumi.dynamic.Resource, module="acr-cache", name="ImageImport"):
    """A public image copied into the registry by `registries/importImage`."""

    source: pulumi.Output[str]
    target: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        subscription_id: pulumi.Input[str],
        resource_group_name: pulumi.Input[str],
        registry_name: pulumi.Input[str],
        target: str,
        source: str,
        force: bool = False,
        username: pulumi.Input[str] | None = None,
        password: pulumi.Input[str] | None = None,
        arm_endpoint: str = PUBLIC_ARM_ENDPOINT,
        timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "subscriptionId": subscription_id,
            "resourceGroupName": resource_group_name,
            "registryName": registry_name,
            "target": target,
            "source": source,
            "force": force,
            "armEndpoint": arm_endpoint,
            "timeoutSeconds": timeout_seconds,
            "username": pulumi.Output.secret(username) if username is not None else None,
            "password": pulumi.Output.secret(password) if password is not None else None,
        }
        super().__init__(ImageImportProvider(), name, props, opts)


class ImageImports(pulumi.ComponentResource):
    """The imports of one registry, each keyed (and named) by its target `repository:tag`."""

    imports: dict[str, ImageImport]
    """Import resources by target."""
    references: dict[str, pulumi.Output[str]]
    """Per target, what clients pull: `<loginServer>/<repository>:<tag>`."""

    def __init__(
        self,
        name: str,
        *,
        subscription_id: pulumi.Input[str],
        resource_group_name: pulumi.Input[str],
        registry_name: pulumi.Input[str],
        login_server: pulumi.Input[str],
        images: Mapping[str, ImportConfig],
        credentials: Mapping[str, tuple[pulumi.Input[str], pulumi.Input[str]]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("acr-cache:image_import:ImageImports", name, None, opts)
        self.imports = {}
        for target in sorted(images):
            image = images[target]
            username, password = credentials.get(target, (None, None))
            self.imports[target] = ImageImport(
                # The target is the identity: another source for the same tag imports in place.
                f"{name}-{import_resource_suffix(target)}",
                subscription_id=subscription_id,
                resource_group_name=resource_group_name,
                registry_name=registry_name,
                target=target,
                source=image.source,
                force=image.force,
                username=username,
                password=password,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.references = {
            target: pulumi.Output.concat(login_server, "/", target) for target in sorted(images)
        }
        self.register_outputs({"importedImages": self.references})
