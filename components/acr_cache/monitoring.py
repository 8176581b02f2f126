"""Logs, metrics and alerts of the shared cache: diagnostic settings and Azure Monitor alerts.

A pull-through cache fails for every team at once (an expired upstream token, a full registry), so
its logs go to Log Analytics and a baseline of alerts goes to the platform team.
"""

import json
import re
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Annotated, Any, NamedTuple, Self

import pulumi
from pulumi_azure_native import monitor, operationalinsights
from pydantic import AfterValidator, Field, model_validator

from acr_cache.arm import (
    ACTION_GROUP,
    EVENT_HUB_RULE,
    LOG_ANALYTICS_WORKSPACE,
    STORAGE_ACCOUNT,
    WORKSPACE_NAME,
    id_check,
)
from acr_cache.model import ConfigModel, ConfigProblem, Number, Tags, WholeNumber, field_error
from acr_cache.redaction import shown


# The log categories each resource type offers (`az monitor diagnostic-settings categories list
# --resource <id>`); a category it does not offer fails the whole diagnostic setting.
class RegistryLog(StrEnum):
    REPOSITORY_EVENTS = "ContainerRegistryRepositoryEvents"
    LOGIN_EVENTS = "ContainerRegistryLoginEvents"


class VaultLog(StrEnum):
    AUDIT_EVENT = "AuditEvent"
    POLICY_EVALUATION = "AzurePolicyEvaluationDetails"


ALL_METRICS = "AllMetrics"
SETTING_NAME = "acr-cache"
"""The diagnostic setting's name on each resource (at most five settings per resource)."""

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_SHORT_NAME = re.compile(r"[A-Za-z0-9 _-]{1,12}")
_RECEIVER = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,127}")


class WorkspaceConfig(ConfigModel):
    """Where logs and metrics are kept: a Log Analytics workspace the stack creates, or an existing one."""

    name: Annotated[str, AfterValidator(WORKSPACE_NAME.check)] | None = Field(
        default=None,
        description="Name of a workspace the stack creates in the registry's resource group and home "
        "region: 4-63 letters, digits and hyphens.",
    )
    existing_id: Annotated[str, AfterValidator(id_check(LOG_ANALYTICS_WORKSPACE))] | None = Field(
        default=None,
        description="ARM id of an existing workspace instead (a landing zone's central one): "
        "`/subscriptions/.../providers/Microsoft.OperationalInsights/workspaces/<name>`.",
    )
    retention_days: WholeNumber = Field(
        default=30,
        ge=30,
        le=730,
        description="Days a created workspace keeps data (30-730). Only for a workspace the stack creates.",
    )
    tags: Tags = Field(default_factory=dict, description="Tags on a created workspace.")
    daily_quota_gb: Number | None = Field(
        default=None,
        gt=0,
        description="Daily ingestion cap of a created workspace in GB (`workspaceCapping.dailyQuotaGb`): "
        "Azure stops collecting for the rest of the day once it is reached. Also sizes the workspace in "
        "`acr-cache cost` (at most the cap every day). Unset: no cap.",
    )

    @model_validator(mode="after")
    def _one_workspace(self) -> Self:
        if (self.name is None) == (self.existing_id is None):
            raise field_error(
                "name", "give either `name` (the stack creates the workspace) or `existingId`, not both"
            )
        if self.existing_id is not None:
            for field, alias in (
                ("retention_days", "retentionDays"),
                ("tags", "tags"),
                ("daily_quota_gb", "dailyQuotaGb"),
            ):
                if field in self.model_fields_set:
                    raise field_error(
                        alias, f"`{alias}` is for a workspace the stack creates: set it on the existing one"
                    )
        return self


class EventHubConfig(ConfigModel):
    """An Event Hub that also receives the logs (a SIEM's intake)."""

    authorization_rule_id: Annotated[str, AfterValidator(id_check(EVENT_HUB_RULE))] = Field(
        description="ARM id of the namespace's authorization rule with Send rights "
        "(`.../Microsoft.EventHub/namespaces/<namespace>/authorizationRules/<rule>`).",
    )
    name: str | None = Field(
        default=None,
        description="The event hub in that namespace. Default: Azure creates one per log category.",
    )


