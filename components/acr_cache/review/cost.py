"""A monthly cost estimate of a plan, and of the change between two plans: list prices per resource,
from the dated table below. An estimate: no discounts, no taxes, one region's list price for all,
and usage (pulls, storage beyond the SKU's allowance, task minutes, vault operations) left out
unless the config sizes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

HOURS_PER_MONTH = 730
DAYS_PER_MONTH = HOURS_PER_MONTH / 24

PRICES_AS_OF = "2026-06"
"""When the list prices below were recorded (USD, pay-as-you-go, East US). Not re-read on each run:
there is no network here. Check them with the Retail Prices API before relying on a total:
`curl "https://prices.azure.com/api/retail/prices?\\$filter=serviceName eq 'Container Registry'"`."""

PRICE_SOURCES = {
    "Container Registry": "https://azure.microsoft.com/pricing/details/container-registry/",
    "Private Link": "https://azure.microsoft.com/pricing/details/private-link/",
    "Azure DNS": "https://azure.microsoft.com/pricing/details/dns/",
    "Azure Monitor": "https://azure.microsoft.com/pricing/details/monitor/",
    "Key Vault": "https://azure.microsoft.com/pricing/details/key-vault/",
}

REGISTRY_PER_DAY = {"Basic": 0.167, "Standard": 0.667, "Premium": 1.667}
"""Per registry and day; each geo-replica is billed at the Premium rate (Container Registry)."""
INCLUDED_STORAGE_GIB = {"Basic": 10, "Standard": 100, "Premium": 500}
PRIVATE_ENDPOINT_PER_HOUR = 0.01
"""Per endpoint and hour, plus $0.01 per GB processed (usage) (Private Link)."""
PRIVATE_ZONE_PER_MONTH = 0.50
"""Per hosted zone, first 25 zones; queries $0.40 per million (usage) (Azure DNS)."""
LOG_INGESTION_PER_GB = 2.30
"""Analytics logs, pay-as-you-go, East US; the first 31 days of retention included (Azure Monitor).
Log Analytics prices are set per region (learn.microsoft.com/azure/azure-monitor/logs/cost-logs):
the estimate names the workspace's region and prices it at this rate."""
LOG_RETENTION_PER_GB_MONTH = 0.10
"""Analytics logs kept beyond the included 31 days, per GB and month (Azure Monitor)."""
LOG_INCLUDED_RETENTION_DAYS = 31
METRIC_ALERT_PER_MONTH = 0.10
"""Per monitored time series; one per rule here (Azure Monitor)."""
LOG_ALERT_PER_MONTH = {5: 1.50, 10: 1.00, 15: 0.50}
"""Per log search alert rule evaluated every so many minutes or less often (Azure Monitor)."""
LOG_ALERT_MOST_FREQUENT = 3.00
"""Per log search alert rule evaluated more often than every 5 minutes (every minute)."""

USAGE_ONLY = {
    "azure-native:keyvault:Vault": "vault operations ($0.03 per 10,000)",
    "azure-native:containerregistry:Task": "task run time ($0.0001 per second)",
    "azure-native:containerregistry:AgentPool": "dedicated agent pool (priced per tier and hour; not in the table)",
    "azure-native:monitor:ActionGroup": "notifications beyond the free monthly allowance",
    "azure-native:keyvault:Key": "key operations and scheduled rotations ($1 each)",
}
"""Types with no fixed monthly price: named in the estimate so that nobody reads them as free."""


NOTHING_PRICED = (
    "Nothing here has a monthly price of its own: cache rules, credential sets, grants, tokens, "
    "webhooks and locks are free; the registry they use is billed to the stack that owns it."
)


@dataclass
class CostLine:
    item: str
    count: int
    monthly: float

    def to_json(self) -> dict[str, Any]:
        return {"item": self.item, "count": self.count, "monthly": round(self.monthly, 2)}


