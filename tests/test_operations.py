"""Operations (issue 16): diagnostics, alerts, webhooks and purge tasks, from the config to the wire."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from acr_cache.config import ConfigError, parse_stack_config
from acr_cache.plan.values import Secret

from tests.conftest import DOCKER_HUB_SET, as_pulumi_config, by_type, one, run_stack, sections

SUB = "00000000-0000-0000-0000-000000000000"
R = {"name": "acrcachetest01", "location": "westeurope"}
WS = {"workspace": {"name": "log-acrtest"}}
AG = {"actionGroup": {"emails": {"oncall": "oncall@example.com"}}}
RULES = {"mcr-dotnet": {"source": "mcr.microsoft.com/dotnet/*", "target": "dotnet/*"}}
SUBNET = f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/tasks"
REGISTRY_ID = f"/subscriptions/{SUB}/resourceGroups/rg-acr-test/providers/Microsoft.ContainerRegistry/registries/acrcachetest01"
INSIGHTS = f"/subscriptions/{SUB}/resourceGroups/rg-acr-test/providers/Microsoft.Insights"
WORKSPACE_ID = f"/subscriptions/{SUB}/resourceGroups/rg-acr-test/providers/Microsoft.OperationalInsights/workspaces/log-acrtest"
LZ_WORKSPACE = {
    "existingId": f"/subscriptions/{SUB}/resourceGroups/rg-ops/providers/Microsoft.OperationalInsights/workspaces/log-lz"
}
HOOK_SECRETS = {"acr-cache:hookUrl": "https://ci.example.com/hook", "acr-cache:hookToken": "t0ken-value"}

REFUSED_IN_FULL = [
    pytest.param(
        sections(monitoring={"diagnostics": {"metrics": True}}),
        [
            "acr-cache:monitoring.diagnostics.workspace: diagnostics need a destination: `workspace` (Log Analytics), `storageAccountId` or `eventHub`"
        ],
        id="no-destination",
    ),
    pytest.param(
        sections(
            monitoring={
                "diagnostics": {
                    "workspace": {
                        "name": "log-acrtest",
                        "existingId": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ops/providers/Microsoft.OperationalInsights/workspaces/log-lz",
                    }
                }
            }
        ),
        [
            "acr-cache:monitoring.diagnostics.workspace.name: give either `name` (the stack creates the workspace) or `existingId`, not both"
        ],
        id="both-workspaces",
    ),
    pytest.param(
        sections(monitoring={"diagnostics": {"workspace": {**LZ_WORKSPACE, "retentionDays": 60}}}),
        [
            "acr-cache:monitoring.diagnostics.workspace.retentionDays: `retentionDays` is for a workspace the stack creates: set it on the existing one"
        ],
        id="existing-retention",
    ),
    pytest.param(
        sections(monitoring={"diagnostics": {"workspace": {**LZ_WORKSPACE, "dailyQuotaGb": 1}}}),
        [
            "acr-cache:monitoring.diagnostics.workspace.dailyQuotaGb: `dailyQuotaGb` is for a workspace the stack creates: set it on the existing one"
        ],
        id="existing-quota",
    ),
    pytest.param(
        sections(monitoring={"diagnostics": {"workspace": {"name": "log-acrtest", "dailyQuotaGb": 0}}}),
        ["acr-cache:monitoring.diagnostics.workspace.dailyQuotaGb: Input should be greater than 0"],
        id="quota-zero",
    ),
    pytest.param(
        sections(monitoring={"diagnostics": {"workspace": {"name": "log-acrtest", "retentionDays": 10}}}),
        [
            "acr-cache:monitoring.diagnostics.workspace.retentionDays: Input should be greater than or equal to 30"
        ],
        id="retention-low",
    ),
    pytest.param(
        sections(monitoring={"diagnostics": {**WS, "registryLogs": ["AuditEvent"]}}),
        [
            "acr-cache:monitoring.diagnostics.registryLogs[0]: 'AuditEvent' is not one of `ContainerRegistryRepositoryEvents`, `ContainerRegistryLoginEvents`"
        ],
        id="vault-category-on-registry",
    ),
    pytest.param(
        sections(monitoring={"diagnostics": {**WS, "vaultLogs": ["AuditEvent", "AuditEvent"]}}),
        ["acr-cache:monitoring.diagnostics.vaultLogs: a category is listed twice: list each once"],
        id="twice",
    ),
    pytest.param(
        sections(monitoring={"diagnostics": {"storageAccountId": "stacrlogs"}}),
        [
            "acr-cache:monitoring.diagnostics.storageAccountId: 'stacrlogs' is not the ARM id of a storage account: expected /subscriptions/<guid>/resourceGroups/<group>/providers/Microsoft.Storage/storageAccounts/<name> (`az storage account show -n <name> --query id -o tsv` prints it)"
        ],
        id="storage-id",
    ),
    pytest.param(
        sections(monitoring={"diagnostics": WS, "alerts": {"failedPulls": {"threshold": 5}}}),
        [
            "acr-cache:monitoring.alerts.actionGroup: alerts need someone to tell: set `actionGroup` (the stack creates it) or `existingActionGroupIds`"
        ],
        id="no-group",
    ),
    pytest.param(
        sections(monitoring={"diagnostics": WS, "alerts": {"actionGroup": {"shortName": "acr"}}}),
        [
            "acr-cache:monitoring.alerts.actionGroup.emails: an action group needs a receiver: `emails`, `webhookUrlConfigKey`, or both"
        ],
        id="no-receiver",
    ),
    pytest.param(
        sections(
            monitoring={
                "diagnostics": WS,
                "alerts": {"actionGroup": {"emails": {"oncall": "not-an-address"}}},
            }
        ),
        [
            "acr-cache:monitoring.alerts.actionGroup.emails: 'not-an-address' (receiver oncall) is not an e-mail address"
        ],
        id="bad-email",
    ),
    pytest.param(
        sections(
            monitoring={
                "diagnostics": WS,
                "alerts": {
                    "actionGroup": {
                        "shortName": "acr-cache-production",
                        "emails": {"oncall": "a@example.com"},
                    }
                },
            }
        ),
        [
            "acr-cache:monitoring.alerts.actionGroup.shortName: 'acr-cache-production' must be 1-12 letters, digits, spaces, `_` or `-`"
        ],
        id="short-name",
    ),
    pytest.param(
        sections(
            monitoring={
                "diagnostics": WS,
                "alerts": {**AG, "failedPulls": {"threshold": 5, "windowMinutes": 10}},
            }
        ),
        [
            "acr-cache:monitoring.alerts.failedPulls.windowMinutes: 10 is not a window Azure Monitor offers: use one of 5, 15, 30, 60, 360, 720, 1440"
        ],
        id="window",
    ),
    pytest.param(
        sections(
            monitoring={"diagnostics": WS, "alerts": {**AG, "failedPulls": {"threshold": 5, "severity": 5}}}
        ),
        ["acr-cache:monitoring.alerts.failedPulls.severity: Input should be less than or equal to 4"],
        id="severity",
    ),
    pytest.param(
        sections(monitoring={"diagnostics": WS, "alerts": {**AG, "failedPulls": {"threshold": 0}}}),
        ["acr-cache:monitoring.alerts.failedPulls.threshold: Input should be greater than 0"],
        id="threshold",
    ),
    pytest.param(
        sections(monitoring={"alerts": AG}),
        [
            "acr-cache:monitoring.alerts.failedPulls: this alert reads the registry's logs in Log Analytics: set `diagnostics.workspace` in this section, or `enabled: false`",
            "acr-cache:monitoring.alerts.failedLogins: this alert reads the registry's logs in Log Analytics: set `diagnostics.workspace` in this section, or `enabled: false`",
            "acr-cache:monitoring.alerts.cachePullFailures: this alert reads the registry's logs in Log Analytics: set `diagnostics.workspace` in this section, or `enabled: false`",
        ],
        id="log-alerts-need-workspace",
    ),
    pytest.param(
        sections(webhooks={"release-hook": {"serviceUriConfigKey": "hookUrl"}}),
        [
            "acr-cache:webhooks.release-hook: 'release-hook' is not a valid webhook name: 5-50 letters and digits"
        ],
        id="webhook-name",
    ),
    pytest.param(
        sections(webhooks={"releasehook": {"serviceUriConfigKey": "hookUrl", "scope": "team/*"}}),
        [
            "acr-cache:webhooks.releasehook.scope: 'team/*' is not a webhook scope: write `repository:*` (every tag) or `repository:tag`, or leave it out for the whole registry"
        ],
        id="webhook-scope",
    ),
    pytest.param(
        sections(webhooks={"releasehook": {"serviceUriConfigKey": "hookUrl", "location": "eastus"}}),
        [
            "acr-cache:webhooks.releasehook.location: 'eastus' is neither the home region nor a replica's: use one of westeurope"
        ],
        id="webhook-region",
    ),
    pytest.param(
        sections(
            registry={**R, "sku": "Basic"},
            webhooks={f"hook{i}abc": {"serviceUriConfigKey": "hookUrl"} for i in range(3)},
        ),
        ["acr-cache:webhooks: 3 webhooks, but a Basic registry allows 2: remove some"],
        id="webhook-basic",
    ),
    pytest.param(
        sections(
            webhooks={
                "releasehook": {
                    "serviceUriConfigKey": "hookUrl",
                    "customHeaderConfigKeys": {"Bad Header": "hookToken"},
                }
            }
        ),
        ["acr-cache:webhooks.releasehook.customHeaderConfigKeys: 'Bad Header' is not an HTTP header name"],
        id="webhook-header",
    ),
    pytest.param(
        sections(webhooks={"releasehook": {"serviceUriConfigKey": "hookUrl", "actions": []}}),
        ["acr-cache:webhooks.releasehook.actions: List should have at least 1 item after validation, not 0"],
        id="webhook-no-actions",
    ),
    pytest.param(
        sections(webhooks={"releasehook": {"serviceUriConfigKey": "hookUrl", "actions": ["pull"]}}),
        [
            "acr-cache:webhooks.releasehook.actions[0]: 'pull' is not one of `push`, `delete`, `quarantine`, `chart_push`, `chart_delete`"
        ],
        id="webhook-action",
    ),
    pytest.param(
        sections(cacheRules=RULES, purge={"mcr-dotnets": {}}),
        [
            "acr-cache:purge.mcr-dotnets: no cache rule 'mcr-dotnets' to purge: the key is a rule name (mcr-dotnet)"
        ],
        id="purge-unknown-rule",
    ),
    pytest.param(
        sections(
            cacheRules=RULES,
            network={"publicAccess": "Restricted", "ipRules": ["203.0.113.0/24"]},
            purge={"mcr-dotnet": {}},
        ),
        [
            "acr-cache:purge.mcr-dotnet.agentPool: the registry's public endpoint is closed or restricted, and the shared ACR task agents reach it only there, so the purge would fail: name a dedicated agent pool in a VNet that reaches the registry (`agentPool`), or purge from inside the network (docs/operations.md)"
        ],
        id="purge-restricted",
    ),
    pytest.param(
        sections(
            registry={**R, "sku": "Standard"},
            cacheRules=RULES,
            purge={"mcr-dotnet": {"agentPool": "purgepool"}},
        ),
        ["acr-cache:purge.mcr-dotnet.agentPool: dedicated agent pools are a Premium feature"],
        id="purge-standard-pool",
    ),
    pytest.param(
        sections(cacheRules=RULES, purge={"mcr-dotnet": {"schedule": "daily"}}),
        [
            "acr-cache:purge.mcr-dotnet.schedule: 'daily' is not a cron schedule: five fields, minute hour day month weekday, e.g. '0 3 * * *' (every day at 03:00 UTC)"
        ],
        id="purge-cron",
    ),
    pytest.param(
        sections(cacheRules=RULES, purge={"mcr-dotnet": {"olderThanDays": 0}}),
        ["acr-cache:purge.mcr-dotnet.olderThanDays: Input should be greater than or equal to 1"],
        id="purge-days",
    ),
    pytest.param(
        sections(
            cacheRules=RULES,
            agentPools={"purgepool": {"subnetId": SUBNET}},
            purge={"mcr-dotnet": {"agentPool": "otherpool"}},
        ),
        [
            "acr-cache:purge.mcr-dotnet.agentPool: 'otherpool' is not one of `agentPools` (purgepool): name one of them (a pool made outside the stack is fine when `agentPools` is empty)"
        ],
        id="purge-other-pool",
    ),
    pytest.param(
        sections(agentPools={"purgepool": {"subnetId": "tasks"}}),
        [
            "acr-cache:agentPools.purgepool.subnetId: 'tasks' is not the ARM id of a subnet: expected /subscriptions/<guid>/resourceGroups/<group>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet> (`az network vnet subnet show ... --query id -o tsv` prints it)"
        ],
        id="pool-subnet",
    ),
    pytest.param(
        sections(agentPools={"purge_pool": {"subnetId": SUBNET}}),
        [
            "acr-cache:agentPools.purge_pool: 'purge_pool' is not a valid agent pool name: 3-20 letters, digits and hyphens"
        ],
        id="pool-name",
    ),
    pytest.param(
        sections(registry={**R, "sku": "Standard"}, agentPools={"purgepool": {"subnetId": SUBNET}}),
        ["acr-cache:agentPools.purgepool: dedicated agent pools are a Premium feature"],
        id="pool-standard",
    ),
]


@pytest.mark.parametrize(("document", "problems"), REFUSED_IN_FULL)
def test_operations_refusals_in_full(document: dict[str, Any], problems: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config({**as_pulumi_config(document), **HOOK_SECRETS}, list(HOOK_SECRETS))
    assert [str(p) for p in caught.value.problems] == problems


def test_the_mirrors_registry_wide_rule_is_never_purged() -> None:
    document = sections(
        keyVault={"name": "kv-acrtest01"},
        credentialSets=DOCKER_HUB_SET,
        dockerMirror={
            "enabled": True,
            "reason": "Docker daemons on the build farm cannot sign in.",
            "credentialSet": "dockerhub",
        },
        purge={"dockerhub-mirror": {}},
    )
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(as_pulumi_config(document))
    assert [str(p) for p in caught.value.problems] == [
        "acr-cache:purge.dockerhub-mirror: rule 'dockerhub-mirror' fills the whole registry (target `*`), so its "
        "purge would delete old tags of every repository, pushed and imported ones too: purge narrower rules instead"
    ]


REFUSED = [
    (p.values[0], p.values[1][0].split(": ", 1)[0], p.values[1][0].split(": ", 1)[1]) for p in REFUSED_IN_FULL
]
"""(document, key, message) for the CLI corpus (tests/test_hardening.py)."""


def _alert_url_problems(value: str | None, secret: bool = True) -> list[str]:
    document = sections(
        monitoring={"diagnostics": WS, "alerts": {"actionGroup": {"webhookUrlConfigKey": "alertUrl"}}}
    )
    values = as_pulumi_config(document)
    if value is not None:
        values["acr-cache:alertUrl"] = value
    try:
        parse_stack_config(values, ["acr-cache:alertUrl"] if secret else [])
    except ConfigError as exc:
        return [str(p) for p in exc.problems]
    return []


def test_the_alert_webhook_url_is_a_set_secret_https_url() -> None:
    at = "acr-cache:monitoring.alerts.actionGroup.webhookUrlConfigKey"
    assert _alert_url_problems(None) == [
        f"{at}: config key `acr-cache:alertUrl` is not set: run `pulumi config set --secret alertUrl <value>` "
        "(it is never committed in plain text), or set it in the stack's Pulumi ESC environment under `values.pulumiConfig`"
    ]
    assert _alert_url_problems("https://chat.example.com/h", secret=False) == [
        "acr-cache:alertUrl: holds a password or token in plain text: remove it from the stack file and set it "
        "with `pulumi config set --secret alertUrl <value>` (from Pulumi ESC: wrap it in `fn::secret`)"
    ]
    assert _alert_url_problems("http://chat.example.com/h") == [
        f"{at}: config key `acr-cache:alertUrl` must hold an https:// URL: over http the notifications, and any "
        "token in the URL or headers, travel in the clear"
    ]
    assert _alert_url_problems("https://chat.example.com/h") == []


def test_a_webhook_url_must_be_https_and_its_headers_secret() -> None:
    document = sections(
        webhooks={
            "releasehook": {
                "serviceUriConfigKey": "hookUrl",
                "customHeaderConfigKeys": {"Authorization": "hookToken"},
            }
        }
    )
    values = {
        **as_pulumi_config(document),
        "acr-cache:hookUrl": "http://ci.example.com/hook",
        "acr-cache:hookToken": "t",
    }
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(values, ["acr-cache:hookUrl"])
    assert [str(p) for p in caught.value.problems] == [
        "acr-cache:webhooks.releasehook.serviceUriConfigKey: config key `acr-cache:hookUrl` must hold an https:// "
        "URL: over http the notifications, and any token in the URL or headers, travel in the clear",
        "acr-cache:hookToken: holds a password or token in plain text: remove it from the stack file and set it "
        "with `pulumi config set --secret hookToken <value>` (from Pulumi ESC: wrap it in `fn::secret`)",
    ]


# --- wire inputs ----------------------------------------------------------------------------------

DIAGNOSTIC = "azure-native:monitor:DiagnosticSetting"
WORKSPACE = "azure-native:operationalinsights:Workspace"
ACTION_GROUP = "azure-native:monitor:ActionGroup"
METRIC_ALERT = "azure-native:monitor:MetricAlert"
LOG_ALERT = "azure-native:monitor:ScheduledQueryRule"
WEBHOOK = "azure-native:containerregistry:Webhook"
TASK = "azure-native:containerregistry:Task"
AGENT_POOL = "azure-native:containerregistry:AgentPool"
VAULT = {"name": "kv-acrtest01"}


def test_diagnostics_send_each_resources_own_categories_to_a_created_workspace() -> None:
    document = sections(
        keyVault=VAULT,
        credentialSets=DOCKER_HUB_SET,
        monitoring={
            "diagnostics": {"workspace": {"name": "log-acrtest", "retentionDays": 90, "tags": {"a": "b"}}}
        },
    )
    run = run_stack(document)
    workspace = one(run, WORKSPACE)
    assert workspace.inputs == {
        "workspaceName": "log-acrtest",
        "resourceGroupName": "rg-acr-test",
        "location": "westeurope",
        "sku": {"name": "PerGB2018"},
        "retentionInDays": 90,
        "tags": {"a": "b"},
    }
    settings = {r.name: r.inputs for r in by_type(run, DIAGNOSTIC)}
    assert settings == {
        "monitoring-registry": {
            "name": "acr-cache",
            "resourceUri": REGISTRY_ID,
            "workspaceId": WORKSPACE_ID,
            "logs": [
                {"category": "ContainerRegistryRepositoryEvents", "enabled": True},
                {"category": "ContainerRegistryLoginEvents", "enabled": True},
            ],
            "metrics": [{"category": "AllMetrics", "enabled": True}],
        },
        "monitoring-vault": {
            "name": "acr-cache",
            "resourceUri": f"/subscriptions/{SUB}/resourceGroups/rg-acr-test/providers/Microsoft.KeyVault/vaults/kv-acrtest01",
            "workspaceId": WORKSPACE_ID,
            "logs": [{"category": "AuditEvent", "enabled": True}],
            "metrics": [{"category": "AllMetrics", "enabled": True}],
        },
    }
    assert run.outputs["logAnalyticsWorkspaceId"] == WORKSPACE_ID


def test_diagnostics_to_an_existing_workspace_an_archive_and_an_event_hub() -> None:
    existing = f"/subscriptions/{SUB}/resourceGroups/rg-ops/providers/Microsoft.OperationalInsights/workspaces/log-lz"
    archive = f"/subscriptions/{SUB}/resourceGroups/rg-ops/providers/Microsoft.Storage/storageAccounts/stlogs"
    rule = f"/subscriptions/{SUB}/resourceGroups/rg-ops/providers/Microsoft.EventHub/namespaces/evhns-siem/authorizationRules/send"
    document = sections(
        monitoring={
            "diagnostics": {
                "workspace": {"existingId": existing},
                "storageAccountId": archive,
                "eventHub": {"authorizationRuleId": rule, "name": "acr"},
                "registryLogs": ["ContainerRegistryLoginEvents"],
                "metrics": False,
            }
        }
    )
    run = run_stack(document)
    assert by_type(run, WORKSPACE) == []
    assert one(run, DIAGNOSTIC).inputs == {
        "name": "acr-cache",
        "resourceUri": REGISTRY_ID,
        "workspaceId": existing,
        "storageAccountId": archive,
        "eventHubAuthorizationRuleId": rule,
        "eventHubName": "acr",
        "logs": [{"category": "ContainerRegistryLoginEvents", "enabled": True}],
    }


def test_alerts_notify_a_created_group_with_a_secret_webhook_and_existing_groups() -> None:
    oncall = f"/subscriptions/{SUB}/resourceGroups/rg-ops/providers/Microsoft.Insights/actionGroups/ag-oncall"
    document = sections(
        cacheRules={
            **RULES,
            "k8s-pause": {"source": "registry.k8s.io/pause", "target": "k8s/pause"},
        },
        monitoring={
            "diagnostics": WS,
            "alerts": {
                "actionGroup": {
                    "shortName": "acrtest",
                    "emails": {"oncall": "oncall@example.com"},
                    "webhookUrlConfigKey": "alertUrl",
                },
                "existingActionGroupIds": [oncall],
                "storageUsedGib": {"threshold": 100, "windowMinutes": 360, "severity": 3},
                "failedLogins": {"threshold": 1, "enabled": False},
            },
        },
    )
    run = run_stack(document, secrets={"alertUrl": "https://chat.example.com/hooks/T0KEN"})
    group = one(run, ACTION_GROUP).inputs
    assert group == {
        "actionGroupName": "acrcachetest01-acr-cache",
        "resourceGroupName": "rg-acr-test",
        "location": "Global",
        "groupShortName": "acrtest",
        "enabled": True,
        "emailReceivers": [
            {"name": "oncall", "emailAddress": "oncall@example.com", "useCommonAlertSchema": True}
        ],
        "webhookReceivers": [
            {
                "name": "webhook",
                "serviceUri": Secret("https://chat.example.com/hooks/T0KEN"),
                "useAadAuth": False,
                "useCommonAlertSchema": True,
            }
        ],
    }
    created = f"{INSIGHTS}/actionGroups/acrcachetest01-acr-cache"
    storage = one(run, METRIC_ALERT).inputs
    assert storage == {
        "ruleName": "acrcachetest01-storage-used",
        "resourceGroupName": "rg-acr-test",
        "location": "global",
        "description": "acrcachetest01 stores more than 100 GiB: purge cached repositories (acr-cache:purge) or "
        "raise the threshold (docs/operations.md)",
        "severity": 3,
        "enabled": True,
        "scopes": [REGISTRY_ID],
        "evaluationFrequency": "PT1H",
        "windowSize": "PT6H",
        "criteria": {
            "odataType": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
            "allOf": [
                {
                    "criterionType": "StaticThresholdCriterion",
                    "name": "StorageUsed",
                    "metricName": "StorageUsed",
                    "metricNamespace": "Microsoft.ContainerRegistry/registries",
                    "operator": "GreaterThan",
                    # 100 GiB in bytes, the unit of StorageUsed.
                    "threshold": 107374182400,
                    "timeAggregation": "Average",
                }
            ],
        },
        "actions": [{"actionGroupId": created}, {"actionGroupId": oncall}],
        "autoMitigate": True,
    }
    logs = {r.name: r.inputs for r in by_type(run, LOG_ALERT)}
    assert sorted(logs) == ["alerts-cache-pull-failures", "alerts-failed-pulls"]  # failedLogins is off
    cache = logs["alerts-cache-pull-failures"]
    assert cache == {
        "ruleName": "acrcachetest01-cache-pull-failures",
        "displayName": "Cached repositories failing on acrcachetest01",
        "description": "Cached repositories failing on acrcachetest01: see docs/operations.md#cache-pull-failures",
        "resourceGroupName": "rg-acr-test",
        "location": "westeurope",
        "kind": "LogAlert",
        "severity": 1,
        "enabled": True,
        "scopes": [WORKSPACE_ID],
        "evaluationFrequency": "PT5M",
        "windowSize": "PT15M",
        "criteria": {
            "allOf": [
                {
                    "query": "ContainerRegistryRepositoryEvents\n"
                    '| where OperationName == "Pull"\n'
                    f'| where _ResourceId =~ "{REGISTRY_ID}"\n'
                    '| where Repository in ("k8s/pause") or Repository startswith "dotnet/"\n'
                    "| extend Status = toint(ResultDescription)\n"
                    "| where Status in (401, 403) or Status >= 500",
                    "timeAggregation": "Count",
                    "operator": "GreaterThan",
                    "threshold": 5,
                    "failingPeriods": {"numberOfEvaluationPeriods": 1, "minFailingPeriodsToAlert": 1},
                }
            ]
        },
        "actions": {"actionGroups": [created, oncall]},
        "autoMitigate": True,
        "skipQueryValidation": True,
    }
    assert logs["alerts-failed-pulls"]["criteria"]["allOf"][0]["query"] == (
        "ContainerRegistryRepositoryEvents\n"
        '| where OperationName == "Pull"\n'
        f'| where _ResourceId =~ "{REGISTRY_ID}"\n'
        "| extend Status = toint(ResultDescription)\n"
        "| where Status >= 400 and Status != 404"
    )
    assert logs["alerts-failed-pulls"]["criteria"]["allOf"][0]["threshold"] == 20


def test_the_failed_logins_query_and_a_registry_without_cache_rules() -> None:
    from acr_cache.monitoring import log_queries

    queries = log_queries(REGISTRY_ID, [])
    assert queries["failedLogins"] == (
        f'ContainerRegistryLoginEvents\n| where _ResourceId =~ "{REGISTRY_ID}"\n'
        "| extend Status = toint(ResultDescription)\n| where Status >= 400"
    )
    # No cache rule: nothing can fail through one.
    assert "| where false\n" in queries["cachePullFailures"]


def test_webhooks_take_url_and_headers_from_secrets() -> None:
    document = sections(
        replicas={"northeurope": {}},
        webhooks={
            "releasehook": {
                "serviceUriConfigKey": "hookUrl",
                "actions": ["push", "delete"],
                "scope": "base/alpine:*",
                "customHeaderConfigKeys": {"Authorization": "hookToken"},
            },
            "neuhook01": {"serviceUriConfigKey": "hookUrl", "location": "northeurope", "enabled": False},
        },
    )
    run = run_stack(
        document, secrets={"hookUrl": "https://ci.example.com/hook", "hookToken": "Bearer s3cr3t"}
    )
    hooks = {r.name: r.inputs for r in by_type(run, WEBHOOK)}
    assert hooks == {
        "webhooks-neuhook01": {
            "webhookName": "neuhook01",
            "registryName": "acrcachetest01",
            "resourceGroupName": "rg-acr-test",
            "location": "northeurope",
            "actions": ["push"],
            "serviceUri": Secret("https://ci.example.com/hook"),
            "status": "disabled",
        },
        "webhooks-releasehook": {
            "webhookName": "releasehook",
            "registryName": "acrcachetest01",
            "resourceGroupName": "rg-acr-test",
            "location": "westeurope",
            "actions": ["push", "delete"],
            "serviceUri": Secret("https://ci.example.com/hook"),
            "customHeaders": Secret({"Authorization": "Bearer s3cr3t"}),
            "scope": "base/alpine:*",
            "status": "enabled",
        },
    }
    assert run.outputs["webhookIds"] == {
        "neuhook01": f"{REGISTRY_ID}/webhooks/neuhook01",
        "releasehook": f"{REGISTRY_ID}/webhooks/releasehook",
    }


def test_purge_tasks_run_acr_purge_on_each_rules_repositories() -> None:
    document = sections(
        cacheRules={**RULES, "k8s-pause": {"source": "registry.k8s.io/pause", "target": "k8s/pause"}},
        purge={
            "mcr-dotnet": {"schedule": "30 2 * * 1-5", "olderThanDays": 14, "keep": 3},
            "k8s-pause": {"untagged": False, "enabled": False},
        },
    )
    run = run_stack(document)
    tasks = {r.name: r.inputs for r in by_type(run, TASK)}
    assert sorted(tasks) == ["purge-k8s-pause", "purge-mcr-dotnet"]
    dotnet = tasks["purge-mcr-dotnet"]
    content = base64.b64decode(dotnet.pop("step")["encodedTaskContent"]).decode()
    assert content == (
        "version: v1.1.0\n"
        "steps:\n"
        "  - cmd: acr purge --filter 'dotnet/.*:.*' --ago 14d --keep 3 --untagged\n"
        "    disableWorkingDirectoryOverride: true\n"
        "    timeout: 3600\n"
    )
    assert dotnet == {
        "taskName": "purge-mcr-dotnet",
        "registryName": "acrcachetest01",
        "resourceGroupName": "rg-acr-test",
        "location": "westeurope",
        "platform": {"os": "Linux"},
        "trigger": {"timerTriggers": [{"name": "schedule", "schedule": "30 2 * * 1-5", "status": "Enabled"}]},
        "status": "Enabled",
        "timeout": 3600,
        "isSystemTask": False,  # the SDK's default, sent as such
    }
    pause = tasks["purge-k8s-pause"]
    assert base64.b64decode(pause["step"]["encodedTaskContent"]).decode().splitlines()[2] == (
        "  - cmd: acr purge --filter 'k8s/pause:.*' --ago 30d"
    )
    assert pause["step"]["type"] == "EncodedTask"
    assert (pause["status"], pause["trigger"]["timerTriggers"][0]["status"]) == ("Disabled", "Disabled")
    assert pause["trigger"]["timerTriggers"][0]["schedule"] == "0 3 * * *"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("nginx", "nginx:.*"),
        ("library/*", "library/.*:.*"),
        ("*", ".*:.*"),
        ("k8s/ingress-nginx/*", "k8s/ingress-nginx/.*:.*"),
        # A dot in a repository is a dot, not any character.
        ("team/app.web", "team/app[.]web:.*"),
    ],
)
def test_the_purge_filter_covers_exactly_the_rules_repositories(target: str, expected: str) -> None:
    from acr_cache.purge import purge_filter

    assert purge_filter(target) == expected


def test_a_closed_registry_purges_on_a_pool_the_stack_creates() -> None:
    document = sections(
        network={"publicAccess": "Restricted", "ipRules": ["203.0.113.0/24"]},
        cacheRules=RULES,
        agentPools={"purgepool": {"subnetId": SUBNET, "tier": "S2", "count": 2}},
        purge={"mcr-dotnet": {"agentPool": "purgepool"}},
    )
    run = run_stack(document)
    pool = one(run, AGENT_POOL)
    assert pool.inputs == {
        "agentPoolName": "purgepool",
        "registryName": "acrcachetest01",
        "resourceGroupName": "rg-acr-test",
        "location": "westeurope",
        "os": "Linux",
        "tier": "S2",
        "count": 2,
        "virtualNetworkSubnetResourceId": SUBNET,
    }
    task = one(run, TASK)
    assert task.inputs["agentPoolName"] == "purgepool"
    assert pool.urn in task.depends_on


def test_no_operations_section_registers_nothing_of_them() -> None:
    run = run_stack(sections())
    types = {r.type for r in run.resources}
    assert not types & {
        DIAGNOSTIC,
        WORKSPACE,
        ACTION_GROUP,
        METRIC_ALERT,
        LOG_ALERT,
        WEBHOOK,
        TASK,
        AGENT_POOL,
    }
    assert not {"logAnalyticsWorkspaceId", "alertRuleIds", "webhookIds", "purgeTaskIds"} & set(run.outputs)


def test_the_prod_plan_shows_every_operations_secret_as_secret() -> None:
    from tests.conftest import stack_plan

    plan = stack_plan("prod")
    by_name = {r["name"]: r["inputs"] for r in plan["resources"]}
    assert by_name["alerts-actions"]["webhookReceivers"][0]["serviceUri"] == "[secret]"
    assert by_name["webhooks-releasepipeline"]["serviceUri"] == "[secret]"
    assert by_name["webhooks-releasepipeline"]["customHeaders"] == "[secret]"
    assert {r["type"] for r in plan["resources"]} >= {
        DIAGNOSTIC,
        WORKSPACE,
        ACTION_GROUP,
        METRIC_ALERT,
        LOG_ALERT,
        WEBHOOK,
        TASK,
        AGENT_POOL,
    }


def test_an_alert_tuned_in_part_keeps_its_other_defaults() -> None:
    from acr_cache.monitoring import Alert, AlertsConfig

    alerts = AlertsConfig.model_validate(
        {
            **AG,
            "failedPulls": {"severity": 1},
            "storageUsedGib": {"threshold": 900},
            "cachePullFailures": {"enabled": False},
        }
    )
    assert alerts.alert("failed_pulls") == Alert(True, 20.0, 15, 1)
    assert alerts.alert("storage_used_gib") == Alert(True, 900.0, 360, 2)
    assert alerts.alert("failed_logins") == Alert(True, 50.0, 15, 2)
    assert alerts.alert("cache_pull_failures") == Alert(False, 5.0, 15, 1)


def test_alerts_used_directly_refuse_log_alerts_without_a_workspace() -> None:
    from acr_cache.monitoring import Alerts, AlertsConfig
    from acr_cache.plan.runner import ProgramFailed, run_program

    def program() -> None:
        Alerts(
            "ops",
            settings=AlertsConfig.model_validate(AG),
            registry_id=REGISTRY_ID,
            registry_name="acrcachetest01",
            resource_group_name="rg-acr-test",
            workspace_id=None,
            workspace_location="westeurope",
        )

    with pytest.raises(ProgramFailed) as caught:
        run_program(program, project="p", stack="s", config={}, preview=False)
    assert str(caught.value) == (
        "Alerts('ops'): the failedPulls alert reads the registry's logs: pass workspace_id, or turn it off"
    )


# --- Issue #15's bar for the new modules: their own survivors --------------------------------------


@pytest.mark.parametrize(
    ("window", "size", "frequency"),
    [
        (5, "PT5M", "PT5M"),
        (15, "PT15M", "PT5M"),
        (30, "PT30M", "PT5M"),
        (60, "PT1H", "PT15M"),
        (360, "PT6H", "PT1H"),
        (720, "PT12H", "PT1H"),
        (1440, "P1D", "PT1H"),
    ],
)
def test_each_window_is_sent_with_its_evaluation_frequency(window: int, size: str, frequency: str) -> None:
    run = run_stack(
        sections(monitoring={"diagnostics": WS, "alerts": {**AG, "failedPulls": {"windowMinutes": window}}})
    )
    rule = next(r.inputs for r in by_type(run, LOG_ALERT) if r.name == "alerts-failed-pulls")
    assert (rule["windowSize"], rule["evaluationFrequency"]) == (size, frequency)


def test_the_failed_pulls_and_logins_rules_are_named_and_titled() -> None:
    run = run_stack(sections(monitoring={"diagnostics": WS, "alerts": AG}))
    rules = {r.name: r.inputs for r in by_type(run, LOG_ALERT)}
    assert {n: (r["ruleName"], r["displayName"], r["severity"]) for n, r in rules.items()} == {
        "alerts-cache-pull-failures": (
            "acrcachetest01-cache-pull-failures",
            "Cached repositories failing on acrcachetest01",
            1,
        ),
        "alerts-failed-logins": ("acrcachetest01-failed-logins", "Sign-ins refused on acrcachetest01", 2),
        "alerts-failed-pulls": ("acrcachetest01-failed-pulls", "Pulls failing on acrcachetest01", 2),
    }
    assert rules["alerts-failed-logins"]["description"] == (
        "Sign-ins refused on acrcachetest01: see docs/operations.md#failed-logins"
    )
    assert rules["alerts-failed-pulls"]["criteria"]["allOf"][0]["threshold"] == 20
    assert rules["alerts-failed-logins"]["criteria"]["allOf"][0]["threshold"] == 50


def test_several_static_cache_targets_are_listed_in_one_clause() -> None:
    from acr_cache.monitoring import log_queries

    query = log_queries(REGISTRY_ID, ["k8s/pause", "base/nginx", "team/*"])["cachePullFailures"]
    assert '| where Repository in ("base/nginx", "k8s/pause") or Repository startswith "team/"\n' in query


@pytest.mark.parametrize(
    ("monitoring", "problem"),
    [
        (
            {
                "diagnostics": {
                    "workspace": {
                        "existingId": f"/subscriptions/{SUB}/resourceGroups/rg-ops/providers/Microsoft.OperationalInsights/workspaces/log-lz",
                        "tags": {"a": "b"},
                    }
                }
            },
            "acr-cache:monitoring.diagnostics.workspace.tags: `tags` is for a workspace the stack creates: set it on "
            "the existing one",
        ),
        (
            {
                "diagnostics": {
                    **WS,
                    "registryLogs": ["ContainerRegistryLoginEvents", "ContainerRegistryLoginEvents"],
                }
            },
            "acr-cache:monitoring.diagnostics.registryLogs: a category is listed twice: list each once",
        ),
        (
            {"diagnostics": WS, "alerts": {"actionGroup": {"emails": {"on call!": "oncall@example.com"}}}},
            "acr-cache:monitoring.alerts.actionGroup.emails: receiver name 'on call!' must be 1-128 letters, "
            "digits, ` _ . -`",
        ),
    ],
    ids=["existing-workspace-tags", "registry-logs-twice", "receiver-name"],
)
def test_more_monitoring_refusals(monitoring: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(as_pulumi_config(sections(monitoring=monitoring)))
    assert [str(p) for p in caught.value.problems] == [problem]


def test_diagnostics_used_directly_protect_the_workspace_they_create() -> None:
    from acr_cache.monitoring import Diagnostics, DiagnosticsConfig
    from acr_cache.plan.runner import run_program

    def program() -> None:
        Diagnostics(
            "logs",
            settings=DiagnosticsConfig.model_validate(WS),
            targets={"registry": (REGISTRY_ID, ["ContainerRegistryLoginEvents"])},
            resource_group_name="rg-acr-test",
            location="westeurope",
        )

    run = run_program(program, project="p", stack="s", config={}, preview=False)
    assert one(run, WORKSPACE).protect is True


@pytest.mark.parametrize(("sku", "allowed"), [("Standard", 10), ("Premium", 500)])
def test_each_tier_allows_its_number_of_webhooks(sku: str, allowed: int) -> None:
    def document(count: int) -> dict[str, Any]:
        hooks = {f"hook{i:04d}": {"serviceUriConfigKey": "hookUrl"} for i in range(count)}
        return sections(registry={**R, "sku": sku}, webhooks=hooks)

    parse_stack_config({**as_pulumi_config(document(allowed)), **HOOK_SECRETS}, list(HOOK_SECRETS))
    with pytest.raises(ConfigError) as caught:
        parse_stack_config({**as_pulumi_config(document(allowed + 1)), **HOOK_SECRETS}, list(HOOK_SECRETS))
    assert [str(p) for p in caught.value.problems] == [
        f"acr-cache:webhooks: {allowed + 1} webhooks, but a {sku} registry allows {allowed}: remove some"
    ]


def test_unset_webhook_keys_are_named_at_their_own_paths() -> None:
    document = sections(
        webhooks={
            "releasehook": {
                "serviceUriConfigKey": "hookUrl",
                "customHeaderConfigKeys": {"Authorization": "hookToken"},
            }
        }
    )
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(as_pulumi_config(document))
    assert [str(p) for p in caught.value.problems] == [
        "acr-cache:webhooks.releasehook.serviceUriConfigKey: config key `acr-cache:hookUrl` is not set: run "
        "`pulumi config set --secret hookUrl <value>` (it is never committed in plain text), or set it in the stack's Pulumi ESC environment under `values.pulumiConfig`",
        "acr-cache:webhooks.releasehook.customHeaderConfigKeys.Authorization: config key `acr-cache:hookToken` is "
        "not set: run `pulumi config set --secret hookToken <value>` (it is never committed in plain text), or set it in the stack's Pulumi ESC environment under `values.pulumiConfig`",
    ]


def test_a_webhook_region_is_one_of_several() -> None:
    document = sections(
        replicas={"northeurope": {}, "swedencentral": {}},
        webhooks={"releasehook": {"serviceUriConfigKey": "hookUrl", "location": "eastus"}},
    )
    with pytest.raises(ConfigError) as caught:
        parse_stack_config({**as_pulumi_config(document), **HOOK_SECRETS}, list(HOOK_SECRETS))
    assert [str(p) for p in caught.value.problems] == [
        "acr-cache:webhooks.releasehook.location: 'eastus' is neither the home region nor a replica's: use one "
        "of westeurope, northeurope, swedencentral"
    ]


def test_a_long_rule_name_gives_a_task_name_cut_to_50() -> None:
    from acr_cache.purge import purge_filter, task_name

    rule = "r" * 50
    assert task_name(rule) == "purge-" + "r" * 44
    assert len(task_name("r" * 44)) == 50 and task_name("r" * 44) == "purge-" + "r" * 44
    # A dot in a wildcard target is a dot too.
    assert purge_filter("team.web/*") == "team[.]web/.*:.*"


def test_a_created_workspace_takes_a_daily_cap_below_one_gb() -> None:
    from acr_cache.monitoring import WorkspaceConfig

    workspace = WorkspaceConfig.model_validate({"name": "log-acrtest", "dailyQuotaGb": 0.5})
    assert workspace.daily_quota_gb == 0.5
    assert WorkspaceConfig.model_validate({"name": "log-acrtest"}).daily_quota_gb is None