class DiagnosticsConfig(ConfigModel):
    """Diagnostic settings on the registry and on a vault the stack uses."""

    workspace: WorkspaceConfig | None = Field(
        default=None,
        description="The Log Analytics workspace that receives logs and metrics (needed for the log alerts).",
    )
    storage_account_id: Annotated[str, AfterValidator(id_check(STORAGE_ACCOUNT))] | None = Field(
        default=None,
        description="ARM id of a storage account that also archives the logs (long-term retention).",
    )
    event_hub: EventHubConfig | None = Field(
        default=None, description="An Event Hub that also receives the logs."
    )
    registry_logs: list[RegistryLog] = Field(
        default_factory=lambda: list(RegistryLog),
        description="Registry log categories to send: `ContainerRegistryRepositoryEvents` (pulls, "
        "pushes, deletes) and `ContainerRegistryLoginEvents` (sign-ins). Default: both.",
    )
    vault_logs: list[VaultLog] = Field(
        default_factory=lambda: [VaultLog.AUDIT_EVENT],
        description="Key Vault log categories to send: `AuditEvent` (every secret read, the credential "
        "sets' included) and `AzurePolicyEvaluationDetails`. Default: `AuditEvent`.",
    )
    metrics: bool = Field(default=True, description="Send all platform metrics (`AllMetrics`) too.")

    @model_validator(mode="after")
    def _a_destination(self) -> Self:
        if self.workspace is None and self.storage_account_id is None and self.event_hub is None:
            raise field_error(
                "workspace",
                "diagnostics need a destination: `workspace` (Log Analytics), `storageAccountId` or `eventHub`",
            )
        for alias, values in (("registryLogs", self.registry_logs), ("vaultLogs", self.vault_logs)):
            if len(set(values)) != len(values):
                raise field_error(alias, "a category is listed twice: list each once")
        return self


class AlertConfig(ConfigModel):
    """One alert of the baseline: on unless turned off. Unset values take the alert's defaults."""

    enabled: bool = Field(default=True, description="Whether the alert rule exists.")
    threshold: Number | None = Field(
        default=None, gt=0, description="The value above which the alert fires. Default: the alert's."
    )
    severity: WholeNumber | None = Field(
        default=None,
        ge=0,
        le=4,
        description="0 (critical) to 4 (verbose), as Azure Monitor shows it. Default: the alert's.",
    )
    window_minutes: WholeNumber | None = Field(
        default=None,
        description="The period the value is measured over, in minutes: 5, 15, 30, 60, 360, 720 or "
        "1440. Default: the alert's.",
    )

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.window_minutes is not None and self.window_minutes not in WINDOWS:
            raise field_error(
                "windowMinutes",
                f"{self.window_minutes} is not a window Azure Monitor offers: use one of "
                f"{', '.join(str(w) for w in WINDOWS)}",
            )
        return self


class Window(NamedTuple):
    """One alert window, as ISO 8601 durations."""

    size: str
    frequency: str
    """How often it is evaluated: Azure Monitor evaluates at most as often as the window is long; a
    short window every 5 minutes, an hour every 15, longer windows hourly."""


WINDOWS = {
    5: Window("PT5M", "PT5M"),
    15: Window("PT15M", "PT5M"),
    30: Window("PT30M", "PT5M"),
    60: Window("PT1H", "PT15M"),
    360: Window("PT6H", "PT1H"),
    720: Window("PT12H", "PT1H"),
    1440: Window("P1D", "PT1H"),
}
"""Window sizes both metric and log alerts accept, in minutes."""


class Alert(NamedTuple):
    """An alert's settings with its defaults filled in."""

    enabled: bool
    threshold: float
    window_minutes: int
    severity: int