@dataclass
class Estimate:
    lines: list[CostLine] = field(default_factory=list)
    usage: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(line.monthly for line in self.lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "currency": "USD",
            "monthlyTotal": round(self.total, 2),
            "lines": [line.to_json() for line in self.lines],
            "usageNotEstimated": self.usage,
            "pricesAsOf": PRICES_AS_OF,
            "sources": PRICE_SOURCES,
        }

    def render(self, title: str) -> str:
        width = max([len(line.item) for line in self.lines] + [20])
        out = [f"Monthly cost estimate of {title} (USD list prices as of {PRICES_AS_OF}; an estimate)", ""]
        for line in self.lines:
            out.append(f"  {line.item:<{width}}  x{line.count:<4} {money(line.monthly):>10}")
        out.append(f"  {'Total':<{width}}        {money(self.total):>10} / month")
        if not self.lines:
            out.append(f"  {NOTHING_PRICED}")
        if self.usage:
            out.append("")
            out.append("  Usage-based, not in the total: " + "; ".join(self.usage))
        out.append("")
        out.append("  Sources: " + ", ".join(PRICE_SOURCES.values()))
        return "\n".join(out) + "\n"

    def markdown(self, title: str) -> list[str]:
        out = [
            f"**Monthly cost estimate of {title}** (USD list prices as of {PRICES_AS_OF}; an estimate)",
            "",
        ]
        out += ["| Item | Count | Monthly |", "|---|---:|---:|"]
        out += [f"| {line.item} | {line.count} | {money(line.monthly)} |" for line in self.lines]
        out.append(f"| **Total** | | **{money(self.total)}** |")
        if not self.lines:
            out += ["", NOTHING_PRICED]
        if self.usage:
            out += ["", "Usage-based, not in the total: " + "; ".join(self.usage) + "."]
        return out


def _subscription(resource: dict[str, Any]) -> str:
    """The subscription of a resource's id (its ARM id in the plan), lowercase; "" when unknown."""
    parts = str(resource.get("id") or "").split("/")
    return parts[2].lower() if len(parts) > 2 and parts[1].lower() == "subscriptions" else ""


def money(amount: float) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def estimate(resources: Iterable[dict[str, Any]]) -> Estimate:
    """The monthly estimate of a JSON plan's resources (or of any resource documents)."""
    lines: dict[str, CostLine] = {}
    usage: dict[str, str] = {}  # one note per type
    premium_day = REGISTRY_PER_DAY["Premium"]

    all_resources = list(resources)
    # A stack whose resources span subscriptions is billed to each: the lines say which.
    subscriptions = {_subscription(r) for r in all_resources if _subscription(r)}
    where = ""

    def add(item: str, monthly: float) -> None:
        item = f"{item} · subscription {where}" if len(subscriptions) > 1 and where else item
        line = lines.setdefault(item, CostLine(item, 0, 0.0))
        line.count += 1
        line.monthly += monthly

    for resource in all_resources:
        typ = str(resource.get("type", ""))
        inputs = resource.get("inputs") or {}
        where = _subscription(resource)
        if typ == "azure-native:containerregistry:Registry":
            sku = str((inputs.get("sku") or {}).get("name", "Premium"))
            day = REGISTRY_PER_DAY.get(sku, premium_day)
            add(
                f"Registry {sku} ({inputs.get('location', '?')}, {INCLUDED_STORAGE_GIB.get(sku, 0)} GiB included)",
                day * DAYS_PER_MONTH,
            )
            usage[typ] = "registry storage beyond the included allowance ($0.10 per GiB-month)"
        elif typ == "azure-native:containerregistry:Replication":
            add(f"Geo-replica ({inputs.get('location', '?')}, Premium rate)", premium_day * DAYS_PER_MONTH)
        elif typ == "azure-native:network:PrivateEndpoint":
            add("Private endpoint", PRIVATE_ENDPOINT_PER_HOUR * HOURS_PER_MONTH)
            usage[typ] = "data through private endpoints ($0.01 per GB)"
        elif typ == "azure-native:privatedns:PrivateZone":
            add("Private DNS zone", PRIVATE_ZONE_PER_MONTH)
        elif typ == "azure-native:operationalinsights:Workspace":
            quota = (inputs.get("workspaceCapping") or {}).get("dailyQuotaGb")
            region = inputs.get("location", "?")
            if isinstance(quota, int | float) and quota > 0:
                add(
                    f"Log Analytics ingestion ({region}, at most: the {quota:g} GB/day cap, East US rate)",
                    quota * DAYS_PER_MONTH * LOG_INGESTION_PER_GB,
                )
                days = inputs.get("retentionInDays")
                if isinstance(days, int | float) and days > LOG_INCLUDED_RETENTION_DAYS:
                    # Once full, the logs kept beyond the included days are the cap's daily volume
                    # times the extra days.
                    add(
                        f"Log Analytics retention beyond {LOG_INCLUDED_RETENTION_DAYS} days "
                        f"(at most, {days:g} days kept)",
                        quota * (days - LOG_INCLUDED_RETENTION_DAYS) * LOG_RETENTION_PER_GB_MONTH,
                    )
            else:
                usage[typ] = (
                    f"Log Analytics ingestion (${LOG_INGESTION_PER_GB:.2f} per GB; set "
                    "`monitoring.diagnostics.workspace.dailyQuotaGb` to cap and estimate it)"
                )
        elif typ == "azure-native:keyvault:Vault":
            tier = str(((inputs.get("properties") or {}).get("sku") or {}).get("name", "standard"))
            # No monthly fee for either tier: the line shows the vault is counted, not forgotten.
            add(f"Key Vault {tier} (no monthly fee)", 0.0)
            usage[typ] = USAGE_ONLY[typ]
        elif typ == "azure-native:monitor:DiagnosticSetting" and not any(
            str(r.get("type")) == "azure-native:operationalinsights:Workspace" for r in all_resources
        ):
            workspace = str(inputs.get("workspaceId") or "")
            if workspace:
                usage[typ] = (
                    f"ingestion into the existing workspace {workspace.rpartition('/')[2]} "
                    f"(${LOG_INGESTION_PER_GB:.2f} per GB, billed to that workspace's subscription)"
                )
        elif typ == "azure-native:monitor:MetricAlert":
            add("Metric alert rule", METRIC_ALERT_PER_MONTH)
        elif typ == "azure-native:monitor:ScheduledQueryRule":
            minutes = _minutes(str(inputs.get("evaluationFrequency") or ""))
            price = next(
                (p for m, p in sorted(LOG_ALERT_PER_MONTH.items(), reverse=True) if minutes >= m),
                LOG_ALERT_MOST_FREQUENT,
            )
            add(f"Log search alert rule (every {minutes} min)", price)
        elif typ in USAGE_ONLY:
            usage[typ] = USAGE_ONLY[typ]
    return Estimate(
        sorted(lines.values(), key=lambda line: (_rank(line.item), line.item)), list(usage.values())
    )


