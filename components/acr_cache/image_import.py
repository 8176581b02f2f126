"""Import of pinned public images into the registry, as a Pulumi resource.

azure-native has no resource for the registry's `importImage` action, so a dynamic provider calls it
through the Azure SDK for Python. It signs in inside its own process with azure-native's login
settings (`acr_cache.azure_login`: the `azure-native:*` stack config the engine hands the provider,
else the `ARM_*` variables, else `az login`), so no token is ever an input or an output of the
resource and none reaches Pulumi's state. Tokens are fetched when a call needs one and renewed while
an import is polled (up to 30 minutes).

Lifecycle: create imports, and is idempotent: when the target tag exists already (a re-run after a
timeout or a crash left nothing in state), the same digest there is success, and another digest
without `force` is an error that says so. A changed source imports again over the same tag (Force);
a changed target or registry imports into the new place; delete leaves the image in the registry
(an import is a copy: removing it from the config must never delete images teams already pull), so
`destroy` needs nothing but the old outputs. Preview only runs `check` and `diff`, so it never calls
Azure.

This module is pickled by reference into the state (`acr_cache.image_import.ImageImportProvider`):
keep its path and class name stable.
"""

import re
from collections.abc import Callable, Mapping
from typing import Any, NotRequired, Self, TypedDict

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult
from pydantic import Field, model_validator

from acr_cache.azure_login import REGISTRY_SCOPE, LoginError, SignedInProvider, error_text
from acr_cache.component_args import ImageArgs, Input
from acr_cache.component_base import Layout, RegistryRef, component_error, validated_entries
from acr_cache.model import ConfigModel, ConfigProblem, collisions, field_error
from acr_cache.redaction import shown
from acr_cache.upstreams import check_docker_hub_alias, check_official_image