ALERT_DEFAULTS = {
    # field: (threshold, window in minutes, severity)
    "storage_used_gib": (400.0, 360, 2),
    "failed_pulls": (20.0, 15, 2),
    "failed_logins": (50.0, 15, 2),
    "cache_pull_failures": (5.0, 15, 1),
}
"""Each alert's defaults: storage is sampled hourly, so its window is long; cache failures page."""


class ActionGroupConfig(ConfigModel):
    """Who is told: e-mail addresses and a webhook (a chat or paging system)."""

    short_name: str = Field(
        default="acrcache",
        description="Up to 12 characters that SMS and e-mail subjects show.",
    )
    emails: dict[str, str] = Field(
        default_factory=dict,
        description="E-mail receivers by name (the name shows in the action group): `oncall: ops@example.com`.",
    )
    webhook_url_config_key: str | None = Field(
        default=None,
        description="Secret config key holding the URL alerts are posted to (it often carries a token: "
        "`pulumi config set --secret <key> <url>`). Sent in the common alert schema.",
    )

    @model_validator(mode="after")
    def _receivers(self) -> Self:
        if not _SHORT_NAME.fullmatch(self.short_name):
            raise field_error(
                "shortName", f"'{shown(self.short_name)}' must be 1-12 letters, digits, spaces, `_` or `-`"
            )
        for name, address in self.emails.items():
            if not _RECEIVER.fullmatch(name):
                raise field_error(
                    "emails", f"receiver name '{shown(name)}' must be 1-128 letters, digits, ` _ . -`"
                )
            if not _EMAIL.fullmatch(address):
                raise field_error("emails", f"'{shown(address)}' (receiver {name}) is not an e-mail address")
        if not self.emails and self.webhook_url_config_key is None:
            raise field_error(
                "emails", "an action group needs a receiver: `emails`, `webhookUrlConfigKey`, or both"
            )
        return self


class AlertsConfig(ConfigModel):
    """The baseline alerts and the action group they notify."""

    action_group: ActionGroupConfig | None = Field(
        default=None, description="The action group the stack creates for these alerts."
    )
    existing_action_group_ids: list[Annotated[str, AfterValidator(id_check(ACTION_GROUP))]] = Field(
        default_factory=list,
        description="Action groups that exist already (a landing zone's on-call group), notified too.",
    )
    storage_used_gib: AlertConfig = Field(
        default_factory=AlertConfig,
        description="Storage the registry uses, in GiB (metric `StorageUsed`, all regions' average). "
        "Defaults: above 400 GiB (of the 500 Premium includes; beyond, storage is billed per GiB) "
        "over 360 minutes, severity 2.",
    )
    failed_pulls: AlertConfig = Field(
        default_factory=AlertConfig,
        description="Pulls answered with an error other than 404 (log `ContainerRegistryRepositoryEvents`): "
        "an upstream that refuses the cache, a firewall, a throttled registry. Needs the workspace. "
        "Defaults: more than 20 in 15 minutes, severity 2.",
    )
    failed_logins: AlertConfig = Field(
        default_factory=AlertConfig,
        description="Sign-ins refused (log `ContainerRegistryLoginEvents`): an expired CI credential, "
        "or someone guessing. Needs the workspace. Defaults: more than 50 in 15 minutes, severity 2.",
    )
    cache_pull_failures: AlertConfig = Field(
        default_factory=AlertConfig,
        description="Refused pulls of repositories that cache rules fill (401, 403 or 5xx on a cache "
        "target): the sign of a credential set turned Unhealthy. Needs the workspace; "
        "`acr-cache health <stack>` reads each set's state. Defaults: more than 5 in 15 minutes, severity 1.",
    )

    def alert(self, field: str) -> Alert:
        """The alert in `field` (`failed_pulls`), its unset values from ALERT_DEFAULTS."""
        config: AlertConfig = getattr(self, field)
        threshold, window, severity = ALERT_DEFAULTS[field]
        return Alert(
            config.enabled,
            threshold if config.threshold is None else config.threshold,
            window if config.window_minutes is None else config.window_minutes,
            severity if config.severity is None else config.severity,
        )

    @model_validator(mode="after")
    def _notified(self) -> Self:
        if self.action_group is None and not self.existing_action_group_ids:
            raise field_error(
                "actionGroup",
                "alerts need someone to tell: set `actionGroup` (the stack creates it) or "
                "`existingActionGroupIds`",
            )
        return self