_ORDER = (
    "Registry",
    "Geo-replica",
    "Private endpoint",
    "Private DNS",
    "Log Analytics ingestion",
    "Log Analytics retention",
    "Log search",
    "Metric",
)


def _rank(item: str) -> int:
    return next((i for i, prefix in enumerate(_ORDER) if item.startswith(prefix)), len(_ORDER))


def _minutes(duration: str) -> int:
    """`PT5M`, `PT1H`: the ISO 8601 durations alert rules use; 15 for none or one not in minutes or
    hours (a middle tier: an estimate, not a refusal)."""
    text = duration.upper().removeprefix("PT")
    try:
        if text.endswith("H"):
            return int(float(text[:-1]) * 60)
        if text.endswith("M"):
            return int(float(text[:-1]))
    except ValueError:
        pass
    return 15


@dataclass
class CostDelta:
    base: Estimate
    head: Estimate

    @property
    def delta(self) -> float:
        return self.head.total - self.base.total

    def line(self) -> str:
        sign = "+" if self.delta > 0 else ""
        return (
            f"Estimated monthly cost: {money(self.base.total)} -> {money(self.head.total)} "
            f"({sign}{money(self.delta)}; list prices as of {PRICES_AS_OF})"
        )

    def changed_lines(self) -> list[tuple[str, float, float]]:
        before = {line.item: line.monthly for line in self.base.lines}
        after = {line.item: line.monthly for line in self.head.lines}
        return [
            (item, before.get(item, 0.0), after.get(item, 0.0))
            for item in sorted(set(before) | set(after))
            if abs(before.get(item, 0.0) - after.get(item, 0.0)) >= 0.005
        ]

    def markdown(self) -> list[str]:
        out = [f"**{self.line()}**"]
        changed = self.changed_lines()
        if changed:
            out += ["", "| Item | Before | After |", "|---|---:|---:|"]
            out += [f"| {item} | {money(old)} | {money(new)} |" for item, old, new in changed]
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "currency": "USD",
            "baseMonthly": round(self.base.total, 2),
            "headMonthly": round(self.head.total, 2),
            "deltaMonthly": round(self.delta, 2),
            "changed": [
                {"item": item, "before": round(old, 2), "after": round(new, 2)}
                for item, old, new in self.changed_lines()
            ],
            "pricesAsOf": PRICES_AS_OF,
        }
