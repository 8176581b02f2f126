"""Purge of cached content: `acr purge` as a scheduled ACR task per cache rule.

The retention policy only removes untagged manifests, so every tag a cache rule ever pulled stays
and billed storage grows without limit. A purge task deletes the tags of a rule's repositories that
were not updated for a while (the cache pulls them again on the next request).
"""

import base64
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, NamedTuple

import pulumi
from pulumi_azure_native import containerregistry
from pydantic import AfterValidator, Field, field_validator

from acr_cache.arm import AGENT_POOL_NAME, SUBNET, id_check
from acr_cache.azure_types import refused_in_place
from acr_cache.model import ConfigModel, WholeNumber
from acr_cache.redaction import shown

# Five cron fields (minute hour day month weekday), each a number, range, step, list or `*`.
_CRON_FIELD = r"(\*|\d{1,2}(-\d{1,2})?)(/\d{1,2})?(,(\*|\d{1,2}(-\d{1,2})?)(/\d{1,2})?)*"
_CRON = re.compile(rf"{_CRON_FIELD}( {_CRON_FIELD}){{4}}")
_CRON_RANGES = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12), ("weekday", 0, 6))
TASK_TIMEOUT_SECONDS = 3600


class AgentPoolTier(StrEnum):
    S1 = "S1"
    S2 = "S2"
    S3 = "S3"
    I6 = "I6"


class AgentPoolConfig(ConfigModel):
    """A dedicated task agent pool in a VNet (Premium): it runs tasks against a registry whose public
    endpoint is closed. Its key in `acr-cache:agentPools` is its name (3-20 letters, digits, hyphens)."""

    subnet_id: Annotated[str, AfterValidator(id_check(SUBNET))] = Field(
        description="ARM id of the subnet the agents run in, in the registry's home region. Its network "
        "rules must let the agents reach the registry (its private endpoint) and Azure's task "
        "services (docs/operations.md lists the service tags).",
    )
    tier: AgentPoolTier = Field(
        default=AgentPoolTier.S1, description="Agent size: `S1` (2 vCPU), `S2` (4), `S3` (8) or `I6` (64)."
    )
    count: WholeNumber = Field(
        default=1, ge=1, le=10, description="Agents in the pool (each is billed by the hour)."
    )


class PurgeConfig(ConfigModel):
    """A schedule that deletes a cache rule's old tags. Its key in `acr-cache:purge` is the rule's name."""

    schedule: str = Field(
        default="0 3 * * *",
        description="When the purge runs: a cron expression in UTC (minute hour day month weekday). "
        "Default: every day at 03:00.",
    )
    older_than_days: WholeNumber = Field(
        default=30,
        ge=1,
        le=3650,
        description="Delete tags not updated for this many days (`acr purge --ago <n>d`).",
    )
    keep: WholeNumber = Field(
        default=0,
        ge=0,
        le=100,
        description="Keep the newest tags of each repository even when they are old (`--keep`).",
    )
    untagged: bool = Field(
        default=True, description="Delete the manifests left without a tag too (`--untagged`)."
    )
    agent_pool: Annotated[str, AfterValidator(AGENT_POOL_NAME.check)] | None = Field(
        default=None,
        description="A dedicated agent pool of the registry, in a VNet that reaches it, to run on: one "
        "of `acr-cache:agentPools`, or one made outside the stack. Needed when the registry's public "
        "endpoint is closed or restricted: the shared task agents reach the registry there only.",
    )
    enabled: bool = Field(default=True, description="`false` keeps the task but stops its schedule.")

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        if not _CRON.fullmatch(value):
            raise ValueError(
                f"'{shown(value)}' is not a cron schedule: five fields, minute hour day month weekday, "
                "e.g. '0 3 * * *' (every day at 03:00 UTC)"
            )
        # ACR's timer triggers take standard five-field cron (NCronTab): each number within its field,
        # each step at least 1. A part is `*` or `a` or `a-b`, then `/step`: the pattern above made
        # five fields, one per range, so `strict` cannot fail here.
        fields = zip(value.split(" "), _CRON_RANGES, strict=True)  # mutation: equivalent
        for text, (what, low, high) in fields:
            for part in text.split(","):
                base, _, step = part.partition("/")
                numbers = [int(n) for n in re.findall(r"\d+", base)]
                out = [(n, "") for n in numbers if not low <= n <= high]
                out += [(0, ", and a step is at least 1")] if step and int(step) == 0 else []
                if out:
                    (number, also), *_ = out
                    raise ValueError(
                        f"'{shown(value)}' is not a valid cron schedule: {what} {number} is out of range "
                        f"({what}s go {low}-{high}{also}), e.g. '0 3 * * *' (every day at 03:00 UTC)"
                    )
                if len(numbers) == 2 and numbers[0] > numbers[1]:
                    raise ValueError(
                        f"'{shown(value)}' is not a valid cron schedule: the {what} range {numbers[0]}-"
                        f"{numbers[1]} runs backwards: write the smaller number first"
                    )
        return value