class MonitoringConfig(ConfigModel):
    """Logs, metrics and alerts of the registry (and of a vault the stack uses)."""

    diagnostics: DiagnosticsConfig | None = Field(
        default=None, description="Where the registry's and the vault's logs and metrics go."
    )
    alerts: AlertsConfig | None = Field(
        default=None, description="Alerts on storage, failed pulls and sign-ins, and cache failures."
    )

    def problems(self, at: str) -> list[ConfigProblem]:
        """What needs two parts of the section: log alerts read the workspace."""
        problems = []
        alerts = self.alerts
        has_workspace = self.diagnostics is not None and self.diagnostics.workspace is not None
        if alerts is not None and not has_workspace:
            for alias, alert in (
                ("failedPulls", alerts.failed_pulls),
                ("failedLogins", alerts.failed_logins),
                ("cachePullFailures", alerts.cache_pull_failures),
            ):
                if alert.enabled:
                    problems.append(
                        ConfigProblem(
                            f"{at}.alerts.{alias}",
                            "this alert reads the registry's logs in Log Analytics: set "
                            "`diagnostics.workspace` in this section, or `enabled: false`",
                        )
                    )
        return problems


class Diagnostics(pulumi.ComponentResource):
    """A Log Analytics workspace (created or existing) and the diagnostic settings that feed it."""

    workspace_id: pulumi.Output[str] | None
    """ARM id of the workspace, when the logs go to one."""
    setting_ids: pulumi.Output[dict[str, str]]
    """ARM ids of the diagnostic settings by target (`registry`, `vault`)."""

    def __init__(
        self,
        name: str,
        *,
        settings: DiagnosticsConfig,
        targets: Mapping[str, tuple[pulumi.Input[str], Sequence[str]]],
        resource_group_name: pulumi.Input[str],
        location: pulumi.Input[str],
        protect: bool = True,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`targets`: per key, the resource's ARM id and the log categories to send from it."""
        super().__init__("acr-cache:monitoring:Diagnostics", name, None, opts)
        self.workspace: operationalinsights.Workspace | None = None
        """The workspace the stack created, if it did."""
        workspace = settings.workspace
        self.workspace_id = None
        if workspace is not None and workspace.name is not None:
            self.workspace = operationalinsights.Workspace(
                f"{name}-workspace",
                workspace_name=workspace.name,
                resource_group_name=resource_group_name,
                location=location,
                sku=operationalinsights.WorkspaceSkuArgs(
                    name=operationalinsights.WorkspaceSkuNameEnum.PER_GB2018
                ),
                retention_in_days=workspace.retention_days,
                workspace_capping=(
                    operationalinsights.WorkspaceCappingArgs(daily_quota_gb=workspace.daily_quota_gb)
                    if workspace.daily_quota_gb is not None
                    else None
                ),
                tags=workspace.tags or None,
                # The audit trail of every pull and sign-in: deleting it with the stack loses it.
                opts=pulumi.ResourceOptions(parent=self, protect=protect),
            )
            self.workspace_id = self.workspace.id
        elif workspace is not None:
            self.workspace_id = pulumi.Output.from_input(str(workspace.existing_id))
        event_hub = settings.event_hub
        self.settings: dict[str, monitor.DiagnosticSetting] = {}
        """Diagnostic settings by target."""
        for key in sorted(targets):
            resource_id, categories = targets[key]
            self.settings[key] = monitor.DiagnosticSetting(
                f"{name}-{key}",
                name=SETTING_NAME,
                resource_uri=resource_id,
                workspace_id=self.workspace_id,
                storage_account_id=settings.storage_account_id,
                event_hub_authorization_rule_id=event_hub.authorization_rule_id if event_hub else None,
                event_hub_name=event_hub.name if event_hub else None,
                logs=[monitor.DiagnosticsLogSettingsArgs(category=c, enabled=True) for c in categories],
                metrics=(
                    [monitor.DiagnosticsMetricSettingsArgs(category=ALL_METRICS, enabled=True)]
                    if settings.metrics
                    else None
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.setting_ids = pulumi.Output.all(**{k: s.id for k, s in self.settings.items()}).apply(dict)
        outputs: dict[str, Any] = {"settingIds": self.setting_ids}
        if self.workspace_id is not None:
            outputs["workspaceId"] = self.workspace_id
        self.register_outputs(outputs)


GIB = 1024**3


def log_queries(registry_id: str, cache_targets: Sequence[str]) -> dict[str, str]:
    """The log alerts' queries (KQL) for one registry; `cache_targets` are the cache rules' targets."""
    # `=~`: Log Analytics keeps resource ids in lowercase; the status code is ResultDescription's text.
    scope = f'| where _ResourceId =~ "{registry_id}"\n'
    status = "| extend Status = toint(ResultDescription)\n"
    static = sorted(t for t in cache_targets if not t.endswith("*"))
    prefixes = sorted(t.rstrip("*") for t in cache_targets if t.endswith("*"))
    matches = [f"Repository in ({', '.join(json.dumps(t) for t in static)})"] if static else []
    matches += [f"Repository startswith {json.dumps(p)}" for p in prefixes]
    cached = f"| where {' or '.join(matches)}\n" if matches else "| where false\n"
    return {
        "failedPulls": 'ContainerRegistryRepositoryEvents\n| where OperationName == "Pull"\n'
        f"{scope}{status}| where Status >= 400 and Status != 404",
        "failedLogins": f"ContainerRegistryLoginEvents\n{scope}{status}| where Status >= 400",
        "cachePullFailures": 'ContainerRegistryRepositoryEvents\n| where OperationName == "Pull"\n'
        f"{scope}{cached}{status}| where Status in (401, 403) or Status >= 500",
    }


_LOG_ALERTS = {
    "failedPulls": ("failed-pulls", "failed_pulls", "Pulls failing"),
    "failedLogins": ("failed-logins", "failed_logins", "Sign-ins refused"),
    "cachePullFailures": ("cache-pull-failures", "cache_pull_failures", "Cached repositories failing"),
}


class Alerts(pulumi.ComponentResource):
    """An action group and the baseline alert rules of one registry."""

    action_group_ids: pulumi.Output[list[str]]
    """The action groups the rules notify."""
    rule_ids: pulumi.Output[dict[str, str]]
    """ARM ids of the alert rules by alert (`storageUsedGib`, `failedPulls`, ...)."""

    def __init__(
        self,
        name: str,
        *,
        settings: AlertsConfig,
        registry_id: pulumi.Input[str],
        registry_name: str,
        resource_group_name: pulumi.Input[str],
        workspace_id: pulumi.Input[str] | None,
        workspace_location: pulumi.Input[str],
        cache_targets: Sequence[str] = (),
        webhook_url: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("acr-cache:monitoring:Alerts", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.action_group: monitor.ActionGroup | None = None
        """The action group the stack created, if it did."""
        groups: list[pulumi.Input[str]] = list(settings.existing_action_group_ids)
        group = settings.action_group
        if group is not None:
            self.action_group = monitor.ActionGroup(
                f"{name}-actions",
                action_group_name=f"{registry_name}-acr-cache",
                resource_group_name=resource_group_name,
                location="Global",
                group_short_name=group.short_name,
                enabled=True,
                email_receivers=[
                    monitor.MicrosoftCommonEmailReceiverArgs(
                        name=key, email_address=address, use_common_alert_schema=True
                    )
                    for key, address in sorted(group.emails.items())
                ],
                webhook_receivers=(
                    [
                        monitor.WebhookReceiverArgs(
                            name="webhook",
                            service_uri=pulumi.Output.secret(webhook_url),
                            use_common_alert_schema=True,
                        )
                    ]
                    if webhook_url is not None
                    else None
                ),
                opts=child,
            )
            groups = [self.action_group.id, *groups]  # the stack's own group first
        self.rules: dict[str, pulumi.CustomResource] = {}
        """Alert rules by alert."""
        storage = settings.alert("storage_used_gib")
        if storage.enabled:
            self.rules["storageUsedGib"] = monitor.MetricAlert(
                f"{name}-storage-used",
                rule_name=f"{registry_name}-storage-used",
                resource_group_name=resource_group_name,
                location="global",
                description=f"{registry_name} stores more than {storage.threshold:g} GiB: purge cached "
                "repositories (acr-cache:purge) or raise the threshold (docs/operations.md)",
                severity=storage.severity,
                enabled=True,
                scopes=[registry_id],
                evaluation_frequency=WINDOWS[storage.window_minutes].frequency,
                window_size=WINDOWS[storage.window_minutes].size,
                # The SDK writes each criteria's discriminator itself, whatever is passed (the
                # wire values are asserted in tests/test_operations.py).
                criteria=monitor.MetricAlertSingleResourceMultipleMetricCriteriaArgs(
                    odata_type="Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",  # mutation: equivalent
                    all_of=[
                        monitor.MetricCriteriaArgs(
                            criterion_type="StaticThresholdCriterion",  # mutation: equivalent
                            name="StorageUsed",
                            metric_name="StorageUsed",
                            metric_namespace="Microsoft.ContainerRegistry/registries",
                            operator=monitor.Operator.GREATER_THAN,
                            threshold=storage.threshold * GIB,
                            time_aggregation=monitor.AggregationTypeEnum.AVERAGE,
                        )
                    ],
                ),
                actions=[monitor.MetricAlertActionArgs(action_group_id=g) for g in groups],
                auto_mitigate=True,
                opts=child,
            )
        queries = pulumi.Output.from_input(registry_id).apply(lambda rid: log_queries(rid, cache_targets))
        for key, (suffix, field, title) in _LOG_ALERTS.items():
            alert = settings.alert(field)
            if not alert.enabled:
                continue
            if workspace_id is None:
                raise ValueError(
                    f"Alerts('{name}'): the {key} alert reads the registry's logs: pass workspace_id, or turn it off"
                )
            self.rules[key] = monitor.ScheduledQueryRule(
                f"{name}-{suffix}",
                rule_name=f"{registry_name}-{suffix}",
                display_name=f"{title} on {registry_name}",
                description=f"{title} on {registry_name}: see docs/operations.md#{suffix}",
                resource_group_name=resource_group_name,
                location=workspace_location,
                kind=monitor.Kind.LOG_ALERT,
                severity=alert.severity,
                enabled=True,
                scopes=[workspace_id],
                evaluation_frequency=WINDOWS[alert.window_minutes].frequency,
                window_size=WINDOWS[alert.window_minutes].size,
                criteria=monitor.ScheduledQueryRuleCriteriaArgs(
                    all_of=[
                        monitor.ConditionArgs(
                            query=queries[key],
                            time_aggregation=monitor.TimeAggregation.COUNT,
                            # Not the SDK's ConditionOperator: that enum is another API's (`gt`).
                            operator="GreaterThan",
                            threshold=alert.threshold,
                            failing_periods=monitor.ConditionFailingPeriodsArgs(
                                number_of_evaluation_periods=1, min_failing_periods_to_alert=1
                            ),
                        )
                    ]
                ),
                actions=monitor.ActionsArgs(action_groups=groups),
                auto_mitigate=True,
                # A new workspace has no ContainerRegistry* table until the first event arrives;
                # Azure would refuse the rule's query as naming an unknown table.
                skip_query_validation=True,
                opts=child,
            )
        self.action_group_ids = pulumi.Output.all(*groups).apply(list)
        self.rule_ids = pulumi.Output.all(**{k: r.id for k, r in self.rules.items()}).apply(dict)
        self.register_outputs({"actionGroupIds": self.action_group_ids, "ruleIds": self.rule_ids})
