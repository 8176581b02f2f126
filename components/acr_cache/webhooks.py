"""Registry webhooks: teams react to pushes and deletions (a deploy pipeline, a scanner, a chat)."""

import re
from collections.abc import Mapping
from enum import StrEnum

import pulumi
from pulumi_azure_native import containerregistry
from pydantic import Field, field_validator

from acr_cache.arm import WEBHOOK_NAME
from acr_cache.model import AzureRegion, ConfigModel, ConfigProblem
from acr_cache.redaction import shown

# `repository:tag` or `repository:*` (every tag). ACR reads a bare `repository` as
# `repository:latest`, which surprises; the config asks for the tag part.
_SCOPE = re.compile(r"[a-z0-9]+(?:[._/-][a-z0-9]+)*:(\*|\w[\w.-]{0,127})")
_HEADER = re.compile(r"[!#\$%&'*+.^_`|~0-9A-Za-z-]{1,256}")
WEBHOOK_LIMITS = {"Basic": 2, "Standard": 10, "Premium": 500}
"""Webhooks a registry may have, by tier (ACR service limits)."""


class WebhookAction(StrEnum):
    PUSH = "push"
    DELETE = "delete"
    QUARANTINE = "quarantine"
    CHART_PUSH = "chart_push"
    CHART_DELETE = "chart_delete"


class WebhookConfig(ConfigModel):
    """One webhook. Its key in `acr-cache:webhooks` is its name in Azure (5-50 letters and digits)."""

    service_uri_config_key: str = Field(
        description="Secret config key holding the https URL notifications are posted to (URLs often "
        "carry a token: `pulumi config set --secret <key> <url>`).",
    )
    actions: list[WebhookAction] = Field(
        default_factory=lambda: [WebhookAction.PUSH],
        min_length=1,
        description="What triggers a notification: `push`, `delete`, `quarantine`, `chart_push`, "
        "`chart_delete`. Default: `push`.",
    )
    scope: str | None = Field(
        default=None,
        description="The repository (and tags) that trigger it: `team/app:*` (every tag of one "
        "repository) or `team/app:1.0`. Default: every repository of the registry.",
    )
    custom_header_config_keys: dict[str, str] = Field(
        default_factory=dict,
        description="Headers sent with each notification, by header name, each from a secret config "
        "key (an `Authorization` token, say).",
    )
    enabled: bool = Field(default=True, description="`false` keeps the webhook but sends nothing.")
    location: AzureRegion | None = Field(
        default=None,
        description="The region whose events it reports: the home region (default) or a replica's.",
    )

    @field_validator("scope")
    @classmethod
    def _scope(cls, value: str | None) -> str | None:
        if value is not None and not _SCOPE.fullmatch(value):
            raise ValueError(
                f"'{shown(value)}' is not a webhook scope: write `repository:*` (every tag) or "
                "`repository:tag`, or leave it out for the whole registry"
            )
        return value

    @field_validator("custom_header_config_keys")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        for header in value:
            if not _HEADER.fullmatch(header):
                raise ValueError(f"'{shown(header)}' is not an HTTP header name")
        return value

    def config_keys(self) -> dict[str, str]:
        """Config keys it reads, by the field that names each (all of them secret)."""
        keys = {"serviceUriConfigKey": self.service_uri_config_key}
        keys.update({f"customHeaderConfigKeys.{h}": k for h, k in self.custom_header_config_keys.items()})
        return keys


def webhook_problems(
    webhooks: Mapping[str, WebhookConfig], at: str, sku: str, regions: list[str]
) -> list[ConfigProblem]:
    """Names, regions and the tier's limit, for the `webhooks` section at `at`."""
    problems = []
    for key, hook in webhooks.items():
        try:
            WEBHOOK_NAME.check(key)
        except ValueError as exc:
            problems.append(ConfigProblem(f"{at}.{key}", str(exc)))
        if hook.location is not None and hook.location not in regions:
            problems.append(
                ConfigProblem(
                    f"{at}.{key}.location",
                    f"'{hook.location}' is neither the home region nor a replica's: use one of {', '.join(regions)}",
                )
            )
    limit = WEBHOOK_LIMITS.get(sku)
    if limit is not None and len(webhooks) > limit:
        problems.append(
            ConfigProblem(at, f"{len(webhooks)} webhooks, but a {sku} registry allows {limit}: remove some")
        )
    return problems


class Webhooks(pulumi.ComponentResource):
    """Webhooks of one registry, their URLs and headers from secrets."""

    webhook_ids: pulumi.Output[dict[str, str]]
    """ARM ids of the webhooks by name."""

    def __init__(
        self,
        name: str,
        *,
        webhooks: Mapping[str, WebhookConfig],
        secrets: Mapping[str, pulumi.Input[str]],
        registry_name: pulumi.Input[str],
        resource_group_name: pulumi.Input[str],
        home_region: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`secrets`: the values of the config keys the webhooks name, by key."""
        super().__init__("acr-cache:webhooks:Webhooks", name, None, opts)
        self.webhooks: dict[str, containerregistry.Webhook] = {}
        """Webhooks by name."""
        for key in sorted(webhooks):
            hook = webhooks[key]
            headers = {h: pulumi.Output.secret(secrets[k]) for h, k in hook.custom_header_config_keys.items()}
            self.webhooks[key] = containerregistry.Webhook(
                f"{name}-{key}",
                webhook_name=key,
                registry_name=registry_name,
                resource_group_name=resource_group_name,
                # Azure needs the location, and it cannot change: a webhook reports its region's events.
                location=hook.location or home_region,
                actions=[containerregistry.WebhookAction(a.value) for a in hook.actions],
                service_uri=pulumi.Output.secret(secrets[hook.service_uri_config_key]),
                custom_headers=pulumi.Output.secret(headers) if headers else None,
                scope=hook.scope,
                status=containerregistry.WebhookStatus.ENABLED
                if hook.enabled
                else containerregistry.WebhookStatus.DISABLED,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.webhook_ids = pulumi.Output.all(**{k: w.id for k, w in self.webhooks.items()}).apply(dict)
        self.register_outputs({"webhookIds": self.webhook_ids})