DEFAULT_TIMEOUT_SECONDS = 1800
_DIGEST = re.compile(r"sha256:[a-f0-9]{64}")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_REPOSITORY = re.compile(r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*")
_HOST = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+(:[0-9]{1,5})?")
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
    def _source(self) -> Self:
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
    if image and _HOST.fullmatch(host.lower()) and host != host.lower():
        raise ValueError(
            f"'{shown(source)}' must have a lowercase registry host: write '{host.lower()}/{image}'"
        )
    if not image or not _HOST.fullmatch(host):
        raise ValueError(
            f"'{shown(source)}' needs the registry host first, e.g. 'docker.io/library/alpine:3.20' or "
            "'mcr.microsoft.com/dotnet/runtime:8.0'"
        )
    repository, _, digest = image.partition("@")
    tag = ""
    if ":" in repository.rpartition("/")[2]:
        repository, _, tag = repository.rpartition(":")
    if repository != repository.lower():  # an uppercase host was refused above
        raise ValueError(
            f"'{shown(source)}' must have a lowercase repository: write "
            f"'{host}/{repository.lower()}{':' + tag if tag else ''}{'@' + digest if digest else ''}'"
        )
    if tag and digest:
        raise ValueError(
            f"'{shown(source)}' has both a tag ({tag}) and a digest, which ACR cannot check agree: keep "
            f"'{host}/{repository}@{digest}' to pin the content (the target key keeps the tag)"
        )
    if not tag and not digest:
        raise ValueError(
            f"'{shown(source)}' has no tag or digest, so it would import whatever `latest` is that day: pin it, "
            f"e.g. '{source}:<tag>' or '{source}@sha256:<digest>'"
        )
    if digest and not _DIGEST.fullmatch(digest):
        raise ValueError(
            f"'{shown(digest)}' in '{shown(source)}' is not a digest: expected sha256: and 64 lowercase hex digits"
        )
    if tag and not _TAG.fullmatch(tag):
        raise ValueError(f"'{shown(tag)}' in '{shown(source)}' is not a valid tag")
    if not _REPOSITORY.fullmatch(repository):
        raise ValueError(
            f"'{shown(repository)}' in '{shown(source)}' is not a valid repository path (lowercase, `/`-separated)"
        )
    check_docker_hub_alias(host, image)
    check_official_image(source, host, repository, image)
    return host, image


def check_import_target(target: str) -> None:
    """Refuses a target that is not `repository:tag` inside the registry, with the fix."""
    repository, _, tag = target.rpartition(":")
    if not repository or "/" in tag:
        raise ValueError(f"'{shown(target)}' must be `repository:tag`, e.g. 'base/alpine:3.20'")
    if not _REPOSITORY.fullmatch(repository):
        raise ValueError(
            f"'{shown(repository)}' in '{shown(target)}' is not a valid repository path (lowercase, `/`-separated)"
        )
    if not _TAG.fullmatch(tag):
        raise ValueError(f"'{shown(tag)}' in '{shown(target)}' is not a valid tag")


def import_problems(imports: Mapping[str, ImportConfig], at: str) -> list[ConfigProblem]:
    """What the `imports` section gets wrong as a whole: targets that are not `repository:tag`, and
    two targets that would give one resource name (a URN the engine refuses twice)."""
    problems = []
    for target in imports:
        try:
            check_import_target(target)
        except ValueError as exc:
            problems.append(ConfigProblem(f"{at}.{target}", str(exc)))
    problems += collisions(
        {f"{at}.{t}": import_resource_suffix(t) for t in imports},
        "import resource name (`/` and `:` both become `-`)",
        "change one target",
    )
    return problems


def import_resource_suffix(target: str) -> str:
    """The part of an import's resource name that comes from its target (`/` and `:` become `-`),
    so two targets can share it: `base/alpine:3.20` and `base-alpine:3.20`. The config refuses such
    pairs, since the engine refuses two resources with one URN."""
    return target.replace("/", "-").replace(":", "-")


CredentialFactory = Callable[[], Any]
# Upstream credentials never leave as outputs. The token keys are those of stacks deployed before
# the providers signed in themselves (their state's inputs still hold them until the next `up`).
_SECRET_INPUTS = ("username", "password", "accessToken", "registryAccessToken")
LOGIN_HINT = (
    "the import signs in as azure-native does: run `az login`, or set ARM_CLIENT_ID with "
    "ARM_CLIENT_SECRET (or ARM_USE_OIDC=true, or ARM_USE_MSI=true), ARM_TENANT_ID and "
    "ARM_SUBSCRIPTION_ID, or the same as `azure-native:*` stack config"
)


class ImportFailed(Exception):
    """The import did not complete; the message says why and never holds a credential."""


class _TagExists(Exception):
    """Azure refused a NoForce import because the target tag exists."""


# How ACR says a NoForce import's target tag exists. The exact code is not documented; a 409 or
# these words are taken as that answer (docs/first-deploy.md lists it as a check for a real deploy).
_EXISTS = re.compile(r"already exists|TagAlreadyExists|tag .* exists|Conflict", re.IGNORECASE)


class ImageImportProvider(SignedInProvider, ResourceProvider):
    """Calls `registries/importImage` and waits for its long-running operation."""

    def __init__(
        self,
        credential_factory: CredentialFactory | None = None,
        client_options: Mapping[str, Any] | None = None,
        polling_interval: float | None = None,
        registry_base_url: str | None = None,
        upstream_base_url: str | None = None,
        identity_options: Mapping[str, Any] | None = None,
    ) -> None:
        # The engine pickles this object into the state; clients (sockets) and the credential are
        # created in the provider's process. The keyword arguments are for tests (a loopback server
        # in place of Azure, Entra ID and upstream).
        self._credential_factory = credential_factory
        self._identity_options = dict(identity_options or {})
        self._client_options = dict(client_options or {})
        self._polling_interval = polling_interval
        self._registry_base_url = registry_base_url
        self._upstream_base_url = upstream_base_url

    def create(self, props: dict[str, Any]) -> CreateResult:
        force = bool(props.get("force"))
        try:
            self._import(props, force=force)
        except _TagExists as exists:
            # Nothing in state, yet the tag is there: a run that timed out or crashed after Azure
            # finished, or an image someone else put there. Only the digests tell which.
            self._check_existing(props, str(exists))
        return CreateResult(id_=import_id(props), outs=_public(props))

    def _check_existing(self, props: Mapping[str, Any], error: str) -> None:
        from acr_cache.digests import DigestUnavailable, acr_tag_digest, upstream_tag_digest

        host, image = parse_image_source(str(props["source"]))
        repository, _, tag = str(props["target"]).rpartition(":")
        where = f"{props['registryName']}/{props['target']}"
        verify = self._client_options.get("connection_verify", True)
        try:
            registry_token = self.credential().get_token(REGISTRY_SCOPE).token
        except LoginError as exc:
            raise ImportFailed(f"{where}: {exc}; {LOGIN_HINT}") from None
        try:
            existing = acr_tag_digest(
                str(props.get("loginServer") or f"{str(props['registryName']).lower()}.azurecr.io"),
                repository,
                tag,
                registry_token,
                base_url=self._registry_base_url,
                verify=verify,
            )
            if "@" in image:
                wanted = image.partition("@")[2]
            else:
                source_repository, _, source_tag = image.rpartition(":")
                wanted = upstream_tag_digest(
                    host,
                    source_repository,
                    source_tag,
                    props.get("username"),
                    props.get("password"),
                    base_url=self._upstream_base_url,
                    verify=verify,
                )
        except DigestUnavailable as exc:
            raise ImportFailed(
                f"{where} exists already ({error}) and its digest could not be compared with "
                f"{props['source']}: {exc}. If it is the image you meant, adopt it with `pulumi "
                "import`; to overwrite it, set `force: true` on the import"
            ) from None
        if existing == wanted:
            return
        raise ImportFailed(
            f"{where} exists already and holds {existing}, but {props['source']} is {wanted}: set "
            "`force: true` on the import to overwrite the tag, or import into another target"
        )

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
            endpoint = self.arm_endpoint(props)
            client = ContainerRegistryManagementClient(
                self.credential(),
                str(props["subscriptionId"]),
                base_url=endpoint,
                credential_scopes=[self.arm_scope()],
                **self._client_options,
            )
            extra: dict[str, Any] = (
                {"polling_interval": self._polling_interval} if self._polling_interval is not None else {}
            )
            with client:
                poller = client.registries.begin_import_image(
                    str(props["resourceGroupName"]), str(props["registryName"]), parameters, **extra
                )
                # wait() raises the operation's failure itself (azure-core LROPoller.wait); the
                # import has no result to read.
                poller.wait(timeout=timeout)
                if not poller.done():
                    raise ImportFailed(
                        f"importing {props['source']} into {where} did not finish within {timeout:g} s; "
                        "it may still complete in Azure: run `pulumi refresh`, then `pulumi up` again"
                    )
        except LoginError as exc:
            raise ImportFailed(f"importing {props['source']} into {where}: {exc}; {LOGIN_HINT}") from None
        except ClientAuthenticationError as exc:
            raise ImportFailed(
                f"importing {props['source']} into {where}: Azure refused the sign-in "
                f"({error_text(exc)}); {LOGIN_HINT}"
            ) from None
        except HttpResponseError as exc:
            text = error_text(exc)
            if (exc.status_code == 409 or _EXISTS.search(text)) and not force:
                raise _TagExists(text) from None
            if exc.status_code == 403 or "AuthorizationFailed" in text:
                raise ImportFailed(
                    f"importing {props['source']} into {where}: not allowed ({text}); the identity "
                    "azure-native signs in as needs `Microsoft.ContainerRegistry/registries/importImage/"
                    "action` on the registry (Contributor, or Container Registry Data Importer and Data "
                    "Reader)"
                ) from None
            if "credentials" in text.lower() or "unauthorized" in text.lower():
                raise ImportFailed(
                    f"importing {props['source']} into {where}: the upstream registry refused the pull "
                    f"({text}); check the values of the import's `usernameConfigKey` and "
                    "`passwordConfigKey` (`pulumi config set --secret <key> <value>`)"
                ) from None
            raise ImportFailed(f"importing {props['source']} into {where} failed: {text}") from None


def import_id(props: Mapping[str, Any]) -> str:
    """A stable id for an import (ARM has none: the image itself is the result)."""
    return (
        f"/subscriptions/{props['subscriptionId']}/resourceGroups/{props['resourceGroupName']}/providers/"
        f"Microsoft.ContainerRegistry/registries/{props['registryName']}/importedImages/{props['target']}"
    )


def _public(props: Mapping[str, Any], secret: tuple[str, ...] = _SECRET_INPUTS) -> dict[str, Any]:
    # Upstream credentials and azure-native's tokens stay out of the outputs (and so out of later
    # diffs: rotating a token, or a new token at each run, does not import again).
    return {k: v for k, v in props.items() if k not in secret}


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
        login_server: pulumi.Input[str] | None = None,
        username: pulumi.Input[str] | None = None,
        password: pulumi.Input[str] | None = None,
        timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        # ARM is the login's cloud's (`azure-native:environment`); provider tests put a loopback ARM in
        # the props (`armEndpoint`).
        props: dict[str, Any] = {
            "loginServer": login_server,
            "subscriptionId": subscription_id,
            "resourceGroupName": resource_group_name,
            "registryName": registry_name,
            "target": target,
            "source": source,
            "force": force,
            "timeoutSeconds": timeout_seconds,
            "username": pulumi.Output.secret(username) if username is not None else None,
            "password": pulumi.Output.secret(password) if password is not None else None,
        }
        super().__init__(ImageImportProvider(), name, props, opts)


class ImageImportsArgs(TypedDict):
    """Arguments of ImageImports."""

    registry_id: Input[str]
    """ARM id of the registry."""
    images: dict[str, ImageArgs]
    """Images by target repository:tag."""
    secrets: NotRequired[dict[str, Input[str]]]
    """Secret values by the config key names the images use."""


class ImageImports(pulumi.ComponentResource):
    """Pinned public images imported into a registry (removing one leaves the image in place).

    They sign in inside the provider's process with azure-native's login settings: ARM for
    `importImage`, the registry's data plane to compare digests. No token is an input.
    """

    references: pulumi.Output[dict[str, str]]
    """Per target, what clients pull: `<loginServer>/<repository>:<tag>`."""

    def __init__(
        self,
        name: str,
        args: ImageImportsArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        registry: RegistryRef | None = None,
        layout: Layout = Layout.COMPONENT,
    ) -> None:
        super().__init__("acr-cache:index:ImageImports", name, None, layout.options(opts, FORMER_TYPE))
        problems: list[ConfigProblem] = []
        images = validated_entries(ImportConfig, args["images"], "args.images", problems)
        secrets = {key: pulumi.Output.secret(value) for key, value in (args.get("secrets") or {}).items()}
        credentials: dict[str, tuple[pulumi.Input[str], pulumi.Input[str]]] = {}
        problems += import_problems(images, "args.images")
        for target, image in images.items():
            username, password = image.username_config_key, image.password_config_key
            # ImportConfig admits both keys or neither, so `and` here would read the same.
            if username is None or password is None:  # mutation: equivalent
                continue
            for field, key in (("username_config_key", username), ("password_config_key", password)):
                if key not in secrets:
                    problems.append(
                        ConfigProblem(
                            f"args.images.{target}.{field}", f"no value '{shown(key)}' in args.secrets"
                        )
                    )
            if username in secrets and password in secrets:
                credentials[target] = (secrets[username], secrets[password])
        if problems:
            raise component_error("ImageImports", name, problems, ImageImportsArgs)
        ref = registry or RegistryRef.from_id(args["registry_id"])
        former = layout.former_children(self, name, FORMER_TYPE, "imports")
        self.imports: dict[str, ImageImport] = {}
        """Import resources by target."""
        for target in sorted(images):
            image = images[target]
            username, password = credentials.get(target, (None, None))
            suffix = import_resource_suffix(target)
            self.imports[target] = ImageImport(
                # The target is the identity: another source for the same tag imports in place.
                f"{name}-{suffix}",
                subscription_id=ref.subscription_id,
                resource_group_name=ref.resource_group_name,
                registry_name=ref.registry_name,
                target=target,
                source=image.source,
                force=image.force,
                login_server=ref.pull_host,
                username=username,
                password=password,
                opts=pulumi.ResourceOptions(parent=self, aliases=former(suffix)),
            )
        self.references = pulumi.Output.all(
            **{target: pulumi.Output.concat(ref.pull_host, "/", target) for target in sorted(images)}
        ).apply(dict)
        self.register_outputs({"references": self.references})


FORMER_TYPE = "acr-cache:image_import:ImageImports"
"""The type the imports' component had in the stack program, and inside the public
`ImageImports`, before the two became one: the aliases that keep existing imports name it."""