class PurgePlan(NamedTuple):
    """What one task purges: the rule's target, and how."""

    target: str
    settings: PurgeConfig


def purge_filter(target: str) -> str:
    """`acr purge --filter` for a cache rule's target: its repositories (a regex) and every tag."""
    # Targets hold [a-z0-9._/-] only; of these, `.` is the one a regex reads otherwise.
    if target.endswith("*"):
        return f"{target[:-1].replace('.', '[.]')}.*:.*"
    return f"{target.replace('.', '[.]')}:.*"


def purge_command(target: str, settings: PurgeConfig) -> str:
    parts = [f"acr purge --filter '{purge_filter(target)}'", f"--ago {settings.older_than_days}d"]
    if settings.keep:
        parts.append(f"--keep {settings.keep}")
    if settings.untagged:
        parts.append("--untagged")
    return " ".join(parts)


def task_definition(target: str, settings: PurgeConfig) -> str:
    """The task's YAML (what `az acr task create --cmd` writes for a command with no context)."""
    return (
        "version: v1.1.0\n"
        "steps:\n"
        f"  - cmd: {purge_command(target, settings)}\n"
        "    disableWorkingDirectoryOverride: true\n"
        f"    timeout: {TASK_TIMEOUT_SECONDS}\n"
    )


def task_name(rule: str) -> str:
    # Rule names are 5-50 of [a-zA-Z0-9-]; a task name may hold 50 of [a-zA-Z0-9-_].
    return f"purge-{rule}"[:50]


class PurgeTasks(pulumi.ComponentResource):
    """Scheduled `acr purge` tasks, one per cache rule given."""

    task_ids: pulumi.Output[dict[str, str]]
    """ARM ids of the tasks by cache rule."""

    def __init__(
        self,
        name: str,
        *,
        purges: Mapping[str, PurgePlan],
        registry_name: pulumi.Input[str],
        resource_group_name: pulumi.Input[str],
        home_region: str,
        agent_pools: Mapping[str, AgentPoolConfig] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`agent_pools`: pools the stack creates for the tasks, by name."""
        super().__init__("acr-cache:purge:PurgeTasks", name, None, opts)
        self.agent_pools: dict[str, containerregistry.AgentPool] = {}
        """Agent pools by name."""
        for pool in sorted(agent_pools or {}):
            spec = (agent_pools or {})[pool]
            self.agent_pools[pool] = containerregistry.AgentPool(
                f"{name}-pool-{pool}",
                agent_pool_name=pool,
                registry_name=registry_name,
                resource_group_name=resource_group_name,
                location=home_region,
                os=containerregistry.OS.LINUX,
                tier=spec.tier.value,
                count=spec.count,
                virtual_network_subnet_resource_id=spec.subnet_id,
                # Only the count changes in place (AgentPoolPropertiesUpdateParameters).
                opts=pulumi.ResourceOptions(
                    parent=self,
                    replace_on_changes=refused_in_place("azure-native:containerregistry:AgentPool"),
                    delete_before_replace=True,
                ),
            )
        self.tasks: dict[str, containerregistry.Task] = {}
        """Tasks by cache rule."""
        for rule in sorted(purges):
            target, settings = purges[rule]
            definition = task_definition(target, settings)
            status = (
                containerregistry.TaskStatus.ENABLED
                if settings.enabled
                else containerregistry.TaskStatus.DISABLED
            )
            self.tasks[rule] = containerregistry.Task(
                f"{name}-{rule}",
                task_name=task_name(rule),
                registry_name=registry_name,
                resource_group_name=resource_group_name,
                # Tasks run in the registry's home region.
                location=home_region,
                platform=containerregistry.PlatformPropertiesArgs(os=containerregistry.OS.LINUX),
                step=containerregistry.EncodedTaskStepArgs(
                    type="EncodedTask",  # mutation: equivalent (the SDK writes this discriminator itself)
                    encoded_task_content=base64.b64encode(definition.encode()).decode(),
                ),
                trigger=containerregistry.TriggerPropertiesArgs(
                    timer_triggers=[
                        containerregistry.TimerTriggerArgs(
                            name="schedule",
                            schedule=settings.schedule,
                            status=containerregistry.TriggerStatus.ENABLED
                            if settings.enabled
                            else containerregistry.TriggerStatus.DISABLED,
                        )
                    ]
                ),
                agent_pool_name=settings.agent_pool,
                status=status,
                timeout=TASK_TIMEOUT_SECONDS,
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[self.agent_pools[p] for p in [settings.agent_pool] if p in self.agent_pools],
                ),
            )
        self.task_ids = pulumi.Output.all(**{k: t.id for k, t in self.tasks.items()}).apply(dict)
        self.register_outputs({"taskIds": self.task_ids})
